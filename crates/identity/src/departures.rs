//! A tenant's keys at its start and its end: the data key made at start-up and onboarding,
//! and what goes when a council is offboarded (its data key, its sessions), with the
//! special requirements its archive carries.

use storage::TenantTx;
use tenant_router::TenantId;

use crate::store;
use crate::{Identity, IdentityError};

impl Identity {
    /// Makes the tenant's data key now if it has none (an onboarded tenant starts with its
    /// own key, wrapped under the master key, in the key store), or replaces one made
    /// before the key store, which was kept in the database ([`crate::keyring`]).
    ///
    /// # Errors
    /// When the database or the key store fails, or the key does not open under the
    /// master key.
    pub async fn ensure_tenant_key(&self, tenant: &TenantId) -> Result<(), IdentityError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let key = self.keys.ensure(&tx, self.clock.now()).await?;
        tx.commit().await?;
        self.keys.remember(tenant, &key);
        Ok(())
    }

    /// Wraps the tenant's data key again under the current master key when a previous
    /// master key wrapped it: the step of replacing the master key that `portal keys
    /// rewrap` takes for every tenant (see [`crate::crypto::MasterKeys`]).
    ///
    /// # Errors
    /// When the database or the key store fails, or no configured master key opens the
    /// tenant's key ([`IdentityError::Undecryptable`]).
    pub async fn rewrap_tenant_key(
        &self,
        tenant: &TenantId,
    ) -> Result<crate::Rewrap, IdentityError> {
        // As the connecting role: it locks the row naming the key (see `Keyring::rewrap`).
        let tx = self.db.system_tx(tenant).await?;
        let done = self.keys.rewrap(&tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Destroys the tenant's data key in the key store (a council offboarded): every
    /// value sealed under it, in the database and in every backup of it, stays unreadable.
    /// Returns how many keys the store held for it.
    ///
    /// # Errors
    /// When the key store fails; running it again finishes the rest.
    pub async fn destroy_tenant_keys(&self, tenant: &TenantId) -> Result<usize, IdentityError> {
        self.keys.destroy(tenant).await
    }

    /// Every special requirement recorded in the transaction's tenant, decrypted, as
    /// `(account id, text)`: for the archive an offboarded council takes with it.
    ///
    /// # Errors
    /// When the database fails or a value does not open.
    pub async fn all_special_requirements(
        &self,
        tx: &TenantTx,
    ) -> Result<Vec<(String, String)>, IdentityError> {
        use crate::store::entity::account_secret;
        use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
        let rows = account_secret::Entity::find()
            .filter(account_secret::Column::TenantId.eq(tx.tenant().as_str()))
            .filter(account_secret::Column::SpecialRequirements.is_not_null())
            .order_by_asc(account_secret::Column::AccountId)
            .all(&**tx)
            .await?;
        let now = self.clock.now();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(text) =
                store::secrets::special_requirements(tx, &self.keys, &row.account_id, now).await?
            {
                out.push((row.account_id, text));
            }
        }
        Ok(out)
    }

    /// Forgets the tenant's sessions and sign-in counters (a council offboarded).
    ///
    /// # Errors
    /// When the session store fails.
    pub async fn forget_tenant_sessions(&self, tenant: &TenantId) -> Result<usize, IdentityError> {
        self.sessions.forget_tenant(tenant).await
    }
}
