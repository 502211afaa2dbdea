//! The catalogue over HTTP: public pages (`pages`), management pages (`manage`) and the
//! JSON API with its OpenAPI document (`api`). Handlers stay thin: they read input, call
//! one `catalogue::Catalogue` method and render.

pub mod api;
pub(crate) use api::{ApiResult, require_json};
pub mod cache;
mod list_params;
mod manage;
pub(crate) mod pages;
pub(crate) mod providers;
pub(crate) mod resources;

use axum::Router;
use catalogue::domain::Manager;
use tenant_router::TenantConfig;

use crate::http::auth::{Failure, Visitor};
use crate::http::state::AppState;

/// The catalogue's pages and API; the public reads go through the page cache.
pub fn router(state: &AppState) -> Router<AppState> {
    let cached = axum::middleware::from_fn_with_state(
        std::sync::Arc::new(cache::Cached {
            cache: state.public_cache.clone(),
            catalogue: state.catalogue.clone(),
            secure: state.secure_cookies,
            identity: state.identity.clone(),
        }),
        cache::serve_cached,
    );
    pages::router()
        .merge(api::public_router())
        .merge(providers::public_router())
        .merge(resources::public_router())
        .route_layer(cached)
        .merge(manage::router())
        .merge(api::router())
        .merge(resources::router())
}

pub(crate) use crate::http::error::not_found;

/// Whether the tenant offers courses; services are offered under either services module.
pub(crate) use crate::http::page::{offers_courses, offers_resources, offers_services};

/// The signed-in visitor's management scope, if they have one.
pub(crate) async fn manager_of(state: &AppState, v: &Visitor) -> Result<Option<Manager>, Failure> {
    match v.signed_in() {
        // Managing the catalogue takes a role; a person who holds none manages nothing.
        Some(s) if !s.manages => Ok(None),
        Some(s) => Ok(state
            .catalogue
            .manager(&v.tenant().id, &s.account.id)
            .await?),
        None => Ok(None),
    }
}

pub(crate) use catalogue::domain::uk::{uk_day, uk_span};

/// CPD minutes as hours: `3 hours`, `1.5 hours`, `1 hour`.
pub(crate) fn hours(minutes: i32) -> String {
    if minutes == 60 {
        "1 hour".to_owned()
    } else if minutes % 60 == 0 {
        format!("{} hours", minutes / 60)
    } else {
        format!("{:.1} hours", f64::from(minutes) / 60.0).replace(".0 ", " ")
    }
}

pub(crate) fn provider_name<'a>(cfg: &'a TenantConfig, id: &'a str) -> &'a str {
    cfg.providers
        .iter()
        .find(|p| p.id == id)
        .map_or(id, |p| p.name.as_str())
}

pub(crate) fn audience_label(id: &str) -> &str {
    tenant_router::config::Audience::ALL
        .into_iter()
        .find(|a| a.as_str() == id)
        .map_or(id, |a| a.label())
}

/// The catalogue's courses and traded services (handlers in [`api`]): this area's part of
/// the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        api::list_courses,
        api::course,
        api::create_course,
        api::update_course,
        api::publish_course,
        api::cancel_course,
        api::add_session,
        api::update_session,
        api::cancel_session,
        api::list_services,
        api::service,
        api::create_service,
        api::update_service,
        api::publish_service,
        api::cancel_service
    ),
    components(schemas(
        api::Created,
        catalogue::domain::query::Sort,
        api::CourseList,
        api::CourseSummary,
        api::CourseOut,
        api::SessionOut,
        api::ServiceList,
        api::ServiceSummary,
        api::ServiceOut,
        catalogue::domain::course::CourseFields,
        catalogue::domain::course::SessionFields,
        catalogue::domain::service::ServiceFields,
        catalogue::domain::service::PriceBand,
        catalogue::domain::sharing::SharingStatement,
        catalogue::domain::sharing::SharedCategory,
        catalogue::domain::Status
    ))
)]
pub(crate) struct Doc;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use chrono::Utc;

    #[test]
    fn times_read_in_uk_time() {
        let start = Utc.with_ymd_and_hms(2027, 7, 6, 8, 30, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2027, 7, 6, 11, 0, 0).unwrap();
        assert_eq!(uk_span(start, end), "Tuesday 6 July 2027, 9:30am to 12pm");
        assert_eq!(hours(90), "1.5 hours");
        assert_eq!(hours(180), "3 hours");
        assert_eq!(hours(60), "1 hour");
    }
}
