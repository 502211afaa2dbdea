//! The OpenAPI document (`/api/openapi.json`), put together from every area's handlers and
//! schemas. Areas know nothing of it; it knows them all.

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::http::error::{ApiError, ErrorBody, FieldProblem};
use crate::http::state::AppState;

/// The route that serves it (public, like the catalogue's reads).
pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi))
}

async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Education services portal API", version = "1"),
    paths(
        crate::http::catalogue_web::providers::providers,
        crate::http::catalogue_web::api::list_courses,
        crate::http::catalogue_web::api::course,
        crate::http::catalogue_web::api::create_course,
        crate::http::catalogue_web::api::update_course,
        crate::http::catalogue_web::api::publish_course,
        crate::http::catalogue_web::api::cancel_course,
        crate::http::catalogue_web::api::add_session,
        crate::http::catalogue_web::api::update_session,
        crate::http::catalogue_web::api::cancel_session,
        crate::http::catalogue_web::api::list_services,
        crate::http::catalogue_web::api::service,
        crate::http::catalogue_web::api::create_service,
        crate::http::catalogue_web::api::update_service,
        crate::http::catalogue_web::api::publish_service,
        crate::http::catalogue_web::api::cancel_service,
        crate::http::catalogue_web::resources::api_list,
        crate::http::catalogue_web::resources::api_upload,
        crate::http::catalogue_web::resources::api_delete,
        crate::http::bookings_web::api_checkout,
        crate::http::bookings_web::api_mine,
        crate::http::bookings_web::api_cancel,
        crate::http::bookings_web::api_accept,
        crate::http::delegates_web::api_list,
        crate::http::delegates_web::api_attendance,
        crate::http::after_course_web::api_feedback,
        crate::http::after_course_web::api_course_feedback,
        crate::http::purchases_web::api_purchase,
        crate::http::basket_web::api_list,
        crate::http::basket_web::api_add,
        crate::http::basket_web::api_remove,
        crate::http::basket_web::api_checkout
    ),
    components(schemas(
        bookings::after_course::FeedbackFields,
        bookings::domain::PurchaseRequest,
        bookings::basket::BasketAdd,
        bookings::basket::BasketCheckout,
        bookings::basket::BasketLine,
        bookings::domain::PurchaseOutcome,
        bookings::after_course::CourseFeedback,
        bookings::after_course::Answer,
        ApiError,
        ErrorBody,
        FieldProblem,
        crate::http::catalogue_web::api::Created,
        crate::http::catalogue_web::providers::ProviderOut,
        crate::http::catalogue_web::api::CourseList,
        crate::http::catalogue_web::api::CourseSummary,
        crate::http::catalogue_web::api::CourseOut,
        crate::http::catalogue_web::api::SessionOut,
        crate::http::catalogue_web::api::ServiceList,
        crate::http::catalogue_web::api::ServiceSummary,
        crate::http::catalogue_web::api::ServiceOut,
        catalogue::domain::course::CourseFields,
        catalogue::domain::course::SessionFields,
        catalogue::domain::service::ServiceFields,
        catalogue::domain::service::PriceBand,
        catalogue::domain::sharing::SharingStatement,
        catalogue::domain::sharing::SharedCategory,
        catalogue::domain::Status,
        crate::http::catalogue_web::resources::ResourceOut,
        crate::http::catalogue_web::resources::ResourceUpload,
        catalogue::domain::resource::Access,
        bookings::domain::CheckoutRequest,
        bookings::domain::CheckoutItem,
        bookings::domain::CheckoutOutcome,
        bookings::domain::Booked,
        bookings::domain::Waiting,
        bookings::Accepted,
        crate::http::bookings_web::BookingOut,
        crate::http::delegates_web::DelegateListOut,
        crate::http::delegates_web::DelegateOut,
        crate::http::delegates_web::AttendanceIn,
        crate::http::delegates_web::MarkIn,
        crate::http::delegates_web::AttendanceOut
    ))
)]
pub struct ApiDoc;
