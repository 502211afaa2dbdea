//! The administrators' console: a "Manage" entry in the header for anyone who looks after
//! something, and one page whose every link works for that very person and leads only to
//! what they may do; nobody else gets a console. Also the QR code at second-factor set-up.

use e2e::{Browser, TestApp, spawn_app};
use reqwest::StatusCode;

/// The console's links (the paths in its lists), after asserting it answers 200.
async fn console_links(b: &Browser, slug: &str) -> Vec<String> {
    let res = b.get_tenant(slug, "/manage").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"href="/manage" aria-current="page">Manage</a>"#));
    page.split(r#"<ul class="govuk-list app-console-list">"#)
        .skip(1)
        .flat_map(|list| {
            let list = &list[..list.find("</ul>").unwrap()];
            list.split(r#"href=""#)
                .skip(1)
                .map(|h| h[..h.find('"').unwrap()].to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every link answers 200 for the person it was shown to.
async fn all_open(b: &Browser, slug: &str, links: &[String]) {
    for l in links {
        let res = b.get_tenant(slug, l).await;
        assert_eq!(res.status(), StatusCode::OK, "{l}");
    }
}

async fn lead_of(app: &TestApp, admin: &Browser, slug: &str, org: &str, email: &str) -> Browser {
    let lead = app.person(slug, email, None).await;
    crate::organisations::appoint(admin, slug, org, email).await;
    lead
}

#[tokio::test]
async fn the_console_leads_each_person_to_what_they_may_do() {
    let app = spawn_app().await;
    let slug = "harrow";
    let (admin, org) = crate::organisations::admin_with_org(&app, slug, "Kenton School").await;
    let other = crate::organisations::create_org(&admin, slug, "Pinner School").await;

    // The council administrator: catalogue, organisations, the notice, the record, audit.
    let links = console_links(&admin, slug).await;
    for want in [
        "/manage/catalogue",
        "/manage/resources",
        "/manage/analytics",
        "/manage/tokens",
        "/admin/organisations",
        "/manage/privacy",
        "/manage/privacy/record",
        "/manage/privacy/audit",
    ] {
        assert!(links.iter().any(|l| l == want), "{want} missing: {links:?}");
    }
    assert!(!links.iter().any(|l| l == "/manage/requests"), "{links:?}");
    all_open(&admin, slug, &links).await;

    // The privacy officer: the desk, not the catalogue or the organisations.
    let officer = app
        .role_holder(slug, "dpo@harrow.example", "privacy-officer", None)
        .await;
    let links = console_links(&officer, slug).await;
    for want in [
        "/manage/requests",
        "/manage/complaints",
        "/manage/breaches",
        "/manage/retention/reviews",
        "/manage/privacy/record",
    ] {
        assert!(links.iter().any(|l| l == want), "{want} missing: {links:?}");
    }
    for not in [
        "/manage/catalogue",
        "/admin/organisations",
        "/manage/privacy",
    ] {
        assert!(!links.iter().any(|l| l == not), "{not} shown: {links:?}");
    }
    all_open(&officer, slug, &links).await;

    // A school's lead administrator: their organisation's pages, no other's.
    let lead = lead_of(&app, &admin, slug, &org, "lead@kenton.example").await;
    let links = console_links(&lead, slug).await;
    assert_eq!(
        links,
        [
            format!("/organisations/{org}/people"),
            format!("/organisations/{org}/approvals"),
            format!("/organisations/{org}/bookings"),
            format!("/organisations/{org}/invoices"),
        ]
    );
    all_open(&lead, slug, &links).await;
    assert!(!links.iter().any(|l| l.contains(&other)));
    // The pages it leaves out stay shut to them.
    for shut in ["/manage/catalogue", "/manage/requests", "/manage/privacy"] {
        assert!(
            lead.get_tenant(slug, shut).await.status().is_client_error(),
            "{shut}"
        );
    }

    // Provider staff: their provider's catalogue only.
    let staff = app
        .catalogue_manager(slug, "staff@ss4e.example", Some("ss4e"))
        .await;
    let links = console_links(&staff, slug).await;
    assert_eq!(links, ["/manage/catalogue", "/manage/resources"]);
    all_open(&staff, slug, &links).await;
}

#[tokio::test]
async fn people_with_nothing_to_manage_have_no_console() {
    let app = spawn_app().await;
    let slug = "harrow";
    let (admin, _) = crate::organisations::admin_with_org(&app, slug, "Kenton School").await;
    let member = app.person(slug, "member@kenton.example", None).await;
    let home = member.get_tenant(slug, "/").await.text().await.unwrap();
    assert!(home.contains("Your account") && !home.contains(r#"href="/manage""#));
    assert_eq!(
        member.get_tenant(slug, "/manage").await.status(),
        StatusCode::NOT_FOUND
    );
    // Signed out: asked to sign in.
    let res = app.new_browser().get_tenant(slug, "/manage").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("/sign-in")
    );
    // Another tenant's host: the administrator's session is not theirs there.
    let res = admin.get_tenant("somerset", "/manage").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A role given while the person is signed in waits for their second factor: the
    // console says so and leads to the set-up, and the role's pages stay shut.
    app.grant_role(slug, "member@kenton.example", "privacy-officer", None)
        .await;
    let res = member.get_tenant(slug, "/manage").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Your role as privacy officer starts working once you use security codes")
    );
    assert!(page.contains(r#"href="/account/two-factor""#));
    assert!(!page.contains(r#"href="/manage/requests""#));
    assert_eq!(
        member.get_tenant(slug, "/manage/requests").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn setting_up_an_authenticator_app_shows_a_qr_code_of_the_setup_link() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let slug = "somerset";
    let b = app.person(slug, "qr@school.example", None).await;
    let page = app.start_second_factor(&b, slug, &[]).await;
    let src = page
        .split(r#"src="data:image/svg+xml;base64,"#)
        .nth(1)
        .expect("a QR code image");
    let svg = base64::engine::general_purpose::STANDARD
        .decode(&src[..src.find('"').unwrap()])
        .unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("<svg") && svg.len() > 1000, "{svg}");
    assert!(page.contains(r#"alt="QR code holding the setup key"#));
    // The key is still there for those who cannot scan.
    assert!(page.contains(r#"id="setup-key""#));
}
