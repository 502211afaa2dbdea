//! Tenants as rows. A tenant folder is imported the first time it is seen; after that the
//! database is the running truth and start-up never overwrites a row. A changed file is
//! reported, not applied: the server turns it into a draft of the tenant's privacy notice,
//! which takes effect when the tenant's administrators publish it.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait, TryInsertResult};
use sha2::{Digest, Sha256};
use tenant_router::load::LoadedTenant;
use tenant_router::{TenantConfig, TenantContext, TenantId, TenantRegistry, logo_content_type};

use crate::audit::{self, AuditEntry};
use crate::entity::{offboarded_tenant, tenant};
use crate::{Db, StorageError};

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Tenants created from their folder.
    pub imported: Vec<TenantId>,
    /// Tenants already in the database whose row matches the folder.
    pub unchanged: Vec<TenantId>,
    /// Tenants already in the database whose folder now differs (not applied).
    pub changed: Vec<TenantId>,
    /// Tenants in the database with no folder (kept).
    pub without_folder: Vec<TenantId>,
    /// New folders not imported: a hostname another tenant in the database answers to.
    pub refused: Vec<(TenantId, String)>,
}

/// Imports every tenant not yet in the database. Safe to run from several replicas at once:
/// a row another replica inserted first is left alone.
///
/// # Errors
/// [`StorageError`] when the database fails; tenants imported before the failure stay.
pub async fn import_new(
    db: &Db,
    loaded: &[LoadedTenant],
    now: DateTime<Utc>,
) -> Result<ImportReport, StorageError> {
    let existing = tenant::Entity::find().all(db.platform()).await?;
    let gone = offboarded(db).await?;
    let mut report = ImportReport::default();
    for t in loaded {
        let id = t.config.slug.clone();
        if let Some(left) = gone.iter().find(|g| g.id == id.as_str()) {
            report.refused.push((
                id,
                format!(
                    "{} was offboarded on {}; a council that has left does not come back \
                     under its old slug (remove its folder, or give it a new slug)",
                    left.id,
                    left.offboarded_at.format("%-d %B %Y")
                ),
            ));
            continue;
        }
        let digest = fingerprint(&t.config, t.logo.as_deref())?;
        match existing.iter().find(|row| row.id == id.as_str()) {
            Some(row) if row.config_sha256 == digest => report.unchanged.push(id),
            Some(_) => report.changed.push(id),
            None => {
                if let Some(why) = host_taken(&existing, &t.config) {
                    report.refused.push((id, why));
                    continue;
                }
                match insert(db, t, &digest, now).await {
                    Ok(true) => report.imported.push(id),
                    Ok(false) => report.unchanged.push(id),
                    // Claimed since `existing` was read, or by another folder of this import.
                    Err(StorageError::HostnameTaken(hosts)) => report.refused.push((
                        id,
                        format!("another council already answers to one of {hosts}"),
                    )),
                    Err(e) => return Err(e),
                }
            }
        }
    }
    for row in existing
        .iter()
        .filter(|r| !gone.iter().any(|g| g.id == r.id))
    {
        if !loaded.iter().any(|t| t.config.slug.as_str() == row.id)
            && let Ok(id) = row.id.parse()
        {
            report.without_folder.push(id);
        }
    }
    Ok(report)
}

/// The councils that have left (or are leaving: their archive is still being made), in
/// the order they left.
///
/// # Errors
/// [`StorageError::Db`] when the query fails.
pub async fn offboarded(db: &Db) -> Result<Vec<offboarded_tenant::Model>, StorageError> {
    use sea_orm::QueryOrder as _;
    Ok(offboarded_tenant::Entity::find()
        .order_by_asc(offboarded_tenant::Column::OffboardedAt)
        .all(db.platform())
        .await?)
}

/// Replaces the tenant's logo (an operator re-applied its folder with a new one; the
/// configuration, which names the file, is unchanged). Returns whether a row changed.
///
/// # Errors
/// [`StorageError::Db`] when a statement fails, [`StorageError::CorruptTenant`] when the
/// stored configuration no longer parses.
pub async fn replace_logo(
    db: &Db,
    id: &TenantId,
    logo: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    use sea_orm::{ActiveModelTrait as _, IntoActiveModel as _};
    let tx = db.system_tx(id).await?;
    let Some(row) = tenant::Entity::find_by_id(id.as_str()).one(&*tx).await? else {
        return Ok(false);
    };
    let cfg: TenantConfig =
        serde_json::from_str(&row.config).map_err(|e| StorageError::CorruptTenant {
            tenant: row.id.clone(),
            message: e.to_string(),
        })?;
    let digest = fingerprint(&cfg, logo)?;
    let before = row.config_sha256.clone();
    let mut active = row.into_active_model();
    active.logo = Set(logo.map(<[u8]>::to_vec));
    active.logo_content_type = Set(cfg
        .branding
        .logo
        .as_deref()
        .map(|n| logo_content_type(n).to_owned()));
    active.config_sha256 = Set(digest.clone());
    active.updated_at = Set(now);
    active.update(&*tx).await?;
    audit::record(
        &tx,
        now,
        AuditEntry {
            actor: "operator:tenant-folder",
            action: "tenant.logo_replaced",
            subject: id.as_str(),
            detail: serde_json::json!({ "config_sha256": digest, "before": before }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The tenant row of `id`, if there is one.
///
/// # Errors
/// [`StorageError::Db`] when the query fails.
pub async fn row(db: &Db, id: &TenantId) -> Result<Option<tenant::Model>, StorageError> {
    Ok(tenant::Entity::find_by_id(id.as_str())
        .one(db.platform())
        .await?)
}

/// The record of `id`'s offboarding, if it has begun.
///
/// # Errors
/// [`StorageError::Db`] when the query fails.
pub async fn offboarding(
    db: &Db,
    id: &TenantId,
) -> Result<Option<offboarded_tenant::Model>, StorageError> {
    Ok(offboarded_tenant::Entity::find_by_id(id.as_str())
        .one(db.platform())
        .await?)
}

/// Records that the council of `row` is leaving: from now on no registry loads it.
///
/// # Errors
/// [`StorageError::Db`] when the insert fails (it has already begun, say).
pub async fn begin_offboarding(
    db: &Db,
    row: &tenant::Model,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    use sea_orm::ActiveModelTrait as _;
    let config: serde_json::Value = serde_json::from_str(&row.config).unwrap_or_default();
    let tx = db.platform_tx().await?;
    offboarded_tenant::ActiveModel {
        id: Set(row.id.clone()),
        display_name: Set(row.display_name.clone()),
        hostnames: Set(config["hostnames"].to_string()),
        archive: Set(String::new()),
        archive_sha256: Set(String::new()),
        counts: Set("{}".to_owned()),
        offboarded_at: Set(now),
    }
    .insert(&*tx)
    .await?;
    tx.commit().await
}

/// In the transaction that deleted the tenant's rows: deletes its tenant row and records
/// where its archive went and what was removed.
///
/// # Errors
/// [`StorageError::Db`] when a statement fails, [`StorageError::CorruptTenant`] when the
/// offboarding was never begun.
pub async fn finish_offboarding(
    tx: &crate::TenantTx,
    archive: &str,
    archive_sha256: &str,
    counts: &str,
) -> Result<(), StorageError> {
    use sea_orm::{ActiveModelTrait as _, IntoActiveModel as _};
    let id = tx.tenant().as_str();
    tenant::Entity::delete_by_id(id).exec(&**tx).await?;
    let mut record = offboarded_tenant::Entity::find_by_id(id)
        .one(&**tx)
        .await?
        .ok_or_else(|| StorageError::CorruptTenant {
            tenant: id.to_owned(),
            message: "its offboarding was never begun".to_owned(),
        })?
        .into_active_model();
    record.archive = Set(archive.to_owned());
    record.archive_sha256 = Set(archive_sha256.to_owned());
    record.counts = Set(counts.to_owned());
    record.update(&**tx).await?;
    Ok(())
}

/// Whether another tenant row already answers to one of `cfg`'s hostnames.
fn host_taken(rows: &[tenant::Model], cfg: &TenantConfig) -> Option<String> {
    rows.iter()
        .filter(|r| r.id != cfg.slug.as_str())
        .find_map(|r| {
            let theirs: serde_json::Value = serde_json::from_str(&r.config).ok()?;
            let h = cfg.hostnames.iter().find(|h| {
                theirs["hostnames"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(h.as_str())))
            })?;
            Some(format!("the hostname `{h}` is already {}'s", r.id))
        })
}

async fn insert(
    db: &Db,
    t: &LoadedTenant,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let cfg = &t.config;
    let json = to_json(cfg)?;
    let tx = db.system_tx(&cfg.slug).await?;
    let row = tenant::ActiveModel {
        id: Set(cfg.slug.to_string()),
        display_name: Set(cfg.display_name.clone()),
        config: Set(json),
        config_sha256: Set(digest.to_owned()),
        logo: Set(t.logo.clone()),
        logo_content_type: Set(cfg
            .branding
            .logo
            .as_deref()
            .map(|n| logo_content_type(n).to_owned())),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let inserted = tenant::Entity::insert(row)
        .on_conflict_do_nothing_on([tenant::Column::Id])
        .exec_without_returning(&*tx)
        .await?;
    if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        if let Err(e) = claim_hostnames(&tx, cfg).await {
            tx.rollback().await?;
            return Err(e);
        }
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: "system",
                action: "tenant.imported",
                subject: cfg.slug.as_str(),
                detail: serde_json::json!({
                    "file": t.file.display().to_string(),
                    "config_sha256": digest,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    } else {
        Ok(false)
    }
}

/// Records the transaction's tenant as the one answering to each of `cfg`'s hostnames,
/// replacing what it answered to before. The database holds each hostname for one tenant
/// (`tenant_hostname`'s unique index), so of two claims made at once (two operators, two
/// replicas) the second fails, whatever either read before: a claim another transaction
/// is making waits for it, and is refused if it commits.
///
/// # Errors
/// [`StorageError::HostnameTaken`], naming the hostnames another tenant holds (the
/// caller's transaction is then to be rolled back); [`StorageError::Db`] otherwise.
async fn claim_hostnames(tx: &crate::TenantTx, cfg: &TenantConfig) -> Result<(), StorageError> {
    use sea_orm::ConnectionTrait as _;
    let mut gone = crate::sql::Sql::default();
    let t = gone.bind(tx.tenant().as_str());
    gone.text = format!("DELETE FROM tenant_hostname WHERE tenant_id = {t}");
    gone.execute(tx).await?;
    if cfg.hostnames.is_empty() {
        return Ok(());
    }
    let mut sql = crate::sql::Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let rows: Vec<String> = cfg
        .hostnames
        .iter()
        .map(|h| format!("({t}, {})", sql.bind(h.as_str())))
        .collect();
    // Its own rows are gone: a hostname not written back is another tenant's.
    sql.text = format!(
        "INSERT INTO tenant_hostname (tenant_id, hostname) VALUES {} \
         ON CONFLICT (hostname) DO NOTHING RETURNING hostname",
        rows.join(", ")
    );
    let written = (**tx)
        .query_all_raw(sql.statement((**tx).get_database_backend()))
        .await?
        .iter()
        .map(|r| r.try_get::<String>("", "hostname"))
        .collect::<Result<Vec<_>, _>>()?;
    let taken: Vec<String> = cfg
        .hostnames
        .iter()
        .filter(|h| !written.contains(h))
        .map(|h| format!("`{h}`"))
        .collect();
    if taken.is_empty() {
        Ok(())
    } else {
        Err(StorageError::HostnameTaken(taken.join(", ")))
    }
}

/// Builds the running registry from the tenant rows, re-validating each. A row that
/// claims a host another row has is set aside with an error logged (that council is not
/// served) rather than failing every council; one that fails a check added since it was
/// stored is served, with an error logged per problem.
///
/// # Errors
/// [`StorageError::Db`] when a statement fails, [`StorageError::CorruptTenant`] for a row
/// that does not read, [`StorageError::Registry`] when the registry cannot be built.
pub async fn load_registry(db: &Db) -> Result<TenantRegistry, StorageError> {
    use sea_orm::QueryOrder as _;
    let rows = tenant::Entity::find()
        .order_by_asc(tenant::Column::CreatedAt)
        .order_by_asc(tenant::Column::Id)
        .all(db.platform())
        .await?;
    let gone = offboarded(db).await?;
    let mut contexts: Vec<TenantContext> = Vec::with_capacity(rows.len());
    for row in rows {
        // A council being offboarded stops being served first.
        if gone.iter().any(|g| g.id == row.id) {
            continue;
        }
        // A stored configuration that does not read (one a newer release wrote, read by a
        // replica not yet upgraded) fails the load: a reload then keeps the registry
        // running, and start-up stops with the council named.
        let config: TenantConfig =
            serde_json::from_str(&row.config).map_err(|e| StorageError::CorruptTenant {
                tenant: row.id.clone(),
                message: e.to_string(),
            })?;
        // One that fails a check added since it was stored is still served, loudly: it
        // was in force, and its correction (the operator applies the corrected folder,
        // which becomes a notice draft) goes through the council's next publication,
        // which is refused until the checks pass.
        for p in config.validate() {
            tracing::error!(tenant = %row.id, key = %p.key, problem = %p.message, "tenant configuration fails a check: apply its corrected folder and publish the draft");
        }
        let logo = match (row.logo, row.logo_content_type.as_deref()) {
            (Some(bytes), Some(ct)) => Some((logo_content_type(ct_to_name(ct)), bytes)),
            _ => None,
        };
        // Two rows claiming one host (a race between two onboardings, say) must not take
        // every tenant down: the later one is set aside, loudly, until an operator fixes it.
        if let Some(h) = config
            .hostnames
            .iter()
            .find(|h| contexts.iter().any(|c| c.config.hostnames.contains(h)))
        {
            tracing::error!(tenant = %config.slug, hostname = %h, "tenant set aside: another tenant already answers to this hostname");
            continue;
        }
        contexts.push(TenantContext {
            id: config.slug.clone(),
            config,
            logo,
        });
    }
    Ok(TenantRegistry::new(contexts)?)
}

fn ct_to_name(content_type: &str) -> &'static str {
    if content_type == "image/svg+xml" {
        "logo.svg"
    } else {
        "logo.png"
    }
}

fn to_json(cfg: &TenantConfig) -> Result<String, StorageError> {
    serde_json::to_string(cfg).map_err(|e| StorageError::CorruptTenant {
        tenant: cfg.slug.to_string(),
        message: e.to_string(),
    })
}

/// SHA-256 of the configuration (as canonical JSON) and logo: equal for files that differ
/// only in layout or comments.
///
/// # Errors
/// [`StorageError::CorruptTenant`] if the configuration cannot be serialised.
pub fn fingerprint(cfg: &TenantConfig, logo: Option<&[u8]>) -> Result<String, StorageError> {
    let mut h = Sha256::new();
    h.update(to_json(cfg)?.as_bytes());
    if let Some(l) = logo {
        h.update(l);
    }
    Ok(hex::encode(h.finalize()))
}

/// Puts a new configuration in force for the transaction's tenant (a published privacy
/// notice's). Other replicas notice the change through [`last_changed`].
///
/// # Errors
/// [`StorageError::CorruptTenant`] when the tenant has no row,
/// [`StorageError::HostnameTaken`] when another tenant has claimed one of its hostnames
/// since the draft was made, [`StorageError::Db`] when the update fails; the caller's
/// transaction is then to be rolled back.
pub async fn put_in_force(
    tx: &crate::TenantTx,
    cfg: &TenantConfig,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    use sea_orm::ActiveModelTrait as _;
    let row = tenant::Entity::find_by_id(tx.tenant().to_string())
        .one(&**tx)
        .await?
        .ok_or_else(|| StorageError::CorruptTenant {
            tenant: tx.tenant().to_string(),
            message: "no tenant row".to_owned(),
        })?;
    let digest = fingerprint(cfg, row.logo.as_deref())?;
    let mut active: tenant::ActiveModel = row.into();
    active.display_name = Set(cfg.display_name.clone());
    active.config = Set(to_json(cfg)?);
    active.config_sha256 = Set(digest);
    active.updated_at = Set(now);
    active.update(&**tx).await?;
    claim_hostnames(tx, cfg).await
}

/// Where the tenant rows stand: when any last changed, how many there are, and how many
/// councils have left. A replica that read the registry at another standing reloads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The latest `updated_at` of any tenant row.
    pub last_changed: Option<DateTime<Utc>>,
    /// Tenant rows.
    pub tenants: i64,
    /// Offboarded (or offboarding) councils.
    pub offboarded: i64,
}

/// The tenant rows' [`Standing`].
///
/// # Errors
/// [`StorageError::Db`] when the query fails.
pub async fn standing(db: &Db) -> Result<Standing, StorageError> {
    use sea_orm::{ColumnTrait as _, PaginatorTrait as _, QuerySelect as _};
    let (last_changed, tenants) = tenant::Entity::find()
        .select_only()
        .column_as(tenant::Column::UpdatedAt.max(), "last")
        .column_as(tenant::Column::Id.count(), "n")
        .into_tuple::<(Option<DateTime<Utc>>, i64)>()
        .one(db.platform())
        .await?
        .unwrap_or((None, 0));
    let offboarded = offboarded_tenant::Entity::find()
        .count(db.platform())
        .await?;
    Ok(Standing {
        last_changed,
        tenants,
        offboarded: i64::try_from(offboarded).unwrap_or(i64::MAX),
    })
}
