//! The one error every handler answers with, page or JSON API ([`Failure`]): a status, a
//! stable code (also sent as `x-error-code`), a message for people, per-field problems for
//! 422s, and for a page that needs a signed-in person the way to the sign-in page. Pages show
//! it as text; under `/api/` the [`json_errors`] layer answers the JSON body the OpenAPI
//! document describes ([`ApiError`]). Also the conversions every handler uses.

use axum::Json;
use axum::extract::Request;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use catalogue::CatalogueError;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

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
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    field: String,
    message: String,
}

/// A failed request, for pages and the JSON API alike.
#[derive(Clone, Debug)]
pub struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<FieldProblem>,
    /// Where to send a browser instead of showing the message.
    redirect: Option<&'static str>,
}

impl Failure {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: &str) -> Self {
        Self {
            status,
            code,
            message: message.to_owned(),
            fields: Vec::new(),
            redirect: None,
        }
    }

    /// A failure the visitor cannot fix: logged here, answered with a generic 500.
    pub(crate) fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Sorry, there is a problem with the service. Try again later.",
        )
    }

    /// Not signed in, on a page that needs it: a browser goes to the sign-in page (the API
    /// answers 401).
    pub(crate) fn sign_in() -> Self {
        Self {
            redirect: Some("/sign-in"),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "sign_in_required",
                "Sign in to continue.",
            )
        }
    }

    /// A form whose CSRF token is missing or not this visitor's.
    pub(crate) fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "This form has expired. Go back, reload the page and try again.",
        )
    }

    /// The JSON answer of the API.
    fn json(self) -> Response {
        let code = self.code;
        let body = ApiError {
            error: ErrorBody {
                code: code.to_owned(),
                message: self.message,
                fields: self.fields,
            },
        };
        with_code((self.status, Json(body)).into_response(), code)
    }
}

/// Adds the stable error code (`x-error-code`) to a response.
pub(crate) fn with_code(mut res: Response, code: &'static str) -> Response {
    res.headers_mut()
        .insert("x-error-code", HeaderValue::from_static(code));
    res
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut res = match self.redirect {
            Some(to) => Redirect::to(to).into_response(),
            None if self.fields.is_empty() => with_code(
                (self.status, self.message.clone()).into_response(),
                self.code,
            ),
            None => {
                let text = self
                    .fields
                    .iter()
                    .map(|f| f.message.as_str())
                    .collect::<Vec<_>>()
                    .join(". ");
                with_code((self.status, text).into_response(), self.code)
            }
        };
        // Kept for `json_errors`, which answers in JSON under `/api/`.
        res.extensions_mut().insert(self);
        res
    }
}

/// Under `/api/`, a [`Failure`] is answered as the JSON [`ApiError`] (a redirect to the
/// sign-in page becomes 401); elsewhere the response is left as it is.
pub(crate) async fn json_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    if !api {
        return res;
    }
    let Some(failure) = res.extensions_mut().remove::<Failure>() else {
        return res;
    };
    let failure = match failure.redirect {
        Some(_) => Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in first.",
        ),
        None => failure,
    };
    let mut json = failure.json();
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && name != "x-error-code"
        {
            json.headers_mut().append(name.clone(), value.clone());
        }
    }
    json
}

impl From<CatalogueError> for Failure {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::NotFound => not_found(),
            CatalogueError::SignInRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "sign_in_required",
                "Sign in to download this resource.",
            ),
            CatalogueError::NotManager => Self::new(
                StatusCode::FORBIDDEN,
                "not_catalogue_manager",
                "Only tenant admins and provider staff can manage courses and services.",
            ),
            CatalogueError::Conflict { code, message } => {
                Self::new(StatusCode::CONFLICT, code, message)
            }
            CatalogueError::Invalid(errors) => Self {
                fields: errors
                    .into_iter()
                    .map(|e| FieldProblem {
                        field: e.field.to_owned(),
                        message: e.message,
                    })
                    .collect(),
                ..Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    "The request has errors; nothing was changed.",
                )
            },
            CatalogueError::Identity(e) => e.into(),
            CatalogueError::Store(cause) => Self::internal(&cause),
        }
    }
}

/// The answer for anything that does not exist in this tenant (or is not the visitor's).
pub(crate) fn not_found() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Page not found. If you typed the web address, check it is correct.",
    )
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

/// What an API write must carry: a JSON body (`Content-Type: application/json`, which a
/// cross-site form cannot send), or no body at all for the operations that take none
/// (cancel, publish, accept, delete). A body-less request a browser sends from another
/// site carries an `Origin` naming it and is refused; clients that are not browsers send
/// no `Origin`. Any other body answers 415.
pub(crate) fn require_json(headers: &HeaderMap) -> ApiResult<()> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        return Ok(());
    }
    let no_body = !headers.contains_key(header::CONTENT_TYPE)
        && !headers.contains_key(header::TRANSFER_ENCODING)
        && headers
            .get(header::CONTENT_LENGTH)
            .is_none_or(|v| v.as_bytes() == b"0");
    if !no_body {
        return Err(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "json_required",
            "Send Content-Type: application/json, or no body to an operation that takes none.",
        ));
    }
    if from_another_site(headers) {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "This request came from another site and was refused.",
        ));
    }
    Ok(())
}

/// Whether the browser says the request came from a page of another origin: its `Origin`
/// names a host other than the one asked (directly or through the proxy).
fn from_another_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Some(authority) = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.to_ascii_lowercase())
    else {
        return true;
    };
    ![header::HOST.as_str(), tenant_router::X_FORWARDED_HOST]
        .into_iter()
        .filter_map(|h| headers.get(h)?.to_str().ok())
        .filter_map(|h| h.split(',').next())
        .any(|h| h.trim().eq_ignore_ascii_case(&authority))
}
