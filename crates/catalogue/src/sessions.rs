//! A course's sessions: adding, changing and cancelling them.

use sea_orm::{ActiveModelTrait as _, IntoActiveModel as _, Set};
use tenant_router::TenantId;

use crate::CatalogueError;
use crate::domain::course::{self, SessionFields};
use crate::domain::{Manager, Status};
use crate::store::entity::course_session;

use crate::Catalogue;
use crate::service::*;

impl Catalogue {
    /// Adds a session to a course the manager manages. A published course's new session
    /// must be in the future.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`]; [`CatalogueError::Invalid`]; a conflict for a
    /// cancelled course.
    pub async fn add_session(
        &self,
        tenant: &TenantId,
        manager: &Manager,
        course_id: &str,
        fields: &SessionFields,
    ) -> Result<String, CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let c = Self::managed_course(&tx, manager, course_id).await?;
        let status = Status::parse(&c.status);
        if status == Status::Cancelled {
            return Err(CANCELLED);
        }
        let now = self.clock.now();
        let v = course::validate_session(fields, now, status == Status::Published)
            .map_err(CatalogueError::Invalid)?;
        let id = uuid::Uuid::now_v7().to_string();
        course_session::ActiveModel {
            tenant_id: Set(tenant.to_string()),
            id: Set(id.clone()),
            course_id: Set(course_id.to_owned()),
            starts_at: Set(v.starts_at),
            ends_at: Set(v.ends_at),
            venue: Set(v.venue),
            online_url: Set(v.online_url),
            capacity: Set(v.capacity),
            org_place_limit: Set(v.org_place_limit),
            places_taken: Set(0),
            status: Set("scheduled".to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            revision: Set(0),
        }
        .insert(&*tx)
        .await?;
        touch_course(&tx, course_id, now).await?;
        self.audit(
            &tx,
            manager,
            "session.added",
            &id,
            serde_json::json!({"course": course_id}),
        )
        .await?;
        tx.commit().await?;
        self.changed(tenant);
        Ok(id)
    }

    /// Changes a scheduled session. Places cannot drop below those already booked.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`]; [`CatalogueError::Invalid`]; a conflict for a
    /// cancelled course or session.
    pub async fn update_session(
        &self,
        tenant: &TenantId,
        manager: &Manager,
        course_id: &str,
        session_id: &str,
        fields: &SessionFields,
    ) -> Result<(), CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let c = Self::managed_course(&tx, manager, course_id).await?;
        let s = find_session(&tx, course_id, session_id).await?;
        let status = Status::parse(&c.status);
        if status == Status::Cancelled || s.status == "cancelled" {
            return Err(CANCELLED);
        }
        let now = self.clock.now();
        let v = course::validate_session(fields, now, status == Status::Published)
            .map_err(CatalogueError::Invalid)?;
        if v.capacity < s.places_taken {
            return Err(invalid(
                "capacity",
                "Places cannot be fewer than the places already booked",
            ));
        }
        let mut row = s.into_active_model();
        row.starts_at = Set(v.starts_at);
        row.ends_at = Set(v.ends_at);
        row.venue = Set(v.venue);
        row.online_url = Set(v.online_url);
        row.capacity = Set(v.capacity);
        row.org_place_limit = Set(v.org_place_limit);
        row.update(&*tx).await?;
        touch_session(&tx, session_id, now).await?;
        touch_course(&tx, course_id, now).await?;
        self.audit(
            &tx,
            manager,
            "session.updated",
            session_id,
            serde_json::json!({"course": course_id}),
        )
        .await?;
        tx.commit().await?;
        self.changed(tenant);
        Ok(())
    }

    /// Cancels one session.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`]; database failures.
    pub async fn cancel_session(
        &self,
        tenant: &TenantId,
        manager: &Manager,
        course_id: &str,
        session_id: &str,
    ) -> Result<(), CatalogueError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let c = Self::managed_course(&tx, manager, course_id).await?;
        let s = find_session(&tx, course_id, session_id).await?;
        if s.status == "cancelled" {
            return Ok(());
        }
        self.cancelled(&tx, &c, vec![s.clone()]).await?;
        let now = self.clock.now();
        let mut row = s.into_active_model();
        row.status = Set("cancelled".to_owned());
        row.update(&*tx).await?;
        touch_session(&tx, session_id, now).await?;
        touch_course(&tx, course_id, now).await?;
        self.audit(
            &tx,
            manager,
            "session.cancelled",
            session_id,
            serde_json::json!({"course": course_id}),
        )
        .await?;
        tx.commit().await?;
        self.changed(tenant);
        Ok(())
    }
}
