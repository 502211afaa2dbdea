//! The platform operator's API: onboarding and offboarding a council over HTTP with the
//! operator's token, on any host; without the token nothing, and with no token configured
//! no API at all.

use crate::offboarding::PASSPHRASE;
use e2e::{TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::onboarding::newtown;

const TOKEN: &str = "op-token-for-tests-0123456789";

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url("harrow.localhost", path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

/// Newtown's home page (a host the test's client was not built for).
async fn newtown_home(app: &TestApp) -> reqwest::Response {
    reqwest::Client::builder()
        .resolve("newtown.localhost", app.addr)
        .build()
        .unwrap()
        .get(app.url("newtown.localhost", "/"))
        .send()
        .await
        .unwrap()
}

fn code(res: &reqwest::Response) -> String {
    e2e::error_code(res)
}

#[tokio::test]
async fn an_operator_onboards_and_offboards_a_council_over_http() {
    let app = spawn_app_with(|s| {
        s.operator.token_sha256 = Some(hex::encode(sha2::Sha256::digest(TOKEN)));
    })
    .await;
    let get = reqwest::Method::GET;
    let put = reqwest::Method::PUT;
    let post = reqwest::Method::POST;
    // No token, or a wrong one: 401, nothing said.
    let res = call(&app, get.clone(), "/operator/v1/tenants", None, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), "operator_token_required");
    let res = call(
        &app,
        get.clone(),
        "/operator/v1/tenants",
        Some("guess"),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = call(&app, get.clone(), "/operator/v1/tenants", Some(TOKEN), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .client
        .get(app.url("harrow.localhost", "/operator/v1/tenants"))
        .header("authorization", format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the scheme's case does not matter"
    );
    let listed: Value = res.json().await.unwrap();
    assert_eq!(listed["tenants"].as_array().unwrap().len(), 5);

    // A folder with problems: 422 naming each, nothing stored.
    let (_keep, folder) = newtown(|t| t.replacen("display_name =", "dispaly_name =", 1));
    let broken = std::fs::read_to_string(folder.join("tenant.toml")).unwrap();
    let res = call(
        &app,
        put.clone(),
        "/operator/v1/tenants/newtown",
        Some(TOKEN),
        Some(json!({"tenant_toml": broken})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&res), "invalid_tenant");
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["problems"]
            .to_string()
            .contains("dispaly_name"),
        "{body}"
    );
    assert_eq!(app.registry.current().iter().count(), 5);
    // Another council's hostname: 409.
    let (_keep, folder) = newtown(|t| {
        t.replacen(
            "hostnames = [\"newtown.localhost\"]",
            "hostnames = [\"newtown.localhost\", \"www.ss4eharrow.uk\"]",
            1,
        )
    });
    let clash = std::fs::read_to_string(folder.join("tenant.toml")).unwrap();
    let res = call(
        &app,
        put.clone(),
        "/operator/v1/tenants/newtown",
        Some(TOKEN),
        Some(json!({"tenant_toml": clash})),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "{}",
        res.text().await.unwrap()
    );
    // A folder put under another council's slug: refused, nothing changed.
    let (_keep, folder) = newtown(|t| t);
    let other = std::fs::read_to_string(folder.join("tenant.toml")).unwrap();
    let res = call(
        &app,
        put.clone(),
        "/operator/v1/tenants/harrow",
        Some(TOKEN),
        Some(json!({"tenant_toml": other})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&res), "invalid_tenant");
    // Not JSON of the right shape: 400.
    let res = call(
        &app,
        put.clone(),
        "/operator/v1/tenants/newtown",
        Some(TOKEN),
        Some(json!({"toml": "x"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The folder, right: 201, serving at once; again: unchanged.
    let (_keep, folder) = newtown(|t| t);
    let good = std::fs::read_to_string(folder.join("tenant.toml")).unwrap();
    let res = call(
        &app,
        put.clone(),
        "/operator/v1/tenants/newtown",
        Some(TOKEN),
        Some(json!({"tenant_toml": good})),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let home = newtown_home(&app).await;
    assert_eq!(home.status(), StatusCode::OK);
    let res = call(
        &app,
        put.clone(),
        "/operator/v1/tenants/newtown",
        Some(TOKEN),
        Some(json!({"tenant_toml": good})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "unchanged");

    // Offboarding: the slug twice, a known tenant, then done.
    let res = call(
        &app,
        post.clone(),
        "/operator/v1/tenants/newtown/offboard",
        Some(TOKEN),
        Some(json!({"confirm": "harrow", "grace_secs": 0, "archive_passphrase": PASSPHRASE})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&res), "confirm_mismatch");
    let res = call(
        &app,
        post.clone(),
        "/operator/v1/tenants/nowhere/offboard",
        Some(TOKEN),
        Some(json!({"confirm": "nowhere", "grace_secs": 0, "archive_passphrase": PASSPHRASE})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(code(&res), "no_such_tenant");
    let res = call(
        &app,
        post.clone(),
        "/operator/v1/tenants/newtown/offboard",
        None,
        Some(json!({"confirm": "newtown", "grace_secs": 0, "archive_passphrase": PASSPHRASE})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The archive is encrypted: no passphrase, or a short one, and nothing is done.
    for (body, expected) in [
        (
            json!({"confirm": "newtown", "grace_secs": 0}),
            "passphrase_required",
        ),
        (
            json!({"confirm": "newtown", "grace_secs": 0, "archive_passphrase": "short"}),
            "passphrase_too_short",
        ),
    ] {
        let res = call(
            &app,
            post.clone(),
            "/operator/v1/tenants/newtown/offboard",
            Some(TOKEN),
            Some(body),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code(&res), expected);
    }
    assert_eq!(newtown_home(&app).await.status(), StatusCode::OK);
    let res = call(
        &app,
        post,
        "/operator/v1/tenants/newtown/offboard",
        Some(TOKEN),
        Some(json!({"confirm": "newtown", "grace_secs": 0, "archive_passphrase": PASSPHRASE})),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let home = newtown_home(&app).await;
    assert_eq!(home.status(), StatusCode::NOT_FOUND);
    let listed: Value = call(&app, get, "/operator/v1/tenants", Some(TOKEN), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["offboarded"][0]["slug"], "newtown");
    // Its folder again: refused, the slug is not reused.
    let res = call(
        &app,
        put,
        "/operator/v1/tenants/newtown",
        Some(TOKEN),
        Some(json!({"tenant_toml": good})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn without_a_configured_token_there_is_no_operator_api() {
    let app = spawn_app().await;
    let res = call(
        &app,
        reqwest::Method::GET,
        "/operator/v1/tenants",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wrong_tokens_from_one_address_are_throttled_but_the_right_one_passes() {
    let app = spawn_app_with(|s| {
        s.operator.token_sha256 = Some(hex::encode(sha2::Sha256::digest(TOKEN)));
    })
    .await;
    let get = reqwest::Method::GET;
    for _ in 0..server::http::operator::FAILURES_ALLOWED {
        let res = call(
            &app,
            get.clone(),
            "/operator/v1/tenants",
            Some("guess"),
            None,
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Past the limit wrong tokens are answered 429 until the window ends…
    let res = call(
        &app,
        get.clone(),
        "/operator/v1/tenants",
        Some("guess"),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&res), "operator_throttled");
    assert!(res.headers().contains_key("retry-after"));
    let res = call(&app, get.clone(), "/operator/v1/tenants", None, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // …but the operator, who may share the address (a proxy's), is never locked out.
    let res = call(&app, get.clone(), "/operator/v1/tenants", Some(TOKEN), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    // The councils' own pages are not affected.
    let res = app
        .client
        .get(app.url("harrow.localhost", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn with_a_listener_of_its_own_the_api_answers_only_there() {
    let port = e2e::OidcProvider::free_port();
    let app = spawn_app_with(|s| {
        s.operator.token_sha256 = Some(hex::encode(sha2::Sha256::digest(TOKEN)));
        s.operator.listen = Some(format!("127.0.0.1:{port}"));
    })
    .await;
    let res = call(
        &app,
        reqwest::Method::GET,
        "/operator/v1/tenants",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let own = format!("http://127.0.0.1:{port}/operator/v1/tenants");
    // The listener is bound as the server starts, beside the public one.
    let mut tries = 0;
    let res = loop {
        match reqwest::Client::new()
            .get(&own)
            .bearer_auth(TOKEN)
            .send()
            .await
        {
            Ok(res) => break res,
            Err(e) if tries < 50 => {
                tries += 1;
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the operator's listener never answered: {e}"),
        }
    };
    assert_eq!(res.status(), StatusCode::OK);
    let listed: Value = res.json().await.unwrap();
    assert!(
        listed["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["slug"] == "harrow")
    );
    let res = reqwest::Client::new().get(&own).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
