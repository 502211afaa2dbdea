//! The JSON API's error answer: a stable code (also sent as `x-error-code`), a message for
//! people, and per-field problems for 422s; with the conversions every API handler uses.
//! (Pages answer with [`crate::http::visitor::PageError`], which converts into it.)

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::response::{IntoResponse, Response};
use catalogue::CatalogueError;
use http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::visitor::PageError;

/// An error: a stable code, a message for people, and per-field problems for 422s.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    error: ErrorBody,
}

/// The error's body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine code (also in the `x-error-code` header).
    code: String,
    /// What went wrong, in words.
    message: String,
    /// Field problems, for `invalid`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldProblem>,
}

/// A problem with one field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    field: String,
    message: String,
}

pub(crate) struct Failure(StatusCode, String, String, Vec<FieldProblem>);

impl Failure {
    pub(crate) fn new(status: StatusCode, code: &str, message: &str) -> Self {
        Self(status, code.to_owned(), message.to_owned(), Vec::new())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Self(status, code, message, fields) = self;
        let mut res = (
            status,
            Json(ApiError {
                error: ErrorBody {
                    code: code.clone(),
                    message,
                    fields,
                },
            }),
        )
            .into_response();
        if let Ok(v) = http::HeaderValue::from_str(&code) {
            res.headers_mut().insert("x-error-code", v);
        }
        res
    }
}

impl From<CatalogueError> for Failure {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::Invalid(errors) => Self(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid".to_owned(),
                "The request has errors; nothing was changed.".to_owned(),
                errors
                    .into_iter()
                    .map(|e| FieldProblem {
                        field: e.field.to_owned(),
                        message: e.message,
                    })
                    .collect(),
            ),
            other => PageError::from(other).into(),
        }
    }
}

impl From<PageError> for Failure {
    fn from(e: PageError) -> Self {
        let (status, code, message) = e.parts();
        Self::new(status, code, message)
    }
}

impl From<JsonRejection> for Failure {
    fn from(e: JsonRejection) -> Self {
        let (status, code) = match &e {
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "json_required")
            }
            // Malformed JSON is 400; well-formed JSON of the wrong shape is 422.
            _ => (e.status(), "invalid_json"),
        };
        Self::new(status, code, &e.body_text())
    }
}

impl From<QueryRejection> for Failure {
    fn from(e: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query", &e.body_text())
    }
}

pub(crate) type ApiResult<T> = Result<T, Failure>;

/// Writes must say they are JSON: a cross-site form cannot, so this doubles as CSRF defence.
pub(crate) fn require_json(headers: &HeaderMap) -> ApiResult<()> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "json_required",
            "Send Content-Type: application/json.",
        ))
    }
}
