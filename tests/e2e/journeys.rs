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
