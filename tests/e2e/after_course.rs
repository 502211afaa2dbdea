//! Around the course: reminders N days before (once, with the pre-course information),
//! the feedback questionnaire, and certificates (held until feedback where the course says
//! so, stored in object storage, deleted with the person).

use chrono::Duration;
use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::bookings::{checkout, published_course};

const SLUG: &str = "harrow";

fn config(app: &TestApp) -> tenant_router::TenantConfig {
    app.registry
        .current()
        .get(&SLUG.parse().unwrap())
        .unwrap()
        .config
        .clone()
}

async fn book(b: &Browser, key: &str, session: &str) -> String {
    let body = json!({"items": [{"session_id": session}], "expected_total_pence": 0});
    let res = checkout(b, SLUG, key, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mine = b.get_json(SLUG, "/api/v1/bookings").await;
    mine.as_array()
        .unwrap()
        .iter()
        .find(|m| m["session_id"] == session && m["status"] == "confirmed")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn subjects(mail: &[storage::entity::outbox_email::Model]) -> Vec<String> {
    mail.iter().map(|m| m.subject.clone()).collect()
}

/// Harrow reminds delegates 3 days before (its default): once, with the course's
/// pre-course information; not for a place booked inside those 3 days, nor a cancelled one.
#[tokio::test]
async fn reminders_go_once_n_days_before_with_the_pre_course_information() {
    let app = spawn_app().await;
    assert_eq!(config(&app).bookings.reminder_days, 3);
    let admin = app
        .catalogue_manager(SLUG, "admin@harrow.example", None)
        .await;
    let body = json!({
        "provider_id": "ss4e", "title": "Moderating writing", "summary": "Key stage 2.",
        "price_pence": 0, "cancellation_notice_days": 0,
        "pre_course_info": "Bring three pieces of writing from your class."
    });
    // The session starts at 10:00 UTC ten days from today.
    let (_, session) = published_course(&admin, SLUG, &body, 10, 10).await;
    let ana = app.person(SLUG, "ana@school.example", None).await;
    let cat = app.person(SLUG, "cat@school.example", None).await;
    book(&ana, "ana-key-0001", &session).await;
    let cats = book(&cat, "cat-key-0001", &session).await;
    let res = cat
        .send_json(
            Method::POST,
            SLUG,
            &format!("/api/v1/bookings/{cats}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let mail = app.outbox(SLUG, "ana@school.example").await;
    let confirmation = mail
        .iter()
        .find(|m| m.subject == "Booking confirmed: Moderating writing")
        .unwrap();
    assert!(
        confirmation
            .body_text
            .contains("Bring three pieces of writing from your class."),
        "the confirmation carries the pre-course information too"
    );

    let cfg = config(&app);
    assert_eq!(app.bookings.send_reminders(&cfg).await.unwrap(), 0);
    // Six days on, the session is still more than three days away.
    app.clock.advance(Duration::days(6));
    assert_eq!(app.bookings.send_reminders(&cfg).await.unwrap(), 0);
    // Two more, and it is inside the window: Ana is reminded, once.
    app.clock.advance(Duration::days(2));
    let ben = app.person(SLUG, "ben@school.example", None).await;
    book(&ben, "ben-key-0001", &session).await;
    assert_eq!(app.bookings.send_reminders(&cfg).await.unwrap(), 1);
    assert_eq!(app.bookings.send_reminders(&cfg).await.unwrap(), 0);

    let mail = app.outbox(SLUG, "ana@school.example").await;
    let reminders: Vec<_> = mail
        .iter()
        .filter(|m| m.subject == "Reminder: Moderating writing")
        .collect();
    assert_eq!(reminders.len(), 1, "{:?}", subjects(&mail));
    let text = &reminders[0].body_text;
    assert!(
        text.contains("Bring three pieces of writing from your class.")
            && text.contains("\nHall\n"),
        "{text}"
    );
    for who in ["ben@school.example", "cat@school.example"] {
        let mail = app.outbox(SLUG, who).await;
        assert!(
            !subjects(&mail).iter().any(|s| s.starts_with("Reminder")),
            "{who}: {:?}",
            subjects(&mail)
        );
    }
}

/// Attendees are asked for feedback; a course that holds certificates until then releases
/// Ana's once she answers (once). Her certificate is a PDF kept in object storage, and it
/// goes when her account is deleted. The course's managers read the answers, without
/// names; no one else, and no other tenant, reaches any of it.
#[tokio::test]
async fn attendees_give_feedback_once_and_then_get_their_certificate() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager(SLUG, "admin@harrow.example", None)
        .await;
    let body = json!({
        "provider_id": "ss4e", "title": "Phonics leadership", "summary": "For phonics leads.",
        "price_pence": 0, "cpd_minutes": 90, "cancellation_notice_days": 0,
        "certificate_after_feedback": true
    });
    let (course, session) = published_course(&admin, SLUG, &body, 10, 2).await;
    let ana = app.person(SLUG, "ana@school.example", None).await;
    let ben = app.person(SLUG, "ben@school.example", None).await;
    let anas = book(&ana, "ana-key-0001", &session).await;
    let bens = book(&ben, "ben-key-0001", &session).await;
    let form = format!("/account/bookings/{anas}/feedback");

    // Not before the register says she came.
    let res = ana.get_tenant(SLUG, &form).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "feedback_not_open");

    app.clock.advance(Duration::days(3));
    let res = admin
        .send_json(
            Method::POST,
            SLUG,
            &format!("/api/v1/sessions/{session}/attendance"),
            &json!({"marks": [
                {"booking_id": anas, "attendance": "attended"},
                {"booking_id": bens, "attendance": "no_show"}
            ]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.emailed_link(SLUG, "ana@school.example", "/account/bookings/")
            .await,
        form
    );

    // The certificate waits for her feedback.
    let cpd = ana
        .get_tenant(SLUG, "/account/cpd")
        .await
        .text()
        .await
        .unwrap();
    assert!(cpd.contains("Ready once you have given feedback"), "{cpd}");
    let record_id = cpd_record_id(&app, "ana@school.example").await;
    let certificate = format!("/account/cpd/{record_id}/certificate.pdf");
    let res = ana.get_tenant(SLUG, &certificate).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "feedback_first");

    // Ben did not come; neither he nor another tenant reaches Ana's booking or certificate.
    let res = ben
        .get_tenant(SLUG, &format!("/account/bookings/{bens}/feedback"))
        .await;
    assert_eq!(error_code(&res), "feedback_not_open");
    assert_eq!(
        ben.get_tenant(SLUG, &form).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ben.get_tenant(SLUG, &certificate).await.status(),
        StatusCode::NOT_FOUND
    );
    let somerset = app.person("somerset", "sam@school.example", None).await;
    assert_eq!(
        somerset.get_tenant("somerset", &form).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        somerset.get_tenant("somerset", &certificate).await.status(),
        StatusCode::NOT_FOUND
    );

    // Bad answers are refused and nothing is kept.
    let api = format!("/api/v1/bookings/{anas}/feedback");
    let res = ana
        .send_json(Method::POST, SLUG, &api, &json!({"rating": "9"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&res), "invalid_feedback");
    let feedback = format!("/api/v1/courses/{course}/feedback");
    assert_eq!(admin.get_json(SLUG, &feedback).await["count"], 0);
    let page = ana.get_tenant(SLUG, &form).await.text().await.unwrap();
    let res = ana
        .submit_with_page(
            &page,
            SLUG,
            &form,
            &[("rating", "0"), ("useful", &"x".repeat(2_001))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Choose a rating from 1 to 5") && page.contains("2000 characters or fewer"),
        "{page}"
    );

    // Her answers, once.
    let res = ana
        .submit_with_page(
            &page,
            SLUG,
            &form,
            &[("rating", "4"), ("useful", "The worked examples")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = ana
        .send_json(Method::POST, SLUG, &api, &json!({"rating": "5"}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "feedback_given");

    // The managers see it without her name; other tenants do not see it at all.
    let read = admin.get_json(SLUG, &feedback).await;
    assert_eq!(read["count"], 1);
    assert_eq!(read["average_rating"], 4.0);
    assert_eq!(read["answers"][0]["useful"], "The worked examples");
    let text = read.to_string();
    assert!(!text.contains("ana") && !text.contains("Ana"), "{text}");
    let page = admin
        .get_tenant(SLUG, &format!("/manage/courses/{course}/feedback"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("The worked examples"), "{page}");
    let somerset_admin = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    let res = somerset_admin.get_tenant("somerset", &feedback).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        ana.get_tenant(SLUG, &feedback).await.status(),
        StatusCode::NOT_FOUND,
        "a delegate is not a manager"
    );

    // Now the certificate: a PDF naming her, the course and its hours, kept in storage.
    let res = ana.get_tenant(SLUG, &certificate).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = bookings::pdf_font::shown_text(&pdf);
    assert!(
        text.contains("Phonics leadership") && text.contains("1.5 hours"),
        "{text}"
    );
    let tags = e2e::pdf::outline(&pdf);
    assert!(
        tags.contains(&"  H1: Certificate of attendance".to_owned())
            && tags
                .iter()
                .any(|l| l.starts_with("  P: Phonics leadership")),
        "{tags:?}"
    );
    let ana_id = app.account(SLUG, "ana@school.example").await.unwrap().id;
    let key = bookings::certificate::key(&ana_id, &record_id);
    let tenant = SLUG.parse().unwrap();
    let stored = app.objects.get(&tenant, &key).await.unwrap();
    assert_eq!(stored.as_deref(), Some(&pdf[..]));

    // When Harrow deletes her account (five years without activity), the certificate goes.
    app.clock.advance(Duration::days(365 * 5 + 30));
    crate::retention::sweep(&app, SLUG).await;
    assert!(app.account(SLUG, "ana@school.example").await.is_none());
    assert_eq!(app.objects.get(&tenant, &key).await.unwrap(), None);
}

async fn cpd_record_id(app: &TestApp, email: &str) -> String {
    use sea_orm::{ConnectionTrait, Statement};
    let account = app.account(SLUG, email).await.unwrap().id;
    let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            match tx.get_database_backend() {
                sea_orm::DbBackend::Postgres => "SELECT id FROM cpd_record WHERE account_id = $1",
                _ => "SELECT id FROM cpd_record WHERE account_id = ?",
            },
            [account.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    tx.rollback().await.unwrap();
    row.try_get_by_index(0).unwrap()
}

/// An organisation's CPD lead (a right its lead administrator gives) gets a copy of the
/// confirmation and the reminder for each place the organisation pays for, and none for
/// places paid personally or their own.
#[tokio::test]
async fn the_cpd_lead_is_copied_on_places_the_organisation_pays_for() {
    use crate::organisations::{admin_with_org, appoint, change};
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, SLUG, "Kenton School").await;
    let (_, session) =
        crate::bookings::course_with_session(&app, &admin, SLUG, "ss4e", 10, 10).await;
    let (_, other) = crate::bookings::course_with_session(&app, &admin, SLUG, "ss4e", 10, 10).await;
    let lead = app.person(SLUG, "lead@kenton.example", None).await;
    appoint(&admin, SLUG, &org, "lead@kenton.example").await;
    let cpd = app.person(SLUG, "cpd@kenton.example", Some(&org)).await;
    let member = app.person(SLUG, "member@kenton.example", Some(&org)).await;
    for (email, rights) in [
        (
            "cpd@kenton.example",
            &[("action", "rights"), ("right_cpd_lead", "yes")][..],
        ),
        ("member@kenton.example", &[][..]),
    ] {
        let id = app.account(SLUG, email).await.unwrap().id;
        let res = change(&lead, SLUG, &org, &id, &[("action", "verify")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        if !rights.is_empty() {
            let res = change(&lead, SLUG, &org, &id, rights).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
    }
    let billed = |session: &str| json!({"organisation_id": org, "items": [{"session_id": session}], "expected_total_pence": 7500});
    let res = checkout(&member, SLUG, "member-key-1", &billed(&session)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = checkout(
        &member,
        SLUG,
        "member-key-2",
        &json!({"items": [{"session_id": other}], "expected_total_pence": 7500}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED, "paid personally");
    let res = checkout(&cpd, SLUG, "cpd-key-1", &billed(&session)).await;
    assert_eq!(res.status(), StatusCode::CREATED, "the lead's own place");

    app.clock.advance(Duration::days(8));
    assert_eq!(app.bookings.send_reminders(&config(&app)).await.unwrap(), 3);
    let copies: Vec<String> = subjects(&app.outbox(SLUG, "cpd@kenton.example").await)
        .into_iter()
        .filter(|s| s.starts_with("Copy: "))
        .collect();
    assert_eq!(copies.len(), 2, "{copies:?}");
    assert!(
        copies
            .iter()
            .any(|s| s.starts_with("Copy: Booking confirmed: Moderating writing"))
    );
    assert!(
        copies
            .iter()
            .any(|s| s.starts_with("Copy: Reminder: Moderating writing"))
    );
    assert!(
        app.outbox(SLUG, "lead@kenton.example")
            .await
            .iter()
            .all(|m| !m.subject.starts_with("Copy: ")),
        "the lead administrator is not the CPD lead"
    );
}
