//! The retention sweep over 1,000,000 accounts on PostgreSQL, against raw SQL deleting the
//! same rows, in the same run (a ratio, because shared machines are noisy).
//!
//! `DATABASE_URL=postgres://… cargo bench -p server --bench retention` (set
//! `RETENTION_ACCOUNTS` for another total). It makes a schema of its own and, in each of the
//! five launch tenants, one fifth of the accounts, each with a membership and an email
//! token, all last active ten years ago. The sweep then runs for every tenant as the daily
//! job does: it pages through the accounts, decides each by the tenant's rules, and for
//! every deleted person erases every declared table, writes a disposal record and audits
//! each page. Stockport's rules delete nothing (its accounts come to an administrator for
//! review), so its accounts are checked, put on the review list and kept. The baseline
//! reloads the same data, deletes the same rows with one `DELETE` per table per tenant and
//! opens Stockport's reviews with one `INSERT … SELECT`. Target (issue 22): the sweep takes
//! at most twice the baseline's time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ops::ControlFlow;
use std::time::Instant;

use chrono::{Duration, Utc};
use privacy_engine::sweep::Mode;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement};

mod report;
mod support;

fn main() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("set DATABASE_URL=postgres://… : this benchmark measures PostgreSQL");
        std::process::exit(2);
    };
    let total: u64 = std::env::var("RETENTION_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if rt.block_on(run(url, total)) {
        std::process::exit(1);
    }
}

const TENANTS: [&str; 5] = ["harrow", "havering", "segfl", "somerset", "stockport"];

async fn run(url: String, total: u64) -> bool {
    let data = tempfile::tempdir().unwrap();
    let (app, admin, schema) = support::portal_on_fresh_schema(&url, data.path(), None).await;
    let state = app.state().clone();
    let per_tenant = total / 5;

    eprintln!("loading {} accounts…", per_tenant * 5);
    load(&admin, &schema, per_tenant).await;
    let before = count(&admin, &schema).await;
    let sweep = &state.privacy;
    let cpu0 = support::cpu();
    let started = Instant::now();
    let mut deleted = 0;
    for t in state.registry.current().iter() {
        let report = sweep
            .sweep(
                &t.id,
                &t.config,
                sweep.today(),
                Mode::Run,
                "http://bench.localhost",
                &mut |_| ControlFlow::Continue(()),
            )
            .await
            .unwrap();
        deleted += report
            .rules
            .iter()
            .filter(|r| r.unit == "accounts" && r.action == "delete")
            .map(|r| r.count)
            .sum::<u64>();
    }
    let sweep_secs = started.elapsed().as_secs_f64();
    let cpu1 = support::cpu();
    let after_sweep = count(&admin, &schema).await;
    let reviews_after_sweep = reviews(&admin, &schema).await;

    // The baseline: the same data again, the same rows deleted with bare statements.
    admin
        .execute_unprepared(&format!(
            "TRUNCATE {schema}.account, {schema}.account_token, {schema}.membership, \
             {schema}.organisation, {schema}.disposal_record, {schema}.audit_event, {schema}.audit_pending, \
             {schema}.retention_review CASCADE"
        ))
        .await
        .unwrap();
    load(&admin, &schema, per_tenant).await;
    let cpu2 = support::cpu();
    let cutoff = Utc::now() - Duration::days(365);
    let started = Instant::now();
    for slug in TENANTS.iter().filter(|s| **s != "stockport") {
        let tx_sql = format!(
            "BEGIN; SELECT set_config('app.tenant_id', '{slug}', true);
             DELETE FROM {schema}.account_token WHERE tenant_id = '{slug}' AND account_id IN
               (SELECT id FROM {schema}.account WHERE tenant_id = '{slug}' AND last_activity_at < '{cutoff}');
             DELETE FROM {schema}.membership WHERE tenant_id = '{slug}' AND account_id IN
               (SELECT id FROM {schema}.account WHERE tenant_id = '{slug}' AND last_activity_at < '{cutoff}');
             DELETE FROM {schema}.account WHERE tenant_id = '{slug}' AND last_activity_at < '{cutoff}';
             COMMIT;"
        );
        admin.execute_unprepared(&tx_sql).await.unwrap();
    }
    // Stockport's accounts are kept for an administrator's review: one review row each.
    admin
        .execute_unprepared(&format!(
            "BEGIN; SELECT set_config('app.tenant_id', 'stockport', true);
             INSERT INTO {schema}.retention_review (tenant_id, id, rule_index, rule, record_kind,
               record_id, due_on, created_at, status)
             SELECT tenant_id, gen_random_uuid()::text, 0, 'bench', 'account', id, current_date, now(), 'open'
             FROM {schema}.account WHERE tenant_id = 'stockport' AND last_activity_at < '{cutoff}';
             COMMIT;"
        ))
        .await
        .unwrap();
    let baseline_secs = started.elapsed().as_secs_f64();
    let cpu3 = support::cpu();
    let after_baseline = count(&admin, &schema).await;
    let reviews_after_baseline = reviews(&admin, &schema).await;

    support::drop_schema(&admin, &schema).await;

    let ratio = sweep_secs / baseline_secs;
    println!("accounts loaded:            {before}");
    println!("deleted by the sweep:       {deleted} (left {after_sweep})");
    println!("left after the baseline:    {after_baseline}");
    println!(
        "sweep:    {sweep_secs:>8.2} s  ({:.0} accounts/s)",
        before as f64 / sweep_secs
    );
    println!("baseline: {baseline_secs:>8.2} s");
    println!("ratio:    {ratio:>8.2} × the baseline (target ≤ 2)");
    let secs = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / 100.0;
    println!(
        "CPU, sweep:    {:.1} s in this process, {:.1} s in PostgreSQL",
        secs(cpu0.0, cpu1.0),
        secs(cpu0.1, cpu1.1)
    );
    println!(
        "CPU, baseline: {:.1} s in this process, {:.1} s in PostgreSQL",
        secs(cpu2.0, cpu3.0),
        secs(cpu2.1, cpu3.1)
    );
    println!("reviews opened:   sweep {reviews_after_sweep}, baseline {reviews_after_baseline}");
    let same = after_sweep == after_baseline && reviews_after_sweep == reviews_after_baseline;
    if !same {
        eprintln!("FAILED: the sweep and the baseline left different rows");
    }
    report::result(
        &format!("retention sweep, {before} accounts (PostgreSQL)"),
        &format!("{sweep_secs:.1} s against the bare statements' {baseline_secs:.1} s"),
        ratio,
        report::Target::Times(2.0),
        same,
    )
}

/// Accounts left in the schema.
async fn count(conn: &DatabaseConnection, schema: &str) -> i64 {
    rows(conn, schema, "account", &TENANTS).await
}

/// Stockport's retention reviews (the only tenant whose rules open them here).
async fn reviews(conn: &DatabaseConnection, schema: &str) -> i64 {
    rows(conn, schema, "retention_review", &["stockport"]).await
}

/// Rows of `table` of these tenants.
async fn rows(conn: &DatabaseConnection, schema: &str, table: &str, tenants: &[&str]) -> i64 {
    // The owner is subject to forced row-level security; count tenant by tenant.
    let mut n = 0;
    for slug in tenants {
        let row = conn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "WITH s AS (SELECT set_config('app.tenant_id', '{slug}', false)) \
                     SELECT COUNT(*) FROM s, {schema}.{table} WHERE tenant_id = '{slug}'"
                ),
            ))
            .await
            .unwrap()
            .unwrap();
        n += row.try_get_by_index::<i64>(0).unwrap();
    }
    n
}

/// `per_tenant` accounts in each tenant, last active ten years ago, each with a membership
/// of one organisation and a used email token.
async fn load(conn: &DatabaseConnection, schema: &str, per_tenant: u64) {
    let old = Utc::now() - Duration::days(3653);
    for slug in TENANTS {
        conn.execute_unprepared(&format!(
            "BEGIN; SELECT set_config('app.tenant_id', '{slug}', true);
             INSERT INTO {schema}.organisation (tenant_id, id, name, kind, created_at)
               VALUES ('{slug}', 'org-bench', 'Bench School', 'school', '{old}');
             INSERT INTO {schema}.account (tenant_id, id, email, email_verified_at, first_name,
               last_name, is_childminder, status, created_at, last_activity_at)
               SELECT '{slug}', 'acc-' || lpad(g::text, 8, '0'), 'p' || g || '@bench.example',
                 '{old}', 'Pat', 'Number ' || g, false, 'active', '{old}', '{old}'
               FROM generate_series(1, {per_tenant}) g;
             INSERT INTO {schema}.membership (tenant_id, organisation_id, account_id, rights,
               status, created_at, updated_at)
               SELECT '{slug}', 'org-bench', 'acc-' || lpad(g::text, 8, '0'), 'member', 'verified',
                 '{old}', '{old}' FROM generate_series(1, {per_tenant}) g;
             INSERT INTO {schema}.account_token (tenant_id, token_hash, account_id, purpose,
               created_at, expires_at, used_at)
               SELECT '{slug}', 'tok-' || g, 'acc-' || lpad(g::text, 8, '0'), 'verify_email',
                 '{old}', '{old}', '{old}' FROM generate_series(1, {per_tenant}) g;
             COMMIT; ANALYZE {schema}.account; ANALYZE {schema}.membership; ANALYZE {schema}.account_token;"
        ))
        .await
        .unwrap();
    }
}
