//! The copy of a heavy user's data for an access request, end to end on PostgreSQL (every
//! declared table read, the audit events and emails about them, sealed values opened, the
//! zip of `summary.html`, `data.json` and one CSV per table built, stored in the object
//! store, the link recorded and emailed), against one bare `SELECT` per table of the same
//! rows, in the same run.
//!
//! `DATABASE_URL=postgres://… cargo bench -p server --bench bundle` (set `BUNDLE_ROUNDS`
//! for another number of rounds). It makes a schema of its own with the launch tenants and,
//! at Harrow, one person with 5,000 bookings (each on its own session, with its order),
//! 5,000 audit events about them and 500 disclosure-log rows, and files an access request
//! for them. Target: the median copy takes under 100 ms.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use privacy_engine::NewRequest;
use privacy_engine::domain::rights::{Channel, Kind};
use privacy_engine::store::retention::SubjectKey;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement};

mod report;
mod support;

const SLUG: &str = "harrow";
const ACCOUNT: &str = "acc-heavy";
const EMAIL: &str = "heavy@bench.example";

fn main() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("set DATABASE_URL=postgres://… : this benchmark measures PostgreSQL");
        std::process::exit(2);
    };
    let rounds: usize = std::env::var("BUNDLE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if rt.block_on(run(url, rounds.max(1))) {
        std::process::exit(1);
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn run(url: String, rounds: usize) -> bool {
    let data = tempfile::tempdir().unwrap();
    let (app, admin, schema) = support::portal_on_fresh_schema(&url, data.path(), None).await;
    let state = app.state().clone();
    let cfg = state
        .registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == SLUG)
        .unwrap()
        .config
        .clone();
    eprintln!("loading a person with 5,000 bookings, 5,000 audit events, 500 disclosures…");
    load(&admin, &schema).await;
    let today = state.privacy.uk_today();
    let request = state
        .privacy
        .file_request(
            &cfg,
            &NewRequest {
                kind: Kind::Access,
                channel: Channel::Online,
                account_id: Some(ACCOUNT),
                requester_name: "Heavy User",
                requester_email: Some(EMAIL),
                details: "Everything, please.",
                received_on: today,
                identity_known: true,
                by: "account:acc-heavy",
            },
        )
        .await
        .unwrap();

    let mut copies = Vec::with_capacity(rounds);
    let mut reads = Vec::with_capacity(rounds);
    let mut size = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        state
            .privacy
            .prepare_bundle(&cfg, &request.id, "account:bench", "http://bench.localhost")
            .await
            .unwrap();
        copies.push(started.elapsed().as_secs_f64() * 1000.0);
        // Reading alone, to see how the copy's time divides.
        let started = Instant::now();
        size = rows_in_copy(&state, &cfg).await;
        reads.push(started.elapsed().as_secs_f64() * 1000.0);
    }

    // The baseline: one bare SELECT per table of the same rows.
    let mut bare = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let mut n = 0;
        let tables =
            std::iter::once(("account", "id", ACCOUNT)).chain(server::subject_tables().map(|t| {
                match t.key {
                    SubjectKey::AccountId(c) => (t.table, c, ACCOUNT),
                    SubjectKey::Email(c) => (t.table, c, EMAIL),
                }
            }));
        for (table, column, value) in tables {
            n += select(
                &admin,
                &schema,
                &format!("{table} WHERE {column} = '{value}'"),
            )
            .await;
        }
        n += select(
            &admin,
            &schema,
            &format!("audit_event WHERE subject = '{ACCOUNT}' OR actor = 'account:{ACCOUNT}'"),
        )
        .await;
        bare.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(n >= 10_500, "the baseline read {n} rows");
    }
    support::drop_schema(&admin, &schema).await;

    let (copy, baseline, read) = (median(copies), median(bare), median(reads));
    println!("rows in the copy:  {size}");
    println!("copy (median of {rounds}):     {copy:>8.1} ms");
    println!("  of which reading:      {read:>8.1} ms (the rest: the archive, storing, the email)");
    println!("bare SELECTs (median):   {baseline:>8.1} ms");
    println!(
        "ratio:                   {:>8.2} × the baseline",
        copy / baseline
    );
    println!("target: the copy under 100 ms");
    report::result(
        "a person's copy of their data (PostgreSQL)",
        &format!(
            "median of {rounds}; {:.2}× the bare SELECTs' {baseline:.1} ms",
            copy / baseline
        ),
        copy,
        report::Target::Under(100.0, "ms"),
        // Every row of the person's: 5,000 bookings and their orders, the audit events,
        // the disclosures and the account's own rows.
        size >= 10_500,
    )
}

/// Rows the request's newest copy would hold (read again, as a check that it is whole).
async fn rows_in_copy(state: &server::AppState, cfg: &tenant_router::TenantConfig) -> usize {
    let tx = state.db.tenant_tx(&cfg.slug).await.unwrap();
    let tables = state.privacy.data_about(&tx, ACCOUNT, EMAIL).await.unwrap();
    tx.rollback().await.unwrap();
    tables.iter().map(|t| t.rows.len()).sum()
}

/// Rows of `from` (`table WHERE …`) in Harrow, read whole.
async fn select(conn: &DatabaseConnection, schema: &str, from: &str) -> usize {
    let (table, filter) = from.split_once(" WHERE ").unwrap();
    conn.query_all_raw(Statement::from_string(
        DbBackend::Postgres,
        format!(
            "WITH s AS (SELECT set_config('app.tenant_id', '{SLUG}', false)) \
             SELECT t.* FROM s, {schema}.{table} t WHERE t.tenant_id = '{SLUG}' AND ({filter})"
        ),
    ))
    .await
    .unwrap()
    .len()
}

/// The heavy person at Harrow.
async fn load(conn: &DatabaseConnection, schema: &str) {
    let now = chrono::Utc::now();
    conn.execute_unprepared(&format!(
        "BEGIN; SELECT set_config('app.tenant_id', '{SLUG}', true);
         INSERT INTO {schema}.account (tenant_id, id, email, email_verified_at, first_name,
           last_name, job_title, is_childminder, status, created_at, last_activity_at,
           alert_frequency)
           VALUES ('{SLUG}', '{ACCOUNT}', '{EMAIL}', '{now}', 'Heavy', 'User', 'Teacher',
             false, 'active', '{now}', '{now}', 'daily');
         INSERT INTO {schema}.course (tenant_id, id, provider_id, kind, title, summary,
           description, description_html, audiences, job_categories, phases, cpd_minutes,
           price_pence, cancellation_notice_days, cancellation_terms, pre_course_info,
           certificate_after_feedback, status, created_at, updated_at, published_at, revision)
           VALUES ('{SLUG}', 'course-bench', 'ss4e', 'course', 'Phonics', 'Phonics.', '', '',
             '', '', '', 180, 0, 0, '', '', false, 'published', '{now}', '{now}', '{now}', 1);
         INSERT INTO {schema}.course_session (tenant_id, id, course_id, starts_at, ends_at,
           capacity, places_taken, status, created_at, updated_at, revision)
           SELECT '{SLUG}', 'ses-' || g, 'course-bench', '{now}'::timestamptz - (g || ' days')::interval,
             '{now}'::timestamptz - (g || ' days')::interval + interval '3 hours', 30, 1,
             'scheduled', '{now}', '{now}', 1
           FROM generate_series(1, 5000) g;
         INSERT INTO {schema}.booking_order (tenant_id, id, number, account_id, total_pence,
           idempotency_key, request_hash, created_at)
           SELECT '{SLUG}', 'ord-' || g, 'B-' || g, '{ACCOUNT}', 0, 'key-' || g, 'hash', '{now}'
           FROM generate_series(1, 5000) g;
         INSERT INTO {schema}.booking (tenant_id, id, order_id, session_id, course_id,
           account_id, price_pence, status, created_at, attendance)
           SELECT '{SLUG}', 'bk-' || g, 'ord-' || g, 'ses-' || g, 'course-bench', '{ACCOUNT}', 0,
             'confirmed', '{now}', 'attended'
           FROM generate_series(1, 5000) g;
         INSERT INTO {schema}.disclosure_log (tenant_id, id, disclosure_id, account_id,
           provider_id, session_id, actor_id, fields, format, occurred_at)
           SELECT '{SLUG}', 'dl-' || g, 'd-' || g, '{ACCOUNT}', 'ss4e', 'ses-' || g,
             'account:staff', 'name,job_title,organisation', 'page', '{now}'
           FROM generate_series(1, 500) g;
         INSERT INTO {schema}.audit_event (tenant_id, seq, occurred_at, actor, action, subject,
           detail, prev_hash, hash)
           SELECT '{SLUG}', 1000000 + g, '{now}', 'account:{ACCOUNT}', 'booking.created',
             '{ACCOUNT}', '{{}}', 'x', 'y'
           FROM generate_series(1, 5000) g;
         COMMIT;
         ANALYZE {schema}.booking; ANALYZE {schema}.audit_event; ANALYZE {schema}.disclosure_log;"
    ))
    .await
    .unwrap();
}
