//! Booking throughput on PostgreSQL against the raw SQL statement that takes a place, in the
//! same run (ratios, because shared machines are noisy).
//!
//! `DATABASE_URL=postgres://… cargo bench -p server --bench bookings`. It makes a schema of
//! its own, one published course with 100 sessions of 64 places in Somerset and 64 accounts,
//! then 64 concurrent clients each book every session once (each starting at its own place
//! in the list, so they spread over the sessions) through `Bookings::checkout`
//! (6,400 checkouts, each with idempotency, checks, the place, the order, the confirmation,
//! the transaction log and the audit event; billed to nobody, so each is one statement once
//! the service remembers the session, see docs/architecture.md). The baseline is 64
//! clients running the bare
//! conditional `UPDATE … SET places_taken = places_taken + 1 … AND places_taken < capacity`
//! 6,400 times, on the platform's own database handle (same pool size, same pinging of
//! pooled connections). Each side first warms up untimed, every client on four sessions of
//! their own, so new connections and each database process's first statements are not
//! in the figures. Then the same again on sessions of their own, billed to the school
//! every client is a verified member of (the organisation checkout: membership, approval,
//! SLA cover and the school's place limit checked, an invoice issued). Targets (issue 22):
//! at least 1,000 confirmed bookings a second, the self-billed checkout at least 45% of the
//! baseline's rate, the organisation checkout at least 30%, and no session over capacity. Where PostgreSQL runs on the same
//! machine (Linux), it also prints the CPU time per booking of this process and of all
//! PostgreSQL processes on each side: steadier than rates on a shared machine, and it
//! says which side a change helped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait as _, DbBackend, Statement};

mod report;
mod support;

const CLIENTS: usize = 64;
const SESSIONS: usize = 100;
/// Sessions booked before the timing starts.
const WARM_UP: usize = 4;

/// Connections, for the platform and for the baseline alike.
const POOL: u32 = 32;

fn main() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("set DATABASE_URL=postgres://… : this benchmark measures PostgreSQL");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let failed = rt.block_on(run(url));
    if failed {
        std::process::exit(1);
    }
}

/// Every session once, starting from client `i`'s own place in the list, so the 64 clients
/// spread over the 100 sessions as people booking different courses do (rather than all
/// queueing on one session's row at a time).
fn spread(sessions: &[String], i: usize) -> impl Iterator<Item = &String> {
    sessions
        .iter()
        .cycle()
        .skip(i * sessions.len() / CLIENTS)
        .take(sessions.len())
}

async fn run(url: String) -> bool {
    let data = tempfile::tempdir().unwrap();
    let (app, admin, schema) = support::portal_on_fresh_schema(&url, data.path(), Some(POOL)).await;
    let state = app.state().clone();
    let t = state
        .registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == "somerset")
        .unwrap()
        .clone();
    let operator = catalogue::domain::Manager::Operator { tool: "bench" };
    let course = state
        .catalogue
        .create_course(
            &t.config,
            &operator,
            &catalogue::domain::course::CourseFields {
                provider_id: "somerset-sse".into(),
                title: "Benchmark course".into(),
                summary: "Many sessions.".into(),
                price_pence: 5000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut sessions = Vec::new();
    // One set for people booking for themselves, one for places billed to their school.
    for i in 0..2 * (SESSIONS + WARM_UP) {
        let start = Utc::now() + Duration::days(10 + i64::try_from(i).unwrap());
        let fields = catalogue::domain::course::SessionFields {
            starts_at: start,
            ends_at: start + Duration::hours(2),
            venue: Some("Hall".into()),
            online_url: None,
            capacity: i64::try_from(CLIENTS).unwrap(),
            org_place_limit: None,
        };
        sessions.push(
            state
                .catalogue
                .add_session(&t.id, &operator, &course, &fields)
                .await
                .unwrap(),
        );
    }
    state
        .catalogue
        .publish_course(&t.id, &operator, &course)
        .await
        .unwrap();
    let tx = state.db.tenant_tx(&t.id).await.unwrap();
    let mut people = Vec::new();
    for i in 0..CLIENTS {
        let new = identity::domain::signup::NewAccount {
            email: format!("bench{i}@school.example"),
            first_name: "Bench".into(),
            last_name: format!("{i}"),
            ..Default::default()
        };
        people.push(
            identity::store::insert_account(&tx, &new, None, Utc::now(), None)
                .await
                .unwrap(),
        );
    }
    // Everyone is a verified member of one school, which does not ask to approve bookings.
    let school = identity::store::organisations::create(&tx, "Bench School", "school", Utc::now())
        .await
        .unwrap();
    for p in &people {
        identity::store::organisations::upsert_membership(
            &tx,
            &school.id,
            &p.id,
            &identity::domain::rights::Rights::new([]),
            "verified",
            Utc::now(),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let mut org_sessions = sessions.split_off(SESSIONS + WARM_UP);
    let org_warm_up = org_sessions.split_off(SESSIONS);
    let warm_up = sessions.split_off(SESSIONS);

    // The platform: every client books every session once, after a warm-up on sessions of
    // its own (new connections and each server process's first statements are not timed).
    let cfg = t.config.clone();
    book_all(&state.bookings, &cfg, &people, &warm_up, None).await;
    let cpu0 = support::cpu();
    let started = Instant::now();
    let booked = book_all(&state.bookings, &cfg, &people, &sessions, None).await;
    let platform_secs = started.elapsed().as_secs_f64();
    let cpu1 = support::cpu();
    let platform_rate = booked as f64 / platform_secs;
    // The same, billed to the school: membership, approval, SLA cover and the school's
    // place limit checked under the session's row lock, and an invoice issued.
    let org = Some(school.id.as_str());
    book_all(&state.bookings, &cfg, &people, &org_warm_up, org).await;
    let started = Instant::now();
    let org_booked = book_all(&state.bookings, &cfg, &people, &org_sessions, org).await;
    let org_rate = org_booked as f64 / started.elapsed().as_secs_f64();
    let over = admin
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT COUNT(*) FROM {schema}.course_session WHERE places_taken > capacity"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();

    // The baseline: the bare statement that takes a place, on the same sessions reset.
    admin
        .execute_unprepared(&format!(
            "UPDATE {schema}.course_session SET places_taken = 0"
        ))
        .await
        .unwrap();
    // The platform's own database handle, so the baseline's connections are set up as the
    // platform's are (pool size, when a connection is pinged before use).
    let raw = storage::Db::connect(
        &url,
        &storage::DbOptions {
            pg_schema: None,
            max_connections: Some(POOL),
        },
    )
    .await
    .unwrap();
    let pool = raw.platform().clone();
    take_all(&pool, &schema, &warm_up).await;
    let cpu2 = support::cpu();
    let started = Instant::now();
    let taken = take_all(&pool, &schema, &sessions).await;
    let raw_secs = started.elapsed().as_secs_f64();
    let cpu3 = support::cpu();
    let per = |a: (u64, u64), b: (u64, u64), n: u64| {
        let us = |t: u64| t as f64 * 10_000.0 / n.max(1) as f64;
        format!(
            "this process {:.0} µs, postgres {:.0} µs",
            us(b.0.saturating_sub(a.0)),
            us(b.1.saturating_sub(a.1))
        )
    };
    let raw_rate = taken as f64 / raw_secs;
    support::drop_schema(&admin, &schema).await;

    let ratio = platform_rate / raw_rate;
    println!("{:<40} {:>10} {:>12}", "", "places", "per second");
    println!(
        "{:<40} {:>10} {:>12.0}",
        "raw SQL statement (baseline)", taken, raw_rate
    );
    println!(
        "{:<40} {:>10} {:>12.0}",
        "platform checkout", booked, platform_rate
    );
    println!(
        "{:<40} {:>10} {:>12.0}",
        "organisation checkout", org_booked, org_rate
    );
    let org_ratio = org_rate / raw_rate;
    println!("share of baseline: {:.1}% (target ≥ 45%)", ratio * 100.0);
    println!(
        "organisation checkout's share: {:.1}% (target ≥ 30%)",
        org_ratio * 100.0
    );
    println!("confirmed bookings a second: {platform_rate:.0} (target ≥ 1,000)");
    println!("sessions over capacity: {over} (target 0)");
    if cpu0.1 > 0 {
        println!("CPU per booking, platform: {}", per(cpu0, cpu1, booked));
        println!("CPU per booking, baseline: {}", per(cpu2, cpu3, taken));
    }
    let expected = u64::try_from(CLIENTS * SESSIONS).unwrap();
    let own_ok = booked == expected && over == 0;
    let org_ok = org_booked == expected && over == 0;
    let own = report::result(
        "self-billed checkout (PostgreSQL)",
        &format!("{platform_rate:.0}/s of the statement's {raw_rate:.0}/s"),
        ratio,
        report::Target::Share(0.45),
        own_ok && platform_rate >= 1000.0,
    );
    let organisation = report::result(
        "organisation checkout (PostgreSQL)",
        &format!("{org_rate:.0}/s of the statement's {raw_rate:.0}/s"),
        org_ratio,
        report::Target::Share(0.30),
        org_ok,
    );
    own || organisation
}

/// Runs `client(i)` for every client at once and adds up what they return.
async fn all_clients<F, Fut>(client: F) -> u64
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = u64> + Send + 'static,
{
    let tasks: Vec<_> = (0..CLIENTS).map(|i| tokio::spawn(client(i))).collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    total
}

/// Every client (one task per person) books each of `sessions` once; returns the places.
async fn book_all(
    bookings: &bookings::Bookings,
    cfg: &tenant_router::TenantConfig,
    people: &[identity::store::entity::account::Model],
    sessions: &[String],
    organisation: Option<&str>,
) -> u64 {
    all_clients(|i| {
        let (bookings, cfg, sessions) = (bookings.clone(), cfg.clone(), sessions.to_vec());
        let organisation_id = organisation.map(str::to_owned);
        let p = people[i].clone();
        async move {
            let mut booked = 0u64;
            for s in spread(&sessions, i) {
                let req = bookings::domain::CheckoutRequest {
                    organisation_id: organisation_id.clone(),
                    items: vec![bookings::domain::CheckoutItem {
                        session_id: s.clone(),
                        delegate_account_id: None,
                    }],
                    expected_total_pence: Some(5000),
                };
                let out = bookings
                    .checkout(&cfg, &p, &format!("bench-{s}"), &req)
                    .await
                    .unwrap();
                booked += out.booked.len() as u64;
            }
            booked
        }
    })
    .await
}

/// Every client runs the bare statement that takes a place once on each of `sessions`;
/// returns the places taken.
async fn take_all(pool: &sea_orm::DatabaseConnection, schema: &str, sessions: &[String]) -> u64 {
    all_clients(|i| {
        let (pool, sessions, schema) = (pool.clone(), sessions.to_vec(), schema.to_owned());
        async move {
            let mut taken = 0u64;
            for s in spread(&sessions, i) {
                let done = pool
                    .execute_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        format!(
                            "UPDATE {schema}.course_session SET places_taken = places_taken + 1 \
                             WHERE tenant_id = $1 AND id = $2 AND status = 'scheduled' AND places_taken < capacity"
                        ),
                        ["somerset".into(), s.as_str().into()],
                    ))
                    .await
                    .unwrap();
                taken += done.rows_affected();
            }
            taken
        }
    })
    .await
}
