//! `portal tenants offboard`.

use std::time::Duration;

use crate::app::Application;
use crate::settings::Settings;

/// Offboards `slug` once the operator has confirmed it by typing the slug again.
pub(super) async fn offboard(
    settings: Settings,
    slug: &str,
    confirm: Option<&str>,
    grace_secs: u64,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        confirm == Some(slug),
        "offboarding deletes every record, file and key of `{slug}` and cannot be undone; \
         to go ahead, run it again with `--confirm {slug}`. Nothing was done"
    );
    let app = Application::build_without_folders(settings).await?;
    let done = crate::offboarding::offboard(
        app.state(),
        slug,
        Duration::from_secs(grace_secs),
        chrono::Utc::now(),
    )
    .await?;
    let rows: u64 = done.rows.values().sum();
    if done.resumed {
        println!("{slug}: finishing an offboarding that was interrupted");
    }
    println!("{slug}: offboarded; its hosts answer 404 on every replica within seconds");
    println!("  archive for the council: {}", done.archive);
    println!("  its SHA-256: {}", done.archive_sha256);
    println!(
        "  deleted: {rows} row(s) in {} table(s), {} file(s), {} session key(s); data keys \
         destroyed: {}",
        done.rows.values().filter(|n| **n > 0).count(),
        done.files,
        done.sessions,
        done.keys
    );
    println!(
        "  hand the archive to the council, then delete it: it holds their personal data, \
         special requirements included"
    );
    Ok(())
}
