//! Replicas learn from each other when a council is onboarded or offboarded: at once
//! through Redis pub/sub, without waiting for their own check of the tenant rows.

use std::time::{Duration, Instant};

use e2e::{spawn_app_with, tenants_dir};
use server::offboarding::offboard;
use server::onboarding::apply;

use crate::onboarding::newtown;

/// Whether `replica` serves the council `slug`.
fn serves(replica: &server::http::state::AppState, slug: &str) -> bool {
    replica
        .registry
        .current()
        .iter()
        .any(|t| t.id.as_str() == slug)
}

async fn until(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what} did not happen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn another_replica_follows_an_onboarding_and_an_offboarding_through_redis() {
    let Some(redis_url) = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) else {
        // Run by the PostgreSQL and Redis step; the embedded default has no Redis.
        eprintln!("no REDIS_URL: nothing to announce through");
        return;
    };
    // Both replicas check the rows themselves only hourly: only Redis can tell them.
    let app = spawn_app_with(|s| s.tenants.poll_secs = 3600).await;
    let mut settings = app.db.settings(&tenants_dir());
    settings.tenants.poll_secs = 3600;
    let other = server::app::Application::build(settings).await.unwrap();
    let replica = other.state().clone();
    tokio::spawn(server::notices::follow_changes(replica.clone()));
    // Wait for the replica to be listening before anything is announced.
    let client = redis::Client::open(redis_url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let channel = replica.tenants_channel.clone();
    let start = Instant::now();
    loop {
        let (_, listeners): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&channel)
            .query_async(&mut conn)
            .await
            .unwrap();
        if listeners > 0 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "nobody listens");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let serves = |slug: &str| serves(&replica, slug);
    assert!(!serves("newtown"));
    let (_keep, folder) = newtown(|t| t);
    apply(&app.state, &folder, app.clock.now()).await.unwrap();
    until("the replica serving newtown", || serves("newtown")).await;
    offboard(
        &app.state,
        "newtown",
        &crate::offboarding::passphrase(),
        Duration::ZERO,
        app.clock.now(),
    )
    .await
    .unwrap();
    until("the replica dropping newtown", || !serves("newtown")).await;
}

#[tokio::test]
async fn a_council_onboarded_while_a_replica_starts_is_served_by_it() {
    // The replica loads its registry, then a council is onboarded elsewhere before the
    // replica starts following changes. Nothing is announced to it (no Redis) and its own
    // check is hourly: its first check must still see the council.
    let app = spawn_app_with(|s| s.tenants.poll_secs = 3600).await;
    let mut settings = app.db.settings(&tenants_dir());
    settings.tenants.poll_secs = 3600;
    settings.redis.url = None;
    let other = server::app::Application::build(settings).await.unwrap();
    let replica = other.state().clone();
    let serves = |slug: &str| serves(&replica, slug);
    assert!(!serves("newtown"));
    let (_keep, folder) = newtown(|t| t);
    apply(&app.state, &folder, app.clock.now()).await.unwrap();
    assert!(!serves("newtown"), "the replica reloaded before following");
    tokio::spawn(server::notices::follow_changes(replica.clone()));
    until("the starting replica serving newtown", || serves("newtown")).await;
}
