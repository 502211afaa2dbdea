//! The catalogue's operations: each opens one tenant transaction, checks who may do what,
//! writes, audits in the same transaction, and commits (or changes nothing).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tenant_router::config::ProviderKind;

use chrono::{DateTime, Utc};
use identity::domain::rights::Role;
use identity::domain::signup::FieldError;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, IntoActiveModel as _,
    QueryFilter as _, QueryOrder as _, Set,
};
use storage::audit::{self, AuditEntry};
use storage::{Clock, Db, Objects, TenantTx};
use tenant_router::{TenantConfig, TenantId};

use crate::CatalogueError;
use crate::domain::course::{self, CourseFields, ValidCourse};
use crate::domain::query::CourseQuery;
use crate::domain::{Manager, Status, join_list, markdown};
use crate::store::entity::{course as course_e, course_session, traded_service};
pub(crate) use crate::store::rows::*;
use crate::store::search::{CourseRow, ServiceQuery, ServiceRow};

/// What a manager's dashboard lists.
#[derive(Debug, Clone, Default)]
pub struct Managed {
    /// Courses, newest change first.
    pub courses: Vec<course_e::Model>,
    /// Services, newest change first.
    pub services: Vec<traded_service::Model>,
}

/// The catalogue service.
#[derive(Clone)]
pub struct Catalogue {
    pub(crate) db: Db,
    pub(crate) clock: Clock,
    pub(crate) objects: Objects,
    /// Told of cancelled sessions inside the cancelling transaction (bookings cancels the
    /// places and tells the people).
    on_cancel: Option<Arc<dyn SessionsCancelled>>,
    /// Per tenant, bumped after every committed change, so the published catalogue in
    /// memory and caches of public pages keyed on it never serve this process a page older
    /// than its own last write, and one tenant's bookings never make another's rebuild.
    generations: Arc<std::sync::RwLock<std::collections::HashMap<String, Arc<AtomicU64>>>>,
    /// The published catalogue in memory, per tenant.
    published: Arc<crate::published::Models>,
}

/// What happens to bookings when sessions are cancelled; implemented by the bookings crate
/// (which the catalogue cannot name) and run inside the cancelling transaction.
#[async_trait::async_trait]
pub trait SessionsCancelled: Send + Sync {
    /// `sessions` of `course` have just been cancelled.
    ///
    /// # Errors
    /// Any failure rolls the cancellation back.
    async fn sessions_cancelled(
        &self,
        tx: &TenantTx,
        course: &course_e::Model,
        sessions: &[course_session::Model],
    ) -> Result<(), CatalogueError>;
}

pub(crate) fn invalid(field: &'static str, message: &str) -> CatalogueError {
    CatalogueError::Invalid(vec![FieldError {
        field,
        message: message.to_owned(),
    }])
}

pub(crate) const CANCELLED: CatalogueError = CatalogueError::Conflict {
    code: "cancelled",
    message: "This has been cancelled and can no longer be changed",
};

impl Catalogue {
    /// A catalogue over `db`, reading time from `clock`, keeping files in `objects`.
    #[must_use]
    pub fn new(db: Db, clock: Clock, objects: Objects) -> Self {
        Self {
            db,
            clock,
            objects,
            generations: Arc::default(),
            published: Arc::default(),
            on_cancel: None,
        }
    }

    /// The object store the platform keeps files in (resources here; certificates in the
    /// bookings crate).
    #[must_use]
    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// The same catalogue, telling `hook` of every session it cancels, in the same
    /// transaction (so a cancellation and its consequences commit together).
    #[must_use]
    pub fn with_on_cancel(mut self, hook: Arc<dyn SessionsCancelled>) -> Self {
        self.on_cancel = Some(hook);
        self
    }

    pub(crate) async fn cancelled(
        &self,
        tx: &TenantTx,
        course: &course_e::Model,
        sessions: Vec<course_session::Model>,
    ) -> Result<(), CatalogueError> {
        match &self.on_cancel {
            Some(hook) if !sessions.is_empty() => {
                hook.sessions_cancelled(tx, course, &sessions).await
            }
            _ => Ok(()),
        }
    }

    /// The number of changes this process has committed in `tenant`'s catalogue; changes
    /// with every write.
    #[must_use]
    pub fn generation(&self, tenant: &TenantId) -> u64 {
        self.generations
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(tenant.as_str())
            .map_or(0, |g| g.load(Ordering::Acquire))
    }

    /// Records a committed change in `tenant`'s catalogue that public pages show (also
    /// bookings: places left).
    pub fn changed(&self, tenant: &TenantId) {
        let counter = self
            .generations
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(tenant.as_str())
            .cloned();
        let counter = counter.unwrap_or_else(|| {
            Arc::clone(
                self.generations
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(tenant.as_str().to_owned())
                    .or_default(),
            )
        });
        counter.fetch_add(1, Ordering::AcqRel);
    }

    /// The tenant's published catalogue in memory, up to date with this process's own
    /// changes and at most [`crate::published::RECHECK`] behind other replicas'.
    ///
    /// # Errors
    /// When the database fails while it is (re)built.
    pub async fn published(
        &self,
        tenant: &TenantId,
    ) -> Result<Arc<crate::published::Snapshot>, CatalogueError> {
        self.published
            .get(&self.db, tenant, self.generation(tenant))
            .await
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub(crate) async fn audit(
        &self,
        tx: &TenantTx,
        manager: &Manager,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<(), CatalogueError> {
        audit::record(
            tx,
            self.clock.now(),
            AuditEntry {
                actor: &manager.actor(),
                action,
                subject,
                detail,
            },
        )
        .await?;
        Ok(())
    }

    /// What the account may manage: every provider (tenant admin), one provider (provider
    /// staff), or nothing. Roles count only with a confirmed second factor.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn manager(
        &self,
        tenant: &TenantId,
        account_id: &str,
    ) -> Result<Option<Manager>, CatalogueError> {
        let tx = self.db.tenant_read(tenant).await?;
        let roles = identity::store::organisations::roles_in_force(&tx, account_id).await?;
        tx.rollback().await?;
        let account_id = account_id.to_owned();
        if roles.iter().any(|r| r.role == Role::TenantAdmin.as_str()) {
            return Ok(Some(Manager::Tenant { account_id }));
        }
        Ok(roles
            .into_iter()
            .find(|r| r.role == Role::ProviderStaff.as_str())
            .and_then(|r| r.provider_id)
            .map(|provider_id| Manager::Provider {
                account_id,
                provider_id,
            }))
    }

    /// One page of published courses with a session to come.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn list_courses(
        &self,
        tenant: &TenantId,
        query: &CourseQuery,
    ) -> Result<Vec<CourseRow>, CatalogueError> {
        Ok(self
            .published(tenant)
            .await?
            .courses(query, self.clock.now()))
    }

    /// One page of published services still running.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn list_services(
        &self,
        tenant: &TenantId,
        query: &ServiceQuery,
    ) -> Result<Vec<ServiceRow>, CatalogueError> {
        Ok(self
            .published(tenant)
            .await?
            .services(query, self.clock.now().date_naive()))
    }

    /// Everything the manager may manage, drafts included.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn managed(
        &self,
        tenant: &TenantId,
        manager: &Manager,
    ) -> Result<Managed, CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let mut courses = course_e::Entity::find()
            .filter(course_e::Column::TenantId.eq(tenant.as_str()))
            .order_by_desc(course_e::Column::UpdatedAt);
        let mut services = traded_service::Entity::find()
            .filter(traded_service::Column::TenantId.eq(tenant.as_str()))
            .order_by_desc(traded_service::Column::UpdatedAt);
        if let Some(p) = manager.provider() {
            courses = courses.filter(course_e::Column::ProviderId.eq(p));
            services = services.filter(traded_service::Column::ProviderId.eq(p));
        }
        let out = Managed {
            courses: courses.all(&*tx).await?,
            services: services.all(&*tx).await?,
        };
        tx.rollback().await?;
        Ok(out)
    }

    /// A course and its sessions. Drafts are visible only to someone who manages them; to
    /// everyone else (and for another tenant's id) it is [`CatalogueError::NotFound`].
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`]; database failures.
    pub async fn course(
        &self,
        tenant: &TenantId,
        id: &str,
        viewer: Option<&Manager>,
    ) -> Result<CourseDetail, CatalogueError> {
        // Published, for visitors: from memory. A manager (who may be about to edit it)
        // reads the database.
        if viewer.is_none()
            && let Some(d) = self.published(tenant).await?.course(id)
        {
            return Ok(d.clone());
        }
        let tx = self.db.tenant_tx(tenant).await?;
        let c = find_course(&tx, id).await?;
        visible_to(viewer, &c.status, &c.provider_id)?;
        let detail = detail(&tx, c).await?;
        tx.rollback().await?;
        Ok(detail)
    }

    /// The course, if this manager manages it, in `tx`.
    pub(crate) async fn managed_course(
        tx: &TenantTx,
        manager: &Manager,
        id: &str,
    ) -> Result<course_e::Model, CatalogueError> {
        let c = find_course(tx, id).await?;
        owned_by(manager, &c.provider_id)?;
        Ok(c)
    }

    /// Creates a draft course.
    ///
    /// # Errors
    /// [`CatalogueError::Invalid`] with every problem; database failures.
    pub async fn create_course(
        &self,
        cfg: &TenantConfig,
        manager: &Manager,
        fields: &CourseFields,
    ) -> Result<String, CatalogueError> {
        let valid = course::validate(cfg, manager, fields).map_err(CatalogueError::Invalid)?;
        crate::domain::provider_offers(cfg, &valid.provider_id, None, ProviderKind::Training)
            .map_err(CatalogueError::Invalid)?;
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        check_sla(&tx, &valid).await?;
        let now = self.clock.now();
        let id = uuid::Uuid::now_v7().to_string();
        let mut row = course_e::ActiveModel {
            tenant_id: Set(cfg.slug.to_string()),
            id: Set(id.clone()),
            status: Set(Status::Draft.as_str().to_owned()),
            created_at: Set(now),
            published_at: Set(None),
            revision: Set(0),
            ..Default::default()
        };
        apply_course(&mut row, &valid, now);
        row.insert(&*tx).await?;
        self.audit(
            &tx,
            manager,
            "course.created",
            &id,
            serde_json::json!({"provider": valid.provider_id}),
        )
        .await?;
        tx.commit().await?;
        self.changed(&cfg.slug);
        Ok(id)
    }

    /// Replaces a course's details.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`] for a course the manager does not manage;
    /// [`CatalogueError::Invalid`]; a conflict for a cancelled course.
    pub async fn update_course(
        &self,
        cfg: &TenantConfig,
        manager: &Manager,
        id: &str,
        fields: &CourseFields,
    ) -> Result<(), CatalogueError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let c = Self::managed_course(&tx, manager, id).await?;
        if Status::parse(&c.status) == Status::Cancelled {
            return Err(CANCELLED);
        }
        let valid = course::validate(cfg, manager, fields).map_err(CatalogueError::Invalid)?;
        crate::domain::provider_offers(
            cfg,
            &valid.provider_id,
            Some(&c.provider_id),
            ProviderKind::Training,
        )
        .map_err(CatalogueError::Invalid)?;
        check_sla(&tx, &valid).await?;
        let now = self.clock.now();
        let mut row = c.into_active_model();
        apply_course(&mut row, &valid, now);
        row.update(&*tx).await?;
        touch_course(&tx, id, now).await?;
        self.audit(
            &tx,
            manager,
            "course.updated",
            id,
            serde_json::json!({"provider": valid.provider_id}),
        )
        .await?;
        tx.commit().await?;
        self.changed(&cfg.slug);
        Ok(())
    }

    /// Publishes a draft course: it needs at least one scheduled session, none of them in
    /// the past. Publishing a published course changes nothing.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`]; [`CatalogueError::Invalid`] naming what stops it; a
    /// conflict for a cancelled course.
    pub async fn publish_course(
        &self,
        tenant: &TenantId,
        manager: &Manager,
        id: &str,
    ) -> Result<(), CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let c = Self::managed_course(&tx, manager, id).await?;
        match Status::parse(&c.status) {
            Status::Cancelled => return Err(CANCELLED),
            Status::Published => return Ok(()),
            Status::Draft => {}
        }
        let now = self.clock.now();
        let sessions = sessions_of(&tx, id).await?;
        let scheduled: Vec<_> = sessions
            .iter()
            .filter(|s| s.status == "scheduled")
            .collect();
        if scheduled.is_empty() {
            return Err(invalid(
                "sessions",
                "Add at least one session before publishing",
            ));
        }
        if scheduled.iter().any(|s| s.starts_at <= now) {
            return Err(invalid(
                "sessions",
                "A session starts in the past: change or cancel it before publishing",
            ));
        }
        let mut row = c.into_active_model();
        row.status = Set(Status::Published.as_str().to_owned());
        row.published_at = Set(Some(now));
        row.update(&*tx).await?;
        touch_course(&tx, id, now).await?;
        self.audit(&tx, manager, "course.published", id, serde_json::json!({}))
            .await?;
        tx.commit().await?;
        self.changed(tenant);
        Ok(())
    }

    /// Cancels a course and every session of it. Cancelling twice changes nothing.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`]; database failures.
    pub async fn cancel_course(
        &self,
        tenant: &TenantId,
        manager: &Manager,
        id: &str,
    ) -> Result<(), CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let c = Self::managed_course(&tx, manager, id).await?;
        if Status::parse(&c.status) == Status::Cancelled {
            return Ok(());
        }
        let now = self.clock.now();
        let live = course_session::Entity::find()
            .filter(course_session::Column::TenantId.eq(tenant.as_str()))
            .filter(course_session::Column::CourseId.eq(id))
            .filter(course_session::Column::Status.ne("cancelled"))
            .all(&*tx)
            .await?;
        self.cancelled(&tx, &c, live).await?;
        course_session::Entity::update_many()
            .filter(course_session::Column::TenantId.eq(tenant.as_str()))
            .filter(course_session::Column::CourseId.eq(id))
            .col_expr(course_session::Column::Status, "cancelled".into())
            .col_expr(course_session::Column::UpdatedAt, now.into())
            .col_expr(
                course_session::Column::Revision,
                Expr::col(course_session::Column::Revision).add(1),
            )
            .exec(&*tx)
            .await?;
        let mut row = c.into_active_model();
        row.status = Set(Status::Cancelled.as_str().to_owned());
        row.update(&*tx).await?;
        touch_course(&tx, id, now).await?;
        self.audit(&tx, manager, "course.cancelled", id, serde_json::json!({}))
            .await?;
        tx.commit().await?;
        self.changed(tenant);
        Ok(())
    }

    /// Whether the tenant's catalogue has anything in it yet.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn is_empty(&self, tenant: &TenantId) -> Result<bool, CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let any = course_e::Entity::find()
            .filter(course_e::Column::TenantId.eq(tenant.as_str()))
            .one(&*tx)
            .await?
            .is_some()
            || traded_service::Entity::find()
                .filter(traded_service::Column::TenantId.eq(tenant.as_str()))
                .one(&*tx)
                .await?
                .is_some();
        tx.rollback().await?;
        Ok(!any)
    }
}

/// Drafts are visible only to someone who manages them; everything else to everyone.
pub(crate) fn visible_to(
    viewer: Option<&Manager>,
    status: &str,
    provider_id: &str,
) -> Result<(), CatalogueError> {
    if Status::parse(status) != Status::Draft || viewer.is_some_and(|m| m.manages(provider_id)) {
        Ok(())
    } else {
        Err(CatalogueError::NotFound)
    }
}

/// Another provider's item is not found, so ids reveal nothing.
pub(crate) fn owned_by(manager: &Manager, provider_id: &str) -> Result<(), CatalogueError> {
    if manager.manages(provider_id) {
        Ok(())
    } else {
        Err(CatalogueError::NotFound)
    }
}

pub(crate) fn apply_course(row: &mut course_e::ActiveModel, v: &ValidCourse, now: DateTime<Utc>) {
    row.provider_id = Set(v.provider_id.clone());
    row.kind = Set(v.kind.to_owned());
    row.title = Set(v.title.clone());
    row.summary = Set(v.summary.clone());
    row.description = Set(v.description.clone());
    row.description_html = Set(markdown::to_safe_html(&v.description));
    row.audiences = Set(join_list(&v.audiences));
    row.job_categories = Set(join_list(&v.job_categories));
    row.phases = Set(join_list(&v.phases));
    row.cpd_minutes = Set(v.cpd_minutes);
    row.price_pence = Set(v.price_pence);
    row.sla_service_id = Set(v.sla_service_id.clone());
    row.sla_price_pence = Set(v.sla_price_pence);
    row.booking_opens_at = Set(v.booking_opens_at);
    row.booking_closes_at = Set(v.booking_closes_at);
    row.cancellation_notice_days = Set(v.cancellation_notice_days);
    row.cancellation_terms = Set(v.cancellation_terms.clone());
    row.pre_course_info = Set(v.pre_course_info.clone());
    row.certificate_after_feedback = Set(v.certificate_after_feedback);
    row.updated_at = Set(now);
}

pub(crate) async fn check_sla(tx: &TenantTx, v: &ValidCourse) -> Result<(), CatalogueError> {
    if let Some(sla) = &v.sla_service_id
        && find_service(tx, sla).await.is_err()
    {
        return Err(invalid("sla_service_id", "Select an SLA from the list"));
    }
    Ok(())
}

pub(crate) async fn detail(
    tx: &TenantTx,
    c: course_e::Model,
) -> Result<CourseDetail, CatalogueError> {
    let sessions = sessions_of(tx, &c.id).await?;
    let sla = match &c.sla_service_id {
        Some(id) => find_service(tx, id).await.ok().map(|s| (s.id, s.title)),
        None => None,
    };
    Ok(CourseDetail {
        course: c,
        sessions,
        sla,
    })
}
