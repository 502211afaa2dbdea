//! A traded service's staff see who bought it, with exactly the buyer's fields the
//! tenant's notice gives the service (Somerset: name, job role and email), every read that
//! shows a buyer logged as a disclosure; another provider's staff, another tenant and
//! anonymous visitors get nothing, and nothing is logged for them.

use chrono::{Duration, Utc};
use e2e::{Browser, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

use crate::delegates::disclosures;
use crate::organisations::{admin_with_org, appoint};

const SLUG: &str = "somerset";

/// A published service of `provider` with one band; returns its id.
async fn service(admin: &Browser, provider: &str) -> String {
    let today = Utc::now().date_naive();
    let body = json!({
        "provider_id": provider, "title": "Music service SLA", "summary": "Instrument tuition.",
        "audiences": ["schools"],
        "period_start": today - Duration::days(10), "period_end": today + Duration::days(300),
        "term": "This year",
        "price_bands": [{"label": "Any size", "price_pence": 50000}]
    });
    crate::purchases::published_service(admin, SLUG, &body).await
}

#[tokio::test]
async fn a_services_staff_see_its_buyers_with_the_fields_the_notice_gives_and_reads_are_logged() {
    let app = spawn_app().await;
    let (admin, org) = admin_with_org(&app, SLUG, "Taunton Primary").await;
    let id = service(&admin, "somerset-sse").await;
    let lead = app.person(SLUG, "lead@taunton.example", None).await;
    appoint(&admin, SLUG, &org, "lead@taunton.example").await;
    let res = lead
        .client
        .post(lead.url(
            "somerset.localhost",
            &format!("/api/v1/services/{id}/purchase"),
        ))
        .header("idempotency-key", "taunton-buy-0001")
        .json(&json!({"organisation_id": org, "band": "Any size"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );

    // Someone else's staff, another tenant and anonymous visitors see nothing.
    let wessex = app
        .catalogue_manager(SLUG, "staff@wessex.example", Some("wessex-teaching-school"))
        .await;
    for path in [
        format!("/manage/services/{id}/purchasers"),
        format!("/manage/services/{id}/purchasers.csv"),
        format!("/api/v1/services/{id}/purchasers"),
    ] {
        assert_eq!(
            wessex.get_tenant(SLUG, &path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let harrow = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    assert_eq!(
        harrow
            .get_tenant("harrow", &format!("/api/v1/services/{id}/purchasers"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let anonymous = app.new_browser();
    assert_eq!(
        anonymous
            .get_tenant(SLUG, &format!("/api/v1/services/{id}/purchasers"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(disclosures(&app, SLUG).await.is_empty());

    // The service's own staff: the buyer's name, job role and email, nothing else.
    let staff = app
        .catalogue_manager(SLUG, "staff@sse.example", Some("somerset-sse"))
        .await;
    let list = staff
        .get_json(SLUG, &format!("/api/v1/services/{id}/purchasers"))
        .await;
    assert_eq!(list["fields"], json!(["name", "email", "job_title"]));
    let p = &list["purchasers"][0];
    assert_eq!(p["organisation"], "Taunton Primary");
    assert_eq!(p["band"], "Any size");
    assert_eq!(p["buyer"]["name"], "Pat lead");
    assert_eq!(p["buyer"]["email"], "lead@taunton.example");
    assert_eq!(p["buyer"]["job_title"], "Teacher");
    assert!(!list.to_string().contains("01632"), "{list}");

    let csv = staff
        .get_tenant(SLUG, &format!("/manage/services/{id}/purchasers.csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("Purchase,Organisation,Band,From,To,Status,Name,Email address,Job title"),
        "{csv}"
    );
    assert!(csv.contains("Taunton Primary,Any size"), "{csv}");
    assert!(
        csv.contains("Pat lead,lead@taunton.example,Teacher"),
        "{csv}"
    );
    let page = staff
        .get_tenant(SLUG, &format!("/manage/services/{id}/purchasers"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Who bought Music service SLA"), "{page}");
    assert!(page.contains("lead@taunton.example"));

    let log = disclosures(&app, SLUG).await;
    assert_eq!(log.len(), 3, "one buyer, three reads: {log:?}");
    for format in ["json", "csv", "page"] {
        assert!(log.contains(&(
            "somerset-sse".to_owned(),
            "name,email,job_title".to_owned(),
            format.to_owned()
        )));
    }
    assert!(
        app.audit_actions(SLUG)
            .await
            .contains(&"purchasers.disclosed".to_owned())
    );
}
