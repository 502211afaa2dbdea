//! Throughput of the catalogue's hottest paths against a bare axum handler, measured in the
//! same run on the same machine (ratios, because shared machines are noisy).
//!
//! `cargo bench -p server --bench catalogue` (needs `wrk` on the PATH). It starts the portal
//! on the embedded SQLite database (or `DATABASE_URL`) with Somerset's demo catalogue, and a
//! bare axum server answering a fixed JSON body, then drives each with
//! `wrk -t2 -c64 -d<BENCH_SECS>s`. Targets: the JSON course list at least 40% of the bare
//! handler's requests per second, the HTML course page at least 25%.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use server::{Application, Settings};
use tokio::net::TcpListener;

const BARE_BODY: &str =
    r#"{"items":[{"id":"0192","title":"A course"}],"page":1,"per_page":20,"total":1}"#;

fn wrk(url: &str, secs: u64) -> f64 {
    let out = Command::new("wrk")
        .args(["-t2", "-c64", &format!("-d{secs}s"), "--latency"])
        .args(["-H", "Host: somerset.localhost", url])
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
    let (portal, bare, course) = rt.block_on(async {
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
        (portal, bare, course)
    });
    let targets = [
        (
            "bare axum handler (baseline)",
            format!("http://{bare}/"),
            None,
        ),
        (
            "JSON course list",
            format!("http://{portal}/api/v1/courses"),
            Some(0.40),
        ),
        (
            "HTML course page",
            format!("http://{portal}/courses/{course}"),
            Some(0.25),
        ),
        ("HTML course list", format!("http://{portal}/courses"), None),
    ];
    // Warm caches and connection pools once.
    for (_, url, _) in &targets {
        wrk(url, 1);
    }
    let mut baseline = 0.0;
    let mut failed = false;
    println!(
        "{:<30} {:>12} {:>10} {:>8}",
        "path", "requests/s", "of bare", "target"
    );
    for (name, url, target) in &targets {
        let rps = wrk(url, secs);
        if target.is_none() && baseline == 0.0 {
            baseline = rps;
        }
        let ratio = rps / baseline;
        let verdict = match target {
            Some(t) if ratio >= *t => format!("≥{:.0}% ok", t * 100.0),
            Some(t) => {
                failed = true;
                format!("≥{:.0}% MISSED", t * 100.0)
            }
            None => String::new(),
        };
        println!(
            "{name:<30} {rps:>12.0} {:>9.1}% {verdict:>8}",
            ratio * 100.0
        );
    }
    drop(rt);
    if failed {
        std::process::exit(1);
    }
}
