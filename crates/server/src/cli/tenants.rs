//! `portal tenants offboard`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use crate::app::Application;
use crate::offboarding::Passphrase;
use crate::settings::Settings;

/// Offboards `slug` once the operator has confirmed it by typing the slug again.
pub(super) async fn offboard(
    settings: Settings,
    slug: &str,
    confirm: Option<&str>,
    passphrase_file: Option<&Path>,
    grace_secs: u64,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        confirm == Some(slug),
        "offboarding deletes every record, file and key of `{slug}` and cannot be undone; \
         to go ahead, run it again with `--confirm {slug}`. Nothing was done"
    );
    let Some(file) = passphrase_file else {
        anyhow::bail!(
            "the council's archive is encrypted under a passphrase you choose and give them \
             by another channel: put one of at least {} characters in a file and add \
             `--passphrase-file FILE`. Nothing was done",
            Passphrase::MIN_CHARS
        );
    };
    let text = std::fs::read_to_string(file).with_context(|| {
        format!(
            "reading the passphrase from {}; nothing was done",
            file.display()
        )
    })?;
    let passphrase = Passphrase::new(&text).map_err(anyhow::Error::msg)?;
    let app = Application::build_without_folders(settings).await?;
    let done = crate::offboarding::offboard(
        app.state(),
        slug,
        &passphrase,
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
    if done.archive_made {
        println!(
            "  encrypted (AES-256) under the passphrase in {}",
            file.display()
        );
    } else {
        println!(
            "  made by the earlier run, under the passphrase that run was given (not the one \
             in {}); archives made before 6 December 2026 are not encrypted",
            file.display()
        );
    }
    println!(
        "  deleted: {rows} row(s) in {} table(s), {} file(s), {} session key(s); data keys \
         destroyed: {}",
        done.rows.values().filter(|n| **n > 0).count(),
        done.files,
        done.sessions,
        done.keys
    );
    println!(
        "  hand the archive to the council and the passphrase by another channel, then delete \
         both: the archive holds their personal data, special requirements included"
    );
    Ok(())
}
