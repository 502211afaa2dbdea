//! Tenants' data keys, kept apart from the data they protect.
//!
//! A tenant's data key wraps the subject keys under which its special-category values and
//! second-factor secrets are sealed ([`crate::crypto`]). The key, wrapped under the master
//! key, lives only in the **key store** (a folder, or an S3 bucket of its own, never the
//! data bucket); the database's `data_key` row names it. Destroying it in the key store
//! ([`Keyring::destroy`], when a council is offboarded) leaves every copy of the
//! tenant's encrypted values unreadable, database backups included.
//!
//! Keys are made at start-up and at onboarding ([`crate::Identity::ensure_tenant_key`], in a
//! transaction of their own, kept in memory once it commits), so requests only read
//! committed rows. A key made before the key store existed (wrapped in the `tenant_key`
//! table) is replaced at the next start-up: everything sealed under it is sealed again
//! under a new key in the key store, and the old row deleted. A replica whose key store
//! lacks the named key fails loudly rather than making another: replicas must share one
//! key store. When the master key is replaced, [`Keyring::rewrap`] wraps each key again
//! under the new one (see [`crate::crypto::MasterKeys`]).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use storage::{Objects, TenantTx};
use tenant_router::TenantId;

use crate::IdentityError;
use crate::crypto::{Key, MasterKeys, tenant_key_aad};
use crate::store::entity::{data_key, tenant_key};

/// The master key, the key store and the keys read so far.
pub struct Keyring {
    master: Arc<MasterKeys>,
    store: Objects,
    known: RwLock<HashMap<String, Arc<Key>>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").finish_non_exhaustive()
    }
}

/// What [`crate::Identity::rewrap_tenant_key`] found and did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rewrap {
    /// The tenant has no data key yet (start-up and onboarding make it, under the current
    /// master key).
    NoKey,
    /// Its data key was already wrapped under the current master key.
    Current,
    /// A previous master key wrapped it; now the current one does.
    Rewrapped,
}

fn object(key_id: &str) -> String {
    format!("data-key/{key_id}")
}

impl Keyring {
    /// Keys wrapped under `master`, kept in `store`.
    #[must_use]
    pub fn new(master: Arc<MasterKeys>, store: Objects) -> Self {
        Self {
            master,
            store,
            known: RwLock::default(),
        }
    }

    fn remembered(&self, tenant: &str) -> Option<Arc<Key>> {
        self.known.read().ok()?.get(tenant).cloned()
    }

    /// The transaction's tenant's data key. Only [`Keyring::ensure`] makes one (at
    /// start-up and onboarding), so a request only ever sees a committed row.
    ///
    /// # Errors
    /// When the tenant has no data key yet, the database or the key store fails, the key
    /// store does not hold the key the database names (destroyed, or this replica's store
    /// is not the others'), or it does not open under the master key.
    pub async fn tenant_key(
        &self,
        tx: &TenantTx,
        _now: DateTime<Utc>,
    ) -> Result<Arc<Key>, IdentityError> {
        let tenant = tx.tenant();
        if let Some(key) = self.remembered(tenant.as_str()) {
            return Ok(key);
        }
        let row = named(tx).await?.ok_or_else(|| {
            IdentityError::Internal(format!(
                "{tenant} has no data key yet (start-up and onboarding make it)"
            ))
        })?;
        let key = Arc::new(self.fetch(tenant, &row.key_id).await?);
        self.remember(tenant, &key);
        Ok(key)
    }

    /// Makes the transaction's tenant's data key if it has none, in the key store, named
    /// by a row in `tx`. A key from before the key store (wrapped in `tenant_key`) is not
    /// moved but **replaced**: everything sealed under it is sealed again under the new
    /// key and the old one deleted, so backups taken before, which still hold the old one,
    /// are not what keeps the new one alive. The caller commits, then calls
    /// [`Keyring::remember`].
    ///
    /// # Errors
    /// When the database or the key store fails, or a sealed value does not open.
    pub(crate) async fn ensure(
        &self,
        tx: &TenantTx,
        now: DateTime<Utc>,
    ) -> Result<Arc<Key>, IdentityError> {
        let tenant = tx.tenant();
        if let Some(row) = named(tx).await? {
            return Ok(Arc::new(self.fetch(tenant, &row.key_id).await?));
        }
        let aad = tenant_key_aad(tenant.as_str());
        let key = Key::generate()?;
        let key_id = uuid::Uuid::new_v4().to_string();
        // The key is in the store before the row that names it, so whoever sees the row
        // can fetch the key. A key whose row never commits protects nothing.
        self.store
            .put(
                tenant,
                &object(&key_id),
                self.master.wrap(&key, &aad)?,
                "application/octet-stream",
            )
            .await?;
        let inserted = data_key::Entity::insert(data_key::ActiveModel {
            tenant_id: Set(tenant.to_string()),
            key_id: Set(key_id.clone()),
            created_at: Set(now),
        })
        .on_conflict_do_nothing_on([data_key::Column::TenantId])
        .exec_without_returning(&**tx)
        .await?;
        if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
            let legacy = tenant_key::Entity::find()
                .filter(tenant_key::Column::TenantId.eq(tenant.as_str()))
                .one(&**tx)
                .await?;
            if let Some(row) = legacy {
                let (old, _) = self.master.unwrap_key(&row.wrapped, &aad)?;
                reseal(tx, &old, &key).await?;
                tenant_key::Entity::delete_many()
                    .filter(tenant_key::Column::TenantId.eq(tenant.as_str()))
                    .exec(&**tx)
                    .await?;
            }
            return Ok(Arc::new(key));
        }
        // Another replica named one first: use theirs.
        self.store.delete(tenant, &object(&key_id)).await?;
        let row = named(tx).await?.ok_or(IdentityError::Undecryptable)?;
        Ok(Arc::new(self.fetch(tenant, &row.key_id).await?))
    }

    async fn fetch(&self, tenant: &TenantId, key_id: &str) -> Result<Key, IdentityError> {
        let wrapped = self.stored(tenant, key_id).await?;
        Ok(self
            .master
            .unwrap_key(&wrapped, &tenant_key_aad(tenant.as_str()))?
            .0)
    }

    /// Wraps the transaction's tenant's data key under the current master key when a
    /// previous one wrapped it (after the master key is replaced). The object is replaced
    /// whole, so a replica reading it meanwhile gets the old wrapping or the new, and
    /// opens either while the previous key is still configured. The row naming the key
    /// stays locked until the caller commits: an offboarding deletes that row before it
    /// destroys the key, so it waits, and this never writes back a key being destroyed.
    ///
    /// # Errors
    /// When the database or the key store fails, the store lacks the key, or no
    /// configured master key opens it.
    pub(crate) async fn rewrap(&self, tx: &TenantTx) -> Result<Rewrap, IdentityError> {
        use sea_orm::QuerySelect as _;
        let tenant = tx.tenant();
        let row = data_key::Entity::find()
            .filter(data_key::Column::TenantId.eq(tenant.as_str()))
            .lock_exclusive()
            .one(&**tx)
            .await?;
        let Some(row) = row else {
            return Ok(Rewrap::NoKey);
        };
        let aad = tenant_key_aad(tenant.as_str());
        let (key, current) = self
            .master
            .unwrap_key(&self.stored(tenant, &row.key_id).await?, &aad)?;
        if current {
            return Ok(Rewrap::Current);
        }
        self.store
            .put(
                tenant,
                &object(&row.key_id),
                self.master.wrap(&key, &aad)?,
                "application/octet-stream",
            )
            .await?;
        Ok(Rewrap::Rewrapped)
    }

    /// The wrapped key `key_id` as the key store holds it.
    async fn stored(&self, tenant: &TenantId, key_id: &str) -> Result<Vec<u8>, IdentityError> {
        self.store
            .get(tenant, &object(key_id))
            .await?
            .ok_or_else(|| {
                IdentityError::Internal(format!(
                    "the key store does not hold {tenant}'s data key {key_id} (destroyed, \
                     or this replica's key store is not the one the others use)"
                ))
            })
    }

    /// Keeps `key` in memory for `tenant` (once the row naming it is committed).
    pub(crate) fn remember(&self, tenant: &TenantId, key: &Arc<Key>) {
        if let Ok(mut known) = self.known.write() {
            known.insert(tenant.to_string(), Arc::clone(key));
        }
    }

    /// Destroys every key the tenant has in the key store and forgets it here; returns
    /// how many there were. Nothing sealed under them opens again, in any copy.
    ///
    /// # Errors
    /// When the key store fails (running it again finishes the rest).
    pub async fn destroy(&self, tenant: &TenantId) -> Result<usize, IdentityError> {
        if let Ok(mut known) = self.known.write() {
            known.remove(tenant.as_str());
        }
        Ok(self.store.delete_all(tenant).await?)
    }
}

async fn named(tx: &TenantTx) -> Result<Option<data_key::Model>, IdentityError> {
    Ok(data_key::Entity::find()
        .filter(data_key::Column::TenantId.eq(tx.tenant().as_str()))
        .one(&**tx)
        .await?)
}

/// Seals again, under `new`, everything of the transaction's tenant sealed under `old`:
/// each person's subject key and each second-factor secret (in force or being set up).
async fn reseal(tx: &TenantTx, old: &Key, new: &Key) -> Result<(), IdentityError> {
    use crate::crypto::{TOTP_FIELD, field_aad, subject_key_aad};
    use crate::store::entity::{account_secret, account_totp, account_totp_pending};
    use sea_orm::{ActiveModelTrait as _, IntoActiveModel as _};
    let tenant = tx.tenant().as_str();
    for row in account_secret::Entity::find()
        .filter(account_secret::Column::TenantId.eq(tenant))
        .all(&**tx)
        .await?
    {
        let aad = subject_key_aad(tenant, &row.account_id);
        let subject = old.unwrap_key(&row.subject_key, &aad)?;
        let wrapped = new.wrap(&subject, &aad)?;
        let mut m = row.into_active_model();
        m.subject_key = Set(wrapped);
        m.update(&**tx).await?;
    }
    // A second-factor secret, in force or being set up: the same columns in both tables.
    macro_rules! reseal_totp {
        ($table:ident) => {
            for row in $table::Entity::find()
                .filter($table::Column::TenantId.eq(tenant))
                .all(&**tx)
                .await?
            {
                let aad = field_aad(tenant, &row.account_id, TOTP_FIELD);
                let sealed = new.seal(&old.open(&row.secret_sealed, &aad)?, &aad)?;
                let mut m = row.into_active_model();
                m.secret_sealed = Set(sealed);
                m.update(&**tx).await?;
            }
        };
    }
    reseal_totp!(account_totp);
    reseal_totp!(account_totp_pending);
    Ok(())
}
