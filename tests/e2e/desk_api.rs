//! The rights desk over JSON: a privacy officer logs a request, reads the queue and one
//! request's history; bad input answers 422 with a stable code and stores nothing; no
//! session is 401; anyone else, and another tenant's officer, 404.

use e2e::{TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SLUG: &str = "harrow";

fn today(app: &TestApp) -> String {
    privacy_engine::domain::calendar::uk_date(app.clock.now()).to_string()
}

fn logged(app: &TestApp) -> Value {
    json!({
        "kind": "access",
        "channel": "phone",
        "requester_name": "Jo Caller",
        "requester_email": "jo@example.org",
        "details": "Everything about my bookings.",
        "received_on": today(app),
        "identity_known": true
    })
}

#[tokio::test]
async fn an_officer_logs_a_request_and_reads_the_queue_over_json() {
    let app = spawn_app().await;
    let officer = app
        .role_holder(SLUG, "dpo@harrow.example", "privacy-officer", None)
        .await;

    // Bad input: a stable code, nothing stored.
    for (field, value, code) in [
        ("kind", json!("everything"), "invalid_kind"),
        ("channel", json!("online"), "invalid_channel"),
        ("requester_name", json!(" "), "invalid"),
        ("received_on", json!("2099-01-01"), "invalid"),
    ] {
        let mut body = logged(&app);
        body[field] = value;
        let res = officer
            .send_json(Method::POST, SLUG, "/api/v1/rights-requests", &body)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(error_code(&res), code, "{field}");
    }
    let queue = officer.get_json(SLUG, "/api/v1/rights-requests").await;
    assert_eq!(queue["items"], json!([]));

    let res = officer
        .send_json(Method::POST, SLUG, "/api/v1/rights-requests", &logged(&app))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let made: Value = res.json().await.unwrap();
    assert!(made["reference"].as_str().unwrap().starts_with("RR-"));
    assert_eq!(made["status"], "open");
    assert_eq!(made["channel"], "phone");
    assert!(made["due_on"].is_string());
    // The requester is acknowledged.
    assert!(!app.outbox(SLUG, "jo@example.org").await.is_empty());

    let id = made["id"].as_str().unwrap();
    let queue = officer.get_json(SLUG, "/api/v1/rights-requests").await;
    assert_eq!(queue["items"][0]["id"], id);
    let detail = officer
        .get_json(SLUG, &format!("/api/v1/rights-requests/{id}"))
        .await;
    assert_eq!(detail["request"]["requester_name"], "Jo Caller");
    assert_eq!(detail["history"][0]["action"], "received");

    // No session: 401. A person, another tenant's officer: 404.
    let res = app
        .new_browser()
        .get_tenant(SLUG, "/api/v1/rights-requests")
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let person = app.person(SLUG, "someone@school.example", None).await;
    let other = app
        .role_holder("somerset", "dpo@somerset.example", "privacy-officer", None)
        .await;
    let detail = format!("/api/v1/rights-requests/{id}");
    for (who, host, path) in [
        (&person, SLUG, "/api/v1/rights-requests"),
        (&person, SLUG, detail.as_str()),
        (&other, "somerset", detail.as_str()),
    ] {
        assert_eq!(
            who.get_tenant(host, path).await.status(),
            StatusCode::NOT_FOUND,
            "{host}{path}"
        );
    }
    let res = person
        .send_json(Method::POST, SLUG, "/api/v1/rights-requests", &logged(&app))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The OpenAPI document describes the desk.
    let doc = app.get_json(SLUG, "/api/openapi.json").await;
    assert!(doc["paths"]["/api/v1/rights-requests"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/rights-requests/{id}"]["get"].is_object());
}
