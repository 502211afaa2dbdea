//! The command line: `serve` (the default), `migrate`, `check`, `tenants list`,
//! `accounts grant-role`, `retention …` and `keys rewrap`.
//! Every failure prints one clear message and exits non-zero.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::app::{Application, connect, shutdown_signal};
use crate::settings::{self, Settings};

pub mod keys;
pub mod retention;
mod tenants;

use crate::telemetry;
pub use keys::KeysCommand;
pub use retention::RetentionCommand;

/// Education services portal for councils.
#[derive(Debug, Parser)]
#[command(name = "portal", version, about)]
pub struct Cli {
    /// A settings file layered over the defaults (before environment variables).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal (applies migrations and imports new tenant folders first).
    Serve {
        /// Fill every tenant whose catalogue is empty with demonstration courses and
        /// services first (what the quick start uses).
        #[arg(long)]
        demo_data: bool,
    },
    /// Fill every tenant whose catalogue is empty (or only `--tenant`) with demonstration
    /// courses, sessions and services, dated from today. Tenants with a catalogue are left
    /// alone, so running it twice changes nothing.
    DemoData {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Validate the tenants folder without starting the server or touching the database.
    Check {
        /// The folder to check; defaults to the configured `tenants.dir`.
        dir: Option<PathBuf>,
    },
    /// Tenant rows in the database.
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Accounts in a tenant.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Retention: what each tenant's rules would do today, doing it, and holds.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Invoices.
    #[command(subcommand)]
    Invoices(InvoicesCommand),
    /// Keys: re-wrapping tenants' data keys after the master key is replaced.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `invoices` subcommands.
#[derive(Debug, Subcommand)]
pub enum InvoicesCommand {
    /// Issue an invoice for each order billed to an organisation before the platform issued
    /// invoices: what it still charges, dated today. Running it again issues nothing.
    IssueMissing {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Count those orders and issue nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk a tenant's audit chain from the first event and report the first broken link
    /// (an event changed, removed or put in); exits non-zero when there is one.
    Verify {
        /// The tenant's slug, e.g. `harrow`.
        #[arg(long)]
        tenant: String,
    },
}

/// `accounts` subcommands.
#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Make a ready-to-use tenant administrator for trying the portal out, and print how to
    /// sign in (password and single-use recovery codes). Embedded default (SQLite) only.
    DemoAdmin {
        /// The tenant's slug, e.g. `harrow`.
        #[arg(long)]
        tenant: String,
        /// The administrator's email address.
        #[arg(long, default_value = "admin@demo.localhost")]
        email: String,
    },
    /// Give an existing account a tenant-wide role (how a tenant's first admin is made).
    GrantRole {
        /// The tenant's slug, e.g. `harrow`.
        #[arg(long)]
        tenant: String,
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// `tenant-admin`, `provider-staff` or `privacy-officer`.
        #[arg(long)]
        role: String,
        /// For provider staff: the provider's id from the tenant's configuration.
        #[arg(long)]
        provider: Option<String>,
    },
}

/// `tenants` subcommands.
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// List the tenants in the database and whether their folder has changed since import.
    List,
    /// Onboard a council from one tenant folder (its `tenant.toml`, and logo if any), or
    /// re-apply a changed one: validated whole and against every other tenant, then stored
    /// and serving at once on every replica; a changed folder becomes a notice draft.
    Add {
        /// The tenant's folder (named after its slug).
        dir: PathBuf,
    },
    /// Offboard a council: it stops being served, its data goes into an archive in the
    /// object store for the council, then its rows, files and sessions are deleted and
    /// its data key destroyed (nothing of it stays readable, even in database backups).
    /// Cannot be undone; running it again finishes an interrupted run.
    Offboard {
        /// The tenant's slug, e.g. `harrow`.
        slug: String,
        /// The slug again: offboarding cannot be undone.
        #[arg(long, value_name = "SLUG")]
        confirm: Option<String>,
        /// A file holding the passphrase (16 characters or more) the council's archive is
        /// encrypted under; give it to the council by another channel than the archive.
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// Seconds to wait, once the tenant is no longer served, for every replica to let
        /// go of it (they check every 5 seconds).
        #[arg(long, default_value_t = 10)]
        grace_secs: u64,
    },
}

/// Parses the command line, runs the command and turns the outcome into an exit code.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = settings::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve { demo_data: false }) {
        Command::Serve { demo_data } => serve(settings, demo_data).await,
        Command::DemoData { tenant } => {
            let app = Application::build(settings).await?;
            demo_data(&app, tenant.as_deref()).await
        }
        Command::Migrate => {
            telemetry::init(&settings.telemetry);
            let db = connect(&settings).await?;
            db.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Check { dir } => {
            let dir = dir.unwrap_or(settings.tenants.dir);
            let tenants = tenant_router::load::load_dir(&dir)?;
            for t in &tenants {
                let missing = t.config.missing_details();
                print!("ok  {} ({})", t.config.slug, t.file.display());
                if missing.is_empty() {
                    println!();
                } else {
                    println!("; not yet given: {}", missing.join(", "));
                }
                // A rule nothing applies keeps the tenant's notice from being published.
                for (i, why) in privacy_engine::domain::executor::unapplied(&t.config.retention) {
                    let r = &t.config.retention[i];
                    println!(
                        "    rule {} ({}) is applied by nothing, so the notice stays a draft: {why}",
                        i + 1,
                        r.category
                    );
                }
            }
            println!("{} tenant(s) valid", tenants.len());
            Ok(())
        }
        Command::Tenants(TenantsCommand::List) => list_tenants(&settings).await,
        Command::Tenants(TenantsCommand::Add { dir }) => add_tenant(settings, &dir).await,
        Command::Tenants(TenantsCommand::Offboard {
            slug,
            confirm,
            passphrase_file,
            grace_secs,
        }) => {
            tenants::offboard(
                settings,
                &slug,
                confirm.as_deref(),
                passphrase_file.as_deref(),
                grace_secs,
            )
            .await
        }
        Command::Accounts(AccountsCommand::GrantRole {
            tenant,
            email,
            role,
            provider,
        }) => grant_role(&settings, &tenant, &email, &role, provider.as_deref()).await,
        Command::Accounts(AccountsCommand::DemoAdmin { tenant, email }) => {
            demo_admin(settings, &tenant, &email).await
        }
        Command::Keys(cmd) => keys::run(settings, cmd).await,
        Command::Retention(cmd) => {
            let app = Application::build(settings).await?;
            crate::cli::retention::run(&app, cmd).await
        }
        Command::Invoices(InvoicesCommand::IssueMissing { tenant, dry_run }) => {
            let app = Application::build(settings).await?;
            let state = app.state();
            let t = retention::find_tenant(&app, &tenant)?;
            let n = state
                .bookings
                .invoice_earlier_orders(&t.config, !dry_run)
                .await?;
            let orders = if n == 1 { "order" } else { "orders" };
            if dry_run {
                println!(
                    "tenant `{tenant}`: {n} {orders} billed to an organisation without an invoice (none issued: --dry-run)"
                );
            } else {
                println!(
                    "tenant `{tenant}`: invoiced {n} {orders} billed to an organisation before invoices were issued"
                );
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { tenant }) => {
            let app = Application::build(settings).await?;
            let state = app.state();
            let t = retention::find_tenant(&app, &tenant)?;
            match state.privacy.verify_audit(&t.id).await? {
                privacy_engine::AuditCheck::Intact(n) => {
                    println!("tenant `{tenant}`: {n} audit events, the chain is intact");
                    Ok(())
                }
                privacy_engine::AuditCheck::BrokenAt(at) => anyhow::bail!(
                    "tenant `{tenant}`: the audit log is broken at event {at} (changed, removed \
                     or put in); events from there on cannot be trusted"
                ),
            }
        }
    }
}

async fn demo_admin(settings: Settings, tenant: &str, email: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !settings
            .database
            .url
            .as_ref()
            .is_some_and(|u| secrecy::ExposeSecret::expose_secret(u).starts_with("postgres")),
        "demo administrators are for the embedded default only; with PostgreSQL, sign up and \
         use `portal accounts grant-role`"
    );
    let app = Application::build(settings).await?;
    let state = app.state();
    let t = retention::find_tenant(&app, tenant)?;
    let admin = state
        .identity
        .create_demo_admin(&t.config, email)
        .await
        .map_err(|e| match e {
            identity::IdentityError::EmailTaken => {
                anyhow::anyhow!(
                    "`{email}` already has an account in `{tenant}`: pass another --email"
                )
            }
            identity::IdentityError::Invalid(errors) => anyhow::anyhow!(
                "the tenant's sign-up policy refuses the demo details: {}",
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            other => other.into(),
        })?;
    println!(
        "Demo administrator for {} ({tenant})",
        t.config.display_name
    );
    println!("  sign in at: {}/sign-in", app.base_url(&t.config));
    println!("  email:      {}", admin.email);
    println!("  password:   {}", admin.password);
    println!("  security code: any one of these recovery codes (each works once):");
    for code in &admin.recovery_codes {
        println!("    {code}");
    }
    println!(
        "  or add this setup key to an authenticator app: {}",
        admin.setup_key
    );
    Ok(())
}

async fn grant_role(
    settings: &Settings,
    tenant: &str,
    email: &str,
    role: &str,
    provider: Option<&str>,
) -> anyhow::Result<()> {
    use identity::domain::rights::Role;
    let role: Role = role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let db = connect(settings).await?;
    anyhow::ensure!(
        db.pending_migrations().await?.is_empty(),
        "the database needs migrations: run `portal migrate`"
    );
    let registry = storage::tenants::load_registry(&db).await?;
    let t = registry
        .iter()
        .find(|t| t.id.as_str() == tenant)
        .ok_or_else(|| anyhow::anyhow!("no tenant `{tenant}` in the database"))?;
    match (role, provider) {
        (Role::ProviderStaff, None) => {
            anyhow::bail!("provider staff need --provider (one of the tenant's provider ids)")
        }
        (Role::ProviderStaff, Some(p)) if !t.config.providers.iter().any(|x| x.id == p) => {
            anyhow::bail!("tenant `{tenant}` has no provider `{p}`")
        }
        (Role::TenantAdmin | Role::PrivacyOfficer, Some(_)) => {
            anyhow::bail!("--provider applies to provider staff only")
        }
        _ => {}
    }
    let identity = identity::Identity::new(
        db,
        identity::passwords::Hasher::new(1)?,
        identity::sessions::Sessions::new(identity::sessions::Kv::memory(), "cli"),
        storage::Clock::system(),
        crate::app::master_keys(settings)?,
        crate::app::key_store(settings).await?,
    );
    identity
        .grant_role(&t.id, email, role, provider)
        .await
        .map_err(|e| match e {
            identity::IdentityError::AccountNotFound => {
                anyhow::anyhow!("no account with email `{email}` in tenant `{tenant}`")
            }
            other => other.into(),
        })?;
    println!("{email} is now {} in {tenant}", role.as_str());
    Ok(())
}

/// Seeds the demonstration catalogue into empty tenants and says what it did.
async fn demo_data(app: &Application, only: Option<&str>) -> anyhow::Result<()> {
    let state = app.state();
    if let Some(slug) = only {
        anyhow::ensure!(
            state
                .registry
                .current()
                .iter()
                .any(|t| t.id.as_str() == slug),
            "no tenant `{slug}`: `portal tenants list` shows them"
        );
    }
    let operator = catalogue::domain::Manager::Operator { tool: "demo-data" };
    for t in state.registry.current().iter() {
        if only.is_some_and(|slug| slug != t.id.as_str()) {
            continue;
        }
        if !state.catalogue.is_empty(&t.id).await? {
            println!("{}: already has a catalogue, left alone", t.id);
            continue;
        }
        let done = catalogue::demo::seed(&state.catalogue, &t.config, &operator).await?;
        println!(
            "{}: {} courses and events with {} sessions, {} services",
            t.id, done.courses, done.sessions, done.services
        );
    }
    Ok(())
}

async fn serve(settings: Settings, with_demo_data: bool) -> anyhow::Result<()> {
    telemetry::init(&settings.telemetry);
    let listener = TcpListener::bind(settings.http.addr())
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.http.addr()))?;
    let port = listener.local_addr()?.port();
    let app = Application::build(settings).await?;
    if with_demo_data {
        demo_data(&app, None).await?;
    }
    for t in app.state().registry.current().iter() {
        if let Some(host) = t
            .config
            .hostnames
            .iter()
            .find(|h| h.ends_with(".localhost"))
        {
            tracing::info!(tenant = %t.id, "open http://{host}:{port}/");
        }
    }
    app.serve(listener, shutdown_signal()).await
}

async fn add_tenant(settings: Settings, dir: &std::path::Path) -> anyhow::Result<()> {
    // Checked before anything else starts: a folder with problems touches nothing.
    let loaded = crate::onboarding::read_folder(dir)?;
    // The configured folder is not imported here: only this one, after its checks.
    let app = Application::build_without_folders(settings).await?;
    let id = loaded.config.slug;
    match crate::onboarding::apply(app.state(), dir, chrono::Utc::now()).await? {
        crate::onboarding::Applied::Imported { notice } => {
            println!(
                "{id}: onboarded; serving now, and on every replica within seconds ({})",
                loaded.config.hostnames.join(", ")
            );
            if notice == crate::onboarding::NoticeState::Draft {
                println!(
                    "{id}: its privacy notice is a draft: it lacks items the ICO's checklist \
                     needs, listed for its administrators at /manage/privacy"
                );
            }
        }
        crate::onboarding::Applied::LogoReplaced => {
            println!("{id}: the folder's new logo replaces the old one; serving now");
        }
        crate::onboarding::Applied::Unchanged => {
            println!("{id}: the folder matches the configuration in force; nothing to do");
        }
        crate::onboarding::Applied::Drafted(sections) => println!(
            "{id}: the folder changes {}; these are now a draft of the privacy notice, in \
             force when the council's administrators publish it",
            sections.join(", ")
        ),
    }
    Ok(())
}

async fn list_tenants(settings: &Settings) -> anyhow::Result<()> {
    let db = connect(settings).await?;
    let pending = db.pending_migrations().await?;
    anyhow::ensure!(
        pending.is_empty(),
        "the database needs migrations: run `portal migrate`"
    );
    let folder = tenant_router::load::load_dir(&settings.tenants.dir).ok();
    let registry = storage::tenants::load_registry(&db).await?;
    for t in registry.iter() {
        let state = match folder
            .as_ref()
            .and_then(|f| f.iter().find(|l| l.config.slug == t.id))
        {
            None => "no folder",
            Some(l) if l.config == t.config => "matches its folder",
            Some(_) => "folder changed since import (not applied)",
        };
        println!("{}\t{}\t{}", t.id, t.config.display_name, state);
    }
    Ok(())
}
