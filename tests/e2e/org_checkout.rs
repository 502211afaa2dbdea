//! Checkouts billed to an organisation check everything first and take their places last,
//! in the statement that writes the order (with no transaction where nothing needs a lock);
//! one that finds its place gone since it read runs again taking the place first. Run at
//! once, they still fill a session exactly, keep the organisation's limit on a session, and
//! give each place one invoice, numbered without gaps; a session the service remembers
//! changes none of the checks.

use chrono::{Duration, Utc};
use e2e::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use identity::domain::rights::Right;

use crate::bookings::course_with_session;

const SLUG: &str = "harrow";

/// `n` people, all verified members of one new school (made straight in the database:
/// signing them up through the pages would test the password hasher, not booking).
async fn school_staff(
    app: &TestApp,
    n: usize,
) -> (String, Vec<identity::store::entity::account::Model>) {
    let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
    let school = identity::store::organisations::create(&tx, "Canons School", "school", Utc::now())
        .await
        .unwrap();
    let mut people = Vec::new();
    for i in 0..n {
        let new = identity::domain::signup::NewAccount {
            email: format!("staff{i}@canons.example"),
            first_name: "Staff".into(),
            last_name: format!("{i}"),
            ..Default::default()
        };
        let person = identity::store::insert_account(&tx, &new, None, Utc::now(), None)
            .await
            .unwrap();
        identity::store::organisations::upsert_membership(
            &tx,
            &school.id,
            &person.id,
            &identity::domain::rights::Rights::new([]),
            "verified",
            Utc::now(),
        )
        .await
        .unwrap();
        people.push(person);
    }
    tx.commit().await.unwrap();
    (school.id, people)
}

/// One place on `session`, billed to `org`, for `delegate` (the booker without one).
fn one_place(
    org: &str,
    session: &str,
    delegate: Option<&str>,
    expected_total_pence: Option<i64>,
) -> bookings::domain::CheckoutRequest {
    bookings::domain::CheckoutRequest {
        organisation_id: Some(org.to_owned()),
        items: vec![bookings::domain::CheckoutItem {
            session_id: session.to_owned(),
            delegate_account_id: delegate.map(str::to_owned),
        }],
        expected_total_pence,
    }
}

/// Everyone checks out one place on `session`, billed to `org`, at once; returns what each
/// was answered.
async fn all_at_once(
    app: &TestApp,
    service: &bookings::Bookings,
    people: &[identity::store::entity::account::Model],
    org: &str,
    session: &str,
) -> Vec<Result<bookings::domain::CheckoutOutcome, bookings::BookingError>> {
    let cfg = config(app).await;
    let req = one_place(org, session, None, Some(7500));
    let tasks: Vec<_> = people
        .iter()
        .map(|p| {
            let (service, cfg, req, p) = (service.clone(), cfg.clone(), req.clone(), p.clone());
            let key = format!("{session}-{}", p.id);
            tokio::spawn(async move { service.checkout(&cfg, &p, &key, &req).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

async fn config(app: &TestApp) -> tenant_router::TenantConfig {
    let registry = storage::tenants::load_registry(&app.store).await.unwrap();
    registry
        .iter()
        .find(|t| t.id.as_str() == SLUG)
        .unwrap()
        .config
        .clone()
}

fn service(app: &TestApp) -> bookings::Bookings {
    let objects = storage::Objects::local(&std::env::temp_dir().join("portal-test-objects"));
    let catalogue = catalogue::Catalogue::new(app.store.clone(), app.clock.clone(), objects);
    bookings::Bookings::new(app.store.clone(), app.clock.clone(), catalogue)
}

/// Rows of `sql` (one integer column) on the test database.
async fn numbers(app: &TestApp, sql: &str) -> Vec<String> {
    let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
    let rows = sea_orm::ConnectionTrait::query_all_raw(
        &*tx,
        sea_orm::Statement::from_string(sea_orm::ConnectionTrait::get_database_backend(&*tx), sql),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "number").unwrap())
        .collect()
}

#[tokio::test]
async fn organisation_checkouts_at_once_fill_a_session_exactly_and_each_place_is_invoiced_once() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager(SLUG, "admin@harrow.example", None)
        .await;
    let (course, session) = course_with_session(&app, &admin, SLUG, "ss4e", 5, 10).await;
    let (org, people) = school_staff(&app, 30).await;
    let service = service(&app);
    let answers = all_at_once(&app, &service, &people, &org, &session).await;
    let (mut booked, mut waiting) = (0, 0);
    for a in answers {
        let outcome = a.unwrap();
        booked += outcome.booked.len();
        waiting += outcome.waiting.len();
    }
    assert_eq!((booked, waiting), (5, 25));
    let listed = app
        .get_json(SLUG, &format!("/api/v1/courses/{course}"))
        .await;
    assert_eq!(listed["sessions"][0]["places_left"], 0, "{listed}");
    // Each place's invoice, numbered once each without gaps (numbering runs in the
    // background; the service numbers what is still waiting, as every read does).
    let cfg = config(&app).await;
    service.number_invoices(&cfg).await.unwrap();
    let mut found = numbers(
        &app,
        &format!(
            "SELECT number FROM invoice WHERE tenant_id = '{SLUG}' \
             AND organisation_id = '{org}' AND kind = 'invoice'"
        ),
    )
    .await;
    found.sort();
    let expected: Vec<String> = (1..=5).map(|n| format!("SS4E-INV-{n:06}")).collect();
    assert_eq!(found, expected);
    let left = numbers(
        &app,
        &format!("SELECT id AS number FROM invoice_pending WHERE tenant_id = '{SLUG}'"),
    )
    .await;
    assert_eq!(left, Vec::<String>::new());
}

#[tokio::test]
async fn organisation_checkouts_at_once_keep_the_organisations_limit_on_a_session() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager(SLUG, "admin@harrow.example", None)
        .await;
    let (course, _) = course_with_session(&app, &admin, SLUG, "ss4e", 5, 10).await;
    let start = Utc::now() + Duration::days(12);
    let res = admin
        .send_json(
            Method::POST,
            SLUG,
            &format!("/api/v1/courses/{course}/sessions"),
            &json!({"starts_at": start, "ends_at": start + Duration::hours(2), "venue": "Hall",
                    "capacity": 20, "org_place_limit": 3}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let session = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (org, people) = school_staff(&app, 12).await;
    let answers = all_at_once(&app, &service(&app), &people, &org, &session).await;
    let (mut booked, mut limited) = (0, 0);
    for a in answers {
        match a {
            Ok(outcome) => {
                assert!(outcome.waiting.is_empty(), "places were free");
                booked += outcome.booked.len();
            }
            Err(bookings::BookingError::NotBookable {
                code: "organisation_limit",
                ..
            }) => limited += 1,
            Err(other) => panic!("unexpected refusal: {other}"),
        }
    }
    assert_eq!((booked, limited), (3, 9));
    let listed = app
        .get_json(SLUG, &format!("/api/v1/courses/{course}"))
        .await;
    let places_left: Vec<i64> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["places_left"].as_i64().unwrap())
        .collect();
    assert!(places_left.contains(&17), "{listed}");
}

/// Sets `person`'s membership of `org` (straight in the database).
async fn membership(app: &TestApp, org: &str, person: &str, rights: &[Right], status: &str) {
    let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
    identity::store::organisations::upsert_membership(
        &tx,
        org,
        person,
        &identity::domain::rights::Rights::new(rights.iter().copied()),
        status,
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_remembered_session_still_checks_who_is_booked_for_and_whether_it_waits_for_approval() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager(SLUG, "admin@harrow.example", None)
        .await;
    let (_, session) = course_with_session(&app, &admin, SLUG, "ss4e", 10, 10).await;
    let (org, people) = school_staff(&app, 3).await;
    let (booker, colleague, leaver) = (&people[0], &people[1], &people[2]);
    app.person(SLUG, "outsider@elsewhere.example", None).await;
    let outsider = &app
        .account(SLUG, "outsider@elsewhere.example")
        .await
        .unwrap();
    membership(&app, &org, &booker.id, &[Right::Booker], "verified").await;
    let (service, cfg) = (service(&app), config(&app).await);
    let book = |who: &identity::store::entity::account::Model, for_whom: &str, key: &str| {
        let req = one_place(&org, &session, Some(for_whom), None);
        let (service, cfg, who, key) = (service.clone(), cfg.clone(), who.clone(), key.to_owned());
        async move { service.checkout(&cfg, &who, &key, &req).await }
    };
    // Read from the database: the app's page cache does not hear of this service's writes.
    let places_left = || async {
        let sql = format!(
            "SELECT CAST(capacity - places_taken AS TEXT) AS number FROM course_session \
             WHERE tenant_id = '{SLUG}' AND id = '{session}'"
        );
        numbers(&app, &sql).await[0].parse::<i64>().unwrap()
    };

    // The first checkout reads the session, and the service remembers it.
    let first = book(booker, &booker.id, "checkout-key-1").await.unwrap();
    assert_eq!(first.booked[0].status, "confirmed");
    assert_eq!(places_left().await, 9);
    // Remembered or not, a leaver, someone from elsewhere and a colleague who is not
    // confirmed are refused, and nothing is written.
    membership(&app, &org, &leaver.id, &[], "left").await;
    membership(&app, &org, &colleague.id, &[], "claimed").await;
    for (whom, key) in [
        (leaver, "checkout-key-2"),
        (outsider, "checkout-key-3"),
        (colleague, "checkout-key-4"),
    ] {
        let refused = book(booker, &whom.id, key).await.unwrap_err();
        assert!(
            matches!(refused, bookings::BookingError::NotAllowed(_)),
            "{refused}"
        );
    }
    assert_eq!(places_left().await, 9);
    // A colleague without the booker right books for themself only.
    membership(&app, &org, &colleague.id, &[], "verified").await;
    let refused = book(colleague, &booker.id, "checkout-key-5")
        .await
        .unwrap_err();
    assert!(matches!(refused, bookings::BookingError::NotAllowed(_)));
    // The leaver comes back as the school's CPD lead; the booker books a colleague, who
    // is sent the confirmation, with a copy to the CPD lead.
    membership(&app, &org, &leaver.id, &[Right::CpdLead], "verified").await;
    let booked = book(booker, &colleague.id, "checkout-key-6").await.unwrap();
    assert_eq!(booked.booked[0].status, "confirmed");
    assert_eq!(places_left().await, 8);
    let told = |to: &'static str, prefix: &'static str| {
        let app = &app;
        async move {
            app.outbox(SLUG, to)
                .await
                .iter()
                .filter(|m| m.subject.starts_with(prefix))
                .count()
        }
    };
    assert_eq!(
        told("staff1@canons.example", "Booking confirmed: ").await,
        1
    );
    assert_eq!(
        told("staff2@canons.example", "Copy: Booking confirmed: ").await,
        1
    );
    // Approval turned on: the booker's place for a colleague waits for it.
    let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
    identity::store::organisations::set_approve_bookings(&tx, &org, true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let waits = book(booker, &leaver.id, "checkout-key-7").await.unwrap();
    assert_eq!(waits.booked[0].status, "pending");
    assert_eq!(places_left().await, 7);
    // An invoice for each checkout that took a place.
    service.number_invoices(&cfg).await.unwrap();
    let found = numbers(
        &app,
        &format!(
            "SELECT number FROM invoice WHERE tenant_id = '{SLUG}' \
             AND organisation_id = '{org}' AND kind = 'invoice'"
        ),
    )
    .await;
    assert_eq!(found.len(), 3, "{found:?}");
}

#[tokio::test]
async fn many_people_each_booking_many_sessions_for_their_school_are_each_booked_once() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager(SLUG, "admin@harrow.example", None)
        .await;
    let (course, first) = course_with_session(&app, &admin, SLUG, "ss4e", 16, 10).await;
    let mut sessions = vec![first];
    for day in 11..18 {
        let start = Utc::now() + Duration::days(day);
        let res = admin
            .send_json(
                Method::POST,
                SLUG,
                &format!("/api/v1/courses/{course}/sessions"),
                &json!({"starts_at": start, "ends_at": start + Duration::hours(2),
                        "venue": "Hall", "capacity": 16}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        sessions.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (org, people) = school_staff(&app, 16).await;
    let (service, cfg) = (service(&app), config(&app).await);
    let tasks: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (service, cfg, p, org) = (service.clone(), cfg.clone(), p.clone(), org.clone());
            let mine: Vec<String> = sessions
                .iter()
                .cycle()
                .skip(i % sessions.len())
                .take(sessions.len())
                .cloned()
                .collect();
            tokio::spawn(async move {
                let mut booked = 0;
                for s in mine {
                    let req = one_place(&org, &s, None, Some(7500));
                    let key = format!("many-{s}");
                    booked += service
                        .checkout(&cfg, &p, &key, &req)
                        .await
                        .unwrap()
                        .booked
                        .len();
                }
                booked
            })
        })
        .collect();
    let mut booked = 0;
    for t in tasks {
        booked += t.await.unwrap();
    }
    assert_eq!(booked, 16 * sessions.len());
}

#[tokio::test]
async fn an_order_number_drawn_twice_is_told_apart_from_a_repeated_key() {
    use bookings::store::entity::booking_order;
    use sea_orm::{ActiveModelTrait as _, Set};
    let app = spawn_app().await;
    let (_, people) = school_staff(&app, 1).await;
    let order = |number: &str, key: &str| booking_order::ActiveModel {
        tenant_id: Set(SLUG.to_owned()),
        id: Set(uuid::Uuid::now_v7().to_string()),
        number: Set(number.to_owned()),
        account_id: Set(people[0].id.clone()),
        organisation_id: Set(None),
        total_pence: Set(0),
        idempotency_key: Set(key.to_owned()),
        request_hash: Set("hash".to_owned()),
        created_at: Set(Utc::now()),
    };
    // Each insert in a transaction of its own: PostgreSQL ends one at its first error.
    let insert = |row: booking_order::ActiveModel| async {
        let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
        let done = row.insert(&*tx).await;
        match done {
            Ok(_) => tx.commit().await.unwrap(),
            Err(_) => tx.rollback().await.unwrap(),
        }
        done.map(|_| ())
    };
    insert(order("SS4E-0123456789", "order-key-1"))
        .await
        .unwrap();
    let clash = insert(order("SS4E-0123456789", "order-key-2"))
        .await
        .unwrap_err();
    assert!(bookings::number_taken(&clash), "{clash}");
    let repeat = insert(order("SS4E-ABCDEFGHJK", "order-key-1"))
        .await
        .unwrap_err();
    assert!(!bookings::number_taken(&repeat), "{repeat}");
}
