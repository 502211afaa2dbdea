//! Throughput of the catalogue's hottest paths against a bare axum handler, measured in the
//! same run on the same machine (ratios, because shared machines are noisy).
//!
//! `cargo bench -p server --bench catalogue` (needs `wrk` on the PATH). It starts the portal
//! on the embedded SQLite database (or `DATABASE_URL`) with Somerset's demo catalogue
//! (Somerset asks about analytics cookies, so a first visit gets the banner), and a bare axum
//! server answering a fixed JSON body, then drives each with `wrk -t2 -c64`: each path in
//! three rounds of the bare handler then the path, a third of `BENCH_SECS` each, its share
//! being the median round's.
//! The JSON course list, the HTML course list and the HTML course page are each asked three
//! ways: as an anonymous first visit (no cookies), as a signed-in person (a session cookie),
//! and as an anonymous visitor who has answered the banner (served from the public cache).
//! Targets: first visits and signed-in visitors at least 30% of the bare handler's requests
//! per second, cached visitors at least 50%. Exits non-zero when a target is missed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use server::{Application, Settings};
use tokio::net::TcpListener;

mod report;

/// Rounds per path (the median round counts).
const ROUNDS: u64 = 3;

const BARE_BODY: &str =
    r#"{"items":[{"id":"0192","title":"A course"}],"page":1,"per_page":20,"total":1}"#;

fn wrk(url: &str, cookie: Option<&str>, secs: u64) -> f64 {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c64", &format!("-d{secs}s"), "--latency"])
        .args(["-H", "Host: somerset.localhost"]);
    if let Some(c) = cookie {
        cmd.args(["-H", &format!("Cookie: {c}")]);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("wrk is needed: install it (e.g. `apt-get install wrk`)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("Non-2xx"),
        "{url} answered errors under load:\n{text}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec from wrk:\n{text}"))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let data = tempfile::tempdir().unwrap();
    let tenants = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tenants");
    let (portal, bare, course, session) = rt.block_on(async {
        let mut settings = Settings::embedded(data.path(), &tenants).unwrap();
        if let Ok(url) = std::env::var("DATABASE_URL") {
            settings.database.url = Some(url.into());
            settings.security.master_key = Some(
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
                    .to_owned()
                    .into(),
            );
        }
        let app = Application::build(settings).await.unwrap();
        let state = app.state().clone();
        let somerset = state
            .registry
            .current()
            .iter()
            .find(|t| t.id.as_str() == "somerset")
            .unwrap()
            .clone();
        if state.catalogue.is_empty(&somerset.id).await.unwrap() {
            let operator = catalogue::domain::Manager::Operator { tool: "bench" };
            catalogue::demo::seed(&state.catalogue, &somerset.config, &operator)
                .await
                .unwrap();
        }
        let course = state
            .catalogue
            .list_courses(&somerset.id, &Default::default())
            .await
            .unwrap()[0]
            .id
            .clone();
        let session = signed_in(&state, &somerset.config).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let portal = listener.local_addr().unwrap();
        tokio::spawn(app.serve(listener, std::future::pending()));
        let bare_app = Router::new().route(
            "/",
            get(|| async {
                (
                    [(http::header::CONTENT_TYPE, "application/json")],
                    BARE_BODY,
                )
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bare = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, bare_app).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        (portal, bare, course, session)
    });
    let signed_in = format!("portal_session={session}");
    let answered = "portal_cookies=no";
    let mut targets = vec![(
        "bare axum handler (baseline)".to_owned(),
        format!("http://{bare}/"),
        None,
        None,
    )];
    for (path, url) in [
        (
            "JSON course list",
            format!("http://{portal}/api/v1/courses"),
        ),
        ("HTML course list", format!("http://{portal}/courses")),
        (
            "HTML course page",
            format!("http://{portal}/courses/{course}"),
        ),
    ] {
        for (who, cookie, target) in [
            ("first visit", None, 0.30),
            ("signed in", Some(signed_in.clone()), 0.30),
            ("cached", Some(answered.to_owned()), 0.50),
        ] {
            targets.push((format!("{path}, {who}"), url.clone(), cookie, Some(target)));
        }
    }
    // BENCH_HOLD: serve without measuring, for a profiler run from outside (the command
    // is in docs/benchmarks.md): print each path's URL and cookie, then wait.
    if std::env::var_os("BENCH_HOLD").is_some() {
        for (name, url, cookie, _) in &targets {
            println!("{name}\t{url}\t{}", cookie.as_deref().unwrap_or(""));
        }
        rt.block_on(std::future::pending::<()>());
    }
    // Warm caches and connection pools once.
    for (_, url, cookie, _) in &targets {
        wrk(url, cookie.as_deref(), 1);
    }
    let mut failed = false;
    let bare_url = &targets[0].1;
    // Each path is measured in rounds, each round the bare handler and then the path for
    // a third of BENCH_SECS, and its share is the median of the rounds' ratios: a shared
    // machine's speed drifts within a run, and a baseline measured once at the start (as
    // before) made later paths look slower or faster than they were.
    let slice = (secs / ROUNDS).max(1);
    println!(
        "{:<36} {:>12} {:>12} {:>10} {:>12}",
        "path", "requests/s", "bare beside", "of bare", "target"
    );
    for (name, url, cookie, target) in targets.iter().skip(1) {
        let mut rounds: Vec<(f64, f64)> = (0..ROUNDS)
            .map(|_| {
                let bare = wrk(bare_url, None, slice);
                (wrk(url, cookie.as_deref(), slice), bare)
            })
            .collect();
        rounds.sort_by(|a, b| (a.0 / a.1).total_cmp(&(b.0 / b.1)));
        let (rps, baseline) = rounds[rounds.len() / 2];
        let ratio = rps / baseline;
        let verdict = match target {
            Some(t) => {
                let missed = report::result(
                    &format!("{name} (SQLite)"),
                    &format!("{rps:.0} req/s of the bare handler's {baseline:.0} beside it"),
                    ratio,
                    report::Target::Share(*t),
                    true,
                );
                failed |= missed;
                format!(
                    "≥{:.0}% {}",
                    t * 100.0,
                    if missed { "MISSED" } else { "ok" }
                )
            }
            None => String::new(),
        };
        println!(
            "{name:<36} {rps:>12.0} {baseline:>12.0} {:>9.1}% {verdict:>12}",
            ratio * 100.0
        );
    }
    drop(rt);
    if failed {
        std::process::exit(1);
    }
}

/// A session token of a new, verified Somerset account (signed up, confirmed through the
/// emailed link, signed in), as a member of staff browsing the catalogue would hold.
async fn signed_in(state: &server::AppState, cfg: &tenant_router::TenantConfig) -> String {
    let email = format!("bench-{}@school.example", uuid::Uuid::new_v4().simple());
    let password = "correct-horse-battery-staple-42";
    let form: std::collections::HashMap<String, String> = [
        ("first_name", "Bench"),
        ("last_name", "Mark"),
        ("email", email.as_str()),
        ("job_title", "Teacher"),
        ("organisation_name", "A school"),
        ("organisation_telephone", "01632 960001"),
        ("telephone", "01632 960002"),
        ("business_address", "1 School Lane, Taunton TA1 1AA"),
        ("access", "member"),
        ("password", password),
        ("password_confirm", password),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    state
        .identity
        .sign_up(cfg, &form, "http://somerset.localhost")
        .await
        .unwrap()
        .expect("a new address");
    let tx = state.db.tenant_tx(&cfg.slug).await.unwrap();
    let mail = storage::outbox::for_recipient(&tx, &email).await.unwrap();
    tx.rollback().await.unwrap();
    let token = mail
        .iter()
        .flat_map(|m| m.body_text.split_whitespace())
        .find_map(|w| w.split("/verify-email/").nth(1))
        .expect("a verification link")
        .to_owned();
    state
        .identity
        .verify_email(&cfg.slug, &token)
        .await
        .unwrap();
    let (session, _) = state
        .identity
        .sign_in(&cfg.slug, &email, password, "bench")
        .await
        .unwrap();
    session
}
