//! Retention, clock-driven: accounts and records of known ages, the sweep run on chosen
//! days, and the result checked against what each tenant's notice states. Also holds,
//! warnings, reopening by signing in, pseudonymised purchases and a sweep stopped half-way.

use std::ops::ControlFlow;

use chrono::{Days, Months, NaiveDate};
use e2e::{PASSWORD, TestApp, spawn_app};
use privacy_engine::domain::retention::HoldKind;
use privacy_engine::store::retention::{self as store, NewHold};
use privacy_engine::sweep::{Mode, Report};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

/// Runs (or plans) the sweep for one tenant at the app's clock, `page` accounts at a time,
/// stopping after `stop_after` pages when given.
async fn sweep_with(
    app: &TestApp,
    slug: &str,
    mode: Mode,
    page: u64,
    stop_after: Option<usize>,
) -> Report {
    let tenants = tenant_router::load::load_dir(&e2e::tenants_dir()).unwrap();
    let cfg = &tenants
        .iter()
        .find(|t| t.config.slug.as_str() == slug)
        .unwrap()
        .config;
    let sweep = app.state.privacy.clone().with_page(page);
    let mut pages = 0;
    sweep
        .sweep(
            &cfg.slug,
            cfg,
            sweep.today(),
            mode,
            &format!("http://{slug}.localhost"),
            &mut |_| {
                pages += 1;
                if stop_after.is_some_and(|n| pages >= n) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .await
        .unwrap()
}

pub(crate) async fn sweep(app: &TestApp, slug: &str) -> Report {
    sweep_with(app, slug, Mode::Run, 500, None).await
}

/// Moves the app's clock forward to `day` (same time of day).
fn advance_to(app: &TestApp, day: NaiveDate) {
    let today = app.clock.now().date_naive();
    assert!(day >= today, "the clock only moves forward");
    app.clock
        .advance(chrono::Duration::days((day - today).num_days()));
}

fn years(day: NaiveDate, n: u32) -> NaiveDate {
    day.checked_add_months(Months::new(12 * n)).unwrap()
}

fn days_before(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(n)).unwrap()
}

/// `active`, `dormant`, `deactivated` or `deleted`.
async fn state(app: &TestApp, slug: &str, email: &str) -> String {
    app.account(slug, email)
        .await
        .map_or_else(|| "deleted".to_owned(), |a| a.status)
}

async fn query_strings(app: &TestApp, slug: &str, sql: &str) -> Vec<String> {
    let db = app.store.clone();
    let tx = db.system_tx(&slug.parse().unwrap()).await.unwrap();
    let rows = tx
        .query_all_raw(Statement::from_string(tx.get_database_backend(), sql))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    rows.into_iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

async fn place_hold(
    app: &TestApp,
    slug: &str,
    email: &str,
    kind: HoldKind,
    until: Option<NaiveDate>,
) -> String {
    let account = app.account(slug, email).await.unwrap();
    let db = app.store.clone();
    let tx = db.system_tx(&slug.parse().unwrap()).await.unwrap();
    let id = store::place_hold(
        &tx,
        app.clock.now(),
        &NewHold {
            account_id: &account.id,
            kind,
            reason: "test",
            placed_by: "operator",
            until: until.map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc()),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// The retention sentences a tenant's notice gives for its account categories.
async fn account_notice(app: &TestApp, slug: &str) -> String {
    let json = app.get_json(slug, "/privacy.json").await;
    json["notice"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "account.profile")
        .unwrap()["retention"]
        .to_string()
}

/// One account per tenant, made on the same day and never used again, watched across ten
/// years: each is switched off and deleted on exactly the day its tenant's notice states,
/// not a day before; Stockport's (applied by review) is put in front of an administrator.
#[tokio::test]
async fn every_tenant_deactivates_and_deletes_on_the_days_its_notice_states() {
    let app = spawn_app().await;
    // (tenant, years to switch off, years to delete), as each notice states them.
    let expected: [(&str, Option<u32>, Option<u32>); 5] = [
        ("somerset", Some(2), Some(4)),
        ("harrow", None, Some(5)),
        ("havering", None, Some(5)),
        ("segfl", None, Some(1)),
        ("stockport", None, None),
    ];
    for (slug, off, delete) in expected {
        let notice = account_notice(&app, slug).await;
        if let Some(y) = off {
            assert!(
                notice.contains(&format!(
                    "Switched off {y} years after your account was last active"
                )),
                "{slug}: {notice}"
            );
        }
        match delete {
            Some(1) => assert!(
                notice.contains("Deleted 1 year after your account was last active"),
                "{slug}: {notice}"
            ),
            Some(y) => assert!(
                notice.contains(&format!(
                    "Deleted {y} years after your account was last active"
                )),
                "{slug}: {notice}"
            ),
            None => assert!(!notice.contains("Deleted"), "{slug}: {notice}"),
        }
        app.person(slug, &format!("kept@{slug}.example"), None)
            .await;
    }
    let start = app.clock.now().date_naive();
    let mut checkpoints: Vec<NaiveDate> = vec![years(start, 10)];
    for (_, off, delete) in expected {
        for y in [off, delete].into_iter().flatten() {
            checkpoints.push(days_before(years(start, y), 1));
            checkpoints.push(years(start, y));
        }
    }
    checkpoints.sort();
    checkpoints.dedup();
    for day in checkpoints {
        advance_to(&app, day);
        for (slug, off, delete) in expected {
            let report = sweep(&app, slug).await;
            let want = match (off, delete) {
                (_, Some(y)) if day >= years(start, y) => "deleted",
                (Some(y), _) if day >= years(start, y) => "dormant",
                _ => "active",
            };
            assert_eq!(
                state(&app, slug, &format!("kept@{slug}.example")).await,
                want,
                "{slug} on {day}: {report:?}"
            );
        }
    }
    // Stockport's account rule puts the account up for review (once), and its plan says
    // why nothing applies the rule for casework records the portal does not hold.
    let reviews = query_strings(
        &app,
        "stockport",
        "SELECT record_kind FROM retention_review",
    )
    .await;
    assert_eq!(reviews, ["account"]);
    let plan = sweep_with(&app, "stockport", Mode::Plan, 500, None).await;
    assert!(plan.rules.iter().any(|r| {
        r.not_acted
            .is_some_and(|w| w.contains("holds no records of this kind"))
    }));
}

/// Somerset: a warning a month ahead (once), signing in keeps the account, a dormant
/// account reopens when its owner signs in, a hold blocks deletion until released, and
/// deletion keeps purchase records with the person pseudonymised.
#[tokio::test]
async fn warnings_sign_ins_and_holds_change_what_the_sweep_does() {
    let app = spawn_app().await;
    let slug = "somerset";
    let admin = app
        .catalogue_manager(slug, "admin@somerset.example", None)
        .await;
    let start = app.clock.now().date_naive();
    for who in ["ann", "bob", "cat", "dan"] {
        app.person(slug, &format!("{who}@school.example"), None)
            .await;
    }
    // Cat books a course (delivered within the month), so she has purchase records.
    let (_, session) =
        crate::bookings::course_with_session(&app, &admin, slug, "somerset-sse", 5, 20).await;
    let cat = app.new_browser();
    assert_eq!(
        cat.sign_in(slug, "cat@school.example", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let mut body = json!({"items": [{"session_id": session}]});
    body["expected_total_pence"] = json!(7500);
    let res = crate::bookings::checkout(&cat, slug, "cat-order-0001", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Three weeks before the two years are up: warned once, nothing switched off.
    let off_day = years(start, 2);
    advance_to(&app, days_before(off_day, 21));
    let plan = sweep_with(&app, slug, Mode::Plan, 500, None).await;
    assert_eq!(plan.warned, 5, "{plan:?}");
    assert!(
        app.outbox(slug, "ann@school.example")
            .await
            .iter()
            .all(|m| !m.subject.contains("switched off"))
    );
    let report = sweep(&app, slug).await;
    assert_eq!(report.warned, 5);
    let mail = app.outbox(slug, "ann@school.example").await;
    let warning = mail.last().unwrap();
    assert!(
        warning.subject.contains("will be switched off on"),
        "{}",
        warning.subject
    );
    assert!(
        warning.body_text.contains("sign in before then"),
        "{}",
        warning.body_text
    );
    assert_eq!(
        sweep(&app, slug).await.warned,
        0,
        "each warning is sent once"
    );

    // Bob signs in: his clock starts again.
    assert_eq!(
        app.new_browser()
            .sign_in(slug, "bob@school.example", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    advance_to(&app, off_day);
    let report = sweep(&app, slug).await;
    assert_eq!(report.rules[0].count, 4, "{report:?}");
    assert_eq!(state(&app, slug, "ann@school.example").await, "dormant");
    assert_eq!(state(&app, slug, "bob@school.example").await, "active");
    // Ann signs in again: the account reopens, and the reopening is audited.
    assert_eq!(
        app.new_browser()
            .sign_in(slug, "ann@school.example", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(state(&app, slug, "ann@school.example").await, "active");
    assert!(
        app.audit_actions(slug)
            .await
            .contains(&"account.reactivated".to_owned())
    );

    // Four years on, Cat and Dan are due for deletion; Dan is held by a legal claim.
    let hold = place_hold(&app, slug, "dan@school.example", HoldKind::LegalClaim, None).await;
    advance_to(&app, years(start, 4));
    let cat_id = app.account(slug, "cat@school.example").await.unwrap().id;
    let report = sweep(&app, slug).await;
    // Cat and the admin (who has not signed in since the start) are deleted.
    assert_eq!(report.rules[2].count, 2, "{report:?}");
    assert_eq!(report.rules[2].held.get("legal_claim"), Some(&1));
    assert_eq!(state(&app, slug, "cat@school.example").await, "deleted");
    assert_eq!(state(&app, slug, "dan@school.example").await, "dormant");
    // Everything about Cat is gone but her purchase and booking records, kept under a
    // pseudonym; the disposal record says so.
    for table in [
        "membership",
        "account_token",
        "waiting_list_entry",
        "retention_warning",
    ] {
        let left = query_strings(
            &app,
            slug,
            &format!("SELECT tenant_id FROM {table} WHERE account_id = '{cat_id}'"),
        )
        .await;
        assert!(left.is_empty(), "{table} still names the deleted account");
    }
    assert!(app.outbox(slug, "cat@school.example").await.is_empty());
    let orders = query_strings(&app, slug, "SELECT account_id FROM booking_order").await;
    assert_eq!(orders.len(), 1);
    assert!(orders[0].starts_with("pseudonym:"), "{orders:?}");
    let booked = query_strings(&app, slug, "SELECT account_id FROM booking").await;
    assert_eq!(
        booked, orders,
        "one pseudonym per person across their records"
    );
    let remaining = query_strings(&app, slug, &format!("SELECT remaining FROM disposal_record WHERE account_ref = '{cat_id}' AND action = 'delete'")).await;
    assert_eq!(remaining.len(), 1);
    assert!(
        remaining[0].contains("booking_order") && remaining[0].contains("purchase.record"),
        "{}",
        remaining[0]
    );

    // Released, the hold no longer protects Dan.
    let db = app.store.clone();
    let tx = db.system_tx(&slug.parse().unwrap()).await.unwrap();
    assert!(
        store::release_hold(&tx, &hold, app.clock.now())
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    sweep(&app, slug).await;
    assert_eq!(state(&app, slug, "dan@school.example").await, "deleted");
    let audit = app.audit_actions(slug).await;
    assert!(audit.contains(&"retention.warned".to_owned()));
    assert!(audit.contains(&"retention.deactivated".to_owned()));
    assert!(audit.contains(&"retention.deleted".to_owned()));
}

/// Harrow: a person who asked to keep their account is held until the extension ends;
/// bookings, part of the training purchases, are kept whole until the purchases go after seven.
#[tokio::test]
async fn harrow_honours_extensions_and_keeps_purchases_seven_years_after_delivery() {
    let app = spawn_app().await;
    let slug = "harrow";
    let admin = app
        .catalogue_manager(slug, "admin@harrow.example", None)
        .await;
    let start = app.clock.now().date_naive();
    let eve = app.person(slug, "eve@school.example", None).await;
    let (_, session) =
        crate::bookings::course_with_session(&app, &admin, slug, "ss4e", 5, 10).await;
    let mut body = json!({"items": [{"session_id": session}]});
    body["expected_total_pence"] = json!(7500);
    assert_eq!(
        crate::bookings::checkout(&eve, slug, "eve-order-0001", &body)
            .await
            .status(),
        StatusCode::CREATED
    );
    place_hold(
        &app,
        slug,
        "eve@school.example",
        HoldKind::UserExtension,
        Some(years(start, 6)),
    )
    .await;

    advance_to(&app, years(start, 5));
    let report = sweep(&app, slug).await;
    assert_eq!(
        report.rules[2].held.get("user_extension"),
        Some(&1),
        "{report:?}"
    );
    assert_eq!(state(&app, slug, "eve@school.example").await, "active");
    advance_to(&app, years(start, 6));
    sweep(&app, slug).await;
    assert_eq!(state(&app, slug, "eve@school.example").await, "deleted");
    assert_eq!(
        query_strings(&app, slug, "SELECT id FROM booking_order")
            .await
            .len(),
        1
    );

    // Delivered 10 days after the start: the booking is part of the training purchase,
    // kept whole for seven years; then the order, its bookings and its log entries go.
    let delivered = start.checked_add_days(Days::new(10)).unwrap();
    advance_to(&app, days_before(years(delivered, 7), 1));
    let report = sweep(&app, slug).await;
    assert_eq!((report.rules[0].count, report.rules[3].count), (0, 0));
    assert_eq!(
        query_strings(&app, slug, "SELECT id FROM booking")
            .await
            .len(),
        1
    );
    advance_to(&app, years(delivered, 7));
    let report = sweep(&app, slug).await;
    assert_eq!(report.rules[0].count, 1, "{report:?}");
    for table in ["booking_order", "booking", "transaction_log"] {
        assert!(
            query_strings(&app, slug, &format!("SELECT tenant_id FROM {table}"))
                .await
                .is_empty(),
            "{table}"
        );
    }
    let kinds = query_strings(
        &app,
        slug,
        "SELECT record_kind FROM disposal_record ORDER BY id",
    )
    .await;
    // The admin (unused since the start) and Eve, then the purchase.
    assert_eq!(kinds, ["account", "account", "purchase"]);
}

/// A sweep stopped after its first page, then run again, ends where one uninterrupted run
/// would, with every account's deletion recorded and audited exactly once.
#[tokio::test]
async fn a_sweep_stopped_half_way_finishes_on_the_next_run_with_each_action_recorded_once() {
    let app = spawn_app().await;
    let slug = "segfl";
    let mut ids = Vec::new();
    for i in 0..7 {
        let email = format!("p{i}@school.example");
        app.person(slug, &email, None).await;
        ids.push(app.account(slug, &email).await.unwrap().id);
    }
    advance_to(&app, years(app.clock.now().date_naive(), 1));
    let first = sweep_with(&app, slug, Mode::Run, 2, Some(1)).await;
    assert!(first.stopped);
    assert_eq!(first.rules[0].count, 2);
    let second = sweep_with(&app, slug, Mode::Run, 2, None).await;
    assert!(!second.stopped);
    assert_eq!(second.rules[0].count, 5);
    assert_eq!(
        sweep(&app, slug).await.rules[0].count,
        0,
        "nothing left to do"
    );
    for i in 0..7 {
        assert_eq!(
            state(&app, slug, &format!("p{i}@school.example")).await,
            "deleted"
        );
    }
    let mut recorded = query_strings(
        &app,
        slug,
        "SELECT account_ref FROM disposal_record WHERE action = 'delete'",
    )
    .await;
    recorded.sort();
    ids.sort();
    assert_eq!(recorded, ids);
    // Each audit event lists the accounts of one page; together, each account once.
    let db = app.store.clone();
    let tx = db.tenant_tx(&slug.parse().unwrap()).await.unwrap();
    let events = storage::audit::list(&tx).await.unwrap();
    tx.rollback().await.unwrap();
    let mut audited: Vec<String> = events
        .iter()
        .filter(|e| e.action == "retention.deleted")
        .flat_map(|e| {
            let d: serde_json::Value = serde_json::from_str(&e.detail).unwrap();
            d["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    audited.sort();
    assert_eq!(audited, ids);
}
