//! Resources: upload to object storage, list, download (public or signed-in only), delete.
//! The row and the object are written so a failure never leaves a row without its file.

use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    Set,
};
use storage::TenantTx;
use tenant_router::{TenantConfig, TenantId};

use crate::domain::Manager;
use crate::domain::resource::{self, Access, Upload};
use crate::store::entity::resource as entity;
use crate::{Catalogue, CatalogueError};

async fn find(tx: &TenantTx, id: &str) -> Result<entity::Model, CatalogueError> {
    entity::Entity::find()
        .filter(entity::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(entity::Column::Id.eq(id))
        .one(&**tx)
        .await?
        .ok_or(CatalogueError::NotFound)
}

impl Catalogue {
    /// Every resource of the tenant (or of one provider), newest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn resources(
        &self,
        tenant: &TenantId,
        provider: Option<&str>,
    ) -> Result<Vec<entity::Model>, CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let mut q = entity::Entity::find()
            .filter(entity::Column::TenantId.eq(tenant.as_str()))
            .order_by_desc(entity::Column::CreatedAt);
        if let Some(p) = provider {
            q = q.filter(entity::Column::ProviderId.eq(p));
        }
        let rows = q.all(&*tx).await?;
        tx.rollback().await?;
        Ok(rows)
    }

    /// A resource's description and bytes. Signed-in-only resources need `signed_in`.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`] (also for another tenant's id);
    /// [`CatalogueError::SignInRequired`]; storage failures.
    pub async fn download(
        &self,
        tenant: &TenantId,
        id: &str,
        signed_in: bool,
    ) -> Result<(entity::Model, Vec<u8>), CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let row = find(&tx, id).await?;
        tx.rollback().await?;
        if Access::parse(&row.access) == Access::SignedIn && !signed_in {
            return Err(CatalogueError::SignInRequired);
        }
        let bytes = self
            .objects
            .get(tenant, &row.object_key)
            .await?
            .ok_or(CatalogueError::NotFound)?;
        Ok((row, bytes))
    }

    /// Uploads a resource: the file goes to object storage first, then the row and its
    /// audit event in one transaction; if that fails the file is removed again.
    ///
    /// # Errors
    /// [`CatalogueError::Invalid`]; storage failures.
    pub async fn upload(
        &self,
        cfg: &TenantConfig,
        manager: &Manager,
        upload: Upload,
    ) -> Result<String, CatalogueError> {
        let v = resource::validate(cfg, manager, &upload).map_err(CatalogueError::Invalid)?;
        let id = uuid::Uuid::now_v7().to_string();
        let key = format!("resources/{id}/file.{}", v.extension);
        let size = i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX);
        self.objects
            .put(&cfg.slug, &key, upload.bytes, v.content_type)
            .await?;
        let saved = async {
            let tx = self.db.tenant_tx(&cfg.slug).await?;
            let now = self.clock.now();
            entity::ActiveModel {
                tenant_id: Set(cfg.slug.to_string()),
                id: Set(id.clone()),
                provider_id: Set(v.provider_id.clone()),
                title: Set(v.title),
                summary: Set(v.summary),
                access: Set(v.access.as_str().to_owned()),
                file_name: Set(v.file_name),
                content_type: Set(v.content_type.to_owned()),
                size_bytes: Set(size),
                object_key: Set(key.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&*tx)
            .await?;
            self.audit(
                &tx,
                manager,
                "resource.uploaded",
                &id,
                serde_json::json!({"provider": v.provider_id, "bytes": size}),
            )
            .await?;
            tx.commit().await?;
            self.changed(&cfg.slug);
            Ok::<_, CatalogueError>(())
        }
        .await;
        if let Err(e) = saved {
            if let Err(cleanup) = self.objects.delete(&cfg.slug, &key).await {
                tracing::warn!(%cleanup, key, "could not remove the file of a failed upload");
            }
            return Err(e);
        }
        Ok(id)
    }

    /// Deletes a resource the manager manages: the row (audited) first, then the file.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`]; storage failures.
    pub async fn delete_resource(
        &self,
        tenant: &TenantId,
        manager: &Manager,
        id: &str,
    ) -> Result<(), CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let row = find(&tx, id).await?;
        crate::service::owned_by(manager, &row.provider_id)?;
        entity::Entity::delete_many()
            .filter(entity::Column::TenantId.eq(tenant.as_str()))
            .filter(entity::Column::Id.eq(id))
            .exec(&*tx)
            .await?;
        self.audit(&tx, manager, "resource.deleted", id, serde_json::json!({}))
            .await?;
        tx.commit().await?;
        self.changed(tenant);
        self.objects.delete(tenant, &row.object_key).await?;
        Ok(())
    }
}
