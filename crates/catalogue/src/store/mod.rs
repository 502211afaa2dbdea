//! Tenant-scoped persistence for courses, sessions, services and price bands. Every query
//! filters on the transaction's tenant as well as relying on row-level security.

pub mod entity;
pub mod places;
pub(crate) mod rows;
pub mod search;

use privacy_engine::PersonalColumn;

/// Columns holding personal data: none. Who created or changed an item is in the audit
/// log, not on the item.
pub const PERSONAL_DATA: &[PersonalColumn] = &[];

/// Columns holding no personal data (providers' business contacts live in the tenant's
/// configuration, not here).
pub const OTHER_COLUMNS: &[&str] = &[
    "course.tenant_id",
    "course.id",
    "course.provider_id",
    "course.kind",
    "course.title",
    "course.summary",
    "course.description",
    "course.description_html",
    "course.audiences",
    "course.job_categories",
    "course.phases",
    "course.cpd_minutes",
    "course.price_pence",
    "course.sla_service_id",
    "course.sla_price_pence",
    "course.booking_opens_at",
    "course.booking_closes_at",
    "course.cancellation_notice_days",
    "course.cancellation_terms",
    "course.pre_course_info",
    "course.certificate_after_feedback",
    "course.status",
    "course.created_at",
    "course.updated_at",
    "course.revision",
    "course.published_at",
    "course_session.tenant_id",
    "course_session.id",
    "course_session.org_place_limit",
    "course_session.course_id",
    "course_session.starts_at",
    "course_session.ends_at",
    "course_session.venue",
    "course_session.online_url",
    "course_session.capacity",
    "course_session.places_taken",
    "course_session.status",
    "course_session.created_at",
    "course_session.updated_at",
    "course_session.revision",
    "traded_service.tenant_id",
    "traded_service.id",
    "traded_service.provider_id",
    "traded_service.title",
    "traded_service.summary",
    "traded_service.description",
    "traded_service.description_html",
    "traded_service.audiences",
    "traded_service.period_start",
    "traded_service.period_end",
    "traded_service.term",
    "traded_service.status",
    "traded_service.created_at",
    "traded_service.updated_at",
    "traded_service.published_at",
    "service_price_band.tenant_id",
    "service_price_band.service_id",
    "service_price_band.position",
    "service_price_band.label",
    "service_price_band.price_pence",
    "resource.tenant_id",
    "resource.id",
    "resource.provider_id",
    "resource.title",
    "resource.summary",
    "resource.access",
    "resource.file_name",
    "resource.content_type",
    "resource.size_bytes",
    "resource.object_key",
    "resource.created_at",
    "resource.updated_at",
];
