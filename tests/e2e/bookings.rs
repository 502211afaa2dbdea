//! Booking: checkout with idempotency keys and computed prices, places never overbooked
//! (also under 200 concurrent attempts), waiting lists, cancellation, the transaction log,
//! and every bad checkout refused with nothing changed.

use chrono::{Duration, Utc};
use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A published course with one session of `capacity` places, `days` ahead; returns
/// (course id, session id).
pub(crate) async fn course_with_session(
    app: &TestApp,
    admin: &Browser,
    slug: &str,
    provider: &str,
    capacity: i64,
    days: i64,
) -> (String, String) {
    let body = json!({
        "provider_id": provider, "title": "Moderating writing", "summary": "Key stage 2 moderation.",
        "price_pence": 7500, "cancellation_notice_days": 7
    });
    let _ = app;
    published_course(admin, slug, &body, capacity, days).await
}

/// Creates the course `body` describes with one 3-hour session of `capacity` places, at
/// 10:00 UTC `days` days from today, and publishes it; returns (course id, session id).
pub(crate) async fn published_course(
    admin: &Browser,
    slug: &str,
    body: &Value,
    capacity: i64,
    days: i64,
) -> (String, String) {
    let res = admin
        .send_json(Method::POST, slug, "/api/v1/courses", body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let course = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // 10:00 UTC on the day: the session starts and ends on that date in UTC and UK time
    // alike, whatever time of day the suite runs (delivery dates are then predictable).
    let day = Utc::now().date_naive() + Duration::days(days);
    let start = day.and_hms_opt(10, 0, 0).unwrap().and_utc();
    let res = admin
        .send_json(Method::POST, slug, &format!("/api/v1/courses/{course}/sessions"),
            &json!({"starts_at": start, "ends_at": start + Duration::hours(3), "venue": "Hall", "capacity": capacity}))
        .await;
    let session = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = admin
        .send_json(
            Method::POST,
            slug,
            &format!("/api/v1/courses/{course}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    (course, session)
}

pub(crate) async fn checkout(
    b: &Browser,
    slug: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    b.client
        .post(b.url(&format!("{slug}.localhost"), "/api/v1/checkout"))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub(crate) fn one(session: &str) -> Value {
    json!({"items": [{"session_id": session}]})
}

async fn places_left(app: &TestApp, slug: &str, course: &str) -> i64 {
    app.get_json(slug, &format!("/api/v1/courses/{course}"))
        .await["sessions"][0]["places_left"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn booking_a_session_with_room_again_is_refused_and_takes_no_second_place() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let (course, session) = course_with_session(&app, &admin, "harrow", "ss4e", 5, 30).await;
    let ana = app.person("harrow", "ana@school.example", None).await;
    let res = checkout(&ana, "harrow", "ana-key-0001", &one(&session)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // The service remembers the session, which still has room: the next checkout is one
    // statement, and the database's one-held-place index refuses it whole.
    for key in ["ana-key-0002", "ana-key-0003"] {
        let res = checkout(&ana, "harrow", key, &one(&session)).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert_eq!(error_code(&res), "already_booked");
    }
    assert_eq!(places_left(&app, "harrow", &course).await, 4);
    let mine = ana.get_json("harrow", "/api/v1/bookings").await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
}

#[tokio::test]
async fn a_place_is_booked_once_a_full_session_waits_and_cancelling_frees_the_place() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let (course, session) = course_with_session(&app, &admin, "harrow", "ss4e", 1, 30).await;
    let ana = app.person("harrow", "ana@school.example", None).await;
    let ben = app.person("harrow", "ben@school.example", None).await;

    // The price is computed; a client that shows another total is refused.
    let mut tampered = one(&session);
    tampered["expected_total_pence"] = json!(1);
    let res = checkout(&ana, "harrow", "ana-key-0001", &tampered).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "price_changed");
    assert_eq!(places_left(&app, "harrow", &course).await, 1);

    let mut body = one(&session);
    body["expected_total_pence"] = json!(7500);
    let res = checkout(&ana, "harrow", "ana-key-0002", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["total_pence"], 7500);
    assert_eq!(first["booked"].as_array().unwrap().len(), 1);
    assert!(first["number"].as_str().unwrap().starts_with("SS4E-"));
    // A retry with the same key answers the first result and books nothing more.
    let res = checkout(&ana, "harrow", "ana-key-0002", &body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["order_id"], first["order_id"]);
    assert_eq!(again["replayed"], true);
    // The same key with other content is refused.
    let res = checkout(&ana, "harrow", "ana-key-0002", &one(&session)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&res), "idempotency_key_reused");
    // Booking the same session again is refused.
    let res = checkout(&ana, "harrow", "ana-key-0003", &one(&session)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "already_booked");
    assert_eq!(places_left(&app, "harrow", &course).await, 0);

    // The session is full: Ben goes on the waiting list, and is charged nothing.
    let res = checkout(&ben, "harrow", "ben-key-0001", &one(&session)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let waiting: Value = res.json().await.unwrap();
    assert_eq!(waiting["booked"].as_array().unwrap().len(), 0);
    assert_eq!(waiting["waiting"].as_array().unwrap().len(), 1);
    assert_eq!(waiting["total_pence"], 0);

    let active_before = app
        .account("harrow", "ana@school.example")
        .await
        .unwrap()
        .last_activity_at;
    app.clock.advance(Duration::hours(2));
    // Ana's bookings; she cancels within the notice period and her place goes to Ben.
    let mine = ana.get_json("harrow", "/api/v1/bookings").await;
    let booking = mine[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(mine[0]["course_title"], "Moderating writing");
    // Nobody else can cancel it.
    let res = ben
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = ana
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Cancelling is activity (retention counts from it).
    let active_after = app
        .account("harrow", "ana@school.example")
        .await
        .unwrap()
        .last_activity_at;
    assert!(active_after >= active_before + Duration::hours(2));
    // Ben is waiting, so the place is held for him and he is emailed an offer.
    assert_eq!(places_left(&app, "harrow", &course).await, 0);
    app.emailed_link("harrow", "ben@school.example", "/waiting-list/offers/")
        .await;
    let res = ana
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    let actions = app.audit_actions("harrow").await;
    assert_eq!(actions.iter().filter(|a| *a == "order.placed").count(), 2);
    assert_eq!(
        actions.iter().filter(|a| *a == "booking.cancelled").count(),
        1
    );
}

#[tokio::test]
async fn bad_checkouts_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    let (course, session) =
        course_with_session(&app, &admin, "somerset", "somerset-sse", 5, 2).await;
    let (cancelled_course, cancelled_session) =
        course_with_session(&app, &admin, "somerset", "somerset-sse", 5, 3).await;
    let res = admin
        .send_json(
            Method::POST,
            "somerset",
            &format!("/api/v1/courses/{cancelled_course}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let harrow_admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let (_, harrow_session) =
        course_with_session(&app, &harrow_admin, "harrow", "ss4e", 5, 3).await;
    let cat = app.person("somerset", "cat@school.example", None).await;
    let other = app.person("somerset", "dev@school.example", None).await;
    let other_id = app
        .account("somerset", "dev@school.example")
        .await
        .unwrap()
        .id;

    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (one(&cancelled_session), StatusCode::CONFLICT, "cancelled"),
        (one(&harrow_session), StatusCode::NOT_FOUND, "not_found"),
        (one("no-such-session"), StatusCode::NOT_FOUND, "not_found"),
        (
            json!({"items": []}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"items": [{"session_id": session}, {"session_id": session}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"items": [{"session_id": session, "delegate_account_id": other_id}]}),
            StatusCode::FORBIDDEN,
            "not_allowed",
        ),
        (
            json!({"items": [{"session_id": session}], "organisation_id": "not-my-org"}),
            StatusCode::FORBIDDEN,
            "not_allowed",
        ),
        (
            json!({"items": [{"session_id": session, "quantity": 5}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        ),
    ];
    for (i, (body, status, code)) in cases.into_iter().enumerate() {
        let res = checkout(&cat, "somerset", &format!("cat-key-{i:04}"), &body).await;
        assert_eq!(res.status(), status, "case {i}: {body}");
        assert_eq!(error_code(&res), code, "case {i}");
    }
    // No key, no JSON, no sign-in.
    let res = cat
        .send_json(Method::POST, "somerset", "/api/v1/checkout", &one(&session))
        .await;
    assert_eq!(error_code(&res), "idempotency_key_required");
    let res = cat
        .client
        .post(cat.url("somerset.localhost", "/api/v1/checkout"))
        .header("idempotency-key", "k-12345678")
        .form(&[("items", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = checkout(
        &app.new_browser(),
        "somerset",
        "anon-key-01",
        &one(&session),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Nothing was booked by any of it.
    assert_eq!(places_left(&app, "somerset", &course).await, 5);
    assert!(
        cat.get_json("somerset", "/api/v1/bookings")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let _ = other;

    // Once the session has started it cannot be booked, nor cancelled.
    let res = checkout(&cat, "somerset", "cat-key-live", &one(&session)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.clock.advance(Duration::days(3));
    let res = checkout(
        &app.person("somerset", "late@school.example", None).await,
        "somerset",
        "late-key-01",
        &one(&session),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "session_started");
    let booking = cat.get_json("somerset", "/api/v1/bookings").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = cat
        .send_json(
            Method::POST,
            "somerset",
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(error_code(&res), "cannot_cancel");
}

#[tokio::test]
async fn a_signed_in_person_books_from_the_course_page() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("havering", "admin@havering.example", None)
        .await;
    let (course, _) = course_with_session(&app, &admin, "havering", "hes", 10, 20).await;
    let anon = app
        .get_tenant("havering", &format!("/courses/{course}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(anon.contains("Sign in to book a place") && !anon.contains("idempotency_key"));
    let eve = app.person("havering", "eve@school.example", None).await;
    let page = eve
        .get_tenant("havering", &format!("/courses/{course}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Book a place (£75.00)"), "{page}");
    // The sharing statement comes before the booking button.
    assert!(page.find("When you book").unwrap() < page.find("Book a place (").unwrap());
    let field = |name: &str| {
        let at = page.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
        page[at..at + page[at..].find('"').unwrap()].to_owned()
    };
    let (csrf, key) = (field("csrf_token"), field("idempotency_key"));
    let radio = "name=\"session_id\" type=\"radio\" value=\"";
    let at = page.find(radio).unwrap() + radio.len();
    let session = page[at..at + page[at..].find('"').unwrap()].to_owned();
    let form = [
        ("csrf_token", csrf.as_str()),
        ("idempotency_key", key.as_str()),
        ("session_id", session.as_str()),
        ("expected_total_pence", "7500"),
    ];
    let res = eve
        .post_form("havering", &format!("/courses/{course}/book"), &form)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Booking confirmed"));
    // A double-submitted form books once.
    let res = eve
        .post_form("havering", &format!("/courses/{course}/book"), &form)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(places_left(&app, "havering", &course).await, 9);
    let mine = eve
        .get_tenant("havering", "/account/bookings")
        .await
        .text()
        .await
        .unwrap();
    assert!(mine.contains("Moderating writing"));
}

#[tokio::test]
async fn two_hundred_concurrent_checkouts_fill_twenty_places_exactly() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    let (course, session) =
        course_with_session(&app, &admin, "somerset", "somerset-sse", 20, 10).await;
    let db = app.store.clone();
    let registry = storage::tenants::load_registry(&db).await.unwrap();
    let cfg = registry
        .iter()
        .find(|t| t.id.as_str() == "somerset")
        .unwrap()
        .config
        .clone();
    // 200 people, made straight in the database (signing 200 people up through the pages
    // would test the password hasher, not booking).
    let tx = db.tenant_tx(&cfg.slug).await.unwrap();
    let mut people = Vec::new();
    for i in 0..200 {
        let new = identity::domain::signup::NewAccount {
            email: format!("delegate{i}@school.example"),
            first_name: "Delegate".into(),
            last_name: format!("{i}"),
            ..Default::default()
        };
        people.push(
            identity::store::insert_account(&tx, &new, None, Utc::now(), None)
                .await
                .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    let objects = storage::Objects::local(&std::env::temp_dir().join("portal-test-objects"));
    let catalogue = catalogue::Catalogue::new(db.clone(), app.clock.clone(), objects);
    let service = bookings::Bookings::new(db.clone(), app.clock.clone(), catalogue);
    let req = bookings::domain::CheckoutRequest {
        organisation_id: None,
        items: vec![bookings::domain::CheckoutItem {
            session_id: session.clone(),
            delegate_account_id: None,
        }],
        expected_total_pence: Some(7500),
    };
    let tasks: Vec<_> = people
        .into_iter()
        .map(|p| {
            let (service, cfg, req) = (service.clone(), cfg.clone(), req.clone());
            tokio::spawn(async move {
                service
                    .checkout(&cfg, &p, &format!("key-{}", p.id), &req)
                    .await
            })
        })
        .collect();
    let (mut booked, mut waiting) = (0, 0);
    for t in tasks {
        let outcome = t.await.unwrap().unwrap();
        booked += outcome.booked.len();
        waiting += outcome.waiting.len();
    }
    assert_eq!((booked, waiting), (20, 180));
    assert_eq!(places_left(&app, "somerset", &course).await, 0);
}

#[tokio::test]
async fn booking_for_colleagues_needs_the_booker_right_and_a_confirmed_colleague() {
    use crate::organisations::{admin_with_org, appoint, change};
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "harrow", "Kenton School").await;
    let (_, session) = course_with_session(&app, &admin, "harrow", "ss4e", 10, 30).await;
    let lead = app.person("harrow", "lead@kenton.example", None).await;
    appoint(&admin, "harrow", &org, "lead@kenton.example").await;
    let member = app
        .person("harrow", "member@kenton.example", Some(&org))
        .await;
    let id = |email: &'static str| {
        let app = &app;
        async move { app.account("harrow", email).await.unwrap().id }
    };
    let (lead_id, member_id) = (
        id("lead@kenton.example").await,
        id("member@kenton.example").await,
    );
    app.person("harrow", "outsider@elsewhere.example", None)
        .await;
    let outsider_id = id("outsider@elsewhere.example").await;
    let for_whom = |who: &str| json!({"organisation_id": org, "items": [{"session_id": session, "delegate_account_id": who}]});

    // An unconfirmed member cannot bill the organisation at all.
    let res = checkout(
        &member,
        "harrow",
        "member-key-1",
        &json!({"organisation_id": org, "items": [{"session_id": session}]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = change(&lead, "harrow", &org, &member_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Confirmed, but without the booker right: books for themself only.
    let res = checkout(&member, "harrow", "member-key-2", &for_whom(&lead_id)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "not_allowed");
    // The lead administrator books a colleague, but not someone from elsewhere.
    let res = checkout(&lead, "harrow", "lead-key-1", &for_whom(&member_id)).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let res = checkout(&lead, "harrow", "lead-key-2", &for_whom(&outsider_id)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The organisation view: its lead administrator sees what was booked for it and the
    // spend; a member without the right, and another organisation's lead, do not.
    let page = lead
        .get_tenant("harrow", &format!("/organisations/{org}/bookings"))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Moderating writing") && html.contains("Pat member"),
        "{html}"
    );
    assert!(
        html.contains("Spent on places not cancelled: £75.00"),
        "{html}"
    );
    for who in [
        &member,
        &app.person("harrow", "other-lead@elsewhere.example", None)
            .await,
    ] {
        let res = who
            .get_tenant("harrow", &format!("/organisations/{org}/bookings"))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let res = lead
        .get_tenant("somerset", &format!("/organisations/{org}/bookings"))
        .await;
    assert_ne!(
        res.status(),
        StatusCode::OK,
        "another tenant's organisation is not shown"
    );
    // Given the booker right, the member can book the lead administrator.
    let res = change(
        &lead,
        "harrow",
        &org,
        &member_id,
        &[("action", "rights"), ("right_booker", "yes")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = checkout(&member, "harrow", "member-key-3", &for_whom(&lead_id)).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    // Booking for someone is activity for them too (retention counts from it).
    let before = app
        .account("harrow", "lead@kenton.example")
        .await
        .unwrap()
        .last_activity_at;
    app.clock.advance(Duration::days(1));
    let (_, later) = course_with_session(&app, &admin, "harrow", "ss4e", 10, 40).await;
    let res = checkout(
        &member,
        "harrow",
        "member-key-4",
        &json!({"organisation_id": org, "items": [{"session_id": later, "delegate_account_id": lead_id}]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let after = app
        .account("harrow", "lead@kenton.example")
        .await
        .unwrap()
        .last_activity_at;
    assert!(after > before + Duration::hours(23), "{before} -> {after}");
    // The booking is the delegate's: it shows in their list, billed to the organisation.
    let mine = member.get_json("harrow", "/api/v1/bookings").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_freed_place_is_offered_to_the_first_in_line_and_passes_on_when_the_offer_lapses() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let (course, session) = course_with_session(&app, &admin, "harrow", "ss4e", 1, 30).await;
    let ana = app.person("harrow", "ana@school.example", None).await;
    let ben = app.person("harrow", "ben@school.example", None).await;
    let cat = app.person("harrow", "cat@school.example", None).await;
    for (b, key) in [
        (&ana, "ana-key-01"),
        (&ben, "ben-key-01"),
        (&cat, "cat-key-01"),
    ] {
        assert_eq!(
            checkout(b, "harrow", key, &one(&session)).await.status(),
            StatusCode::CREATED
        );
    }
    // Ana cancels: the place is held for Ben (first in line), not put back on sale.
    let booking = ana.get_json("harrow", "/api/v1/bookings").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = ana
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(places_left(&app, "harrow", &course).await, 0);
    let res = checkout(
        &app.person("harrow", "dan@school.example", None).await,
        "harrow",
        "dan-key-01",
        &one(&session),
    )
    .await;
    let dan: Value = res.json().await.unwrap();
    assert_eq!(
        dan["waiting"].as_array().unwrap().len(),
        1,
        "a held place is not for sale"
    );
    let link = app
        .emailed_link("harrow", "ben@school.example", "/waiting-list/offers/")
        .await;
    assert!(
        app.outbox("harrow", "cat@school.example")
            .await
            .iter()
            .all(|m| !m.body_text.contains("/waiting-list/offers/"))
    );
    // The link is Ben's alone.
    let res = cat.submit("harrow", &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = ben.submit("harrow", &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Booking confirmed"));
    let res = ben.submit("harrow", &link, &link, &[]).await;
    assert_eq!(error_code(&res), "offer_used");
    assert_eq!(
        ben.get_json("harrow", "/api/v1/bookings")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Ben cancels: Cat is offered the place, lets the offer lapse, and it passes to Dan.
    let booking = ben.get_json("harrow", "/api/v1/bookings").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = ben
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cat_link = app
        .emailed_link("harrow", "cat@school.example", "/waiting-list/offers/")
        .await;
    app.clock
        .advance(Duration::hours(bookings::OFFER_HOURS + 1));
    let res = cat.submit("harrow", &cat_link, &cat_link, &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "offer_expired");
    let dan_link = app
        .emailed_link("harrow", "dan@school.example", "/waiting-list/offers/")
        .await;
    assert_ne!(dan_link, cat_link);
    // Dan's lapses too, with no one left waiting: the place goes back on sale.
    app.clock
        .advance(Duration::hours(bookings::OFFER_HOURS + 1));
    let dan_browser = app.new_browser();
    assert_eq!(
        dan_browser
            .sign_in("harrow", "dan@school.example", e2e::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let res = dan_browser
        .submit("harrow", &dan_link, &dan_link, &[])
        .await;
    assert_eq!(error_code(&res), "offer_expired");
    assert_eq!(places_left(&app, "harrow", &course).await, 1);
    let actions = app.audit_actions("harrow").await;
    for (a, n) in [
        ("waiting_list.offered", 3),
        ("waiting_list.accepted", 1),
        ("waiting_list.lapsed", 2),
    ] {
        assert_eq!(actions.iter().filter(|x| *x == a).count(), n, "{a}");
    }
}

/// The session's places taken, read from the database (Harrow).
pub(crate) async fn places_taken(app: &TestApp, session: &str) -> i64 {
    run_sql(
        app,
        "SELECT CAST(places_taken AS BIGINT) FROM course_session WHERE id = $1",
        session,
    )
    .await
    .and_then(|r| r.try_get_by_index(0).ok())
    .unwrap()
}

/// Runs `sql` (with `$1` bound to `value`) in Harrow's scope; its first row, if any.
pub(crate) async fn run_sql(app: &TestApp, sql: &str, value: &str) -> Option<sea_orm::QueryResult> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let tx = app
        .store
        .tenant_tx(&"harrow".parse().unwrap())
        .await
        .unwrap();
    let backend = tx.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace("$1", "?"),
    };
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [value.into()]))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    row
}

/// How many waiting-list offers `to` was emailed (Harrow).
pub(crate) async fn offers_to(app: &TestApp, to: &str) -> usize {
    app.outbox("harrow", to)
        .await
        .iter()
        .filter(|m| m.body_text.contains("/waiting-list/offers/"))
        .count()
}

/// A Harrow session of one place, Ana's, with Ben on its waiting list: (session, Ana, Ben).
pub(crate) async fn ana_booked_ben_waiting(app: &TestApp) -> (String, Browser, Browser) {
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let (_, session) = course_with_session(app, &admin, "harrow", "ss4e", 1, 30).await;
    let [ana, ben] = in_turn(app, &session, ["ana", "ben"]).await;
    (session, ana, ben)
}

/// `NAME@school.example` for each of `names`, each checking out a place on the Harrow
/// `session` in turn (booked while places last, then on its waiting list).
pub(crate) async fn in_turn<const N: usize>(
    app: &TestApp,
    session: &str,
    names: [&str; N],
) -> [Browser; N] {
    let mut people = Vec::new();
    for name in names {
        let b = app
            .person("harrow", &format!("{name}@school.example"), None)
            .await;
        let res = checkout(&b, "harrow", &format!("{name}-key-01"), &one(session)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        people.push(b);
    }
    people.try_into().unwrap_or_else(|_| unreachable!())
}

#[tokio::test]
async fn a_place_given_back_while_someone_joined_the_waiting_list_is_offered_to_them() {
    let app = spawn_app().await;
    let (session, _ana, ben) = ana_booked_ben_waiting(&app).await;
    // Ana's place given back as a cancellation does when it finds no one waiting: Ben's
    // checkout had read the session as full, and its waiting-list entry came after.
    run_sql(
        &app,
        "UPDATE booking SET status = 'cancelled' WHERE session_id = $1",
        &session,
    )
    .await;
    run_sql(
        &app,
        "UPDATE course_session SET places_taken = places_taken - 1 WHERE id = $1",
        &session,
    )
    .await;
    assert_eq!(places_taken(&app, &session).await, 0);
    assert_eq!(
        offers_to(&app, "ben@school.example").await,
        0,
        "nothing has offered Ben the place"
    );

    // The minute's jobs offer it to Ben, and hold it for him.
    server::jobs::minute_jobs(&app.state).await;
    assert_eq!(offers_to(&app, "ben@school.example").await, 1);
    assert_eq!(
        places_taken(&app, &session).await,
        1,
        "held for Ben's offer"
    );
    // Run again, they offer nothing more: the place is held, no one else waits.
    server::jobs::minute_jobs(&app.state).await;
    assert_eq!(offers_to(&app, "ben@school.example").await, 1);
    assert_eq!(places_taken(&app, &session).await, 1);
    ben_accepts_his_offer(&app, &ben).await;
    assert_eq!(
        places_taken(&app, &session).await,
        1,
        "Ben's place, taken once"
    );
    let actions = app.audit_actions("harrow").await;
    for (a, n) in [("waiting_list.offered", 1), ("waiting_list.accepted", 1)] {
        assert_eq!(actions.iter().filter(|x| *x == a).count(), n, "{a}");
    }
}

/// Ben follows the offer emailed to him (Harrow) and books the place.
pub(crate) async fn ben_accepts_his_offer(app: &TestApp, ben: &Browser) {
    let link = app
        .emailed_link("harrow", "ben@school.example", "/waiting-list/offers/")
        .await;
    let res = ben.submit("harrow", &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Booking confirmed"));
}

/// Cancels the first of `who`'s bookings (Harrow); the answer's status.
pub(crate) async fn cancel_first_booking(who: &Browser) -> StatusCode {
    let booking = who.get_json("harrow", "/api/v1/bookings").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    who.send_json(
        Method::POST,
        "harrow",
        &format!("/api/v1/bookings/{booking}/cancel"),
        &json!({}),
    )
    .await
    .status()
}

/// On PostgreSQL, a Harrow transaction left open after running `sql` (`$1` bound to
/// `value`), as another request or job part-way through; `None` on SQLite, which has one
/// writer at a time, so nothing overlaps there.
async fn meanwhile_on_postgres(app: &TestApp, sql: &str, value: &str) -> Option<storage::TenantTx> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let tx = app
        .store
        .tenant_tx(&"harrow".parse().unwrap())
        .await
        .unwrap();
    if tx.get_database_backend() != DbBackend::Postgres {
        return None;
    }
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [value.into()],
    ))
    .await
    .unwrap();
    Some(tx)
}

/// On PostgreSQL, a hand-over of a freed place waits for whoever holds the session's row,
/// so two at once (a cancellation and the minute's job, say) never offer the same person
/// the same place twice: the second reads the waiting list after the first committed.
#[tokio::test]
async fn a_cancellation_hands_its_place_on_only_after_others_on_the_session() {
    let app = spawn_app().await;
    let (session, ana, _ben) = ana_booked_ben_waiting(&app).await;
    // Another hand-over on the session, as far as its lock on the session's row.
    let Some(holder) = meanwhile_on_postgres(
        &app,
        "SELECT id FROM course_session WHERE id = $1 FOR UPDATE",
        &session,
    )
    .await
    else {
        return;
    };
    let cancel = tokio::spawn(async move { cancel_first_booking(&ana).await });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !cancel.is_finished(),
        "the cancellation waits for the session"
    );
    assert_eq!(offers_to(&app, "ben@school.example").await, 0);
    holder.commit().await.unwrap();
    assert_eq!(cancel.await.unwrap(), StatusCode::NO_CONTENT);
    assert_eq!(offers_to(&app, "ben@school.example").await, 1);
}

/// On PostgreSQL, an offer accepted just as it lapses goes one way only: here the lapse
/// (the minute's job, as far as its claim of the entry) commits first, so the acceptance
/// is refused and Ben holds no place the next person was given.
#[tokio::test]
async fn an_offer_accepted_as_it_lapses_is_refused_not_booked_twice() {
    let app = spawn_app().await;
    let (session, ana, ben) = ana_booked_ben_waiting(&app).await;
    assert_eq!(cancel_first_booking(&ana).await, StatusCode::NO_CONTENT);
    let link = app
        .emailed_link("harrow", "ben@school.example", "/waiting-list/offers/")
        .await;
    let Some(lapse) = meanwhile_on_postgres(
        &app,
        "UPDATE waiting_list_entry SET status = 'expired' \
         WHERE session_id = $1 AND status = 'offered'",
        &session,
    )
    .await
    else {
        return;
    };
    let accept = {
        let (ben, link) = (ben.clone(), link.clone());
        tokio::spawn(async move { ben.submit("harrow", &link, &link, &[]).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    lapse.commit().await.unwrap();
    let res = accept.await.unwrap();
    assert_eq!(error_code(&res), "offer_expired");
    assert!(
        ben.get_json("harrow", "/api/v1/bookings")
            .await
            .as_array()
            .unwrap()
            .is_empty(),
        "Ben holds no place"
    );
}

#[tokio::test]
async fn another_tenants_booking_ids_and_offer_links_are_not_found() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let (course, session) = course_with_session(&app, &admin, "harrow", "ss4e", 1, 30).await;
    let ana = app.person("harrow", "ana@school.example", None).await;
    let ben = app.person("harrow", "ben@school.example", None).await;
    let other = app.person("somerset", "ana@school.example", None).await;
    assert_eq!(
        checkout(&ana, "harrow", "ana-key-01", &one(&session))
            .await
            .status(),
        StatusCode::CREATED
    );
    // The session Harrow's checkout just read (and remembers) is not Somerset's to book.
    let res = checkout(&other, "somerset", "other-key-01", &one(&session)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(places_left(&app, "harrow", &course).await, 0);
    assert_eq!(
        checkout(&ben, "harrow", "ben-key-01", &one(&session))
            .await
            .status(),
        StatusCode::CREATED
    );
    let booking = ana.get_json("harrow", "/api/v1/bookings").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Someone in another tenant, with an account of the same email there, gets 404.
    let res = other
        .send_json(
            Method::POST,
            "somerset",
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(
        other
            .get_json("somerset", "/api/v1/bookings")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Ana cancels; Ben's offer link does nothing on another tenant's host.
    let res = ana
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let link = app
        .emailed_link("harrow", "ben@school.example", "/waiting-list/offers/")
        .await;
    let token = link.trim_start_matches("/waiting-list/offers/");
    let ben_elsewhere = app.person("somerset", "ben@school.example", None).await;
    let res = ben_elsewhere
        .send_json(
            Method::POST,
            "somerset",
            &format!("/api/v1/waiting-list/offers/{token}/accept"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        places_left(&app, "harrow", &course).await,
        0,
        "still held for Ben"
    );
    let res = ben
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/waiting-list/offers/{token}/accept"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// A provider cancelling a session (or the whole course) cancels its bookings, closes its
/// waiting list and tells each person, in the same transaction.
#[tokio::test]
async fn cancelling_a_session_or_course_cancels_its_bookings_and_tells_everyone() {
    let app = spawn_app().await;
    let slug = "harrow";
    let admin = app
        .catalogue_manager(slug, "admin@harrow.example", None)
        .await;
    let (course, session) = course_with_session(&app, &admin, slug, "ss4e", 1, 30).await;
    let ana = app.person(slug, "ana@school.example", None).await;
    let ben = app.person(slug, "ben@school.example", None).await;
    let mut body = one(&session);
    body["expected_total_pence"] = json!(7500);
    assert_eq!(
        checkout(&ana, slug, "ana-key-0001", &body).await.status(),
        StatusCode::CREATED
    );
    let res = checkout(&ben, slug, "ben-key-0001", &one(&session)).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["waiting"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let res = admin
        .send_json(
            Method::POST,
            slug,
            &format!("/api/v1/courses/{course}/sessions/{session}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let mine = ana.get_json(slug, "/api/v1/bookings").await;
    assert_eq!(mine[0]["status"], "cancelled", "{mine}");
    for who in ["ana@school.example", "ben@school.example"] {
        let mail = app.outbox(slug, who).await;
        let last = mail.last().unwrap();
        assert!(
            last.subject
                .starts_with("Cancelled: Moderating writing on "),
            "{}",
            last.subject
        );
    }
    assert!(
        app.outbox(slug, "ana@school.example")
            .await
            .last()
            .unwrap()
            .body_text
            .contains("your place is cancelled")
    );
    assert!(
        app.outbox(slug, "ben@school.example")
            .await
            .last()
            .unwrap()
            .body_text
            .contains("waiting list")
    );
    assert!(
        app.audit_actions(slug)
            .await
            .contains(&"bookings.cancelled_with_sessions".to_owned())
    );
    // Cancelling again changes nothing and tells no one twice.
    let before = app.outbox(slug, "ana@school.example").await.len();
    admin
        .send_json(
            Method::POST,
            slug,
            &format!("/api/v1/courses/{course}/sessions/{session}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(app.outbox(slug, "ana@school.example").await.len(), before);

    // A whole course: every session's bookings go.
    let (course2, session2) = course_with_session(&app, &admin, slug, "ss4e", 5, 30).await;
    let mut body = one(&session2);
    body["expected_total_pence"] = json!(7500);
    assert_eq!(
        checkout(&ana, slug, "ana-key-0002", &body).await.status(),
        StatusCode::CREATED
    );
    let res = admin
        .send_json(
            Method::POST,
            slug,
            &format!("/api/v1/courses/{course2}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let mine = ana.get_json(slug, "/api/v1/bookings").await;
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .all(|b| b["status"] == "cancelled"),
        "{mine}"
    );
}

/// A session may limit the places one organisation holds: a colleague beyond the limit is
/// refused (the whole checkout), places paid personally do not count, and a cancelled
/// place frees the organisation's share again.
#[tokio::test]
async fn a_session_limits_the_places_one_organisation_may_hold() {
    use crate::organisations::{admin_with_org, appoint, change};
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "harrow", "Kenton School").await;
    let (course, _) = course_with_session(&app, &admin, "harrow", "ss4e", 10, 30).await;
    let start = (Utc::now() + Duration::days(31)).to_rfc3339();
    let end = (Utc::now() + Duration::days(31) + Duration::hours(2)).to_rfc3339();
    let bad = admin
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/courses/{course}/sessions"),
            &json!({"starts_at": start, "ends_at": end, "venue": "Hall", "capacity": 10, "org_place_limit": 11}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = admin
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/courses/{course}/sessions"),
            &json!({"starts_at": start, "ends_at": end, "venue": "Hall", "capacity": 10, "org_place_limit": 2}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let session = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lead = app.person("harrow", "lead@kenton.example", None).await;
    appoint(&admin, "harrow", &org, "lead@kenton.example").await;
    let mut ids = Vec::new();
    for who in ["a", "b", "c"] {
        let email = format!("{who}@kenton.example");
        app.person("harrow", &email, Some(&org)).await;
        let id = app.account("harrow", &email).await.unwrap().id;
        let res = change(&lead, "harrow", &org, &id, &[("action", "verify")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        ids.push(id);
    }
    let places = |who: &[&String]| json!({"organisation_id": org, "items": who.iter().map(|d| json!({"session_id": session, "delegate_account_id": d})).collect::<Vec<_>>()});
    // Three at once: refused whole.
    let res = checkout(
        &lead,
        "harrow",
        "lead-limit-1",
        &places(&[&ids[0], &ids[1], &ids[2]]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "organisation_limit");
    let mine = lead.get_json("harrow", "/api/v1/bookings").await;
    assert_eq!(mine, json!([]), "nothing was booked");
    // Two fit; the third is refused; paid personally, the lead's own place does not count.
    let res = checkout(
        &lead,
        "harrow",
        "lead-limit-2",
        &places(&[&ids[0], &ids[1]]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = checkout(&lead, "harrow", "lead-limit-3", &places(&[&ids[2]])).await;
    assert_eq!(error_code(&res), "organisation_limit");
    let res = checkout(
        &lead,
        "harrow",
        "lead-limit-4",
        &json!({"items": [{"session_id": session}]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // A cancelled place frees the organisation's share.
    let a = app.new_browser();
    assert_eq!(
        a.sign_in("harrow", "a@kenton.example", e2e::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let booking = a.get_json("harrow", "/api/v1/bookings").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = a
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = checkout(&lead, "harrow", "lead-limit-5", &places(&[&ids[2]])).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// An organisation that asks for it approves its staff's bookings: a member's place on its
/// account holds a seat as pending, the lead administrators are alerted, and approving
/// confirms it (with the confirmation) while declining frees the seat. A lead
/// administrator's own bookings, and places paid personally, need no approval; no one
/// else reaches the approvals page.
#[tokio::test]
async fn staff_bookings_wait_for_approval_when_the_organisation_asks() {
    use crate::organisations::{admin_with_org, appoint, change};
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, "harrow", "Kenton School").await;
    let (_, session) = course_with_session(&app, &admin, "harrow", "ss4e", 3, 30).await;
    let (_, other) = course_with_session(&app, &admin, "harrow", "ss4e", 3, 30).await;
    let lead = app.person("harrow", "lead@kenton.example", None).await;
    appoint(&admin, "harrow", &org, "lead@kenton.example").await;
    let member = app
        .person("harrow", "member@kenton.example", Some(&org))
        .await;
    let member_id = app
        .account("harrow", "member@kenton.example")
        .await
        .unwrap()
        .id;
    let res = change(&lead, "harrow", &org, &member_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let approvals = format!("/organisations/{org}/approvals");

    // Only the organisation's managers reach the page and the setting.
    assert_eq!(
        member.get_tenant("harrow", &approvals).await.status(),
        StatusCode::NOT_FOUND
    );
    let somerset = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    assert_eq!(
        somerset.get_tenant("somerset", &approvals).await.status(),
        StatusCode::NOT_FOUND,
        "another tenant's administrator"
    );
    let page = lead
        .get_tenant("harrow", &approvals)
        .await
        .text()
        .await
        .unwrap();
    let own = member
        .get_tenant("harrow", "/account")
        .await
        .text()
        .await
        .unwrap();
    let res = member
        .submit_with_page(
            &own,
            "harrow",
            &format!("{approvals}/setting"),
            &[("approve_bookings", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = lead
        .submit_with_page(
            &page,
            "harrow",
            &format!("{approvals}/setting"),
            &[("approve_bookings", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let billed = |s: &str| json!({"organisation_id": org, "items": [{"session_id": s}]});
    let res = checkout(&member, "harrow", "member-approve-1", &billed(&session)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let out: Value = res.json().await.unwrap();
    assert_eq!(out["booked"][0]["status"], "pending");
    let first = out["booked"][0]["booking_id"].as_str().unwrap().to_owned();
    let res = checkout(&member, "harrow", "member-approve-2", &billed(&other)).await;
    let second = res.json::<Value>().await.unwrap()["booked"][0]["booking_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Paid personally, or booked by the lead administrator: confirmed at once.
    let res = checkout(&lead, "harrow", "lead-approve-1", &billed(&session)).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["booked"][0]["status"],
        "confirmed"
    );

    // The lead was alerted; the member was told it waits, and has no confirmation yet.
    assert!(
        app.outbox("harrow", "lead@kenton.example")
            .await
            .iter()
            .any(|m| m.subject.starts_with("Approval needed: Moderating writing"))
    );
    let subjects = |mail: Vec<storage::entity::outbox_email::Model>| {
        mail.into_iter().map(|m| m.subject).collect::<Vec<_>>()
    };
    let told = subjects(app.outbox("harrow", "member@kenton.example").await);
    assert!(
        told.iter().any(|s| s.starts_with("Waiting for approval")),
        "{told:?}"
    );
    assert!(
        !told.iter().any(|s| s.starts_with("Booking confirmed")),
        "{told:?}"
    );
    // The seat is held: the 3-place session has 1 left (member pending + lead).
    let places_left = |s: &str| {
        let app = &app;
        let s = s.to_owned();
        async move {
            let c = app
                .get_json(
                    "harrow",
                    &format!("/api/v1/courses/{}", course_of_session(app, &s).await),
                )
                .await;
            c["sessions"][0]["places_left"].as_i64().unwrap()
        }
    };
    assert_eq!(places_left(&session).await, 1);

    // Approve one, decline the other; a bad decision and a repeat are refused.
    let page = lead
        .get_tenant("harrow", &approvals)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Moderating writing"), "{page}");
    let res = lead
        .submit_with_page(
            &page,
            "harrow",
            &format!("{approvals}/{first}"),
            &[("decision", "maybe")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = lead
        .submit_with_page(
            &page,
            "harrow",
            &format!("{approvals}/{first}"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = lead
        .submit_with_page(
            &page,
            "harrow",
            &format!("{approvals}/{first}"),
            &[("decision", "decline")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "no longer waiting");
    let res = lead
        .submit_with_page(
            &page,
            "harrow",
            &format!("{approvals}/{second}"),
            &[("decision", "decline")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let told = subjects(app.outbox("harrow", "member@kenton.example").await);
    assert!(
        told.iter().any(|s| s.starts_with("Booking confirmed")),
        "{told:?}"
    );
    assert!(
        told.iter().any(|s| s.starts_with("Not approved")),
        "{told:?}"
    );
    assert_eq!(
        places_left(&other).await,
        3,
        "the declined seat is free again"
    );
    let mine = member.get_json("harrow", "/api/v1/bookings").await;
    let status = |id: &str| {
        mine.as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status(&first), "confirmed");
    assert_eq!(status(&second), "cancelled");
    // The declined place is credited against the order's invoice.
    let billed = lead
        .get_json("harrow", &format!("/api/v1/organisations/{org}/invoices"))
        .await;
    let notes: Vec<&Value> = billed["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "credit_note")
        .collect();
    assert_eq!(notes.len(), 1, "{billed}");
    assert_eq!(notes[0]["total_pence"], -7500);
    assert!(
        notes[0]["credits"]
            .as_str()
            .unwrap()
            .starts_with("SS4E-INV-")
    );
}

/// The course of a Harrow session.
pub(crate) async fn course_of_session(app: &TestApp, session: &str) -> String {
    run_sql(
        app,
        "SELECT course_id FROM course_session WHERE id = $1",
        session,
    )
    .await
    .and_then(|r| r.try_get_by_index(0).ok())
    .unwrap()
}

/// A checkout remembers the sessions it read, but never books against a remembered course
/// or session that has changed since: the next checkout confirms what the catalogue says
/// now. The test clock stands still, so the change is not told by its time.
#[tokio::test]
async fn a_checkout_confirms_the_course_as_it_is_after_a_change() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let (course, session) = course_with_session(&app, &admin, "harrow", "ss4e", 5, 30).await;
    let ana = app.person("harrow", "ana@school.example", None).await;
    let ben = app.person("harrow", "ben@school.example", None).await;
    let cara = app.person("harrow", "cara@school.example", None).await;
    let dan = app.person("harrow", "dan@school.example", None).await;
    let eve = app.person("harrow", "eve@school.example", None).await;
    let fay = app.person("harrow", "fay@school.example", None).await;
    let res = checkout(&ana, "harrow", "ana-key-0001", &one(&session)).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // The course is renamed and its price goes up.
    let res = admin
        .send_json(
            Method::PUT,
            "harrow",
            &format!("/api/v1/courses/{course}"),
            &json!({
                "provider_id": "ss4e", "title": "Moderating writing, revised",
                "summary": "Key stage 2 moderation.", "price_pence": 9000,
                "cancellation_notice_days": 7
            }),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    // The new price is accepted (the remembered course still had the old one) and the
    // old one refused.
    let mut body = one(&session);
    body["expected_total_pence"] = json!(9000);
    let res = checkout(&ben, "harrow", "ben-key-0001", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["total_pence"], 9000);
    let mail = app.outbox("harrow", "ben@school.example").await;
    let confirmed = mail.last().unwrap();
    assert_eq!(
        confirmed.subject,
        "Booking confirmed: Moderating writing, revised"
    );
    assert!(
        confirmed.body_text.contains("£90.00"),
        "{}",
        confirmed.body_text
    );
    body["expected_total_pence"] = json!(7500);
    let res = checkout(&eve, "harrow", "eve-key-0001", &body).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "price_changed");

    // The session moves to another venue.
    let found = app
        .get_json("harrow", &format!("/api/v1/courses/{course}"))
        .await;
    let (starts, ends) = (
        found["sessions"][0]["starts_at"].clone(),
        found["sessions"][0]["ends_at"].clone(),
    );
    let res = admin
        .send_json(
            Method::PUT,
            "harrow",
            &format!("/api/v1/courses/{course}/sessions/{session}"),
            &json!({"starts_at": starts, "ends_at": ends, "venue": "Civic Centre", "capacity": 5}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let res = checkout(&cara, "harrow", "cara-key-0001", &one(&session)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mail = app.outbox("harrow", "cara@school.example").await;
    assert!(
        mail.last().unwrap().body_text.contains("Civic Centre"),
        "{}",
        mail.last().unwrap().body_text
    );

    // Fay's checkout books (and remembers the session as it is now); then the session is
    // cancelled: nobody books it.
    let res = checkout(&fay, "harrow", "fay-key-0001", &one(&session)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = admin
        .send_json(
            Method::POST,
            "harrow",
            &format!("/api/v1/courses/{course}/sessions/{session}/cancel"),
            &json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let res = checkout(&dan, "harrow", "dan-key-0001", &one(&session)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "cancelled");
    assert!(
        app.outbox("harrow", "dan@school.example")
            .await
            .iter()
            .all(|m| !m.subject.starts_with("Booking confirmed"))
    );
}
