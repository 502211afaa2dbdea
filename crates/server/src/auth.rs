//! Sign-up, email verification, sign-in, sign-out and password reset, and the request
//! extractor (`Visitor`) and page error every HTML handler shares.
//!
//! Handlers stay thin: they check the CSRF token, call one `identity::Identity` method and
//! render. Every form carries a CSRF token: before sign-in it is a random value in the
//! `portal_csrf` cookie (double submit); after sign-in it is the session's own token
//! (synchroniser). Both cookies are HttpOnly, SameSite=Lax and host-only, so the browser
//! never sends one tenant's cookie to another tenant's host; the session store is keyed by
//! tenant too, so a copied cookie finds nothing elsewhere.

use std::collections::HashMap;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use identity::domain::signup::{self, FieldError, FieldSpec};
use identity::sessions::{Session, Stage};
use identity::store::Purpose;
use identity::{IdentityError, SignedIn};
use tenant_router::Tenant;
use tenant_router::config::FieldPolicy;

use crate::app::AppState;
use crate::web::{Chrome, UserChrome, render};

pub(crate) const SESSION_COOKIE: &str = "portal_session";
const CSRF_COOKIE: &str = "portal_csrf";
const CSRF_FIELD: &str = "csrf_token";

/// Identity's pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-up", get(sign_up_form).post(sign_up))
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", axum::routing::post(sign_out))
        .route("/verify-email/{token}", get(verify_form).post(verify))
        .route(
            "/reset-password",
            get(reset_request_form).post(reset_request),
        )
        .route("/reset-password/{token}", get(reset_form).post(reset))
        .route(
            "/set-password/{token}",
            get(invitation_form).post(accept_invitation),
        )
}

/// Whoever is making the request: their CSRF token, and their account when signed in.
pub struct Visitor {
    tenant: Tenant,
    jar: CookieJar,
    csrf: String,
    signed_in: Option<SignedIn>,
    /// A sign-in part-way through: password accepted, second factor owed.
    pending: Option<(Session, identity::store::entity::account::Model)>,
    secure: bool,
    base_url: String,
}

/// A page-level failure: status, a stable code (also sent as `x-error-code`) and a message.
pub struct PageError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl From<IdentityError> for PageError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::SessionStore(cause) => {
                tracing::error!(%cause, "session store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "session_store_unavailable",
                    "Signing in is not available at the moment. Try again in a few minutes.",
                )
            }
            other => {
                tracing::error!(error = %other, "identity request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Sorry, there is a problem with the service. Try again later.",
                )
            }
        }
    }
}

impl PageError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: &str) -> Self {
        Self {
            status,
            code,
            message: message.to_owned(),
        }
    }

    /// Status, code and message, for the JSON API's error body.
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, &str) {
        (self.status, self.code, &self.message)
    }

    fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "This form has expired. Go back, reload the page and try again.",
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        with_code((self.status, self.message).into_response(), self.code)
    }
}

/// Adds the stable error code (`x-error-code`) to a response.
pub(crate) fn with_code(mut res: Response, code: &'static str) -> Response {
    res.headers_mut()
        .insert("x-error-code", HeaderValue::from_static(code));
    res
}

pub(crate) fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(secure);
    c
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let tenant = Tenant::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut jar = CookieJar::from_headers(&parts.headers);
        let signed_in = match jar.get(SESSION_COOKIE) {
            Some(c) => state
                .identity
                .current(&tenant.id, c.value())
                .await
                .map_err(|e| PageError::from(e).into_response())?,
            None => None,
        };
        let pending = match (&signed_in, jar.get(SESSION_COOKIE)) {
            (None, Some(c)) => state
                .identity
                .pending(&tenant.id, c.value())
                .await
                .map_err(|e| PageError::from(e).into_response())?,
            _ => None,
        };
        let session_csrf = signed_in
            .as_ref()
            .map(|s| &s.session.csrf)
            .or(pending.as_ref().map(|(s, _)| &s.csrf));
        let csrf = match (session_csrf, jar.get(CSRF_COOKIE)) {
            (Some(c), _) => c.clone(),
            (None, Some(c)) if c.value().len() >= 32 => c.value().to_owned(),
            (None, _) => {
                let value = identity::domain::token::generate().map_err(|e| {
                    PageError::from(IdentityError::Internal(e.to_string())).into_response()
                })?;
                jar = jar.add(cookie(CSRF_COOKIE, value.clone(), state.secure_cookies));
                value
            }
        };
        let scheme = if state.secure_cookies {
            "https"
        } else {
            "http"
        };
        // The tenant layer already matched this host to the tenant, so links built from it
        // can only point at the tenant's own portal.
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map_or_else(|| tenant.config.hostnames[0].clone(), str::to_owned);
        Ok(Self {
            base_url: format!("{scheme}://{host}"),
            tenant,
            jar,
            csrf,
            signed_in,
            pending,
            secure: state.secure_cookies,
        })
    }
}

impl Visitor {
    /// The tenant of the request.
    pub(crate) fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The CSRF token forms on this page must carry.
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    /// A sign-in part-way through (second factor owed), if any.
    pub(crate) fn pending(&self) -> Option<&(Session, identity::store::entity::account::Model)> {
        self.pending.as_ref()
    }

    /// The signed-in person, if any.
    pub(crate) fn signed_in(&self) -> Option<&SignedIn> {
        self.signed_in.as_ref()
    }

    /// `scheme://host` of this tenant's portal, for links in emails.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The request's cookies (with any this request has set).
    pub(crate) fn jar(&self) -> &CookieJar {
        &self.jar
    }

    /// Whether cookies are marked `Secure`.
    pub(crate) fn secure(&self) -> bool {
        self.secure
    }

    /// The response, with any cookie this request set.
    pub(crate) fn respond(self, response: Response) -> Response {
        (self.jar, response).into_response()
    }

    pub(crate) fn chrome(&self, path: &str) -> Chrome<'_> {
        let mut c = Chrome::new(&self.tenant, path);
        c.user = self.signed_in.as_ref().map(|s| UserChrome {
            name: format!("{} {}", s.account.first_name, s.account.last_name),
            csrf: s.session.csrf.clone(),
        });
        c.offer_sign_in = c.user.is_none();
        c
    }

    /// Refuses a form whose CSRF token is missing or wrong.
    pub(crate) fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), PageError> {
        let sent = form.get(CSRF_FIELD).map(String::as_str).unwrap_or_default();
        if identity::domain::token::same(sent, &self.csrf) {
            Ok(())
        } else {
            Err(PageError::csrf())
        }
    }
}

/// One field of a form as the template shows it.
pub(crate) struct FieldView {
    pub(crate) spec: FieldSpec,
    pub(crate) value: String,
    pub(crate) error: Option<String>,
    pub(crate) optional: bool,
    pub(crate) childminder_only: bool,
}

#[derive(Template)]
#[template(path = "auth/sign_up.html")]
struct SignUpPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    fields: Vec<FieldView>,
    asks_childminder: bool,
    is_childminder: bool,
    job_categories: Vec<String>,
    /// (id, name) of the tenant's organisations, to claim membership of one.
    organisations: Vec<(String, String)>,
    organisation_id: String,
    errors: Vec<FieldError>,
    password_error: Option<String>,
    confirm_error: Option<String>,
}

pub(crate) fn error_for(errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.clone())
}

pub(crate) fn field_views(
    v: &Visitor,
    values: &HashMap<String, String>,
    errors: &[FieldError],
    with_email: bool,
) -> Vec<FieldView> {
    signup::fields(&v.tenant.config.account_fields)
        .into_iter()
        .filter(|spec| with_email || spec.name != "email")
        .map(|spec| FieldView {
            value: values.get(spec.name).cloned().unwrap_or_default(),
            error: error_for(errors, spec.name),
            optional: matches!(spec.policy, FieldPolicy::Optional),
            childminder_only: spec.policy == FieldPolicy::ChildminderOnly,
            spec,
        })
        .collect()
}

fn sign_up_page<'a>(
    v: &'a Visitor,
    organisations: Vec<(String, String)>,
    values: &HashMap<String, String>,
    errors: Vec<FieldError>,
) -> SignUpPage<'a> {
    let policy = &v.tenant.config.account_fields;
    let fields = field_views(v, values, &errors, true);
    SignUpPage {
        chrome: v.chrome("/sign-up"),
        csrf: v.csrf.clone(),
        fields,
        asks_childminder: signup::asks_childminder(policy),
        is_childminder: values.get("is_childminder").is_some_and(|x| x == "yes"),
        job_categories: v.tenant.config.job_categories.clone(),
        organisations,
        organisation_id: values.get("organisation_id").cloned().unwrap_or_default(),
        password_error: error_for(&errors, "password"),
        confirm_error: error_for(&errors, "password_confirm"),
        errors,
    }
}

async fn organisation_choices(
    state: &AppState,
    v: &Visitor,
) -> Result<Vec<(String, String)>, PageError> {
    Ok(state
        .identity
        .organisations(&v.tenant.id)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

async fn sign_up_form(State(state): State<AppState>, v: Visitor) -> Result<Response, PageError> {
    let orgs = organisation_choices(&state, &v).await?;
    let page = sign_up_page(&v, orgs, &HashMap::new(), Vec::new());
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}

async fn sign_up(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    v.check_csrf(&form)?;
    match state
        .identity
        .sign_up(&v.tenant.config, &form, &v.base_url)
        .await
    {
        Ok(_) => Ok(message(
            v,
            StatusCode::OK,
            "Check your email",
            "We have sent you an email with a link to confirm your address. \
             Follow it within 48 hours to finish creating your account.",
        )),
        Err(IdentityError::Invalid(errors)) => {
            let orgs = organisation_choices(&state, &v).await?;
            let page = sign_up_page(&v, orgs, &form, errors);
            let html = render(StatusCode::UNPROCESSABLE_ENTITY, &page);
            Ok(v.respond(html))
        }
        Err(IdentityError::EmailTaken) => {
            let errors = vec![FieldError {
                field: "email",
                message: "An account with this email address already exists: sign in, or \
                          reset your password if you have forgotten it"
                    .to_owned(),
            }];
            let orgs = organisation_choices(&state, &v).await?;
            let page = sign_up_page(&v, orgs, &form, errors);
            let html = render(StatusCode::CONFLICT, &page);
            Ok(v.respond(html))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/message.html")]
struct MessagePage<'a> {
    chrome: Chrome<'a>,
    heading: &'a str,
    body: &'a str,
    /// A form with one button (`action`, `label`), e.g. to confirm an email link.
    button: Option<(String, &'a str)>,
    csrf: String,
}

pub(crate) fn message(v: Visitor, status: StatusCode, heading: &str, body: &str) -> Response {
    let page = MessagePage {
        chrome: v.chrome(""),
        heading,
        body,
        button: None,
        csrf: String::new(),
    };
    let html = render(status, &page);
    v.respond(html)
}

/// Email links open a page with a button rather than acting on GET: mail scanners fetch
/// links, and a single-use token must not be spent by a scanner.
async fn verify_form(v: Visitor, Path(token): Path<String>) -> Response {
    let page = MessagePage {
        chrome: v.chrome(""),
        heading: "Confirm your email address",
        body: "Select the button to confirm this is your email address.",
        button: Some((format!("/verify-email/{token}"), "Confirm my email address")),
        csrf: v.csrf.clone(),
    };
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

async fn verify(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    v.check_csrf(&form)?;
    match state.identity.verify_email(&v.tenant.id, &token).await {
        Ok(()) => Ok(message(
            v,
            StatusCode::OK,
            "Email address confirmed",
            "Your account is ready. You can now sign in.",
        )),
        Err(IdentityError::BadToken) => Ok(bad_link(v)),
        Err(e) => Err(e.into()),
    }
}

fn bad_link(v: Visitor) -> Response {
    with_code(
        message(
            v,
            StatusCode::GONE,
            "This link has expired or has already been used",
            "Links in our emails work once and for a limited time. Sign in, or ask for a new \
         password-reset link.",
        ),
        "link_expired",
    )
}

#[derive(Template)]
#[template(path = "auth/sign_in.html")]
struct SignInPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    email: String,
    error: Option<String>,
}

fn sign_in_page<'a>(v: &'a Visitor, email: &str, error: Option<String>) -> SignInPage<'a> {
    SignInPage {
        chrome: v.chrome("/sign-in"),
        csrf: v.csrf.clone(),
        email: email.to_owned(),
        error,
    }
}

async fn sign_in_form(v: Visitor) -> Response {
    if v.signed_in.is_some() {
        return Redirect::to("/account").into_response();
    }
    let page = sign_in_page(&v, "", None);
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    v.check_csrf(&form)?;
    let email = form.get("email").map(String::as_str).unwrap_or_default();
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    let outcome = state
        .identity
        .sign_in(&v.tenant.id, email, password, &peer.ip().to_string())
        .await;
    let (status, code, message) = match outcome {
        Ok((token, session)) => {
            // A fresh session token, and the pre-sign-in CSRF cookie retired.
            let jar = v
                .jar
                .add(cookie(SESSION_COOKIE, token, v.secure))
                .remove(Cookie::from(CSRF_COOKIE));
            let next = match session.stage {
                Stage::Full => "/account",
                Stage::NeedsCode => "/sign-in/code",
                Stage::NeedsEnrolment => "/account/two-factor",
            };
            return Ok((jar, Redirect::to(next)).into_response());
        }
        Err(IdentityError::BadCredentials) => (
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "Enter a correct email address and password".to_owned(),
        ),
        Err(IdentityError::Throttled { minutes }) => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "There have been too many attempts to sign in. Wait {minutes} minutes and try \
                 again, or reset your password"
            ),
        ),
        Err(IdentityError::EmailNotVerified) => (
            StatusCode::FORBIDDEN,
            "email_not_verified",
            "Confirm your email address first: follow the link in the email we sent you".to_owned(),
        ),
        Err(IdentityError::Deactivated) => (
            StatusCode::FORBIDDEN,
            "account_deactivated",
            "This account has been deactivated. Contact your organisation's lead \
             administrator or the service team"
                .to_owned(),
        ),
        Err(e) => return Err(e.into()),
    };
    let page = sign_in_page(&v, email, Some(message));
    let html = render(status, &page);
    Ok(with_code(v.respond(html), code))
}

async fn sign_out(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    v.check_csrf(&form)?;
    if let Some(c) = v.jar.get(SESSION_COOKIE) {
        state.identity.sign_out(&v.tenant.id, c.value()).await?;
    }
    let jar = v.jar.remove(Cookie::from(SESSION_COOKIE));
    Ok((jar, Redirect::to("/")).into_response())
}

#[derive(Template)]
#[template(path = "auth/reset_request.html")]
struct ResetRequestPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
}

async fn reset_request_form(v: Visitor) -> Response {
    let page = ResetRequestPage {
        chrome: v.chrome(""),
        csrf: v.csrf.clone(),
    };
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

async fn reset_request(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    v.check_csrf(&form)?;
    let email = form.get("email").map(String::as_str).unwrap_or_default();
    state
        .identity
        .request_reset(&v.tenant.config, email, &v.base_url)
        .await?;
    Ok(message(
        v,
        StatusCode::OK,
        "Check your email",
        "If this email address has an account, we have sent it a link to reset the \
         password. The link works once, for 1 hour.",
    ))
}

#[derive(Template)]
#[template(path = "auth/reset_form.html")]
struct ResetPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    action: String,
    password_error: Option<String>,
    confirm_error: Option<String>,
}

/// Where a password form posts: a reset link or an invitation link.
fn password_path(purpose: Purpose, token: &str) -> String {
    match purpose {
        Purpose::Invitation => format!("/set-password/{token}"),
        _ => format!("/reset-password/{token}"),
    }
}

fn reset_page<'a>(
    v: &'a Visitor,
    purpose: Purpose,
    token: &str,
    errors: &[FieldError],
) -> ResetPage<'a> {
    ResetPage {
        chrome: v.chrome(""),
        csrf: v.csrf.clone(),
        action: password_path(purpose, token),
        password_error: error_for(errors, "password"),
        confirm_error: error_for(errors, "password_confirm"),
    }
}

async fn reset_form(v: Visitor, Path(token): Path<String>) -> Response {
    password_form(v, Purpose::ResetPassword, &token)
}

async fn invitation_form(v: Visitor, Path(token): Path<String>) -> Response {
    password_form(v, Purpose::Invitation, &token)
}

fn password_form(v: Visitor, purpose: Purpose, token: &str) -> Response {
    let page = reset_page(&v, purpose, token, &[]);
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

async fn reset(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    set_password(state, v, Purpose::ResetPassword, token, form).await
}

async fn accept_invitation(
    State(state): State<AppState>,
    v: Visitor,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    set_password(state, v, Purpose::Invitation, token, form).await
}

async fn set_password(
    state: AppState,
    v: Visitor,
    purpose: Purpose,
    token: String,
    form: HashMap<String, String>,
) -> Result<Response, PageError> {
    v.check_csrf(&form)?;
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    match state
        .identity
        .reset_password(
            &v.tenant.id,
            purpose,
            &token,
            get("password"),
            get("password_confirm"),
        )
        .await
    {
        Ok(()) => Ok(message(
            v,
            StatusCode::OK,
            "Your password has been set",
            "You can now sign in with your new password.",
        )),
        Err(IdentityError::Invalid(errors)) => {
            let page = reset_page(&v, purpose, &token, &errors);
            let html = render(StatusCode::UNPROCESSABLE_ENTITY, &page);
            Ok(v.respond(html))
        }
        Err(IdentityError::BadToken) => Ok(bad_link(v)),
        Err(e) => Err(e.into()),
    }
}
