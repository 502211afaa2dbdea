//! Automated accessibility checks: axe-core's WCAG 2.0/2.1/2.2 A and AA rules, reflow at
//! 320 CSS pixels (WCAG 1.4.10) and keyboard use (every element reached by Tab, its focus
//! shown and on screen, no trap: 2.1.1, 2.1.2, 2.4.7, 2.4.11), which axe does not test, in
//! headless
//! Chromium over the public pages of a tenant with a demo catalogue, and over the pages a
//! signed-in delegate (account, bookings, basket, CPD, feedback) and a tenant
//! administrator (management, privacy notice, an organisation's people, bookings and
//! approvals) use. Automated rules catch only part of WCAG; they stop regressions, they do
//! not replace a manual audit.

use chrono::Duration;
use e2e::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The axe script, when Chromium and npm are there (scripts/test.sh sets it up).
fn script() -> Option<String> {
    let (Ok(script), Ok(_)) = (std::env::var("A11Y_SCRIPT"), std::env::var("CHROMIUM")) else {
        e2e::skip_or_fail(
            "A11Y_SCRIPT or CHROMIUM is not set (scripts/test.sh sets them up with Chromium and npm)",
        );
        return None;
    };
    Some(script)
}

/// The pages the accessibility statement lists for an area, with each `{placeholder}`
/// replaced by a real id: the checks below run on exactly what the statement claims.
fn listed(area: &str, ids: &[(&str, &str)]) -> Vec<String> {
    let pages = server::accessibility::statement().unwrap().pages(area);
    assert!(!pages.is_empty(), "the statement lists no pages for {area}");
    pages
        .iter()
        .map(|p| {
            let page = ids.iter().fold((*p).to_owned(), |page, (name, id)| {
                page.replace(&format!("{{{name}}}"), id)
            });
            assert!(!page.contains('{'), "no id for {page}");
            page
        })
        .collect()
}

/// Checks every URL (with the given session cookies) and asserts there is no violation.
async fn assert_accessible(script: String, urls: Vec<String>, cookies: Vec<String>) {
    let expected = urls.len();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(&script)
            .args(&urls)
            .env("AXE_COOKIES", serde_json::to_string(&cookies).unwrap())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "axe run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut problems = Vec::new();
    let mut checked = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let page: Value = serde_json::from_str(line).unwrap();
        checked += 1;
        // A signed-in page that bounced to the sign-in form would be checked vacuously.
        assert_eq!(page["final"], page["url"], "redirected: {page}");
        assert!(page.get("reflow").is_some(), "reflow was checked: {page}");
        for k in page["keyboard"]
            .as_array()
            .expect("keyboard use was checked")
        {
            problems.push(format!(
                "{} — {}",
                page["url"],
                k.as_str().unwrap_or_default()
            ));
        }
        if !page["reflow"].is_null() {
            problems.push(format!(
                "{} — 1.4.10 Reflow: {} CSS pixels wide at 320, because of {}",
                page["url"], page["reflow"]["width"], page["reflow"]["wider"]
            ));
        }
        for v in page["violations"].as_array().unwrap() {
            problems.push(format!(
                "{} — {} ({}): {}",
                page["url"], v["id"], v["impact"], v["nodes"]
            ));
        }
    }
    assert_eq!(checked, expected, "every page was checked");
    assert!(
        problems.is_empty(),
        "WCAG violations:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn public_pages_pass_axe_wcag_aa_rules() {
    let Some(script) = script() else {
        return;
    };
    let app = spawn_app().await;
    crate::catalogue::seed_demo(&app, "somerset").await;
    let course = app.get_json("somerset", "/api/v1/courses").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let service = app.get_json("somerset", "/api/v1/services").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let paths = listed(
        "Public pages",
        &[("course", course.as_str()), ("service", service.as_str())],
    );
    // Harrow uses analytics cookies: its pages carry the cookie banner, and its cookies
    // page the choice.
    let urls: Vec<String> = paths
        .iter()
        .map(|p| app.url("somerset.localhost", p))
        .chain(["/", "/cookies"].map(|p| app.url("harrow.localhost", p)))
        .collect();
    assert_accessible(script, urls, Vec::new()).await;
}

/// A delegate's account pages (bookings, CPD record, feedback) and an administrator's
/// management pages (course, register, feedback, privacy notice), and a lead
/// administrator's view of a service with its buy form.
#[tokio::test]
async fn signed_in_pages_pass_axe_wcag_aa_rules() {
    let Some(script) = script() else {
        return;
    };
    let app = spawn_app().await;
    let slug = "harrow";
    let (admin, org) = crate::organisations::admin_with_org(&app, slug, "Kenton School").await;
    let body = json!({
        "provider_id": "ss4e", "title": "Phonics leadership", "summary": "For phonics leads.",
        "price_pence": 0, "cpd_minutes": 90, "cancellation_notice_days": 0,
        "pre_course_info": "Bring your phonics plan."
    });
    let (course, session) = crate::bookings::published_course(&admin, slug, &body, 10, 2).await;
    let (_, later) = crate::bookings::published_course(&admin, slug, &body, 10, 20).await;
    let ana = app.person(slug, "ana@school.example", None).await;
    let res = crate::bookings::checkout(
        &ana,
        slug,
        "ana-key-0001",
        &json!({"items": [{"session_id": session}], "expected_total_pence": 0}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let booking = ana.get_json(slug, "/api/v1/bookings").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = ana
        .send_json(
            Method::POST,
            slug,
            "/api/v1/basket/items",
            &json!({"session_id": later}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.clock.advance(Duration::days(3));
    let res = admin
        .send_json(
            Method::POST,
            slug,
            &format!("/api/v1/sessions/{session}/attendance"),
            &json!({"marks": [{"booking_id": booking, "attendance": "attended"}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = ana
        .submit(
            slug,
            "/account/requests",
            "/account/requests",
            &[("kind", "access"), ("details", "A copy of my bookings.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let host = format!("{slug}.localhost");
    let delegate_pages = listed(
        "A member of staff's own pages",
        &[("booking", booking.as_str())],
    );
    assert_accessible(
        script.clone(),
        delegate_pages.iter().map(|p| app.url(&host, p)).collect(),
        ana.cookies(slug),
    )
    .await;
    let admin_pages = listed(
        "Council administrators' pages",
        &[
            ("course", course.as_str()),
            ("session", session.as_str()),
            ("org", org.as_str()),
        ],
    );
    assert_accessible(
        script.clone(),
        admin_pages.iter().map(|p| app.url(&host, p)).collect(),
        admin.cookies(slug),
    )
    .await;
    // The privacy officer's desk: the queue, logging a request, one request.
    let officer = app
        .role_holder(slug, "dpo@harrow.example", "privacy-officer", None)
        .await;
    let request = crate::rights::newest_request(&officer).await;
    let desk_pages = listed("Privacy officers' pages", &[("request", request.as_str())]);
    assert_accessible(
        script.clone(),
        desk_pages.iter().map(|p| app.url(&host, p)).collect(),
        officer.cookies(slug),
    )
    .await;
    // A lead administrator sees the service's buy form (band, organisation, price).
    let service = crate::purchases::sla(&admin).await;
    let lead = app.person(slug, "lead@kenton.example", None).await;
    crate::organisations::appoint(&admin, slug, &org, "lead@kenton.example").await;
    let page = lead
        .get_tenant(slug, &format!("/services/{service}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Buy for your organisation"),
        "no buy form on the service page"
    );
    assert_accessible(
        script,
        listed(
            "An organisation's lead administrator buying a service",
            &[("service", service.as_str())],
        )
        .iter()
        .map(|p| app.url(&host, p))
        .collect(),
        lead.cookies(slug),
    )
    .await;
}

/// Every council's statement publishes what `statement.toml` holds: the status that
/// follows from the problems still known, each problem with its plan, and the pages the
/// checks above run on.
#[tokio::test]
async fn each_councils_statement_publishes_the_checks_and_the_problems_left() {
    let app = spawn_app().await;
    let s = server::accessibility::statement().unwrap();
    for slug in ["somerset", "harrow", "havering", "segfl", "stockport"] {
        let page = app.browser.page(slug, "/accessibility").await;
        let page = page.replace("&#39;", "'").replace("&#x27;", "'");
        assert!(
            page.contains(&format!("This website is {} with", s.status())),
            "{slug}: {page}"
        );
        for p in &s.problem {
            assert!(page.contains(&p.summary), "{slug}: {}", p.summary);
            assert!(page.contains(&p.plan), "{slug}: {}", p.plan);
        }
        assert!(page.contains("320 pixels wide"), "{slug}");
        for c in &s.automated {
            let listed = format!("{}</h3>", c.area);
            assert!(page.contains(&listed), "{slug}: {}", c.area);
            let count = format!("{} page", c.pages.len());
            assert!(page.contains(&count), "{slug}: {count}");
        }
    }
}

/// The checks can fail: on a page broken on purpose (`tests/a11y/broken.html`) they find
/// the line too wide for a phone, the button that shows no focus and the field that holds
/// the keyboard.
#[tokio::test]
async fn the_checks_find_what_they_look_for() {
    let Some(script) = script() else {
        return;
    };
    let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("a11y/broken.html");
    let url = format!("file://{}", page.display());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(&script)
            .arg(&url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(found["reflow"]["width"].as_u64().unwrap() >= 900, "{found}");
    let keyboard: Vec<&str> = found["keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert!(
        keyboard
            .iter()
            .any(|k| k.starts_with("2.4.7") && k.contains("Shows no focus")),
        "{keyboard:?}"
    );
    assert!(
        keyboard
            .iter()
            .any(|k| k.starts_with("2.1.2") && k.contains("input#trap")),
        "{keyboard:?}"
    );
}
