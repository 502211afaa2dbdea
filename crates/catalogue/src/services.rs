//! Traded services and SLAs: reading, creating, changing, publishing and cancelling them,
//! and the SLAs a course can be covered by.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, IntoActiveModel as _,
    QueryFilter as _, QueryOrder as _, Set,
};
use storage::TenantTx;
use tenant_router::config::ProviderKind;
use tenant_router::{TenantConfig, TenantId};

use crate::CatalogueError;
use crate::domain::service::{self as traded, ServiceFields, ValidService};
use crate::domain::{Manager, Status, join_list, markdown};
use crate::store::entity::{service_price_band, traded_service};

use crate::Catalogue;
use crate::service::*;

impl Catalogue {
    /// A service and its bands; drafts only for their managers.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`]; database failures.
    pub async fn service(
        &self,
        tenant: &TenantId,
        id: &str,
        viewer: Option<&Manager>,
    ) -> Result<ServiceDetail, CatalogueError> {
        // Published, for visitors: from memory. A manager (who may be about to edit it)
        // reads the database.
        if viewer.is_none()
            && let Some(d) = self.published(tenant).await?.service(id)
        {
            return Ok(d.clone());
        }
        let tx = self.db.tenant_tx(tenant).await?;
        let s = find_service(&tx, id).await?;
        visible_to(viewer, &s.status, &s.provider_id)?;
        let bands = bands_of(&tx, id).await?;
        tx.rollback().await?;
        Ok(ServiceDetail { service: s, bands })
    }

    async fn managed_service(
        tx: &TenantTx,
        manager: &Manager,
        id: &str,
    ) -> Result<traded_service::Model, CatalogueError> {
        let s = find_service(tx, id).await?;
        owned_by(manager, &s.provider_id)?;
        Ok(s)
    }

    /// Creates a draft service.
    ///
    /// # Errors
    /// [`CatalogueError::Invalid`]; database failures.
    pub async fn create_service(
        &self,
        cfg: &TenantConfig,
        manager: &Manager,
        fields: &ServiceFields,
    ) -> Result<String, CatalogueError> {
        let valid = traded::validate(cfg, manager, fields).map_err(CatalogueError::Invalid)?;
        crate::domain::provider_offers(cfg, &valid.provider_id, None, ProviderKind::Services)
            .map_err(CatalogueError::Invalid)?;
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let now = self.clock.now();
        let id = uuid::Uuid::now_v7().to_string();
        let mut row = traded_service::ActiveModel {
            tenant_id: Set(cfg.slug.to_string()),
            id: Set(id.clone()),
            status: Set(Status::Draft.as_str().to_owned()),
            created_at: Set(now),
            published_at: Set(None),
            ..Default::default()
        };
        apply_service(&mut row, &valid, now);
        row.insert(&*tx).await?;
        replace_bands(&tx, &id, &valid).await?;
        self.audit(
            &tx,
            manager,
            "service.created",
            &id,
            serde_json::json!({"provider": valid.provider_id}),
        )
        .await?;
        tx.commit().await?;
        self.changed(&cfg.slug);
        Ok(id)
    }

    /// Replaces a service's details and bands.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`]; [`CatalogueError::Invalid`]; a conflict when cancelled.
    pub async fn update_service(
        &self,
        cfg: &TenantConfig,
        manager: &Manager,
        id: &str,
        fields: &ServiceFields,
    ) -> Result<(), CatalogueError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let s = Self::managed_service(&tx, manager, id).await?;
        if Status::parse(&s.status) == Status::Cancelled {
            return Err(CANCELLED);
        }
        let valid = traded::validate(cfg, manager, fields).map_err(CatalogueError::Invalid)?;
        crate::domain::provider_offers(
            cfg,
            &valid.provider_id,
            Some(&s.provider_id),
            ProviderKind::Services,
        )
        .map_err(CatalogueError::Invalid)?;
        let now = self.clock.now();
        let mut row = s.into_active_model();
        apply_service(&mut row, &valid, now);
        row.update(&*tx).await?;
        replace_bands(&tx, id, &valid).await?;
        self.audit(
            &tx,
            manager,
            "service.updated",
            id,
            serde_json::json!({"provider": valid.provider_id}),
        )
        .await?;
        tx.commit().await?;
        self.changed(&cfg.slug);
        Ok(())
    }

    /// Publishes or cancels a service (`publish` true or false). Publishing needs a period
    /// that has not ended.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`]; [`CatalogueError::Invalid`]; a conflict when cancelled.
    pub async fn set_service_status(
        &self,
        tenant: &TenantId,
        manager: &Manager,
        id: &str,
        publish: bool,
    ) -> Result<(), CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let s = Self::managed_service(&tx, manager, id).await?;
        let now = self.clock.now();
        let current = Status::parse(&s.status);
        let target = if publish {
            Status::Published
        } else {
            Status::Cancelled
        };
        if current == target {
            return Ok(());
        }
        if current == Status::Cancelled {
            return Err(CANCELLED);
        }
        if publish && s.period_end < now.date_naive() {
            return Err(invalid(
                "period_end",
                "The service's period has ended: change it before publishing",
            ));
        }
        let mut row = s.into_active_model();
        row.status = Set(target.as_str().to_owned());
        if publish {
            row.published_at = Set(Some(now));
        }
        row.updated_at = Set(now);
        row.update(&*tx).await?;
        let action = if publish {
            "service.published"
        } else {
            "service.cancelled"
        };
        self.audit(&tx, manager, action, id, serde_json::json!({}))
            .await?;
        tx.commit().await?;
        self.changed(tenant);
        Ok(())
    }

    /// Services a course can name as the SLA that covers it: every service of the tenant
    /// that is not cancelled, as (id, title).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn sla_choices(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<(String, String)>, CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let rows = traded_service::Entity::find()
            .filter(traded_service::Column::TenantId.eq(tenant.as_str()))
            .filter(traded_service::Column::Status.ne(Status::Cancelled.as_str()))
            .order_by_asc(traded_service::Column::Title)
            .all(&*tx)
            .await?;
        tx.rollback().await?;
        Ok(rows.into_iter().map(|s| (s.id, s.title)).collect())
    }
}

pub(crate) fn apply_service(
    row: &mut traded_service::ActiveModel,
    v: &ValidService,
    now: DateTime<Utc>,
) {
    row.provider_id = Set(v.provider_id.clone());
    row.title = Set(v.title.clone());
    row.summary = Set(v.summary.clone());
    row.description = Set(v.description.clone());
    row.description_html = Set(markdown::to_safe_html(&v.description));
    row.audiences = Set(join_list(&v.audiences));
    row.period_start = Set(v.period_start);
    row.period_end = Set(v.period_end);
    row.term = Set(v.term.clone());
    row.updated_at = Set(now);
}

pub(crate) async fn replace_bands(
    tx: &TenantTx,
    id: &str,
    v: &ValidService,
) -> Result<(), CatalogueError> {
    service_price_band::Entity::delete_many()
        .filter(service_price_band::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(service_price_band::Column::ServiceId.eq(id))
        .exec(&**tx)
        .await?;
    let rows: Vec<_> = v
        .price_bands
        .iter()
        .zip(0..)
        .map(|(b, position)| service_price_band::ActiveModel {
            tenant_id: Set(tx.tenant().to_string()),
            service_id: Set(id.to_owned()),
            position: Set(position),
            label: Set(b.label.clone()),
            price_pence: Set(b.price_pence),
        })
        .collect();
    service_price_band::Entity::insert_many(rows)
        .exec_without_returning(&**tx)
        .await?;
    Ok(())
}
