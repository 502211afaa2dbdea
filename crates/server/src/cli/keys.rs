//! `portal keys rewrap`: the step of replacing the master key that touches stored keys.
//!
//! Replacing the master key (`deploy/RUNBOOK.md`): configure the new key as
//! `security.master_key` and the old one in `security.previous_master_keys` on every
//! replica; run this, which wraps each tenant's data key in the key store under the new
//! key; then remove the old key from the configuration and destroy every copy of it. From
//! then on nothing the old key wrapped opens: not the key store's old versions, nor the
//! tenant keys that database backups from before the key store hold.

use clap::Subcommand;
use identity::Rewrap;

use crate::app::Application;
use crate::settings::Settings;

/// `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// After replacing the master key (the new key in `security.master_key`, the old one
    /// in `security.previous_master_keys`): wrap every tenant's data key in the key store
    /// under the new key. Running it again changes nothing; it exits non-zero naming any
    /// tenant whose key it could not wrap again.
    Rewrap,
}

/// Runs a `keys` subcommand.
///
/// # Errors
/// When the portal cannot start on these settings, or a tenant's key is left under a
/// previous master key.
pub async fn run(settings: Settings, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rewrap => rewrap(settings).await,
    }
}

async fn rewrap(settings: Settings) -> anyhow::Result<()> {
    let previous = crate::app::master_keys(&settings)?.previous_count() > 0;
    // The tenants in the database as they stand (folders are not imported), and those
    // part-way through offboarding too: resuming one needs its key to open.
    let app = Application::build_without_folders(settings).await?;
    let state = app.state();
    let mut tenants: Vec<tenant_router::TenantId> = state
        .registry
        .current()
        .iter()
        .map(|t| t.id.clone())
        .collect();
    for leaving in storage::tenants::offboarded(&state.db).await? {
        if let Ok(id) = leaving.id.parse() {
            tenants.push(id);
        }
    }
    let (mut rewrapped, mut current) = (0, 0);
    let mut failed = Vec::new();
    for id in &tenants {
        match state.identity.rewrap_tenant_key(id).await {
            Ok(Rewrap::Rewrapped) => {
                rewrapped += 1;
                println!("{id}: data key wrapped under the current master key");
            }
            Ok(Rewrap::Current) => {
                current += 1;
                println!("{id}: data key already under the current master key");
            }
            Ok(Rewrap::NoKey) => println!("{id}: no data key"),
            Err(identity::IdentityError::Undecryptable) => {
                eprintln!(
                    "{id}: no configured master key opens its data key: list the key it was \
                     wrapped under in security.previous_master_keys"
                );
                failed.push(id.to_string());
            }
            Err(e) => {
                eprintln!("{id}: {e}");
                failed.push(id.to_string());
            }
        }
    }
    anyhow::ensure!(
        failed.is_empty(),
        "the data keys of {} are still under a previous master key (the others are done): \
         keep security.previous_master_keys, put right what is named above and run this \
         again",
        failed.join(", ")
    );
    println!("{rewrapped} data key(s) wrapped again, {current} already current.");
    if previous {
        println!(
            "Every data key is under the current master key. Once every replica runs with \
             it, remove security.previous_master_keys and destroy the old key."
        );
    }
    Ok(())
}
