//! Integrator access: a tenant administrator makes an API token (shown once, stored
//! hashed), another system uses it as `Authorization: Bearer` within its scopes, every use
//! is audited with its name, and it stops working when revoked, expired, used on another
//! tenant or sent malformed. Bad forms and other people change nothing.

use chrono::Duration;
use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Makes a token through the form; returns it.
async fn make(admin: &Browser, slug: &str, fields: &[(&str, &str)]) -> String {
    let res = admin
        .submit(slug, "/manage/tokens", "/manage/tokens", fields)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = res.text().await.unwrap();
    let at = page
        .find(r#"<code id="new-token">"#)
        .expect("the new token")
        + 21;
    page[at..at + page[at..].find('<').unwrap()].to_owned()
}

/// Revokes a token through its button; returns the answer's status.
async fn revoke(b: &Browser, slug: &str, id: &str) -> StatusCode {
    b.submit(
        slug,
        "/manage/tokens",
        &format!("/manage/tokens/{id}/revoke"),
        &[],
    )
    .await
    .status()
}

/// A request with the token and nothing else (no cookies).
async fn call(
    app: &TestApp,
    slug: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    // A fresh browser's client: no cookies, this test's address for every host.
    let mut req = app
        .new_browser()
        .client
        .request(method, app.url(&format!("{slug}.localhost"), path))
        .header("authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_token_reads_and_writes_within_its_scopes_and_every_use_is_audited() {
    let app = spawn_app().await;
    let slug = "somerset";
    let admin = app
        .catalogue_manager(slug, "admin@somerset.example", None)
        .await;
    let token = make(
        &admin,
        slug,
        &[
            ("name", "Finance system"),
            ("days", "30"),
            ("scope_catalogue", "write"),
            ("scope_bookings", "read"),
            ("scope_rights", "none"),
        ],
    )
    .await;
    assert!(token.starts_with("ept_") && token.len() > 40, "{token}");
    // Shown once: the list names it, never shows it again.
    let list = admin
        .get_tenant(slug, "/manage/tokens")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("Finance system") && !list.contains(&token));

    let res = call(&app, slug, &token, Method::GET, "/api/v1/bookings", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = json!({
        "provider_id": "somerset-sse", "kind": "course", "title": "Made by a token",
        "summary": "From another system.", "audiences": ["early_years"],
        "phases": ["early_years"], "cpd_minutes": 60, "price_pence": 0,
        "cancellation_notice_days": 0
    });
    let res = call(
        &app,
        slug,
        &token,
        Method::POST,
        "/api/v1/courses",
        Some(body),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    // Beyond its scopes: bookings are read only, rights requests not at all, pages never.
    for (method, path) in [
        (Method::POST, "/api/v1/checkout"),
        (Method::GET, "/api/v1/rights-requests"),
        (Method::GET, "/account"),
        (Method::GET, "/manage/tokens"),
    ] {
        let res = call(&app, slug, &token, method.clone(), path, None).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(error_code(&res), "token_scope");
    }
    let actions = app.audit_actions(slug).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "api_token.created").count(),
        1
    );
    assert_eq!(actions.iter().filter(|a| *a == "api_token.used").count(), 2);
    // Refused within the API's areas is recorded too; pages are refused before looking.
    assert_eq!(
        actions.iter().filter(|a| *a == "api_token.refused").count(),
        2
    );
    assert!(actions.iter().any(|a| a == "course.created"));
    let list = admin
        .get_tenant(slug, "/manage/tokens")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !list.contains("last used: Never"),
        "the list shows its last use"
    );
}

#[tokio::test]
async fn a_token_stops_when_revoked_expired_elsewhere_or_malformed() {
    let app = spawn_app().await;
    let slug = "somerset";
    let admin = app
        .catalogue_manager(slug, "admin@somerset.example", None)
        .await;
    let fields = [
        ("name", "Reader"),
        ("days", "1"),
        ("scope_catalogue", "read"),
    ];
    let token = make(&admin, slug, &fields).await;
    let ok = call(&app, slug, &token, Method::GET, "/api/v1/courses", None).await;
    assert_eq!(ok.status(), StatusCode::OK);

    // Another tenant's host knows nothing of it.
    let res = call(&app, "harrow", &token, Method::GET, "/api/v1/courses", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&res), "invalid_token");
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    // Malformed or unknown.
    for header in ["Bearer", "Bearer ept_nothing", &format!("Bearer {token}x")] {
        let res = app
            .new_browser()
            .client
            .get(app.url("somerset.localhost", "/api/v1/courses"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{header}");
    }
    // Another scheme (a staging site's basic auth, say) is not ours: it is ignored.
    let res = app
        .new_browser()
        .client
        .get(app.url("somerset.localhost", "/courses"))
        .header("authorization", "Basic c3RhZmY6c3RhZ2luZw==")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The API's description is public, token or not.
    let res = call(
        &app,
        slug,
        "ept_nothing",
        Method::GET,
        "/api/openapi.json",
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Expired after its day.
    app.clock.advance(Duration::days(2));
    let res = call(&app, slug, &token, Method::GET, "/api/v1/courses", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Revoked: at once. Another tenant's administrator cannot revoke it.
    let second = make(
        &admin,
        slug,
        &[
            ("name", "Second"),
            ("days", "5"),
            ("scope_catalogue", "read"),
        ],
    )
    .await;
    let list = admin
        .get_tenant(slug, "/manage/tokens")
        .await
        .text()
        .await
        .unwrap();
    let id = list
        .split("/manage/tokens/")
        .nth(1)
        .map(|s| s[..s.find('/').unwrap()].to_owned())
        .unwrap();
    let harrow = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let form = harrow.csrf("harrow", "/manage/tokens").await;
    let res = harrow
        .post_form(
            "harrow",
            &format!("/manage/tokens/{id}/revoke"),
            &[("csrf_token", &form)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = call(&app, slug, &second, Method::GET, "/api/v1/courses", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(revoke(&admin, slug, &id).await, StatusCode::SEE_OTHER);
    let res = call(&app, slug, &second, Method::GET, "/api/v1/courses", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Revoking twice: nothing to revoke.
    assert_eq!(revoke(&admin, slug, &id).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_token_forms_and_other_people_change_nothing() {
    let app = spawn_app().await;
    let slug = "somerset";
    let admin = app
        .catalogue_manager(slug, "admin@somerset.example", None)
        .await;
    for fields in [
        vec![("name", ""), ("days", "30"), ("scope_catalogue", "read")],
        vec![("name", "No scope"), ("days", "30")],
        vec![
            ("name", "Too long"),
            ("days", "400"),
            ("scope_catalogue", "read"),
        ],
        vec![
            ("name", "Odd"),
            ("days", "30"),
            ("scope_catalogue", "admin"),
        ],
    ] {
        let res = admin
            .submit(slug, "/manage/tokens", "/manage/tokens", &fields)
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert_eq!(error_code(&res), "invalid_token_form");
        let page = res.text().await.unwrap();
        assert!(page.contains("There is a problem") && !page.contains("new-token"));
    }
    let list = admin
        .get_tenant(slug, "/manage/tokens")
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("None yet."));
    assert!(
        !app.audit_actions(slug)
            .await
            .iter()
            .any(|a| a.starts_with("api_token"))
    );
    // Only tenant administrators have the page.
    let member = app.person(slug, "member@school.example", None).await;
    let officer = app
        .role_holder(slug, "dpo@somerset.example", "privacy-officer", None)
        .await;
    for b in [&member, &officer] {
        assert_eq!(
            b.get_tenant(slug, "/manage/tokens").await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let form = member.csrf(slug, "/account").await;
    let res = member
        .post_form(
            slug,
            "/manage/tokens",
            &[
                ("csrf_token", &form),
                ("name", "Mine"),
                ("days", "5"),
                ("scope_catalogue", "read"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(
        !app.audit_actions(slug)
            .await
            .iter()
            .any(|a| a.starts_with("api_token"))
    );
}
