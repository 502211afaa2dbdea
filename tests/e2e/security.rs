//! What an outside probe found, each with the test that failed before its fix: a page that
//! removed a second factor, links built from the request's host, personal pages without
//! `no-store`, sign-up telling who has an account, unlimited reset emails, an unthrottled
//! password check, an open `back` redirect, the basket naming anyone, planted cookies, host
//! tricks, client request ids and wildcards taken as given, and a 500 under concurrent
//! writes on SQLite.

use std::time::Duration;

use e2e::{Browser, PASSWORD, TestApp, error_code, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::bookings::course_with_session;
use crate::organisations::{admin_with_org, appoint, change};

fn setup_key(page: &str) -> String {
    let at = page.find("id=\"setup-key\">").unwrap() + "id=\"setup-key\">".len();
    page[at..at + page[at..].find('<').unwrap()].to_owned()
}

async fn signed_in_with_code(app: &TestApp, slug: &str, email: &str, code: &str) -> Browser {
    let b = app.new_browser();
    let res = b.sign_in(slug, email, PASSWORD).await;
    assert_eq!(res.headers()["location"], "/sign-in/code");
    let res = b
        .submit(slug, "/sign-in/code", "/sign-in/code", &[("code", code)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "code {code}");
    b
}

#[tokio::test]
async fn opening_the_second_factor_page_changes_nothing_and_changes_need_proof() {
    let app = spawn_app().await;
    let slug = "havering";
    let email = "careful@havering.example";
    let user = app.person(slug, email, None).await;
    let (key, recovery) = app.enrol_second_factor(&user, slug).await;

    // Opening the page, however often (a link from anywhere does this), removes nothing.
    for _ in 0..3 {
        let page = user.get_tenant(slug, "/account/two-factor").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(!page.text().await.unwrap().contains("setup-key"));
    }
    app.clock.advance(chrono::Duration::seconds(60));
    let later = signed_in_with_code(&app, slug, email, &app.totp_code(&key, 0)).await;

    // Replacing needs the password and a current code; a wrong one changes nothing.
    let res = later
        .submit(
            slug,
            "/account/two-factor",
            "/account/two-factor/new",
            &[("password", "not my password"), ("code", "123456")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&res), "bad_proof");
    let res = later
        .submit(
            slug,
            "/account/two-factor",
            "/account/two-factor/new",
            &[("password", PASSWORD), ("code", "123456")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.clock.advance(chrono::Duration::seconds(60));
    let page = app
        .start_second_factor(
            &later,
            slug,
            &[("password", PASSWORD), ("code", &recovery[0])],
        )
        .await;
    let new_key = setup_key(&page);
    assert_ne!(new_key, key);
    // Until the new app is confirmed, the old one is the one in force.
    app.clock.advance(chrono::Duration::seconds(60));
    signed_in_with_code(&app, slug, email, &app.totp_code(&key, 0)).await;
    let res = later
        .submit_with_page(
            &page,
            slug,
            "/account/two-factor",
            &[("code", &app.totp_code(&new_key, 0))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Security codes are on"));
    app.clock.advance(chrono::Duration::seconds(60));
    let old = app.new_browser();
    old.sign_in(slug, email, PASSWORD).await;
    let res = old
        .submit(
            slug,
            "/sign-in/code",
            "/sign-in/code",
            &[("code", &app.totp_code(&key, 0))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the old app is out");

    // Turning it off needs proof too, and then the password alone signs in.
    let res = later
        .submit(
            slug,
            "/account/two-factor",
            "/account/two-factor/remove",
            &[("remove_password", PASSWORD), ("remove_code", "000000")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = later
        .submit(
            slug,
            "/account/two-factor",
            "/account/two-factor/remove",
            &[
                ("remove_password", PASSWORD),
                ("remove_code", &app.totp_code(&new_key, 0)),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.new_browser().sign_in(slug, email, PASSWORD).await;
    assert_eq!(res.headers()["location"], "/account");

    let actions = app.audit_actions(slug).await;
    for action in [
        "account.second_factor_enrolled",
        "account.second_factor_replaced",
        "account.second_factor_removed",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}");
    }
    let mail = app.outbox(slug, email).await;
    let told = mail
        .iter()
        .filter(|m| m.subject.contains("security codes changed"))
        .count();
    assert_eq!(told, 3, "enrolled, replaced, removed");
}

#[tokio::test]
async fn a_role_that_needs_a_second_factor_cannot_turn_it_off() {
    let app = spawn_app().await;
    let admin = app
        .catalogue_manager("segfl", "boss@segfl.example", None)
        .await;
    let page = admin
        .get_tenant("segfl", "/account/two-factor")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("/account/two-factor/remove"));
    let res = admin
        .submit(
            "segfl",
            "/account/two-factor",
            "/account/two-factor/remove",
            &[("remove_password", PASSWORD), ("remove_code", "000000")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "second_factor_required");
}

/// Requests a password reset with the given `Host` (and forwarded host), on a connection
/// to the real server; returns the status.
async fn reset_with_host(
    app: &TestApp,
    b: &Browser,
    host: &str,
    forwarded: Option<&str>,
    email: &str,
) -> StatusCode {
    let token = b.csrf("havering", "/reset-password").await;
    let mut req = b
        .client
        .post(b.url("havering.localhost", "/reset-password"))
        .header("host", host)
        .form(&[("email", email), ("csrf_token", &token)]);
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-host", f);
    }
    let _ = app;
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn email_links_use_the_configured_address_never_the_request_host() {
    let app = spawn_app_with(|s| s.http.trust_forwarded_host = true).await;
    let email = "links@havering.example";
    app.person("havering", email, None).await;
    let b = app.new_browser();
    let port = app.addr.port();
    let status = reset_with_host(&app, &b, "havering.localhost:6666", None, email).await;
    assert_eq!(status, StatusCode::OK);
    let status = reset_with_host(
        &app,
        &b,
        "attacker.example",
        Some("havering.localhost"),
        email,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mail = app.outbox("havering", email).await;
    let resets: Vec<_> = mail
        .iter()
        .filter(|m| m.body_text.contains("/reset-password/"))
        .collect();
    assert_eq!(resets.len(), 2);
    for m in resets {
        assert!(
            m.body_text
                .contains(&format!("http://havering.localhost:{port}/reset-password/")),
            "{}",
            m.body_text
        );
        assert!(!m.body_text.contains("6666") && !m.body_text.contains("attacker"));
    }
}

#[tokio::test]
async fn personal_answers_are_never_stored_by_a_browser_or_proxy() {
    let app = spawn_app().await;
    let user = app.person("somerset", "shared-pc@example.org", None).await;
    for path in [
        "/account",
        "/account/details",
        "/account/bookings",
        "/account/cpd.csv",
        "/api/v1/bookings",
        "/courses",
    ] {
        let res = user.get_tenant("somerset", path).await;
        assert_eq!(
            res.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{path}"
        );
    }
    // Without a session: personal paths still, public pages not.
    let anon = app.new_browser();
    let res = anon
        .get_tenant("somerset", "/reset-password/some-token")
        .await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let res = anon.get_tenant("somerset", "/courses").await;
    assert_ne!(
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
}

#[tokio::test]
async fn reset_requests_are_limited_and_resend_the_live_link() {
    let app = spawn_app().await;
    let email = "forgetful@example.org";
    app.person("segfl", email, None).await;
    let ask = |email: &'static str| {
        let app = &app;
        async move {
            app.submit(
                "segfl",
                "/reset-password",
                "/reset-password",
                &[("email", email)],
            )
            .await
        }
    };
    for _ in 0..3 {
        assert_eq!(ask(email).await.status(), StatusCode::OK);
    }
    let res = ask(email).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&res), "too_many_requests");
    let links: Vec<String> = app
        .outbox("segfl", email)
        .await
        .iter()
        .filter(|m| m.body_text.contains("/reset-password/"))
        .map(|m| {
            let at = m.body_text.find("/reset-password/").unwrap();
            m.body_text[at..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(links.len(), 3, "three emails, then refused");
    assert!(
        links.iter().all(|l| *l == links[0]),
        "one live link: {links:?}"
    );
    // An address with no account is limited the same way (the answer reveals nothing).
    for _ in 0..3 {
        assert_eq!(ask("nobody@example.org").await.status(), StatusCode::OK);
    }
    assert_eq!(
        ask("nobody@example.org").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // The link still works once, and a new request after it sends a new one.
    let res = app
        .submit(
            "segfl",
            &links[0],
            &links[0],
            &[
                ("password", "a brand new passphrase"),
                ("password_confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_current_passwords_count_with_sign_in_failures() {
    let app = spawn_app().await;
    let email = "guess@example.org";
    let user = app.person("harrow", email, None).await;
    for _ in 0..5 {
        let res = user
            .submit(
                "harrow",
                "/account/password",
                "/account/password",
                &[
                    ("current_password", "a wrong guess here"),
                    ("password", "another long passphrase"),
                    ("password_confirm", "another long passphrase"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let res = user
        .submit(
            "harrow",
            "/account/password",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("password", "another long passphrase"),
                ("password_confirm", "another long passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&res), "too_many_attempts");
    let res = app.new_browser().sign_in("harrow", email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_back_value_that_leaves_the_site_is_refused() {
    let app = spawn_app().await;
    let b = app.new_browser();
    for back in [
        "/\\evil.example/",
        "//evil.example/",
        "/\tevil",
        "https://evil.example/",
    ] {
        let res = b
            .submit(
                "somerset",
                "/cookies",
                "/cookies",
                &[("analytics", "yes"), ("back", back)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{back:?}");
        assert_eq!(error_code(&res), "invalid_back");
    }
    let res = b
        .submit(
            "somerset",
            "/cookies",
            "/cookies",
            &[("analytics", "no"), ("back", "/courses?q=maths")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/courses?q=maths");
}

#[tokio::test]
async fn the_basket_takes_only_people_the_owner_may_book_for() {
    let app = spawn_app().await;
    let slug = "harrow";
    let (admin, org) = admin_with_org(&app, slug, "Roxeth School").await;
    let (_, session) = course_with_session(&app, &admin, slug, "ss4e", 10, 30).await;
    let lead = app.person(slug, "lead@roxeth.example", None).await;
    appoint(&admin, slug, &org, "lead@roxeth.example").await;
    let colleague = app.person(slug, "member@roxeth.example", Some(&org)).await;
    drop(colleague);
    let colleague_id = app.account(slug, "member@roxeth.example").await.unwrap().id;
    // A stranger to the school, and a colleague not yet confirmed.
    app.person(slug, "stranger@elsewhere.example", None).await;
    let stranger = app
        .account(slug, "stranger@elsewhere.example")
        .await
        .unwrap();
    for delegate in [&stranger.id, &colleague_id] {
        let res = lead
            .send_json(
                Method::POST,
                slug,
                "/api/v1/basket/items",
                &json!({"session_id": session, "delegate_account_id": delegate}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let body = res.text().await.unwrap();
        assert!(!body.contains(&stranger.last_name) && !body.contains("member@"));
    }
    let res = change(&lead, slug, &org, &colleague_id, &[("action", "verify")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = lead
        .send_json(
            Method::POST,
            slug,
            "/api/v1/basket/items",
            &json!({"session_id": session, "delegate_account_id": colleague_id}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // A plain member of the school may not book for colleagues at all.
    let member = app.new_browser();
    member
        .sign_in(slug, "member@roxeth.example", PASSWORD)
        .await;
    let lead_id = app.account(slug, "lead@roxeth.example").await.unwrap().id;
    let res = member
        .send_json(
            Method::POST,
            slug,
            "/api/v1/basket/items",
            &json!({"session_id": session, "delegate_account_id": lead_id}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn secure_deployments_send_hsts_prefixed_cookies_and_refuse_planted_tokens() {
    let app = spawn_app_with(|s| s.http.secure_cookies = true).await;
    let res = app.get_tenant("segfl", "/sign-in").await;
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let set: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        set.iter()
            .any(|c| c.starts_with("__Host-portal_csrf=") && c.contains("Secure")),
        "{set:?}"
    );
    // Not over plain HTTP in development.
    let plain = spawn_app().await;
    let res = plain.get_tenant("segfl", "/sign-in").await;
    assert!(res.headers().get("strict-transport-security").is_none());

    // A token planted in the browser's cookie (long enough, but not signed by us) is
    // replaced, not trusted: a form carrying it is refused.
    let planted = "p".repeat(43);
    let res = plain
        .client
        .post(plain.url("segfl.localhost", "/sign-in"))
        .header("cookie", format!("portal_csrf={planted}"))
        .form(&[
            ("email", "x@example.org"),
            ("password", PASSWORD),
            ("csrf_token", planted.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "csrf_failed");
    // One tenant's signed token is no good on another.
    let b = plain.new_browser();
    let token = b.csrf("segfl", "/sign-in").await;
    let res = plain
        .client
        .post(plain.url("harrow.localhost", "/sign-in"))
        .header("cookie", format!("portal_csrf={token}"))
        .form(&[
            ("email", "x@example.org"),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// Sends raw bytes to the server and returns the status line's code.
async fn raw_status(app: &TestApp, request: &str) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    head.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn ambiguous_hosts_are_refused() {
    let app = spawn_app().await;
    let ok = raw_status(
        &app,
        "GET / HTTP/1.1\r\nHost: somerset.localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(ok, 200);
    let two = raw_status(
        &app,
        "GET / HTTP/1.1\r\nHost: somerset.localhost\r\nHost: harrow.localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(two, 400);
    let absolute = raw_status(
        &app,
        "GET http://harrow.localhost/ HTTP/1.1\r\nHost: somerset.localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(absolute, 400);
    let agreeing = raw_status(
        &app,
        "GET http://harrow.localhost/ HTTP/1.1\r\nHost: harrow.localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(agreeing, 200);
}

#[tokio::test]
async fn request_ids_are_ours_and_wildcards_match_only_themselves() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("somerset.localhost", "/"))
        .header("x-request-id", "client-chosen-id")
        .send()
        .await
        .unwrap();
    let ours = res.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(ours, "client-chosen-id");
    assert!(uuid::Uuid::parse_str(ours).is_ok(), "{ours}");

    let seeded = crate::catalogue::seed_demo(&app, "somerset").await;
    assert!(seeded.courses > 0 && seeded.services > 0);
    let all = app.get_json("somerset", "/api/v1/courses").await;
    assert!(all["total"].as_i64().unwrap() > 0);
    for wildcard in ["%25", "_", "%25%25"] {
        let found = app
            .get_json("somerset", &format!("/api/v1/courses?audience={wildcard}"))
            .await;
        assert_eq!(found["total"], 0, "audience={wildcard}");
        let found = app
            .get_json("somerset", &format!("/api/v1/services?audience={wildcard}"))
            .await;
        assert_eq!(found["total"], 0, "services audience={wildcard}");
    }
}

#[tokio::test]
async fn a_busy_shared_address_does_not_lock_out_a_correct_password() {
    let app = spawn_app().await;
    let email = "teacher@school.example";
    app.person("stockport", email, None).await;
    // Thirty failures from the school's one address, against other accounts.
    let b = app.new_browser();
    for i in 0..30 {
        let res = b
            .sign_in(
                "stockport",
                &format!("pupil{i}@school.example"),
                "wrong password!!",
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = b
        .sign_in("stockport", "pupil99@school.example", "wrong password!!")
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // The teacher, whose account has no failures, still gets in with the right password.
    let res = app
        .new_browser()
        .sign_in("stockport", email, PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn dead_link_pages_say_so_before_showing_a_form() {
    let app = spawn_app().await;
    for path in [
        "/reset-password/not-a-token",
        "/set-password/not-a-token",
        "/verify-email/not-a-token",
    ] {
        let res = app.get_tenant("harrow", path).await;
        assert_eq!(res.status(), StatusCode::GONE, "{path}");
        assert_eq!(error_code(&res), "link_expired");
        assert!(!res.text().await.unwrap().contains("name=\"password\""));
    }
}

#[tokio::test]
async fn background_jobs_beside_a_stream_of_requests_cause_no_server_error() {
    let app = spawn_app().await;
    // Harrow offers training and counts page views (with consent).
    let slug = "harrow";
    let admin = app
        .catalogue_manager(slug, "jobs@harrow.example", None)
        .await;
    let (_, session) = course_with_session(&app, &admin, slug, "ss4e", 500, 20).await;
    let user = app.person(slug, "busy@harrow.example", None).await;
    let state = app.state.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let jobs = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                server::jobs::minute_jobs(&state).await;
                // A new holder each time, as if another replica, so the lease is fought for.
                server::jobs::daily_jobs(&state, &format!("replica-{n}")).await;
                // A lease taken for the first time writes (as the daily job's first run
                // does, a minute after start): the write that used to break a request.
                storage::lease::try_acquire(
                    &state.db,
                    &format!("probe-{n}"),
                    "replica",
                    state.clock.now(),
                    chrono::Duration::hours(1),
                )
                .await
                .unwrap();
                n += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            n
        })
    };
    let mut statuses = Vec::new();
    for i in 0..25 {
        let b = app.new_browser();
        statuses.push(
            b.sign_in(slug, "busy@harrow.example", PASSWORD)
                .await
                .status(),
        );
        let res = user
            .submit(
                slug,
                "/account/details",
                "/account/details",
                &[
                    ("first_name", "Busy"),
                    ("last_name", &format!("Person{i}")),
                    ("job_title", "Teacher"),
                    ("organisation_name", "A school"),
                    ("organisation_telephone", "01632 960001"),
                    ("telephone", "01632 960002"),
                    ("business_address", "1 School Lane, Taunton TA1 1AA"),
                    ("access", "member"),
                ],
            )
            .await;
        statuses.push(res.status());
        if i % 5 == 0 {
            let res = user
                .client
                .post(user.url(&format!("{slug}.localhost"), "/api/v1/checkout"))
                .header("idempotency-key", format!("busy-checkout-{i}"))
                .json(&json!({"items": [{"session_id": session}]}))
                .send()
                .await
                .unwrap();
            statuses.push(res.status());
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rounds = jobs.await.unwrap();
    assert!(rounds > 0);
    assert!(
        statuses.iter().all(|s| !s.is_server_error()),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_demo_administrator_signs_in_with_a_recovery_code() {
    let app = spawn_app().await;
    let cfg = app
        .registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == "harrow")
        .unwrap()
        .config
        .clone();
    let admin = app
        .state
        .identity
        .create_demo_admin(&cfg, "demo@harrow.example")
        .await
        .unwrap();
    assert_eq!(admin.recovery_codes.len(), 10);
    let b = app.new_browser();
    let res = b
        .sign_in("harrow", "demo@harrow.example", &admin.password)
        .await;
    assert_eq!(res.headers()["location"], "/sign-in/code");
    let res = b
        .submit(
            "harrow",
            "/sign-in/code",
            "/sign-in/code",
            &[("code", &admin.recovery_codes[0])],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        b.get_tenant("harrow", "/admin/organisations")
            .await
            .status(),
        StatusCode::OK
    );
    // The app's codes work too.
    let b = app.new_browser();
    b.sign_in("harrow", "demo@harrow.example", &admin.password)
        .await;
    let res = b
        .submit(
            "harrow",
            "/sign-in/code",
            "/sign-in/code",
            &[("code", &app.totp_code(&admin.setup_key, 0))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// The `name=value` of a `Set-Cookie` header named `name`, if the response sets it.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

#[tokio::test]
async fn with_secure_cookies_a_person_signs_in_uses_the_portal_and_signs_out() {
    let app = spawn_app_with(|s| s.http.secure_cookies = true).await;
    let email = "secure@example.org";
    // The account is made on the plain-HTTP client's terms: sign-up and link, by hand.
    let raw = app.new_browser();
    let url = |path: &str| raw.url("havering.localhost", path);
    let page = raw.client.get(url("/sign-up")).send().await.unwrap();
    let csrf_cookie = set_cookie(&page, "__Host-portal_csrf").unwrap();
    let token = csrf_cookie.split_once('=').unwrap().1.to_owned();
    let fields = [
        ("first_name", "Sam"),
        ("last_name", "Secure"),
        ("email", email),
        ("job_title", "Teacher"),
        ("organisation_name", "A school"),
        ("organisation_telephone", "01632 960001"),
        ("telephone", "01632 960002"),
        ("business_address", "1 School Lane, Taunton TA1 1AA"),
        ("access", "member"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("csrf_token", token.as_str()),
    ];
    let res = raw
        .client
        .post(url("/sign-up"))
        .header("cookie", &csrf_cookie)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let link = app.emailed_link("havering", email, "/verify-email/").await;
    let res = raw
        .client
        .post(url(&link))
        .header("cookie", &csrf_cookie)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Sign in: the session cookie is `__Host-` prefixed and Secure.
    let res = raw
        .client
        .post(url("/sign-in"))
        .header("cookie", &csrf_cookie)
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&res, "__Host-portal_session").unwrap();
    let account = raw
        .client
        .get(url("/account"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), StatusCode::OK);
    assert_eq!(account.headers()["cache-control"], "no-store");
    let body = account.text().await.unwrap();
    let session_csrf = e2e::csrf_in(&body).unwrap();
    // The plain name means nothing here.
    let plain = session.replacen("__Host-", "", 1);
    let res = raw
        .client
        .get(url("/account"))
        .header("cookie", &plain)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Sign out removes the prefixed cookie, and the session is over.
    let res = raw
        .client
        .post(url("/sign-out"))
        .header("cookie", &session)
        .form(&[("csrf_token", session_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let removed = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("__Host-portal_session=;") && c.contains("Max-Age=0"));
    assert!(removed);
    let res = raw
        .client
        .get(url("/account"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_unknown_organisation_is_refused_alike_for_new_and_taken_addresses() {
    let app = spawn_app().await;
    app.person("harrow", "taken@example.org", None).await;
    let mut statuses = Vec::new();
    for email in ["taken@example.org", "fresh@example.org"] {
        let res = app
            .submit(
                "harrow",
                "/sign-up",
                "/sign-up",
                &[
                    ("first_name", "Pat"),
                    ("last_name", "Probe"),
                    ("email", email),
                    ("job_title", "Teacher"),
                    ("organisation_name", "A school"),
                    ("organisation_telephone", "01632 960001"),
                    ("telephone", "01632 960002"),
                    ("business_address", "1 School Lane, Taunton TA1 1AA"),
                    ("access", "member"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                    ("organisation_id", "no-such-organisation"),
                ],
            )
            .await;
        statuses.push(res.status());
    }
    assert_eq!(statuses, [StatusCode::UNPROCESSABLE_ENTITY; 2]);
    assert!(app.account("harrow", "fresh@example.org").await.is_none());
}

#[tokio::test]
async fn changing_the_second_factor_signs_out_every_other_session() {
    let app = spawn_app().await;
    let email = "two-desks@example.org";
    let desk = app.person("segfl", email, None).await;
    let (key, _) = app.enrol_second_factor(&desk, "segfl").await;
    app.clock.advance(chrono::Duration::seconds(60));
    let other = signed_in_with_code(&app, "segfl", email, &app.totp_code(&key, 0)).await;
    assert_eq!(
        other.get_tenant("segfl", "/account").await.status(),
        StatusCode::OK
    );
    app.clock.advance(chrono::Duration::seconds(60));
    let res = desk
        .submit(
            "segfl",
            "/account/two-factor",
            "/account/two-factor/remove",
            &[
                ("remove_password", PASSWORD),
                ("remove_code", &app.totp_code(&key, 0)),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        desk.get_tenant("segfl", "/account").await.status(),
        StatusCode::OK,
        "this browser carries on"
    );
    assert_eq!(
        other.get_tenant("segfl", "/account").await.status(),
        StatusCode::SEE_OTHER,
        "the other desk is signed out"
    );
}
