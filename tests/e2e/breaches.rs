//! The breach log: a privacy officer records a breach, the officers are told the ICO's
//! 72-hour deadline at once and daily while it is undecided, the decisions to report and
//! to tell people are recorded, and a breach closes only when its risk's decisions are made.
//! Bad input, refused decisions and other tenants' or people's access change nothing.

use chrono::{Datelike as _, Duration};
use e2e::{Browser, TestApp, error_code, spawn_app};
use reqwest::StatusCode;

const SLUG: &str = "harrow";

async fn officer(app: &TestApp, email: &str) -> Browser {
    app.role_holder(SLUG, email, "privacy-officer", None).await
}

fn moment(prefix: &str, t: chrono::DateTime<chrono::Utc>) -> Vec<(String, String)> {
    let uk = t.with_timezone(&chrono_tz::Europe::London);
    vec![
        (format!("{prefix}-day"), uk.day().to_string()),
        (format!("{prefix}-month"), uk.month().to_string()),
        (format!("{prefix}-year"), uk.year().to_string()),
        (format!("{prefix}-time"), uk.format("%H:%M").to_string()),
    ]
}

async fn record(b: &Browser, fields: &[(String, String)]) -> reqwest::Response {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.submit(
        SLUG,
        "/manage/breaches/new",
        "/manage/breaches/new",
        &borrowed,
    )
    .await
}

fn breach(app: &TestApp, risk: &str, hours_ago: i64) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        (
            "summary",
            "A delegate list was emailed to the wrong school.",
        ),
        ("people_affected", "12 delegates of one session"),
        ("categories", "account.profile"),
        ("categories", "account.contact"),
        ("risk", risk),
        (
            "risk_reason",
            "Names and work emails only; the school deleted it.",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    fields.extend(moment(
        "discovered",
        app.clock.now() - Duration::hours(hours_ago),
    ));
    fields
}

async fn act(
    b: &Browser,
    id: &str,
    action: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let page = format!("/manage/breaches/{id}");
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.submit(SLUG, &page, &format!("{page}/{action}"), &borrowed)
        .await
}

fn text(name: &str, value: &str) -> Vec<(String, String)> {
    vec![(name.to_owned(), value.to_owned())]
}

async fn count(app: &TestApp) -> usize {
    let cfg = app
        .registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == SLUG)
        .unwrap()
        .config
        .clone();
    app.state.privacy.breaches(&cfg).await.unwrap().len()
}

#[tokio::test]
async fn a_breach_is_recorded_reported_within_72_hours_and_closed_once_decided() {
    let app = spawn_app().await;
    let officer = officer(&app, "dpo@harrow.example").await;

    // Missing fields, an unknown kind of data, a time in the future: nothing is recorded.
    let mut bad = breach(&app, "likely", 2);
    bad.retain(|(k, _)| k != "summary" && k != "categories");
    let res = record(&officer, &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("href=\"#summary\"") && page.contains("href=\"#categories\""));
    let mut bad = breach(&app, "likely", 2);
    bad.push(("categories".to_owned(), "pupil.records".to_owned()));
    assert_eq!(
        record(&officer, &bad).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bad = breach(&app, "likely", -3);
    assert_eq!(
        record(&officer, &bad).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(count(&app).await, 0);

    let res = record(&officer, &breach(&app, "likely", 2)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/manage/breaches/")
        .to_owned();
    // The officers are told at once, with the deadline.
    let mail = app.outbox(SLUG, "dpo@harrow.example").await;
    let told = mail.last().unwrap();
    assert!(
        told.subject.contains("ICO decision due"),
        "{}",
        told.subject
    );
    assert!(told.body_text.contains(&format!("/manage/breaches/{id}")));
    let list = officer.page(SLUG, "/manage/breaches").await;
    assert!(
        list.contains("Decide by") && list.contains("69 hours left"),
        "{list}"
    );

    // A breach likely to result in a risk cannot go unreported; nor close undecided.
    let res = act(&officer, &id, "not-reported", &text("ico_reason", "Minor")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "ico_report_required");
    let res = act(&officer, &id, "close", &text("close_note", "Contained")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "decision_outstanding");
    // A report time before discovery is refused.
    let mut early = moment("reported", app.clock.now() - Duration::hours(5));
    early.extend(text("ico_reference", "IC-123"));
    let res = act(&officer, &id, "reported", &early).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let mut report = moment("reported", app.clock.now());
    report.extend(text("ico_reference", "IC-456789"));
    let res = act(&officer, &id, "reported", &report).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = act(
        &officer,
        &id,
        "close",
        &text("close_note", "Lists go by link now."),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = officer.page(SLUG, &format!("/manage/breaches/{id}")).await;
    assert!(
        page.contains("Reference IC-456789") && page.contains("Lists go by link now."),
        "{page}"
    );
    // Closed, it changes no more.
    let res = act(&officer, &id, "note", &text("note", "Later")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "breach_closed");
    let audit = app.audit_actions(SLUG).await;
    for action in ["breach.logged", "breach.reported", "breach.closed"] {
        assert!(audit.contains(&action.to_owned()), "{action}");
    }
}

#[tokio::test]
async fn undecided_breaches_are_reminded_daily_and_a_high_risk_needs_the_people_decided() {
    let app = spawn_app().await;
    let officer = officer(&app, "dpo@harrow.example").await;
    let res = record(&officer, &breach(&app, "high", 1)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/manage/breaches/")
        .to_owned();
    // An unlikely one is recorded but never reminded.
    let res = record(&officer, &breach(&app, "unlikely", 1)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let before = app.outbox(SLUG, "dpo@harrow.example").await.len();

    app.clock.advance(Duration::hours(80));
    assert!(server::jobs::daily_jobs(&app.state, "test").await);
    let mail = app.outbox(SLUG, "dpo@harrow.example").await;
    assert_eq!(mail.len(), before + 1);
    let reminder = mail.last().unwrap();
    assert!(
        reminder.body_text.contains("the ICO's 72 hours ended") && reminder.body_text.contains(&id),
        "{}",
        reminder.body_text
    );
    let list = officer.page(SLUG, "/manage/breaches").await;
    assert!(list.contains("Overdue"), "{list}");

    let mut report = moment("reported", app.clock.now());
    report.extend(text("ico_reference", "IC-1"));
    assert_eq!(
        act(&officer, &id, "reported", &report).await.status(),
        StatusCode::SEE_OTHER
    );
    // High risk: the people must be decided on before closing.
    let res = act(&officer, &id, "close", &text("close_note", "Contained")).await;
    assert_eq!(error_code(&res), "decision_outstanding");
    let mut told = moment("told", app.clock.now());
    told.extend(text("people_reason", "Emailed each delegate."));
    assert_eq!(
        act(&officer, &id, "told", &told).await.status(),
        StatusCode::SEE_OTHER
    );
    let res = act(&officer, &id, "close", &text("close_note", "Contained")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A decision not to report, made while the risk looked unlikely, is reopened when the
    // risk is assessed higher: the breach cannot then close unreported.
    let res = record(&officer, &breach(&app, "unlikely", 1)).await;
    let low = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/manage/breaches/")
        .to_owned();
    let res = act(
        &officer,
        &low,
        "not-reported",
        &text("ico_reason", "Encrypted laptop"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mut higher = text("risk", "high");
    higher.extend(text("risk_reason", "The key was on a note in the bag."));
    assert_eq!(
        act(&officer, &low, "assess", &higher).await.status(),
        StatusCode::SEE_OTHER
    );
    let res = act(&officer, &low, "close", &text("close_note", "Done")).await;
    assert_eq!(error_code(&res), "decision_outstanding");
    // Reported after the 72 hours: the history says the report must explain.
    let page = officer.page(SLUG, &format!("/manage/breaches/{id}")).await;
    assert!(page.contains("after the 72 hours"), "{page}");
}

#[tokio::test]
async fn only_this_tenants_privacy_officers_see_the_breach_log() {
    let app = spawn_app().await;
    let officer = officer(&app, "dpo@harrow.example").await;
    let res = record(&officer, &breach(&app, "likely", 1)).await;
    let breach_page = res.headers()["location"].to_str().unwrap().to_owned();
    let admin = app
        .catalogue_manager(SLUG, "admin@harrow.example", None)
        .await;
    let person = app.person(SLUG, "someone@school.example", None).await;
    let other = app
        .role_holder("somerset", "dpo@somerset.example", "privacy-officer", None)
        .await;
    for (who, host) in [(&admin, SLUG), (&person, SLUG), (&other, "somerset")] {
        let paths: &[&str] = if host == SLUG {
            &["/manage/breaches", "/manage/breaches/new", &breach_page]
        } else {
            // Another tenant's officer has a log of their own, without this breach.
            &[&breach_page]
        };
        for path in paths {
            assert_eq!(
                who.get_tenant(host, path).await.status(),
                StatusCode::NOT_FOUND,
                "{host}{path}"
            );
        }
        let res = who
            .submit(
                host,
                "/account",
                &format!("{breach_page}/note"),
                &[("note", "x")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(count(&app).await, 1);
}
