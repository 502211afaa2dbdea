//! Sign-up, email verification, sign-in and out, password reset, and the attacks on them:
//! each refused with a clear error and no change.

use e2e::{LAUNCH_TENANTS, PASSWORD, TestApp, error_code, spawn_app, spawn_app_with};
use reqwest::StatusCode;

/// A sign-up form that satisfies every launch tenant's mandatory fields.
fn sign_up_fields(email: &str) -> Vec<(&str, &str)> {
    vec![
        ("first_name", "Grace"),
        ("last_name", "Hopper"),
        ("email", email),
        ("job_title", "Computing lead"),
        ("organisation_name", "Compiler Primary School"),
        ("organisation_telephone", "01632 960001"),
        ("telephone", "01632 960002"),
        ("business_address", "1 School Lane, Taunton TA1 1AA"),
        ("access", "member"),
        ("is_childminder", "no"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ]
}

async fn sign_up(app: &TestApp, slug: &str, email: &str) -> reqwest::Response {
    app.submit(slug, "/sign-up", "/sign-up", &sign_up_fields(email))
        .await
}

async fn sign_in(app: &TestApp, slug: &str, email: &str, password: &str) -> reqwest::Response {
    app.sign_in(slug, email, password).await
}

/// Signs up, follows the emailed link and confirms it.
async fn verified_account(app: &TestApp, slug: &str, email: &str) {
    let res = sign_up(app, slug, email).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let link = app.emailed_link(slug, email, "/verify-email/").await;
    let res = app.submit(slug, &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn account_count(app: &TestApp, slug: &str, email: &str) -> usize {
    usize::from(app.account(slug, email).await.is_some())
}

#[tokio::test]
async fn every_tenant_signs_up_verifies_signs_in_and_out() {
    let app = spawn_app().await;
    for slug in LAUNCH_TENANTS {
        let email = format!("grace@{slug}-school.example");
        verified_account(&app, slug, &email).await;

        let res = sign_in(&app, slug, &email.to_uppercase(), PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{slug}");
        assert_eq!(res.headers()["location"], "/account");
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("portal_session="))
            .unwrap();
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Domain="), "host-only: {cookie}");

        let page = app.get_tenant(slug, "/account").await.text().await.unwrap();
        assert!(page.contains("Grace Hopper"), "{slug}");
        assert!(page.contains(&email), "{slug}");

        let res = app.submit(slug, "/account", "/sign-out", &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = app.get_tenant(slug, "/account").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed out on {slug}");
        assert_eq!(res.headers()["location"], "/sign-in");
    }
}

#[tokio::test]
async fn the_sign_up_form_follows_the_tenant_field_policy() {
    let app = spawn_app().await;
    let harrow = app
        .get_tenant("harrow", "/sign-up")
        .await
        .text()
        .await
        .unwrap();
    assert!(harrow.contains("Are you a registered childminder?"));
    assert!(harrow.contains("name=\"home_address\""));
    assert!(harrow.contains("name=\"organisation_telephone\""));
    let somerset = app
        .get_tenant("somerset", "/sign-up")
        .await
        .text()
        .await
        .unwrap();
    assert!(!somerset.contains("childminder"));
    assert!(somerset.contains("Work telephone number (optional)"));
    assert!(!somerset.contains("name=\"organisation_telephone\""));
}

#[tokio::test]
async fn a_childminder_must_give_home_contact_details() {
    let app = spawn_app().await;
    let mut fields = sign_up_fields("minder@example.org");
    fields.retain(|(k, _)| *k != "is_childminder");
    fields.push(("is_childminder", "yes"));
    let res = app.submit("harrow", "/sign-up", "/sign-up", &fields).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("Enter your own telephone number"), "{body}");
    assert!(body.contains("href=\"#home_address\""), "{body}");
    assert_eq!(account_count(&app, "harrow", "minder@example.org").await, 0);
}

#[tokio::test]
async fn missing_mandatory_fields_save_nothing_and_send_nothing() {
    let app = spawn_app().await;
    let res = app
        .submit(
            "havering",
            "/sign-up",
            "/sign-up",
            &[("email", "half@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("There is a problem"));
    assert!(body.contains("href=\"#first_name\""));
    assert!(
        body.contains("<title>Error: "),
        "error pages say so in the title"
    );
    // What was typed is kept, the password is not echoed back.
    assert!(body.contains("value=\"half@example.org\""));
    assert!(!body.contains(PASSWORD));
    assert_eq!(account_count(&app, "havering", "half@example.org").await, 0);
    assert!(app.outbox("havering", "half@example.org").await.is_empty());
}

#[tokio::test]
async fn a_weak_password_is_refused() {
    let app = spawn_app().await;
    let mut fields = sign_up_fields("weak@example.org");
    fields.retain(|(k, _)| !k.starts_with("password"));
    fields.push(("password", "password1234"));
    fields.push(("password_confirm", "password1234"));
    let res = app.submit("segfl", "/sign-up", "/sign-up", &fields).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("too common"));
    assert_eq!(account_count(&app, "segfl", "weak@example.org").await, 0);
}

#[tokio::test]
async fn a_duplicate_email_makes_no_account_and_looks_like_any_sign_up() {
    let app = spawn_app().await;
    let first = sign_up(&app, "harrow", "dup@example.org").await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.text().await.unwrap();
    let res = sign_up(&app, "harrow", "DUP@example.org").await;
    // The same answer as a new address: it does not tell who has an account.
    assert_eq!(res.status(), StatusCode::OK);
    let again = res.text().await.unwrap();
    let strip_csrf = |html: &str| -> String {
        html.lines()
            .filter(|l| !l.contains("csrf_token"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip_csrf(&first), strip_csrf(&again));
    // The holder is told instead, once an hour however often it is tried.
    sign_up(&app, "harrow", "dup@example.org").await;
    let mail = app.outbox("harrow", "dup@example.org").await;
    assert_eq!(mail.len(), 2, "the verification, then one notice");
    assert!(mail[1].subject.contains("already have an account"));
    assert!(mail[1].body_text.contains("/reset-password"));
    assert_eq!(account_count(&app, "harrow", "dup@example.org").await, 1);
    // The same person at another council is another, unrelated account.
    assert_eq!(
        sign_up(&app, "havering", "dup@example.org").await.status(),
        StatusCode::OK
    );
    assert_eq!(account_count(&app, "havering", "dup@example.org").await, 1);
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.get_tenant("somerset", "/sign-up").await;
    let res = app
        .post_form("somerset", "/sign-up", &sign_up_fields("csrf@example.org"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "csrf_failed");
    let mut forged = sign_up_fields("csrf@example.org");
    forged.push(("csrf_token", "forged-token-forged-token-forged-token-xx"));
    let res = app.post_form("somerset", "/sign-up", &forged).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(account_count(&app, "somerset", "csrf@example.org").await, 0);
}

#[tokio::test]
async fn an_unverified_account_cannot_sign_in() {
    let app = spawn_app().await;
    sign_up(&app, "somerset", "new@example.org").await;
    let res = sign_in(&app, "somerset", "new@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "email_not_verified");
}

#[tokio::test]
async fn verification_links_work_once_and_expire() {
    let app = spawn_app().await;
    sign_up(&app, "harrow", "once@example.org").await;
    let link = app
        .emailed_link("harrow", "once@example.org", "/verify-email/")
        .await;
    // Opening the link spends nothing: it shows a button.
    let page = app.get_tenant("harrow", &link).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        app.submit("harrow", &link, &link, &[]).await.status(),
        StatusCode::OK
    );
    let again = app.submit("harrow", &link, &link, &[]).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert_eq!(error_code(&again), "link_expired");

    sign_up(&app, "harrow", "late@example.org").await;
    let link = app
        .emailed_link("harrow", "late@example.org", "/verify-email/")
        .await;
    app.clock.advance(chrono::Duration::hours(49));
    assert_eq!(
        app.submit("harrow", &link, &link, &[]).await.status(),
        StatusCode::GONE
    );
    let res = sign_in(&app, "harrow", "late@example.org", PASSWORD).await;
    assert_eq!(error_code(&res), "email_not_verified");
}

#[tokio::test]
async fn a_link_from_one_tenant_is_worthless_on_another() {
    let app = spawn_app().await;
    sign_up(&app, "harrow", "cross@example.org").await;
    let link = app
        .emailed_link("harrow", "cross@example.org", "/verify-email/")
        .await;
    let res = app.submit("somerset", &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::GONE);
    // Still usable where it belongs.
    assert_eq!(
        app.submit("harrow", &link, &link, &[]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn wrong_passwords_are_throttled_per_account() {
    let app = spawn_app().await;
    verified_account(&app, "havering", "target@example.org").await;
    for _ in 0..5 {
        let res = sign_in(&app, "havering", "target@example.org", "not the password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(&res), "bad_credentials");
    }
    // Now even the right password waits.
    let res = sign_in(&app, "havering", "target@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&res), "too_many_attempts");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = spawn_app().await;
    verified_account(&app, "segfl", "known@example.org").await;
    let wrong = sign_in(&app, "segfl", "known@example.org", "not the password").await;
    let unknown = sign_in(&app, "segfl", "nobody@example.org", "not the password").await;
    assert_eq!(wrong.status(), unknown.status());
    assert_eq!(error_code(&wrong), error_code(&unknown));
}

#[tokio::test]
async fn a_session_from_one_tenant_is_worthless_on_another() {
    let app = spawn_app().await;
    verified_account(&app, "harrow", "roam@example.org").await;
    let res = sign_in(&app, "harrow", "roam@example.org", PASSWORD).await;
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("portal_session="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    // Replay the cookie against another tenant's host, outside the cookie jar.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("somerset.localhost", app.addr)
        .resolve("harrow.localhost", app.addr)
        .build()
        .unwrap();
    let on_other = bare
        .get(app.url("somerset.localhost", "/account"))
        .header("cookie", format!("portal_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_other.status(), StatusCode::SEE_OTHER);
    assert_eq!(on_other.headers()["location"], "/sign-in");
    // A forged value is worthless too; the real one works where it was issued.
    let forged = bare
        .get(app.url("harrow.localhost", "/account"))
        .header("cookie", "portal_session=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::SEE_OTHER);
    let home = bare
        .get(app.url("harrow.localhost", "/account"))
        .header("cookie", format!("portal_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::OK);
}

#[tokio::test]
async fn password_reset_never_reveals_accounts_and_links_work_once() {
    let app = spawn_app().await;
    verified_account(&app, "stockport", "reset@example.org").await;
    let known = app
        .submit(
            "stockport",
            "/reset-password",
            "/reset-password",
            &[("email", "reset@example.org")],
        )
        .await;
    let unknown = app
        .submit(
            "stockport",
            "/reset-password",
            "/reset-password",
            &[("email", "ghost@example.org")],
        )
        .await;
    assert_eq!(known.status(), unknown.status());
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
    assert!(
        app.outbox("stockport", "ghost@example.org")
            .await
            .is_empty()
    );

    let link = app
        .emailed_link("stockport", "reset@example.org", "/reset-password/")
        .await;
    let new_password = "harbour lantern thistle";
    // A bad new password leaves the link usable.
    let res = app
        .submit(
            "stockport",
            &link,
            &link,
            &[("password", "short"), ("password_confirm", "short")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .submit(
            "stockport",
            &link,
            &link,
            &[
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again = app
        .submit(
            "stockport",
            &link,
            &link,
            &[
                ("password", "another fine password"),
                ("password_confirm", "another fine password"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::GONE);

    assert_eq!(
        sign_in(&app, "stockport", "reset@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, "stockport", "reset@example.org", new_password)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn reset_links_expire_after_an_hour() {
    let app = spawn_app().await;
    verified_account(&app, "somerset", "slow@example.org").await;
    app.submit(
        "somerset",
        "/reset-password",
        "/reset-password",
        &[("email", "slow@example.org")],
    )
    .await;
    let link = app
        .emailed_link("somerset", "slow@example.org", "/reset-password/")
        .await;
    app.clock.advance(chrono::Duration::minutes(61));
    let res = app
        .submit(
            "somerset",
            &link,
            &link,
            &[
                ("password", "a late password"),
                ("password_confirm", "a late password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::GONE);
}

#[tokio::test]
async fn state_changes_are_audited() {
    let app = spawn_app().await;
    verified_account(&app, "harrow", "audit@example.org").await;
    sign_in(&app, "harrow", "audit@example.org", "wrong password here").await;
    sign_in(&app, "harrow", "audit@example.org", PASSWORD).await;
    let db = app.store.clone();
    let tx = db.tenant_tx(&"harrow".parse().unwrap()).await.unwrap();
    let actions: Vec<String> = storage::audit::list(&tx)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    storage::audit::verify(&tx).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        actions,
        [
            "tenant.imported",
            "account.signed_up",
            "account.email_verified",
            "account.sign_in_failed",
            "account.signed_in"
        ]
    );
}

#[tokio::test]
async fn when_redis_is_down_public_pages_work_and_sign_in_fails_closed() {
    if std::env::var("REDIS_URL").is_err() {
        eprintln!("skipped: runs with REDIS_URL set (sessions live in process otherwise)");
        return;
    }
    let app = spawn_app_with(|s| {
        s.redis.url = Some("redis://127.0.0.1:1/".to_owned().into());
    })
    .await;
    assert_eq!(app.get_tenant("harrow", "/").await.status(), StatusCode::OK);
    let res = sign_in(&app, "harrow", "a@b.uk", "some password").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(&res), "session_store_unavailable");
}

#[tokio::test]
async fn a_person_edits_their_details_and_password() {
    let app = spawn_app().await;
    verified_account(&app, "somerset", "edit@example.org").await;
    sign_in(&app, "somerset", "edit@example.org", PASSWORD).await;

    let form = app
        .get_tenant("somerset", "/account/details")
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("value=\"Grace\""), "prefilled");
    assert!(!form.contains("name=\"email\""), "email is not edited here");

    let res = app
        .submit(
            "somerset",
            "/account/details",
            "/account/details",
            &[
                ("first_name", "Grace"),
                ("last_name", "Brewster Hopper"),
                ("job_title", ""),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "job title is mandatory"
    );
    let res = app
        .submit(
            "somerset",
            "/account/details",
            "/account/details",
            &[
                ("first_name", "Grace"),
                ("last_name", "Brewster Hopper"),
                ("job_title", "Head of computing"),
                ("telephone", "01632 960123"),
                ("business_address", "1 School Lane, Taunton TA1 1AA"),
                ("access", "member"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app
        .get_tenant("somerset", "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Grace Brewster Hopper"));
    assert!(page.contains("01632 960123"));
    assert!(page.contains("edit@example.org"));

    let new_password = "quartz willow harbour";
    let res = app
        .submit(
            "somerset",
            "/account/password",
            "/account/password",
            &[
                ("current_password", "wrong current password"),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .submit(
            "somerset",
            "/account/password",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let other = app.new_browser();
    let res = other
        .sign_in("somerset", "edit@example.org", new_password)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn profile_pages_need_a_session_and_a_csrf_token() {
    let app = spawn_app().await;
    let res = app.get_tenant("harrow", "/account/details").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    verified_account(&app, "harrow", "guard@example.org").await;
    sign_in(&app, "harrow", "guard@example.org", PASSWORD).await;
    let res = app
        .post_form(
            "harrow",
            "/account/details",
            &[
                ("first_name", "Mallory"),
                ("last_name", "X"),
                ("job_title", "Y"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let page = app
        .get_tenant("harrow", "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Mallory"));
}

async fn secret_bytes(app: &TestApp, slug: &str, email: &str) -> Option<Vec<u8>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let id = {
        let db = app.store.clone();
        let tx = db.tenant_tx(&slug.parse().unwrap()).await.unwrap();
        let a = identity::store::find_by_email(&tx, email)
            .await
            .unwrap()
            .unwrap();
        tx.rollback().await.unwrap();
        a.id
    };
    let db = app.store.clone();
    let tx = db.tenant_tx(&slug.parse().unwrap()).await.unwrap();
    let row = identity::store::entity::account_secret::Entity::find()
        .filter(identity::store::entity::account_secret::Column::AccountId.eq(id))
        .one(&*tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    row.and_then(|r| r.special_requirements)
}

#[tokio::test]
async fn special_requirements_are_encrypted_at_rest_and_shown_only_to_their_owner() {
    let app = spawn_app().await;
    verified_account(&app, "harrow", "needs@example.org").await;
    sign_in(&app, "harrow", "needs@example.org", PASSWORD).await;
    let needs = "A British Sign Language interpreter for Quillfeather sessions";
    let res = app
        .submit(
            "harrow",
            "/account/special-requirements",
            "/account/special-requirements",
            &[("special_requirements", needs)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app
        .get_tenant("harrow", "/account/special-requirements")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(needs));

    // At rest: ciphertext, not the words.
    let stored = secret_bytes(&app, "harrow", "needs@example.org")
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("Quillfeather"));
    assert!(stored.len() > needs.len());

    // Another person sees their own (empty) page, never this one.
    let other = app.new_browser();
    verified_account(&app, "harrow", "other@example.org").await;
    other.sign_in("harrow", "other@example.org", PASSWORD).await;
    let theirs = other
        .get_tenant("harrow", "/account/special-requirements")
        .await
        .text()
        .await
        .unwrap();
    assert!(!theirs.contains("Quillfeather"));

    // Emptying the box removes it.
    let res = app
        .submit(
            "harrow",
            "/account/special-requirements",
            "/account/special-requirements",
            &[("special_requirements", "  ")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        secret_bytes(&app, "harrow", "needs@example.org").await,
        None
    );
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_person_does_not_open() {
    use identity::store::entity::account_secret::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app().await;
    for email in ["a@example.org", "b@example.org"] {
        let b = app.new_browser();
        let res = b
            .submit("havering", "/sign-up", "/sign-up", &sign_up_fields(email))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let link = app.emailed_link("havering", email, "/verify-email/").await;
        b.submit("havering", &link, &link, &[]).await;
        b.sign_in("havering", email, PASSWORD).await;
        b.submit(
            "havering",
            "/account/special-requirements",
            "/account/special-requirements",
            &[("special_requirements", &format!("needs of {email}"))],
        )
        .await;
    }
    // Copy A's ciphertext over B's, as an attacker with database access might.
    let a_bytes = secret_bytes(&app, "havering", "a@example.org")
        .await
        .unwrap();
    let db = app.store.clone();
    let tx = db.tenant_tx(&"havering".parse().unwrap()).await.unwrap();
    let b_id = identity::store::find_by_email(&tx, "b@example.org")
        .await
        .unwrap()
        .unwrap()
        .id;
    Entity::update_many()
        .col_expr(
            Column::SpecialRequirements,
            sea_orm::sea_query::Expr::value(a_bytes),
        )
        .filter(Column::AccountId.eq(b_id))
        .exec(&*tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let b = app.new_browser();
    b.sign_in("havering", "b@example.org", PASSWORD).await;
    let res = b
        .get_tenant("havering", "/account/special-requirements")
        .await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!res.text().await.unwrap().contains("needs of a@"));
}

#[tokio::test]
async fn tenants_that_do_not_collect_special_requirements_have_no_such_page() {
    let app = spawn_app().await;
    verified_account(&app, "somerset", "plain@example.org").await;
    sign_in(&app, "somerset", "plain@example.org", PASSWORD).await;
    assert_eq!(
        app.get_tenant("somerset", "/account/special-requirements")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let res = app
        .submit(
            "somerset",
            "/account",
            "/account/special-requirements",
            &[("special_requirements", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn consent_history(
    app: &TestApp,
    slug: &str,
    email: &str,
) -> Vec<privacy_engine::store::consent::Model> {
    let id = app.account(slug, email).await.unwrap().id;
    let db = app.store.clone();
    let tx = db.tenant_tx(&slug.parse().unwrap()).await.unwrap();
    let events = privacy_engine::store::consent::history(&tx, &id)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    events
}

#[tokio::test]
async fn newsletter_choices_are_consent_events_and_withdrawing_is_as_easy() {
    let app = spawn_app().await;
    verified_account(&app, "somerset", "news@example.org").await;
    sign_in(&app, "somerset", "news@example.org", PASSWORD).await;
    let page = app
        .get_tenant("somerset", "/account/preferences")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Send me the newsletter by email"));
    assert!(!page.contains("name=\"newsletter\" type=\"checkbox\" value=\"yes\" checked"));

    let give = [("alert_frequency", "weekly"), ("newsletter", "yes")];
    let res = app
        .submit(
            "somerset",
            "/account/preferences",
            "/account/preferences",
            &give,
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app
        .submit(
            "somerset",
            "/account/preferences",
            "/account/preferences",
            &[("alert_frequency", "weekly")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let events = consent_history(&app, "somerset", "news@example.org").await;
    let seen: Vec<(&str, bool)> = events
        .iter()
        .map(|e| (e.purpose.as_str(), e.given))
        .collect();
    assert_eq!(seen, [("newsletter", true), ("newsletter", false)]);
    assert!(
        events
            .iter()
            // Recorded under the published notice in force (Somerset's version 1).
            .all(|e| e.method == "profile_page" && e.notice_version == "1")
    );
    let account = app.account("somerset", "news@example.org").await.unwrap();
    assert_eq!(account.alert_frequency, "weekly");
}

#[tokio::test]
async fn tenants_without_a_newsletter_ask_only_about_alerts() {
    let app = spawn_app().await;
    verified_account(&app, "harrow", "alerts@example.org").await;
    sign_in(&app, "harrow", "alerts@example.org", PASSWORD).await;
    let page = app
        .get_tenant("harrow", "/account/preferences")
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("newsletter"));
    let res = app
        .submit(
            "harrow",
            "/account/preferences",
            "/account/preferences",
            &[("alert_frequency", "hourly"), ("newsletter", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        consent_history(&app, "harrow", "alerts@example.org")
            .await
            .is_empty()
    );
    assert_eq!(
        app.account("harrow", "alerts@example.org")
            .await
            .unwrap()
            .alert_frequency,
        "daily"
    );
}

#[tokio::test]
async fn somerset_induction_details_are_validated_and_kept_apart() {
    let app = spawn_app().await;
    verified_account(&app, "somerset", "ect@example.org").await;
    sign_in(&app, "somerset", "ect@example.org", PASSWORD).await;
    let mut fields = vec![
        ("trn", "12345"),
        ("qualification_institution", "Bath Spa University"),
        ("key_stage", "KS2"),
        ("year_group", "Year 4"),
        ("start_date-day", "1"),
        ("start_date-month", "9"),
        ("start_date-year", "2026"),
        ("date_of_birth-day", "14"),
        ("date_of_birth-month", "3"),
        ("date_of_birth-year", "1999"),
    ];
    let res = app
        .submit(
            "somerset",
            "/account/induction",
            "/account/induction",
            &fields,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Teacher Reference Number: 7 digits")
    );
    fields[0] = ("trn", "1234567");
    let res = app
        .submit(
            "somerset",
            "/account/induction",
            "/account/induction",
            &fields,
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app
        .get_tenant("somerset", "/account/induction")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"1234567\""));
    assert!(page.contains("value=\"1999\""));

    // Harrow is not an appropriate body: no such page.
    verified_account(&app, "harrow", "ect@example.org").await;
    let other = app.new_browser();
    other.sign_in("harrow", "ect@example.org", PASSWORD).await;
    assert_eq!(
        other
            .get_tenant("harrow", "/account/induction")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn nobody_can_edit_another_persons_profile_by_id() {
    let app = spawn_app().await;
    verified_account(&app, "havering", "victim@example.org").await;
    let victim_id = app
        .account("havering", "victim@example.org")
        .await
        .unwrap()
        .id;
    let mallory = app.new_browser();
    let fields = [
        ("first_name", "Mallory"),
        ("last_name", "Attacker"),
        ("email", "mallory@example.org"),
        ("job_title", "Spy"),
        ("organisation_name", "Nowhere"),
        ("organisation_telephone", "01632 960001"),
        ("telephone", "01632 960002"),
        ("business_address", "1 School Lane, Taunton TA1 1AA"),
        ("access", "member"),
        ("is_childminder", "no"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    mallory
        .submit("havering", "/sign-up", "/sign-up", &fields)
        .await;
    let link = app
        .emailed_link("havering", "mallory@example.org", "/verify-email/")
        .await;
    mallory.submit("havering", &link, &link, &[]).await;
    mallory
        .sign_in("havering", "mallory@example.org", PASSWORD)
        .await;
    // Profile routes carry no id: an id smuggled into the form (or the path) is ignored.
    let res = mallory
        .submit(
            "havering",
            "/account/details",
            "/account/details",
            &[
                ("id", &victim_id),
                ("account_id", &victim_id),
                ("first_name", "Hacked"),
                ("last_name", "Victim"),
                ("job_title", "Owned"),
                ("organisation_name", "X"),
                ("organisation_telephone", "01632 960001"),
                ("telephone", "01632 960002"),
                ("business_address", "1 School Lane, Taunton TA1 1AA"),
                ("access", "member"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = mallory
        .get_tenant("havering", &format!("/account/details/{victim_id}"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let victim = app.account("havering", "victim@example.org").await.unwrap();
    assert_eq!(victim.first_name, "Grace");
    let mallory_row = app
        .account("havering", "mallory@example.org")
        .await
        .unwrap();
    assert_eq!(mallory_row.first_name, "Hacked");
}

#[tokio::test]
async fn changing_or_resetting_a_password_signs_out_everywhere_else() {
    let app = spawn_app().await;
    verified_account(&app, "segfl", "moves@example.org").await;
    let desk = app.new_browser();
    let laptop = app.new_browser();
    for b in [&desk, &laptop] {
        let res = b.sign_in("segfl", "moves@example.org", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let new_password = "marble orchard lantern";
    let res = desk
        .submit(
            "segfl",
            "/account/password",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        desk.get_tenant("segfl", "/account").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        laptop.get_tenant("segfl", "/account").await.status(),
        StatusCode::SEE_OTHER
    );

    // A reset by email ends every session, the desk's included.
    app.submit(
        "segfl",
        "/reset-password",
        "/reset-password",
        &[("email", "moves@example.org")],
    )
    .await;
    let link = app
        .emailed_link("segfl", "moves@example.org", "/reset-password/")
        .await;
    let third = "violet harbour meadow";
    let res = app
        .submit(
            "segfl",
            &link,
            &link,
            &[("password", third), ("password_confirm", third)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        desk.get_tenant("segfl", "/account").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_reset_link_from_one_tenant_is_worthless_on_another() {
    let app = spawn_app().await;
    verified_account(&app, "harrow", "twice@example.org").await;
    verified_account(&app, "somerset", "twice@example.org").await;
    app.submit(
        "harrow",
        "/reset-password",
        "/reset-password",
        &[("email", "twice@example.org")],
    )
    .await;
    let link = app
        .emailed_link("harrow", "twice@example.org", "/reset-password/")
        .await;
    let fresh = "copper willow beacon";
    let res = app
        .submit(
            "somerset",
            &link,
            &link,
            &[("password", fresh), ("password_confirm", fresh)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::GONE);
    // Somerset's account keeps its password.
    let other = app.new_browser();
    let res = other
        .sign_in("somerset", "twice@example.org", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}
