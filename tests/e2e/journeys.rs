//! Whole journeys in a real browser (headless Chromium, no JavaScript on the pages), as a
//! person walks them: a member of staff signs up, confirms their address, books a course,
//! cancels it and finds their CPD record. Screenshots of each step go to `$SCREENSHOTS`
//! when it is set (scripts/test.sh keeps them in the build folder for CI to collect).

use std::path::Path;

use e2e::{TestApp, spawn_app};
use serde_json::{Value, json};

/// The journey script, when Chromium and npm are there (scripts/test.sh sets it up).
fn script() -> Option<String> {
    let (Ok(script), Ok(_)) = (std::env::var("JOURNEY_SCRIPT"), std::env::var("CHROMIUM")) else {
        e2e::skip_or_fail("JOURNEY_SCRIPT or CHROMIUM is not set (scripts/test.sh sets them up)");
        return None;
    };
    Some(script)
}

/// Walks `steps` with the cookies kept in `state`; panics with the failing step.
async fn walk(script: &str, state: &Path, shots: &str, steps: Value) {
    walk_as(script, state, shots, &[], steps).await;
}

/// Walks `steps` in a browser holding `cookies` (a session made by the test's helpers,
/// such as an administrator's with its second factor done).
async fn walk_as(script: &str, state: &Path, shots: &str, cookies: &[String], steps: Value) {
    let cookies = serde_json::to_string(cookies).unwrap();
    let script = script.to_owned();
    let state = state.to_owned();
    let shots = std::env::var("SCREENSHOTS")
        .map(|dir| format!("{dir}/{shots}"))
        .unwrap_or_default();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(&script)
            .env("JOURNEY_STEPS", steps.to_string())
            .env("JOURNEY_STATE", &state)
            .env("JOURNEY_COOKIES", cookies)
            .env("SCREENSHOTS", shots)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "journey failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn url(app: &TestApp, slug: &str, path: &str) -> String {
    app.url(&format!("{slug}.localhost"), path)
}

#[tokio::test]
async fn a_member_of_staff_signs_up_books_cancels_and_finds_their_cpd_record() {
    let Some(script) = script() else {
        return;
    };
    let app = spawn_app().await;
    let slug = "somerset";
    crate::catalogue::seed_demo(&app, slug).await;
    let course = app
        .get_json(slug, "/api/v1/courses?has_places=true&sort=price")
        .await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let email = "journey@school.example";
    let u = |p: &str| url(&app, slug, p);

    walk(
        &script,
        &state,
        "sign-up",
        json!([
            {"goto": u("/sign-up")},
            {"shot": "1-sign-up"},
            {"fill": {
                "first_name": "Jo", "last_name": "Journey", "email": email,
                "job_title": "Teacher", "organisation_name": "A school",
                "organisation_telephone": "01632 960001", "telephone": "01632 960002",
                "business_address": "1 School Lane, Taunton TA1 1AA", "job_category": "*",
                "is_childminder": "no", "password": e2e::PASSWORD,
                "password_confirm": e2e::PASSWORD
            }},
            {"press": "Create account"},
            {"see": "Check your email"},
            {"shot": "2-check-your-email"},
        ]),
    )
    .await;
    let link = app.emailed_link(slug, email, "/verify-email/").await;
    walk(
        &script,
        &state,
        "book",
        json!([
            {"goto": u(&link)},
            {"press": "Confirm my email address"},
            {"see": "Email address confirmed"},
            {"goto": u("/sign-in")},
            {"fill": {"email": email, "password": e2e::PASSWORD}},
            {"press": "Sign in"},
            {"goto": u("/courses")},
            {"shot": "3-course-finder"},
            {"goto": u(&format!("/courses/{course}"))},
            {"shot": "4-course"},
            {"press": "Book a place"},
            {"see": "Booking confirmed"},
            {"shot": "5-booked"},
            {"goto": u("/account/bookings")},
            {"shot": "6-your-bookings"},
            {"press": "Cancel"},
            {"goto": u("/account/bookings")},
            {"see": "Cancelled"},
            {"goto": u("/account/cpd")},
            {"see": "Your CPD record"},
            {"shot": "7-cpd-record"},
        ]),
    )
    .await;
    // What the browser did is what the service recorded.
    let audit = app.audit_actions(slug).await;
    for action in [
        "account.signed_up",
        "account.email_verified",
        "order.placed",
        "booking.cancelled",
    ] {
        assert!(
            audit.iter().any(|a| a == action),
            "{action} missing: {audit:?}"
        );
    }
}

#[tokio::test]
async fn a_lead_administrator_adds_a_colleague_and_marks_a_leaver() {
    let Some(script) = script() else {
        return;
    };
    let app = spawn_app().await;
    let slug = "harrow";
    let (admin, org) = crate::organisations::admin_with_org(&app, slug, "Kenton School").await;
    let lead = app.person(slug, "lead@kenton.example", None).await;
    crate::organisations::appoint(&admin, slug, &org, "lead@kenton.example").await;
    let dir = tempfile::tempdir().unwrap();
    let u = |p: &str| url(&app, slug, p);
    walk_as(
        &script,
        &dir.path().join("state.json"),
        "lead-administrator",
        &lead.cookies(slug),
        json!([
            {"goto": u("/manage")},
            {"see": "People at Kenton School"},
            {"shot": "1-console"},
            {"goto": u(&format!("/organisations/{org}/people"))},
            {"fill": {"first_name": "Sam", "last_name": "Colleague", "email": "sam@kenton.example"}},
            {"press": "Add colleague"},
            {"see": "Sam Colleague"},
            {"shot": "2-colleague-added"},
            // Their own row offers no such button, so the only one is Sam's.
            {"press": "Mark as leaver"},
            {"shot": "3-leaver"},
        ]),
    )
    .await;
    let audit = app.audit_actions(slug).await;
    for action in ["account.created_for_person", "membership.left"] {
        assert!(
            audit.iter().any(|a| a == action),
            "{action} missing: {audit:?}"
        );
    }
    // The leaver is Sam, not the lead administrator, who is still signed in and leading.
    let people = lead
        .get_tenant(slug, &format!("/organisations/{org}/people"))
        .await;
    assert_eq!(people.status(), reqwest::StatusCode::OK);
    // The colleague was told to choose a password.
    assert!(!app.outbox(slug, "sam@kenton.example").await.is_empty());
}

#[tokio::test]
async fn a_council_administrator_rewords_and_publishes_the_privacy_notice() {
    let Some(script) = script() else {
        return;
    };
    let app = spawn_app().await;
    let slug = "harrow";
    let (admin, _) = crate::organisations::admin_with_org(&app, slug, "Kenton School").await;
    let dir = tempfile::tempdir().unwrap();
    let u = |p: &str| url(&app, slug, p);
    let words = "Harrow's training portal, in our own words for this journey.";
    walk_as(
        &script,
        &dir.path().join("state.json"),
        "notice",
        &admin.cookies(slug),
        json!([
            {"goto": u("/manage")},
            {"see": "Privacy notice, controller details and retention rules"},
            {"goto": u("/manage/privacy/prose")},
            {"fill": {"introduction": words}},
            {"press": "Save to the draft"},
            {"goto": u("/manage/privacy")},
            {"shot": "1-draft"},
            {"press": "Publish the notice"},
            {"goto": u("/privacy")},
            {"see": words},
            {"shot": "2-published"},
        ]),
    )
    .await;
    assert!(
        app.audit_actions(slug)
            .await
            .iter()
            .any(|a| a == "notice.published")
    );
}

#[tokio::test]
async fn an_operator_onboards_a_council_and_a_browser_finds_it_at_once() {
    let Some(script) = script() else {
        return;
    };
    let app = spawn_app().await;
    let (_keep, folder) = crate::onboarding::newtown(|t| t);
    server::onboarding::apply(&app.state, &folder, app.clock.now())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    walk(
        &script,
        &dir.path().join("state.json"),
        "onboarded",
        json!([
            {"goto": app.url("newtown.localhost", "/")},
            {"see": "Newtown Education Services"},
            {"shot": "1-home"},
            {"goto": app.url("newtown.localhost", "/privacy")},
            {"see": "Newtown Education Services"},
            {"goto": app.url("newtown.localhost", "/accessibility")},
            {"see": "Accessibility statement for Newtown Education Services"},
        ]),
    )
    .await;
}

/// Every council's home page, a course page (or, where it runs no courses, its services or
/// its privacy notice) and a signed-in person's account page, as a browser shows them: each is checked for
/// what it must say and photographed for CI's artefacts.
#[tokio::test]
async fn every_councils_home_course_and_account_pages_are_photographed() {
    let Some(script) = script() else {
        return;
    };
    let app = spawn_app().await;
    for slug in e2e::LAUNCH_TENANTS {
        crate::catalogue::seed_demo(&app, slug).await;
        let name = app
            .registry
            .current()
            .iter()
            .find(|t| t.id.as_str() == slug)
            .unwrap()
            .config
            .display_name
            .clone();
        // A council that runs no courses answers 404 for them.
        let res = app.browser.get_tenant(slug, "/api/v1/courses").await;
        let courses: Value = if res.status().is_success() {
            res.json().await.unwrap()
        } else {
            Value::Null
        };
        // Its offer: a course, else its traded services, else (Stockport's casework) its
        // privacy notice.
        let services = app.browser.get_tenant(slug, "/services").await.status();
        let detail = match courses["items"][0]["id"].as_str() {
            Some(course) => format!("/courses/{course}"),
            None if services.is_success() => "/services".to_owned(),
            None => "/privacy".to_owned(),
        };
        let person = app
            .person(slug, &format!("shots@{slug}.example"), None)
            .await;
        let dir = tempfile::tempdir().unwrap();
        let u = |p: &str| url(&app, slug, p);
        walk_as(
            &script,
            &dir.path().join("state.json"),
            &format!("tenants/{slug}"),
            &person.cookies(slug),
            json!([
                {"goto": u("/")},
                {"see": name},
                {"shot": "1-home"},
                {"goto": u(&detail)},
                {"see": name},
                {"shot": "2-offer"},
                {"goto": u("/account")},
                {"see": "Your account"},
                {"shot": "3-account"},
            ]),
        )
        .await;
    }
}
