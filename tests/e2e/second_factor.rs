//! Second factor: required for tenant admins (no way round the set-up page), optional for
//! others; codes are single-use and throttled; recovery codes work once.

use e2e::{Browser, PASSWORD, TestApp, error_code, spawn_app};
use reqwest::StatusCode;

async fn verified(app: &TestApp, slug: &str, email: &str) -> Browser {
    let b = app.new_browser();
    let fields = [
        ("first_name", "Ada"),
        ("last_name", "Admin"),
        ("email", email),
        ("job_title", "Service manager"),
        ("organisation_name", "The council"),
        ("organisation_telephone", "01632 960001"),
        ("telephone", "01632 960002"),
        ("business_address", "1 School Lane, Taunton TA1 1AA"),
        ("access", "member"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    assert_eq!(
        b.submit(slug, "/sign-up", "/sign-up", &fields)
            .await
            .status(),
        StatusCode::OK
    );
    let link = app.emailed_link(slug, email, "/verify-email/").await;
    assert_eq!(
        b.submit(slug, &link, &link, &[]).await.status(),
        StatusCode::OK
    );
    b
}

async fn sign_in(b: &Browser, slug: &str, email: &str) -> reqwest::Response {
    b.sign_in(slug, email, PASSWORD).await
}

/// Enrols the browser's account; returns the setup key and the recovery codes.
async fn enrol(app: &TestApp, b: &Browser, slug: &str) -> (String, Vec<String>) {
    let (key, codes) = app.enrol_second_factor(b, slug).await;
    assert_eq!(codes.len(), 10);
    (key, codes)
}

fn code_at(key: &str, app: &TestApp, offset_steps: i64) -> String {
    app.totp_code(key, offset_steps)
}

#[tokio::test]
async fn a_tenant_admin_must_set_up_a_second_factor_before_anything_else() {
    let app = spawn_app().await;
    let admin = verified(&app, "harrow", "admin@harrow.example").await;
    app.grant_role("harrow", "admin@harrow.example", "tenant-admin", None)
        .await;
    let res = sign_in(&admin, "harrow", "admin@harrow.example").await;
    assert_eq!(res.headers()["location"], "/account/two-factor");
    // Nothing else is reachable part-way.
    assert_eq!(
        admin.get_tenant("harrow", "/account").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        admin
            .get_tenant("harrow", "/admin/organisations")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // A wrong code changes nothing.
    let page = admin
        .get_tenant("harrow", "/account/two-factor")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("you must use a security code"));
    let res = admin
        .submit_with_page(
            &page,
            "harrow",
            "/account/two-factor",
            &[("code", "000000")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&res), "bad_code");

    let (key, codes) = enrol(&app, &admin, "harrow").await;
    assert_eq!(
        admin
            .get_tenant("harrow", "/admin/organisations")
            .await
            .status(),
        StatusCode::OK
    );

    // Next time: password, then a code.
    let later = app.new_browser();
    app.clock.advance(chrono::Duration::minutes(2));
    let res = sign_in(&later, "harrow", "admin@harrow.example").await;
    assert_eq!(res.headers()["location"], "/sign-in/code");
    assert_eq!(
        later.get_tenant("harrow", "/account").await.status(),
        StatusCode::SEE_OTHER
    );
    let res = later
        .submit(
            "harrow",
            "/sign-in/code",
            "/sign-in/code",
            &[("code", "123456")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let code = code_at(&key, &app, 0);
    let res = later
        .submit(
            "harrow",
            "/sign-in/code",
            "/sign-in/code",
            &[("code", &code)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        later.get_tenant("harrow", "/account").await.status(),
        StatusCode::OK
    );

    // The same code cannot be used again (replay), but a recovery code works, once.
    let third = app.new_browser();
    sign_in(&third, "harrow", "admin@harrow.example").await;
    let res = third
        .submit(
            "harrow",
            "/sign-in/code",
            "/sign-in/code",
            &[("code", &code)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "replayed code");
    let res = third
        .submit(
            "harrow",
            "/sign-in/code",
            "/sign-in/code",
            &[("code", &codes[0].to_uppercase())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let fourth = app.new_browser();
    sign_in(&fourth, "harrow", "admin@harrow.example").await;
    let res = fourth
        .submit(
            "harrow",
            "/sign-in/code",
            "/sign-in/code",
            &[("code", &codes[0])],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "used recovery code");
}

#[tokio::test]
async fn wrong_codes_are_throttled() {
    let app = spawn_app().await;
    let user = verified(&app, "somerset", "careful@example.org").await;
    sign_in(&user, "somerset", "careful@example.org").await;
    enrol(&app, &user, "somerset").await;
    let b = app.new_browser();
    sign_in(&b, "somerset", "careful@example.org").await;
    for _ in 0..5 {
        let res = b
            .submit(
                "somerset",
                "/sign-in/code",
                "/sign-in/code",
                &[("code", "999999")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = b
        .submit(
            "somerset",
            "/sign-in/code",
            "/sign-in/code",
            &[("code", "999999")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn people_without_an_admin_role_sign_in_with_a_password_alone() {
    let app = spawn_app().await;
    let user = verified(&app, "segfl", "plain@example.org").await;
    let res = sign_in(&user, "segfl", "plain@example.org").await;
    assert_eq!(res.headers()["location"], "/account");
    // The code page is not a way in for anyone without a pending sign-in.
    let stranger = app.new_browser();
    let res = stranger.get_tenant("segfl", "/sign-in/code").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}
