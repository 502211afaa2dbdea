//! Buying traded services and SLAs for an organisation: the purchaser right, computed
//! prices, idempotency, one holding per organisation, SLA prices for the courses an SLA
//! covers (inside its period only), the organisation's spend, and purchase records kept
//! seven years after delivery (Harrow).

use chrono::{Duration, Utc};
use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bookings::{checkout, published_course};
use crate::organisations::{admin_with_org, appoint, change};

const SLUG: &str = "harrow";

async fn buy(b: &Browser, key: &str, service: &str, body: &Value) -> reqwest::Response {
    b.client
        .post(b.url(
            &format!("{SLUG}.localhost"),
            &format!("/api/v1/services/{service}/purchase"),
        ))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A published SLA from 30 days ago to 300 days ahead, with two bands; returns its id.
pub(crate) async fn sla(admin: &Browser) -> String {
    let today = Utc::now().date_naive();
    let body = json!({
        "provider_id": "ss4e", "title": "Training SLA", "summary": "Core training.",
        "audiences": ["schools"],
        "period_start": today - Duration::days(30), "period_end": today + Duration::days(300),
        "term": "This year",
        "price_bands": [{"label": "Up to 200 pupils", "price_pence": 60000},
                        {"label": "Over 200 pupils", "price_pence": 90000}]
    });
    published_service(admin, SLUG, &body).await
}

/// Creates the service `body` describes on `slug` and publishes it; returns its id.
pub(crate) async fn published_service(admin: &Browser, slug: &str, body: &Value) -> String {
    let res = admin
        .send_json(Method::POST, slug, "/api/v1/services", body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = admin
        .send_json(
            Method::POST,
            slug,
            &format!("/api/v1/services/{id}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    id
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let tx = app.store.system_tx(&SLUG.parse().unwrap()).await.unwrap();
    let row = tx
        .query_one_raw(Statement::from_string(tx.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    tx.rollback().await.unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
async fn a_purchaser_buys_an_sla_and_the_courses_it_covers_then_cost_the_sla_price() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, SLUG, "Kenton School").await;
    let service = sla(&admin).await;
    let course = |days: i64| {
        let admin = admin.clone();
        let service = service.clone();
        async move {
            let body = json!({
                "provider_id": "ss4e", "title": "Moderating writing", "summary": "KS2.",
                "price_pence": 7500, "cancellation_notice_days": 0,
                "sla_service_id": service, "sla_price_pence": 0
            });
            published_course(&admin, SLUG, &body, 10, days).await.1
        }
    };
    let inside = course(10).await;
    let outside = course(400).await;
    let lead = app.person(SLUG, "lead@kenton.example", None).await;
    appoint(&admin, SLUG, &org, "lead@kenton.example").await;
    let member = app.person(SLUG, "member@kenton.example", Some(&org)).await;
    let member_id = app.account(SLUG, "member@kenton.example").await.unwrap().id;
    let res = change(&lead, SLUG, &org, &member_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let place = |session: &str, total: i64| json!({"organisation_id": org, "items": [{"session_id": session}], "expected_total_pence": total});

    // Before the SLA: the standard price.
    let res = checkout(&member, SLUG, "member-key-1", &place(&inside, 7500)).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Bad purchases change nothing.
    let band = |b: &str| json!({"organisation_id": org, "band": b});
    let res = buy(&member, "member-buy-1", &service, &band("Up to 200 pupils")).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a member without the right"
    );
    assert_eq!(error_code(&res), "not_allowed");
    let res = buy(&lead, "lead-buy-0", &service, &band("Up to 2000 pupils")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&res), "invalid_request");
    let mut tampered = band("Up to 200 pupils");
    tampered["expected_total_pence"] = json!(100);
    let res = buy(&lead, "lead-buy-0", &service, &tampered).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "price_changed");
    let res = buy(&lead, "short", &service, &band("Up to 200 pupils")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let somerset = app
        .catalogue_manager("somerset", "admin@somerset.example", None)
        .await;
    let res = somerset
        .send_json(
            Method::POST,
            "somerset",
            &format!("/api/v1/services/{service}/purchase"),
            &band("Up to 200 pupils"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "no key");
    let res = somerset
        .client
        .post(somerset.url(
            "somerset.localhost",
            &format!("/api/v1/services/{service}/purchase"),
        ))
        .header("idempotency-key", "somerset-key-1")
        .json(&band("Up to 200 pupils"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "not their organisation"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM service_purchase").await,
        0
    );

    // The lead administrator buys it: once, whatever the retries.
    let res = buy(&lead, "lead-buy-1", &service, &band("Up to 200 pupils")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let bought: Value = res.json().await.unwrap();
    assert_eq!(bought["total_pence"], 60000);
    let res = buy(&lead, "lead-buy-1", &service, &band("Up to 200 pupils")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["order_id"], bought["order_id"]);
    assert_eq!(again["replayed"], true);
    let res = buy(&lead, "lead-buy-1", &service, &band("Over 200 pupils")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = buy(&lead, "lead-buy-2", &service, &band("Over 200 pupils")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "already_purchased");
    assert!(
        app.outbox(SLUG, "lead@kenton.example")
            .await
            .iter()
            .any(|m| m.subject == "Order confirmed: Training SLA")
    );

    // Now a place inside the SLA's period costs the SLA price; outside it, the standard.
    let res = checkout(&member, SLUG, "member-key-2", &place(&inside, 7500)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "already booked");
    let lead_place = place(&inside, 0);
    let res = checkout(&lead, SLUG, "lead-key-1", &lead_place).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let res = checkout(&lead, SLUG, "lead-key-2", &place(&outside, 0)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "price_changed");
    let res = checkout(&lead, SLUG, "lead-key-3", &place(&outside, 7500)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Billed to no organisation, the SLA does not apply.
    let res = checkout(
        &lead,
        SLUG,
        "lead-key-4",
        &json!({"items": [{"session_id": course(10).await}], "expected_total_pence": 0}),
    )
    .await;
    assert_eq!(error_code(&res), "price_changed");

    // The organisation's spend counts the places and the SLA.
    let html = lead
        .get_tenant(SLUG, &format!("/organisations/{org}/bookings"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("£750.00"), "7500 + 60000 + 0 + 7500: {html}");
    let actions = app.audit_actions(SLUG).await;
    assert!(actions.iter().any(|a| a == "service.purchased"));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM transaction_log WHERE action = 'purchase'"
        )
        .await,
        1
    );

    // The service page's form: the lead buys a second service with a click.
    let second = sla(&admin).await;
    let page = lead
        .get_tenant(SLUG, &format!("/services/{second}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Buy for your organisation"), "{page}");
    let res = lead
        .submit_with_page(
            &page,
            SLUG,
            &format!("/services/{second}/buy"),
            &[
                ("organisation_id", org.as_str()),
                ("band", "Over 200 pupils"),
                ("idempotency_key", "page-key-0001"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("£900.00"));
    // A member without the right sees no form.
    let page = member
        .get_tenant(SLUG, &format!("/services/{second}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Buy for your organisation"));

    // Retention: five years on, the lead's account goes and the purchases are kept under a
    // pseudonym; seven years after the services' periods end, the purchases go too.
    let lead_id = app.account(SLUG, "lead@kenton.example").await.unwrap().id;
    let period_end = Utc::now().date_naive() + Duration::days(300);
    let advance_to = |day: chrono::NaiveDate| {
        let today = app.clock.now().date_naive();
        app.clock.advance(Duration::days((day - today).num_days()));
    };
    advance_to(Utc::now().date_naive() + Duration::days(365 * 5 + 30));
    crate::retention::sweep(&app, SLUG).await;
    assert!(app.account(SLUG, "lead@kenton.example").await.is_none());
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM service_purchase WHERE account_id = '{lead_id}'")
        )
        .await,
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM service_purchase").await,
        2
    );
    let seven = period_end
        .checked_add_months(chrono::Months::new(84))
        .unwrap();
    advance_to(seven - Duration::days(1));
    crate::retention::sweep(&app, SLUG).await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM service_purchase").await,
        2
    );
    advance_to(seven);
    crate::retention::sweep(&app, SLUG).await;
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM service_purchase").await,
        0
    );
}
