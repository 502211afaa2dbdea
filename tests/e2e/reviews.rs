//! Retention by review: a record reaching a review rule is listed for the privacy officers
//! (who are emailed), kept with a reason for a while (and listed again after) or deleted,
//! each decision a disposal record and an audit event. Bad decisions, decided reviews,
//! other tenants' reviews and people without the role change nothing.

use chrono::{Datelike as _, NaiveDate};
use e2e::{Browser, TestApp, error_code, spawn_app};
use privacy_engine::domain::retention::HoldKind;
use reqwest::StatusCode;
use sea_orm::Value;

use crate::crossing::{advance_to, count, exec, first, hold, status_of, sweep};

/// A privacy officer signed in now (sessions do not outlive the years the clock moves).
async fn officer(app: &TestApp, slug: &str, n: u32) -> Browser {
    app.role_holder(
        slug,
        &format!("dpo{n}@{slug}.example"),
        "privacy-officer",
        None,
    )
    .await
}

fn years(day: NaiveDate, n: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year() + n, day.month(), day.day()).unwrap()
}

/// The open review of `record`, by its id.
async fn open_review(app: &TestApp, slug: &str, record: &str) -> Option<String> {
    let n = count(
        app,
        slug,
        "SELECT COUNT(*) FROM retention_review WHERE record_id = $1 AND status = 'open'",
        vec![record.into()],
    )
    .await;
    if n == 0 {
        return None;
    }
    Some(
        first(
            app,
            slug,
            "SELECT id FROM retention_review WHERE record_id = $1 AND status = 'open'",
            record,
        )
        .await,
    )
}

async fn decide(b: &Browser, slug: &str, id: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let path = format!("/manage/retention/reviews/{id}");
    b.submit(slug, &path, &path, fields).await
}

/// An early-career teacher's induction record at Somerset, kept by a hold on the person.
async fn induction_record(app: &TestApp) -> String {
    let slug = "somerset";
    app.person(slug, "ect@school.example", None).await;
    let id = app.account(slug, "ect@school.example").await.unwrap().id;
    hold(app, slug, &id).await;
    let now = app.clock.now();
    exec(
        app,
        slug,
        "INSERT INTO induction_record (tenant_id, account_id, trn, qualification_institution, \
         key_stage, year_group, start_date, date_of_birth, updated_at, created_at) \
         VALUES ($1, $2, '1234567', 'A university', 'KS2', NULL, $3, $4, $5, $5)",
        vec![
            slug.into(),
            id.clone().into(),
            now.date_naive().into(),
            NaiveDate::from_ymd_opt(1995, 1, 1).unwrap().into(),
            now.into(),
        ],
    )
    .await;
    id
}

#[tokio::test]
async fn an_induction_record_is_reviewed_kept_with_a_reason_reviewed_again_and_deleted() {
    let app = spawn_app().await;
    let slug = "somerset";
    let record = induction_record(&app).await;
    let start = app.clock.now().date_naive();
    // An edit three years on does not put off the review: it counts from the making.
    advance_to(&app, years(start, 3));
    exec(
        &app,
        slug,
        "UPDATE induction_record SET updated_at = $1 WHERE account_id = $2",
        vec![app.clock.now().into(), record.clone().into()],
    )
    .await;
    // Six years after it was recorded it comes up for review, and the officers are told.
    advance_to(&app, years(start, 6));
    let dpo = officer(&app, slug, 1).await;
    sweep(&app, slug).await;
    let list = dpo.page(slug, "/manage/retention/reviews").await;
    assert!(
        list.contains("The induction record of ect@school.example"),
        "{list}"
    );
    assert!(
        app.outbox(slug, "dpo1@somerset.example")
            .await
            .iter()
            .any(|m| m.subject.contains("due for a retention review"))
    );
    let id = open_review(&app, slug, &record).await.unwrap();
    assert!(list.contains(&format!("/manage/retention/reviews/{id}")));
    // A second sweep opens no second review.
    sweep(&app, slug).await;
    assert_eq!(
        count(&app, slug, "SELECT COUNT(*) FROM retention_review", vec![]).await,
        1
    );

    // Bad decisions: each a 422 that names the problem, and the review stays open.
    for (fields, needle) in [
        (vec![], "Choose whether to keep the record or delete it"),
        (
            vec![
                ("decision", "keep"),
                ("keep_count", "1"),
                ("keep_unit", "y"),
            ],
            "Say why the record is still needed",
        ),
        (
            vec![
                ("decision", "keep"),
                ("reason", "Appeal"),
                ("keep_count", "0"),
                ("keep_unit", "y"),
            ],
            "at least a day and at most 10 years",
        ),
        (
            vec![
                ("decision", "keep"),
                ("reason", "Appeal"),
                ("keep_count", "11"),
                ("keep_unit", "y"),
            ],
            "at least a day and at most 10 years",
        ),
        (
            vec![
                ("decision", "keep"),
                ("reason", "Appeal"),
                ("keep_count", "two"),
                ("keep_unit", "y"),
            ],
            "whole number of months or years",
        ),
    ] {
        let res = decide(&dpo, slug, &id, &fields).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains(needle), "{needle}");
    }
    assert!(open_review(&app, slug, &record).await.is_some());

    // Someone without the role, and another tenant's officer, see nothing.
    let person = app.person(slug, "someone@school.example", None).await;
    assert_eq!(
        person
            .get_tenant(slug, &format!("/manage/retention/reviews/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let other = officer(&app, "harrow", 1).await;
    assert_eq!(
        other
            .get_tenant("harrow", &format!("/manage/retention/reviews/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let res = decide(&other, "harrow", &id, &[("decision", "dispose")]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(open_review(&app, slug, &record).await.is_some());

    // Kept for a year with the reason: recorded, and not listed again until the year is up.
    let res = decide(
        &dpo,
        slug,
        &id,
        &[
            ("decision", "keep"),
            ("reason", "An appeal about the induction is open"),
            ("keep_count", "1"),
            ("keep_unit", "y"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = dpo
        .page(slug, &format!("/manage/retention/reviews/{id}"))
        .await;
    assert!(
        page.contains("An appeal about the induction is open"),
        "{page}"
    );
    let res = decide(&dpo, slug, &id, &[("decision", "dispose")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "review_decided");
    assert_eq!(
        count(
            &app,
            slug,
            "SELECT COUNT(*) FROM disposal_record WHERE action = 'keep' AND record_kind = 'induction_record'",
            vec![]
        )
        .await,
        1
    );
    assert!(
        app.audit_actions(slug)
            .await
            .contains(&"retention.review_kept".to_owned())
    );
    let kept_until = years(years(start, 6), 1);
    advance_to(&app, kept_until);
    sweep(&app, slug).await;
    assert!(open_review(&app, slug, &record).await.is_none());
    advance_to(&app, kept_until.succ_opt().unwrap());
    sweep(&app, slug).await;
    let again = open_review(&app, slug, &record).await.unwrap();
    assert_ne!(again, id);
    let dpo = officer(&app, slug, 2).await;

    // Deleted: the record goes, the person (held) stays.
    let res = decide(&dpo, slug, &again, &[("decision", "dispose")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            slug,
            "SELECT COUNT(*) FROM induction_record WHERE account_id = $1",
            vec![record.clone().into()]
        )
        .await,
        0
    );
    assert!(status_of(&app, slug, &record).await.is_some());
    assert_eq!(
        count(
            &app,
            slug,
            "SELECT COUNT(*) FROM disposal_record WHERE action = 'delete' AND record_kind = 'induction_record'",
            vec![]
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_stockport_account_under_review_is_deleted_once_nothing_holds_it() {
    let app = spawn_app().await;
    let slug = "stockport";
    app.person(slug, "caseworker@stockport.example", None).await;
    let id = app
        .account(slug, "caseworker@stockport.example")
        .await
        .unwrap()
        .id;
    let start = app.clock.now().date_naive();
    advance_to(&app, years(start, 2).pred_opt().unwrap());
    sweep(&app, slug).await;
    assert!(open_review(&app, slug, &id).await.is_none());
    advance_to(&app, years(start, 2));
    sweep(&app, slug).await;
    let review = open_review(&app, slug, &id).await.unwrap();
    let dpo = officer(&app, slug, 1).await;
    // A restriction the person asked for stops the deletion; nothing changes.
    let tx = app.store.system_tx(&slug.parse().unwrap()).await.unwrap();
    let hold_id = privacy_engine::store::retention::place_hold(
        &tx,
        app.clock.now(),
        &privacy_engine::store::retention::NewHold {
            account_id: &id,
            kind: HoldKind::Restriction,
            reason: "the person restricted the use of their data",
            placed_by: "operator",
            until: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let res = decide(&dpo, slug, &review, &[("decision", "dispose")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "erasure_deferred");
    assert_eq!(status_of(&app, slug, &id).await.as_deref(), Some("active"));
    assert!(open_review(&app, slug, &id).await.is_some());
    exec(
        &app,
        slug,
        "DELETE FROM retention_hold WHERE id = $1",
        vec![Value::from(hold_id)],
    )
    .await;
    let res = decide(&dpo, slug, &review, &[("decision", "dispose")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        "/manage/retention/reviews?decided=1"
    );
    assert!(status_of(&app, slug, &id).await.is_none());
    // The account took its reviews with it; the disposal record is what remains.
    let page = dpo.page(slug, "/manage/retention/reviews?decided=1").await;
    assert!(page.contains("The decision was recorded."), "{page}");
    assert!(!page.contains("caseworker@stockport.example"), "{page}");
    assert_eq!(
        dpo.get_tenant(slug, &format!("/manage/retention/reviews/{review}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        count(
            &app,
            slug,
            "SELECT COUNT(*) FROM disposal_record WHERE action = 'delete' AND record_kind = 'account'",
            vec![]
        )
        .await,
        1
    );
}

/// An account used again after it came up for review is not deleted by that review: the
/// officer is told so, nothing changes, and keeping it still works.
#[tokio::test]
async fn an_account_used_since_it_came_up_for_review_is_not_deleted() {
    let app = spawn_app().await;
    let slug = "stockport";
    app.person(slug, "back@stockport.example", None).await;
    let id = app
        .account(slug, "back@stockport.example")
        .await
        .unwrap()
        .id;
    let start = app.clock.now().date_naive();
    advance_to(&app, years(start, 2));
    sweep(&app, slug).await;
    let review = open_review(&app, slug, &id).await.unwrap();
    // The person comes back and signs in.
    let back = app.new_browser();
    let res = back
        .sign_in(slug, "back@stockport.example", e2e::PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let dpo = officer(&app, slug, 1).await;
    let res = decide(&dpo, slug, &review, &[("decision", "dispose")]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(&res), "review_no_longer_due");
    assert_eq!(status_of(&app, slug, &id).await.as_deref(), Some("active"));
    assert!(open_review(&app, slug, &id).await.is_some());
    let res = decide(
        &dpo,
        slug,
        &review,
        &[
            ("decision", "keep"),
            ("reason", "In use again"),
            ("keep_count", "2"),
            ("keep_unit", "y"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(open_review(&app, slug, &id).await.is_none());
}

async fn review_emails(app: &TestApp, to: &str) -> usize {
    app.outbox("stockport", to)
        .await
        .iter()
        .filter(|m| m.subject.contains("due for a retention review"))
        .count()
}

/// Reviews a sweep opened but never announced (it stopped first) are announced by the next
/// sweep, once.
#[tokio::test]
async fn reviews_a_stopped_sweep_left_unannounced_are_announced_by_the_next() {
    let app = spawn_app().await;
    let slug = "stockport";
    app.person(slug, "caseworker@stockport.example", None).await;
    let start = app.clock.now().date_naive();
    advance_to(&app, years(start, 2));
    officer(&app, slug, 1).await;
    let to = "dpo1@stockport.example";
    sweep(&app, slug).await;
    assert_eq!(review_emails(&app, to).await, 1);
    // As if the sweep had stopped after opening the review, before telling anyone.
    exec(
        &app,
        slug,
        "UPDATE review_announcement SET sent_at = NULL",
        vec![],
    )
    .await;
    exec(
        &app,
        slug,
        "DELETE FROM outbox_email WHERE subject LIKE '%retention review%'",
        vec![],
    )
    .await;
    assert_eq!(review_emails(&app, to).await, 0);
    sweep(&app, slug).await;
    assert_eq!(review_emails(&app, to).await, 1, "told by the next sweep");
    sweep(&app, slug).await;
    assert_eq!(review_emails(&app, to).await, 1, "and only once");
}

/// A sweep run's announcement that another sweep sent while this one was still paging (a
/// sweep from the command line beside the daily job) is reopened by this one's next page,
/// with that page's reviews alone; a sent announcement is never counted twice.
#[tokio::test]
async fn an_announcement_sent_while_its_sweep_still_pages_is_reopened() {
    use privacy_engine::store::reviews::{announce, note_opened};
    let app = spawn_app().await;
    let now = app.clock.now();
    let tx = app
        .store
        .system_tx(&"stockport".parse().unwrap())
        .await
        .unwrap();
    note_opened(&tx, "run-a", 2, now).await.unwrap();
    note_opened(&tx, "run-a", 3, now).await.unwrap();
    note_opened(&tx, "run-b", 0, now).await.unwrap();
    assert_eq!(announce(&tx, now).await.unwrap(), 5, "both pages of run A");
    assert_eq!(announce(&tx, now).await.unwrap(), 0, "nothing twice");
    // Run A goes on paging after run B announced it.
    note_opened(&tx, "run-a", 4, now).await.unwrap();
    assert_eq!(announce(&tx, now).await.unwrap(), 4, "the later page alone");
    assert_eq!(announce(&tx, now).await.unwrap(), 0);
    tx.rollback().await.unwrap();
}
