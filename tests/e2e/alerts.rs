//! Management alerts at the frequency each person chose: a CPD lead's copies of colleagues'
//! booking emails are held for a daily or weekly summary, sent at once, or not at all, and
//! a change of mind applies to the alerts already waiting.

use chrono::{Datelike as _, Duration, Weekday};
use e2e::{Browser, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

use crate::bookings::{checkout, course_with_session};
use crate::organisations::{admin_with_org, appoint, change};

const SLUG: &str = "harrow";
const CPD: &str = "cpd@kenton.example";

/// An organisation with a CPD lead and a member who books places it pays for; returns the
/// CPD lead, the member, a course manager and the organisation.
async fn organisation(app: &TestApp) -> (Browser, Browser, Browser, String) {
    let (admin, org) = admin_with_org(app, SLUG, "Kenton School").await;
    let lead = app.person(SLUG, "lead@kenton.example", None).await;
    appoint(&admin, SLUG, &org, "lead@kenton.example").await;
    let cpd = app.person(SLUG, CPD, Some(&org)).await;
    let member = app.person(SLUG, "member@kenton.example", Some(&org)).await;
    for email in [CPD, "member@kenton.example"] {
        let id = app.account(SLUG, email).await.unwrap().id;
        let res = change(&lead, SLUG, &org, &id, &[("action", "verify")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let id = app.account(SLUG, CPD).await.unwrap().id;
    let rights = [("action", "rights"), ("right_cpd_lead", "yes")];
    let res = change(&lead, SLUG, &org, &id, &rights).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    (cpd, member, admin, org)
}

/// The member books a new course's session, billed to the organisation.
async fn book_for_org(app: &TestApp, member: &Browser, admin: &Browser, org: &str, key: &str) {
    let (_, session) = course_with_session(app, admin, SLUG, "ss4e", 10, 10).await;
    let body = json!({"organisation_id": org, "items": [{"session_id": session}], "expected_total_pence": 7500});
    let res = checkout(member, SLUG, key, &body).await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
}

async fn choose(b: &Browser, frequency: &str) {
    let res = b
        .submit(
            SLUG,
            "/account/preferences",
            "/account/preferences",
            &[("alert_frequency", frequency)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// The CPD lead's copies, with the summary each waits for (`None`: queued to send).
async fn copies(app: &TestApp) -> Vec<(String, Option<String>)> {
    app.outbox(SLUG, CPD)
        .await
        .into_iter()
        .filter(|m| m.subject.starts_with("Copy: "))
        .map(|m| (m.subject, m.digest))
        .collect()
}

async fn summaries(app: &TestApp) -> Vec<storage::entity::outbox_email::Model> {
    app.outbox(SLUG, CPD)
        .await
        .into_iter()
        .filter(|m| m.subject.starts_with("Your management alerts from "))
        .collect()
}

/// Runs the day's jobs a day after the last run (the day's lease lasts 23 hours).
async fn next_day(app: &TestApp) {
    app.clock.advance(Duration::days(1));
    assert!(server::jobs::daily_jobs(&app.state, "test").await);
}

#[tokio::test]
async fn a_daily_choice_gathers_the_days_alerts_into_one_email() {
    let app = spawn_app().await;
    let (_, member, admin, org) = organisation(&app).await;
    book_for_org(&app, &member, &admin, &org, "alert-key-1").await;
    book_for_org(&app, &member, &admin, &org, "alert-key-2").await;

    // Every account starts on "daily": the copies wait, and no sender may claim them.
    let held = copies(&app).await;
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(held.iter().all(|(_, d)| d.as_deref() == Some("daily")));
    let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
    let now = app.clock.now();
    let claimed = storage::outbox::claim(&tx, now, now + Duration::minutes(5), 1000)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(
        !claimed.is_empty() && claimed.iter().all(|m| !m.subject.starts_with("Copy: ")),
        "held alerts are never claimed, the rest is"
    );

    next_day(&app).await;
    assert!(copies(&app).await.is_empty(), "folded into the summary");
    let sent = summaries(&app).await;
    assert_eq!(sent.len(), 1);
    let summary = &sent[0];
    assert_eq!(summary.digest, None, "the summary itself is sent");
    assert!(summary.subject.ends_with("(2)"), "{}", summary.subject);
    assert_eq!(
        summary
            .body_text
            .matches("Copy: Booking confirmed: ")
            .count(),
        2
    );
    assert!(summary.body_text.contains("/account/preferences"));

    // Nothing new: no empty summary the next day.
    next_day(&app).await;
    assert_eq!(summaries(&app).await.len(), 1);
}

#[tokio::test]
async fn a_weekly_choice_waits_for_monday_and_a_change_of_mind_moves_what_waits() {
    let app = spawn_app().await;
    let (cpd, member, admin, org) = organisation(&app).await;
    if app.clock.now().weekday() == Weekday::Mon {
        app.clock.advance(Duration::days(1));
    }
    choose(&cpd, "weekly").await;
    book_for_org(&app, &member, &admin, &org, "alert-key-1").await;
    assert_eq!(copies(&app).await[0].1.as_deref(), Some("weekly"));

    // Days pass: held until Monday's run, then one summary.
    while app.clock.now().weekday() != Weekday::Sun {
        next_day(&app).await;
        assert!(summaries(&app).await.is_empty());
        assert_eq!(copies(&app).await.len(), 1);
    }
    next_day(&app).await;
    assert_eq!(app.clock.now().weekday(), Weekday::Mon);
    assert_eq!(summaries(&app).await.len(), 1);
    assert!(copies(&app).await.is_empty());

    // "Never": what waits is dropped, and nothing new is made.
    book_for_org(&app, &member, &admin, &org, "alert-key-2").await;
    assert_eq!(copies(&app).await.len(), 1);
    choose(&cpd, "never").await;
    assert!(copies(&app).await.is_empty());
    book_for_org(&app, &member, &admin, &org, "alert-key-3").await;
    assert!(copies(&app).await.is_empty());

    // "As soon as": a copy is queued to send at once, and what waited is released.
    choose(&cpd, "daily").await;
    book_for_org(&app, &member, &admin, &org, "alert-key-4").await;
    assert_eq!(copies(&app).await[0].1.as_deref(), Some("daily"));
    choose(&cpd, "immediately").await;
    book_for_org(&app, &member, &admin, &org, "alert-key-5").await;
    let now = copies(&app).await;
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now.iter().all(|(_, d)| d.is_none()), "{now:?}");
}

/// Held alerts follow their recipient to a new address, and go when the person they are
/// about is erased (they name them).
#[tokio::test]
async fn held_alerts_follow_an_address_change_and_go_with_the_person_they_name() {
    let app = spawn_app().await;
    let (cpd, member, admin, org) = organisation(&app).await;
    book_for_org(&app, &member, &admin, &org, "alert-key-1").await;
    assert_eq!(copies(&app).await.len(), 1);

    // The CPD lead moves to a new address: the held copy goes with them.
    let res = cpd
        .submit(
            SLUG,
            "/account/email",
            "/account/email",
            &[("email", "cpd@new.example"), ("password", e2e::PASSWORD)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let link = app
        .emailed_link(SLUG, "cpd@new.example", "/account/email/confirm/")
        .await;
    let res = app.new_browser().submit(SLUG, &link, &link, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        copies(&app).await.is_empty(),
        "nothing left for the old address"
    );
    let moved: Vec<_> = app
        .outbox(SLUG, "cpd@new.example")
        .await
        .into_iter()
        .filter(|m| m.subject.starts_with("Copy: ") && m.digest.is_some())
        .collect();
    assert_eq!(moved.len(), 1);

    // The member cancels their place and closes their account: the held copies about
    // them (the booking's and the cancellation's) go with them.
    let mine = member.get_json(SLUG, "/api/v1/bookings").await;
    let booking = mine[0]["id"].as_str().unwrap().to_owned();
    let res = member
        .send_json(
            reqwest::Method::POST,
            SLUG,
            &format!("/api/v1/bookings/{booking}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = member
        .submit(
            SLUG,
            "/account/close",
            "/account/close",
            &[("password", e2e::PASSWORD)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    assert!(
        app.outbox(SLUG, "cpd@new.example")
            .await
            .iter()
            .all(|m| !m.subject.starts_with("Copy: ")),
        "no alert naming the erased member is left to send"
    );
}
