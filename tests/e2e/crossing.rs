//! The crossing test: for every tenant and every retention rule its notice states, a record
//! of the kind the rule covers, made on a known day. The sweep (or the review list) acts on
//! it exactly on the day the notice implies and leaves it alone the day before. A rule with
//! nothing behind it keeps the tenant's notice from being published, naming the rule; and
//! the copies of sent emails every notice mentions go on the stated day.

use chrono::{DateTime, Days, NaiveDate, Utc};
use e2e::{TestApp, spawn_app};
use privacy_engine::domain::executor::{Executor, RecordKind, ReviewKind, executor};
use privacy_engine::domain::retention::HoldKind;
use privacy_engine::store::retention::{self as store, NewHold};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement, Value};
use serde_json::json;
use tenant_router::TenantConfig;
use tenant_router::config::{ProviderKind, RetentionAction, RetentionTrigger};

fn config(slug: &str) -> TenantConfig {
    tenant_router::load::load_dir(&e2e::tenants_dir())
        .unwrap()
        .into_iter()
        .find(|t| t.config.slug.as_str() == slug)
        .unwrap()
        .config
}

pub(crate) async fn exec(app: &TestApp, slug: &str, sql: &str, values: Vec<Value>) {
    let tx = app.store.system_tx(&slug.parse().unwrap()).await.unwrap();
    tx.execute_raw(Statement::from_sql_and_values(
        tx.get_database_backend(),
        sql,
        values,
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

pub(crate) async fn count(app: &TestApp, slug: &str, sql: &str, values: Vec<Value>) -> i64 {
    let tx = app.store.system_tx(&slug.parse().unwrap()).await.unwrap();
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            sql,
            values,
        ))
        .await
        .unwrap()
        .unwrap();
    tx.rollback().await.unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

pub(crate) fn advance_to(app: &TestApp, day: NaiveDate) {
    let today = app.clock.now().date_naive();
    assert!(day >= today, "the clock only moves forward");
    app.clock
        .advance(chrono::Duration::days((day - today).num_days()));
}

pub(crate) async fn hold(app: &TestApp, slug: &str, account: &str) {
    let tx = app.store.system_tx(&slug.parse().unwrap()).await.unwrap();
    store::place_hold(
        &tx,
        app.clock.now(),
        &NewHold {
            account_id: account,
            kind: HoldKind::LegalClaim,
            reason: "keeps the person while their records cross their rule",
            placed_by: "operator",
            until: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// What a fixture is, and how to tell the rule has acted on it.
enum Probe {
    /// The account's status becomes this (`deleted`: the account is gone).
    Account { id: String, becomes: &'static str },
    /// No row of `table` has `column` = `value` any more.
    Gone {
        table: &'static str,
        column: &'static str,
        value: String,
    },
    /// A review of the record is open.
    Reviewed { kind: ReviewKind, id: String },
}

async fn acted(app: &TestApp, slug: &str, probe: &Probe) -> bool {
    match probe {
        Probe::Account { id, becomes } => {
            let status = status_of(app, slug, id).await;
            status.as_deref().unwrap_or("deleted") == *becomes
        }
        Probe::Gone {
            table,
            column,
            value,
        } => {
            count(
                app,
                slug,
                &format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"),
                vec![value.clone().into()],
            )
            .await
                == 0
        }
        Probe::Reviewed { kind, id } => {
            count(
                app,
                slug,
                "SELECT COUNT(*) FROM retention_review WHERE record_kind = $1 AND record_id = $2 \
                 AND status = 'open'",
                vec![kind.as_str().into(), id.clone().into()],
            )
            .await
                == 1
        }
    }
}

/// The account's status, `None` once it is deleted.
pub(crate) async fn status_of(app: &TestApp, slug: &str, id: &str) -> Option<String> {
    let tx = app.store.system_tx(&slug.parse().unwrap()).await.unwrap();
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            "SELECT status FROM account WHERE id = $1",
            [id.into()],
        ))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    row.map(|r| r.try_get_by_index::<String>(0).unwrap())
}

pub(crate) async fn sweep(app: &TestApp, slug: &str) {
    crate::retention::sweep(app, slug).await;
}

/// A person booked on a session held `days` from now; returns (account id, booking id,
/// order id, the session's day).
async fn booked(
    app: &TestApp,
    slug: &str,
    cfg: &TenantConfig,
) -> (String, String, String, NaiveDate) {
    let admin = app
        .catalogue_manager(slug, &format!("admin@{slug}.example"), None)
        .await;
    let provider = cfg
        .providers
        .iter()
        .find(|p| p.kind != ProviderKind::Services)
        .unwrap();
    let (_, session) =
        crate::bookings::course_with_session(app, &admin, slug, &provider.id, 5, 1).await;
    let person = app.person(slug, "booked@school.example", None).await;
    let mut body = json!({"items": [{"session_id": session}]});
    body["expected_total_pence"] = json!(7500);
    let res = crate::bookings::checkout(&person, slug, "crossing-order-1", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let order = res.json::<serde_json::Value>().await.unwrap()["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let account = app.account(slug, "booked@school.example").await.unwrap().id;
    let booking = first(
        app,
        slug,
        "SELECT id FROM booking WHERE order_id = $1",
        &order,
    )
    .await;
    let day = Utc::now().date_naive() + chrono::Duration::days(1);
    (account, booking, order, day)
}

pub(crate) async fn first(app: &TestApp, slug: &str, sql: &str, arg: &str) -> String {
    let tx = app.store.system_tx(&slug.parse().unwrap()).await.unwrap();
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            tx.get_database_backend(),
            sql,
            [arg.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    tx.rollback().await.unwrap();
    row.try_get_by_index::<String>(0).unwrap()
}

/// Makes the record rule `i` covers, and says on which day its clock starts. Returns the
/// probe, the trigger day, and whether the rule's clock has not started until `start`
/// runs (leaving an organisation).
async fn fixture(
    app: &TestApp,
    slug: &str,
    cfg: &TenantConfig,
    i: usize,
    e: Executor,
) -> (Probe, NaiveDate) {
    let rule = &cfg.retention[i];
    let now: DateTime<Utc> = app.clock.now();
    let today = now.date_naive();
    match e {
        Executor::Accounts if rule.trigger == RetentionTrigger::Inactivity => {
            app.person(slug, "idle@school.example", None).await;
            let id = app.account(slug, "idle@school.example").await.unwrap().id;
            let becomes = if rule.action == RetentionAction::Delete {
                "deleted"
            } else {
                "dormant"
            };
            (Probe::Account { id, becomes }, today)
        }
        Executor::Accounts => {
            // Leaving: the person leaves today, after a sweep that must not touch them.
            let (_, org) = crate::organisations::admin_with_org(app, slug, "Crossing School").await;
            app.person(slug, "leaver@school.example", Some(&org)).await;
            let id = app.account(slug, "leaver@school.example").await.unwrap().id;
            sweep(app, slug).await;
            assert_eq!(
                status_of(app, slug, &id).await.as_deref(),
                Some("active"),
                "{slug} rule {i}: acted before the person left"
            );
            exec(
                app,
                slug,
                "UPDATE membership SET status = 'left', updated_at = $1 WHERE account_id = $2",
                vec![now.into(), id.clone().into()],
            )
            .await;
            (
                Probe::Account {
                    id,
                    becomes: "deactivated",
                },
                today,
            )
        }
        Executor::WithAccount => {
            app.person(slug, "cpd@school.example", None).await;
            let id = app.account(slug, "cpd@school.example").await.unwrap().id;
            exec(
                app,
                slug,
                "INSERT INTO cpd_record (tenant_id, id, account_id, booking_id, course_id, \
                 title, minutes, completed_on, created_at) \
                 VALUES ($1, 'cpd-crossing', $2, 'external', 'external', 'Reading', 60, $3, $4)",
                vec![slug.into(), id.into(), today.into(), now.into()],
            )
            .await;
            (
                Probe::Gone {
                    table: "cpd_record",
                    column: "id",
                    value: "cpd-crossing".to_owned(),
                },
                today,
            )
        }
        Executor::Sweep(RecordKind::Bookings) => {
            let (account, _, _, day) = booked(app, slug, cfg).await;
            hold(app, slug, &account).await;
            (
                Probe::Gone {
                    table: "booking",
                    column: "account_id",
                    value: account,
                },
                day,
            )
        }
        Executor::Sweep(RecordKind::Orders) => {
            let (account, _, order, day) = booked(app, slug, cfg).await;
            hold(app, slug, &account).await;
            (
                Probe::Gone {
                    table: "booking_order",
                    column: "id",
                    value: order,
                },
                day,
            )
        }
        Executor::Sweep(RecordKind::ServiceOrders) => {
            // A service bought under a contract that ends today.
            app.person(slug, "buyer@school.example", None).await;
            let id = app.account(slug, "buyer@school.example").await.unwrap().id;
            exec(
                app,
                slug,
                "INSERT INTO booking_order (tenant_id, id, number, account_id, organisation_id, \
                 total_pence, idempotency_key, request_hash, created_at) \
                 VALUES ($1, 'order-crossing', 'X-1', $2, NULL, 1000, 'crossing', 'h', $3)",
                vec![slug.into(), id.clone().into(), now.into()],
            )
            .await;
            exec(
                app,
                slug,
                "INSERT INTO service_purchase (tenant_id, id, order_id, service_id, \
                 organisation_id, account_id, band, price_pence, period_start, period_end, \
                 status, created_at) VALUES ($1, 'purchase-crossing', 'order-crossing', \
                 'ssl', 'org', $2, 'Standard', 1000, $3, $4, 'active', $5)",
                vec![
                    slug.into(),
                    id.into(),
                    (today - chrono::Duration::days(365)).into(),
                    today.into(),
                    now.into(),
                ],
            )
            .await;
            (
                Probe::Gone {
                    table: "service_purchase",
                    column: "id",
                    value: "purchase-crossing".to_owned(),
                },
                today,
            )
        }
        Executor::Sweep(RecordKind::TransactionLog) => {
            app.person(slug, "logged@school.example", None).await;
            let id = app.account(slug, "logged@school.example").await.unwrap().id;
            exec(
                app,
                slug,
                "INSERT INTO transaction_log (tenant_id, id, account_id, organisation_id, \
                 action, subject, detail, occurred_at) \
                 VALUES ($1, 'log-crossing', $2, NULL, 'basket.added', 'item', '{}', $3)",
                vec![slug.into(), id.into(), now.into()],
            )
            .await;
            (
                Probe::Gone {
                    table: "transaction_log",
                    column: "id",
                    value: "log-crossing".to_owned(),
                },
                today,
            )
        }
        Executor::Sweep(RecordKind::PageViews) => {
            // A visitor who agreed to analytics opens the home page.
            let b = app.new_browser();
            let res = b
                .submit(slug, "/cookies", "/cookies", &[("analytics", "yes")])
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            b.page(slug, "/").await;
            (
                Probe::Gone {
                    table: "page_view",
                    column: "path",
                    value: "/".to_owned(),
                },
                today,
            )
        }
        Executor::Review(ReviewKind::Accounts) => {
            app.person(slug, "reviewed@school.example", None).await;
            let id = app
                .account(slug, "reviewed@school.example")
                .await
                .unwrap()
                .id;
            (
                Probe::Reviewed {
                    kind: ReviewKind::Accounts,
                    id,
                },
                today,
            )
        }
        Executor::Review(ReviewKind::InductionRecords) => {
            app.person(slug, "ect@school.example", None).await;
            let id = app.account(slug, "ect@school.example").await.unwrap().id;
            hold(app, slug, &id).await;
            exec(
                app,
                slug,
                "INSERT INTO induction_record (tenant_id, account_id, trn, \
                 qualification_institution, key_stage, year_group, start_date, date_of_birth, \
                 updated_at) VALUES ($1, $2, '1234567', 'A university', 'KS2', NULL, $3, $4, $5)",
                vec![
                    slug.into(),
                    id.clone().into(),
                    today.into(),
                    NaiveDate::from_ymd_opt(1995, 1, 1).unwrap().into(),
                    now.into(),
                ],
            )
            .await;
            (
                Probe::Reviewed {
                    kind: ReviewKind::InductionRecords,
                    id,
                },
                today,
            )
        }
    }
}

/// Rule `i` of `slug`: its record is left alone the day before the day the notice implies,
/// and acted on that day.
async fn cross(slug: &str, cfg: &TenantConfig, i: usize, e: Executor) {
    let app = spawn_app().await;
    let rule = &cfg.retention[i];
    let (probe, trigger) = fixture(&app, slug, cfg, i, e).await;
    let mut due = rule.after.unwrap().after(trigger).unwrap();
    if rule.trigger == RetentionTrigger::ContractEnded {
        due = due.checked_add_days(Days::new(1)).unwrap();
    }
    let today = app.clock.now().date_naive();
    if due > today {
        advance_to(&app, due.pred_opt().unwrap());
        sweep(&app, slug).await;
        assert!(
            !acted(&app, slug, &probe).await,
            "{slug} rule {i} ({}) acted the day before {due}",
            rule.category
        );
    }
    advance_to(&app, due);
    sweep(&app, slug).await;
    assert!(
        acted(&app, slug, &probe).await,
        "{slug} rule {i} ({}) did not act on {due}",
        rule.category
    );
}

async fn every_rule_of(slug: &str) {
    let cfg = config(slug);
    for i in 0..cfg.retention.len() {
        match executor(&cfg.retention, i) {
            Ok(e) => cross(slug, &cfg, i, e).await,
            Err(_) => {
                // Nothing applies it: the notice is not published, and says why.
                let app = spawn_app().await;
                let json = app.get_json(slug, "/privacy.json").await;
                assert_eq!(json["status"], "provisional", "{slug} rule {i}");
                let missing = json["missing"].to_string();
                assert!(
                    missing.contains("retention_applied")
                        && missing.contains(&cfg.retention[i].category),
                    "{slug} rule {i}: {missing}"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_somerset_rule_acts_on_the_day_its_notice_implies() {
    every_rule_of("somerset").await;
}

#[tokio::test]
async fn every_harrow_rule_acts_on_the_day_its_notice_implies() {
    every_rule_of("harrow").await;
}

#[tokio::test]
async fn every_havering_rule_acts_on_the_day_its_notice_implies() {
    every_rule_of("havering").await;
}

#[tokio::test]
async fn every_segfl_rule_acts_on_the_day_its_notice_implies() {
    every_rule_of("segfl").await;
}

#[tokio::test]
async fn every_stockport_rule_acts_on_the_day_its_notice_implies() {
    every_rule_of("stockport").await;
}

/// Copies of sent emails are kept for the period every notice states, then deleted.
#[tokio::test]
async fn copies_of_sent_emails_go_on_the_day_the_notice_states() {
    let app = spawn_app().await;
    let slug = "havering";
    let notice = app.get_json(slug, "/privacy.json").await;
    let kept = notice["notice"]["sent_mail"].as_str().unwrap().to_owned();
    assert_eq!(kept, "30 days");
    app.person(slug, "mail@school.example", None).await;
    let now = app.clock.now();
    exec(
        &app,
        slug,
        "UPDATE outbox_email SET sent_at = $1",
        vec![now.into()],
    )
    .await;
    let sent = || count(&app, slug, "SELECT COUNT(*) FROM outbox_email", vec![]);
    let before = sent().await;
    assert!(before > 0);
    let tenant: tenant_router::TenantId = slug.parse().unwrap();
    advance_to(&app, now.date_naive() + chrono::Duration::days(29));
    app.state.privacy.dispose_sent_mail(&tenant).await.unwrap();
    assert_eq!(sent().await, before);
    advance_to(&app, now.date_naive() + chrono::Duration::days(30));
    let n = app.state.privacy.dispose_sent_mail(&tenant).await.unwrap();
    assert_eq!(n as i64, before);
    assert_eq!(sent().await, 0);
    assert_eq!(
        count(
            &app,
            slug,
            "SELECT COUNT(*) FROM disposal_record WHERE record_kind = 'outbox_email'",
            vec![]
        )
        .await,
        1
    );
}
