//! Staff sign-in through a real OpenID provider (npm `oidc-provider`) on loopback: PKCE,
//! state and nonce; first sign-in links by verified email or completes the tenant's sign-up
//! fields; forged, replayed, cross-browser and cross-tenant callbacks are refused.

use e2e::{Browser, OidcProvider, PASSWORD, TestApp, TestDb, copy_tenants, error_code, spawn_on};
use reqwest::StatusCode;

const SECRET: &str = "a-test-client-secret-of-decent-length";

/// Harrow with an OpenID provider `staff`, the app, and the provider itself.
async fn setup() -> Option<(TestApp, OidcProvider, tempfile::TempDir)> {
    setup_for("harrow").await
}

/// A tenant with an OpenID provider `staff`, the app, and the provider itself.
async fn setup_for(slug: &str) -> Option<(TestApp, OidcProvider, tempfile::TempDir)> {
    let client_id = format!("portal-{slug}");
    if std::env::var("OIDC_OP_SCRIPT").is_err() {
        e2e::skip_or_fail(
            "OIDC_OP_SCRIPT is not set (scripts/test.sh installs the OpenID provider)",
        );
        return None;
    }
    let port = OidcProvider::free_port();
    let tenants = copy_tenants();
    let file = tenants.path().join(format!("{slug}/tenant.toml"));
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&format!(
        "\n[[oidc]]\nid = \"staff\"\nlabel = \"Sign in with your school account\"\n\
         issuer = \"http://127.0.0.1:{port}\"\nclient_id = \"{client_id}\"\n"
    ));
    std::fs::write(&file, text).unwrap();
    let db = TestDb::new().await;
    let mut settings = db.settings(tenants.path());
    settings.oidc_secrets.insert(
        slug.to_owned(),
        [("staff".to_owned(), SECRET.to_owned().into())]
            .into_iter()
            .collect(),
    );
    let app = spawn_on(db, settings).await;
    let redirect = format!(
        "http://{slug}.localhost:{}/sign-in/oidc/staff/callback",
        app.addr.port()
    );
    let op = OidcProvider::start(port, &client_id, SECRET, &redirect).await?;
    Some((app, op, tenants))
}

fn location(res: &reqwest::Response, base: &str) -> String {
    let loc = res.headers()["location"].to_str().unwrap();
    if loc.starts_with("http") {
        loc.to_owned()
    } else {
        format!("{base}{loc}")
    }
}

fn form_action(html: &str) -> String {
    let at = html.find("action=\"").unwrap() + "action=\"".len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// Follows the sign-in from the portal's button through the provider's login and consent
/// pages, as a browser would; returns the callback URL the provider sends the browser to.
async fn through_provider(b: &Browser, op: &OidcProvider, login: &str) -> String {
    through_provider_at("harrow", b, op, login).await
}

/// [`through_provider`] on the tenant `slug`.
async fn through_provider_at(slug: &str, b: &Browser, op: &OidcProvider, login: &str) -> String {
    let res = b.get_tenant(slug, "/sign-in/oidc/staff").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mut url = location(&res, &op.issuer);
    assert!(url.starts_with(&op.issuer), "{url}");
    assert!(url.contains("code_challenge="), "PKCE: {url}");
    assert!(url.contains("nonce="), "{url}");
    for _ in 0..12 {
        if url.contains("/sign-in/oidc/staff/callback") {
            return url;
        }
        let res = b
            .client
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        if res.status().is_redirection() {
            url = location(&res, &op.issuer);
            continue;
        }
        let html = res.text().await.unwrap();
        let action = form_action(&html);
        let action = if action.starts_with("http") {
            action
        } else {
            format!("{}{action}", op.issuer)
        };
        let prompt = if html.contains("name=\"prompt\" value=\"login\"") {
            "login"
        } else {
            "consent"
        };
        let fields: Vec<(&str, &str)> = if prompt == "login" {
            vec![
                ("prompt", prompt),
                ("login", login),
                ("password", "anything"),
            ]
        } else {
            vec![("prompt", prompt)]
        };
        let res = b
            .client
            .post(&action)
            .form(&fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}\n{html}"));
        assert!(
            res.status().is_redirection(),
            "{}",
            res.text().await.unwrap()
        );
        url = location(&res, &op.issuer);
    }
    panic!("the provider never sent the browser back");
}

#[tokio::test]
async fn a_first_sign_in_completes_the_tenant_fields_then_signs_straight_in() {
    let Some((app, op, _t)) = setup().await else {
        return;
    };
    let page = app
        .get_tenant("harrow", "/sign-in")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Sign in with your school account"));

    let b = app.new_browser();
    let callback = through_provider(&b, &op, "fed@school.example").await;
    let res = b.client.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/sign-up/oidc");
    let form = b
        .get_tenant("harrow", "/sign-up/oidc")
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("fed@school.example"));
    assert!(
        form.contains("value=\"Federated\""),
        "names from the provider are offered"
    );
    assert!(!form.contains("name=\"password\""));
    // Harrow's mandatory fields still apply.
    let res = b
        .submit(
            "harrow",
            "/sign-up/oidc",
            "/sign-up/oidc",
            &[("first_name", "Fed")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = b
        .submit(
            "harrow",
            "/sign-up/oidc",
            "/sign-up/oidc",
            &[
                ("first_name", "Fed"),
                ("last_name", "Person"),
                ("job_title", "Teacher"),
                ("organisation_name", "Federated School"),
                ("organisation_telephone", "01632 960001"),
                ("telephone", "01632 960002"),
                ("business_address", "1 School Lane, Taunton TA1 1AA"),
                ("access", "member"),
                ("is_childminder", "no"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let account = b
        .get_tenant("harrow", "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("fed@school.example"));
    let stored = app.account("harrow", "fed@school.example").await.unwrap();
    assert!(stored.email_verified_at.is_some());
    assert!(stored.password_hash.is_none());

    // Next time: straight in, through the link kept by issuer and subject.
    let again = app.new_browser();
    let callback = through_provider(&again, &op, "fed@school.example").await;
    let res = again.client.get(&callback).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/account");
    assert_eq!(
        again.get_tenant("harrow", "/account").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_verified_email_links_to_the_existing_account() {
    let Some((app, op, _t)) = setup().await else {
        return;
    };
    let b = app.new_browser();
    let fields = [
        ("first_name", "Existing"),
        ("last_name", "Person"),
        ("email", "existing@school.example"),
        ("job_title", "Teacher"),
        ("organisation_name", "A school"),
        ("organisation_telephone", "01632 960001"),
        ("telephone", "01632 960002"),
        ("business_address", "1 School Lane, Taunton TA1 1AA"),
        ("access", "member"),
        ("is_childminder", "no"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    b.submit("harrow", "/sign-up", "/sign-up", &fields).await;
    let link = app
        .emailed_link("harrow", "existing@school.example", "/verify-email/")
        .await;
    b.submit("harrow", &link, &link, &[]).await;

    let fresh = app.new_browser();
    let callback = through_provider(&fresh, &op, "existing@school.example").await;
    let res = fresh.client.get(&callback).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/account");
    let page = fresh
        .get_tenant("harrow", "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Existing Person"));
}

#[tokio::test]
async fn forged_replayed_and_foreign_callbacks_are_refused() {
    let Some((app, op, _t)) = setup().await else {
        return;
    };
    let b = app.new_browser();
    let callback = through_provider(&b, &op, "victim@school.example").await;

    // Another browser (the login-CSRF case) cannot use this callback.
    let other = app.new_browser();
    let res = other.client.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&res), "oidc_state_invalid");

    // A tampered state is refused.
    let tampered = callback.replace("state=", "state=x");
    let res = b.client.get(&tampered).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The same callback on another tenant's host: that tenant has no such provider.
    let foreign = callback.replace("harrow.localhost", "havering.localhost");
    let res = b.client.get(&foreign).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Used once by its own browser; a replay finds nothing.
    let res = b.client.get(&callback).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let res = b.client.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The provider saying no is a clear refusal, not an error page.
    let res = b
        .get_tenant(
            "harrow",
            "/sign-in/oidc/staff/callback?error=access_denied&state=x",
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&res), "oidc_declined");
    // An unknown provider id is not found.
    assert_eq!(
        b.get_tenant("harrow", "/sign-in/oidc/nobody")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// Havering asks the access needed of a person who signs up through their organisation's
/// sign-in too: required, refused without an organisation beyond booking for oneself, and
/// held on the claimed membership for the lead administrator to confirm.
#[tokio::test]
async fn havering_asks_the_access_needed_at_a_first_sign_in() {
    let Some((app, op, _t)) = setup_for("havering").await else {
        return;
    };
    let slug = "havering";
    let (_, org) = crate::organisations::admin_with_org(&app, slug, "Hornchurch Academy").await;
    let b = app.new_browser();
    let callback = through_provider_at(slug, &b, &op, "fed@hornchurch.example").await;
    let res = b.client.get(&callback).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/sign-up/oidc");
    let form = b.page(slug, "/sign-up/oidc").await;
    assert!(
        form.contains("The access you need at your organisation"),
        "{form}"
    );
    assert!(
        form.contains("Hornchurch Academy"),
        "the organisations to claim"
    );
    let mut fields = vec![
        ("first_name", "Fed"),
        ("last_name", "Person"),
        ("job_title", "Bursar"),
        ("organisation_name", "Hornchurch Academy"),
        ("organisation_telephone", "01708 000000"),
    ];
    let res = b
        .submit(slug, "/sign-up/oidc", "/sign-up/oidc", &fields)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose the access you need")
    );
    fields.push(("access", "purchaser"));
    let res = b
        .submit(slug, "/sign-up/oidc", "/sign-up/oidc", &fields)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose your organisation")
    );
    assert!(app.account(slug, "fed@hornchurch.example").await.is_none());

    fields.push(("organisation_id", org.as_str()));
    let res = b
        .submit(slug, "/sign-up/oidc", "/sign-up/oidc", &fields)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (rights, status) =
        crate::organisations::membership_of(&app, slug, &org, "fed@hornchurch.example").await;
    assert_eq!(status, "claimed");
    assert!(
        rights.contains("purchaser") && rights.contains("booker"),
        "{rights}"
    );
}
