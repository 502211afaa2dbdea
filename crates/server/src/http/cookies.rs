//! Cookie consent. Essential cookies (session, form security, remembered choices) need no
//! consent. Analytics runs only where the tenant's notice says it does, and only for a
//! visitor who has agreed: until then no analytics cookie is set and no page view is
//! recorded. The choice is asked in a banner on every page until made, is remembered for a
//! year, and can be changed from the "Cookies" link in every page's footer.
//!
//! A page view by a consenting visitor adds one to its route's count for the day
//! (`storage::analytics`: the route's pattern, such as `/courses/{id}`, never the path
//! itself, which can hold a link's secret token); no visitor id, address, referrer or
//! browser detail is kept, so the counts are aggregated and anonymous. The tenant's analytics retention rule deletes
//! old days.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use http::{HeaderValue, Method, StatusCode, header};
use tenant_router::Tenant;

use crate::http::auth::{Failure, Visitor};
pub(crate) use crate::http::cookie::{ANALYTICS_COOKIE, CHOICE_COOKIE, choice};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// A year, in seconds.
const YEAR: i64 = 365 * 24 * 3600;

/// The cookie routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/cookies", get(page).post(save))
}

#[derive(Template)]
#[template(path = "cookies.html")]
struct CookiesPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    analytics: bool,
    analytics_items: Vec<String>,
    choice: Option<bool>,
    saved: bool,
    /// `__Host-` where cookies are secure: the names as the browser shows them.
    prefix: &'static str,
}

#[derive(serde::Deserialize)]
struct PageQuery {
    saved: Option<String>,
}

async fn page(v: Visitor, Query(q): Query<PageQuery>) -> Response {
    let cfg = &v.tenant().config;
    let page = CookiesPage {
        analytics: cfg.cookies.analytics,
        analytics_items: cfg.cookies.analytics_items.clone(),
        choice: choice(v.jar(), v.secure()),
        saved: q.saved.is_some(),
        prefix: if v.secure() { "__Host-" } else { "" },
        csrf: v.csrf().to_owned(),
        chrome: v.chrome("/cookies"),
    };
    let html = render(StatusCode::OK, &page);
    v.respond(html)
}

/// Saves the choice from the banner or the cookies page, and returns the visitor where
/// they were (the banner) or to the cookies page saying it is saved.
async fn save(v: Visitor, Form(form): Form<HashMap<String, String>>) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    if !v.tenant().config.cookies.analytics {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "no_analytics",
            "This portal uses no analytics cookies, so there is nothing to choose.",
        ));
    }
    let agreed = match form.get("analytics").map(String::as_str) {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "invalid_cookie_choice",
                "Choose whether to allow analytics cookies.",
            ));
        }
    };
    let mut c = crate::http::visitor::cookie(
        CHOICE_COOKIE,
        if agreed { "yes" } else { "no" }.to_owned(),
        v.secure(),
    );
    c.set_max_age(time::Duration::seconds(YEAR));
    let mut jar = v.jar().clone().add(c);
    if !agreed {
        jar = jar.add(crate::http::visitor::removal(ANALYTICS_COOKIE, v.secure()));
    }
    // Only a path on this site: never an address the form could point elsewhere.
    let back = crate::http::web::back_to(&form, "/cookies?saved=1")?.to_owned();
    Ok((jar, Redirect::to(&back)).into_response())
}

/// Counts a page view for analytics when, and only when, the tenant uses analytics and the
/// visitor has agreed: one more view of the page that day, and nothing about the visitor.
/// An analytics cookie left by an earlier version of the portal is removed.
pub(crate) async fn analytics(
    State(state): State<AppState>,
    tenant: Tenant,
    req: Request,
    next: Next,
) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let agreed =
        tenant.config.cookies.analytics && choice(&jar, state.secure_cookies) == Some(true);
    let page_view = req.method() == Method::GET && !req.uri().path().starts_with("/assets/");
    // The route's pattern (`/courses/{id}`, `/reset-password/{token}`), never the path as
    // asked: a path can carry a secret link's token or say who someone is.
    let route = (agreed && page_view)
        .then(|| req.extensions().get::<MatchedPath>())
        .flatten()
        .map(|m| m.as_str().to_owned());
    let mut res = next.run(req).await;
    if res.status().is_success()
        && let Some(path) = route
    {
        let day = state.clock.now().date_naive();
        let counted = async {
            let tx = state.db.tenant_tx(&tenant.id).await?;
            storage::analytics::count(&tx, day, &path).await?;
            tx.commit_uncounted().await
        };
        if let Err(e) = counted.await {
            tracing::warn!(tenant = %tenant.id, error = %e, "page view not counted");
        }
    }
    let leftover = jar
        .get(&crate::http::visitor::named(
            ANALYTICS_COOKIE,
            state.secure_cookies,
        ))
        .is_some();
    if leftover {
        let mut c =
            crate::http::visitor::cookie(ANALYTICS_COOKIE, String::new(), state.secure_cookies);
        c.make_removal();
        append_cookie(&mut res, &c);
    }
    res
}

fn append_cookie(res: &mut Response, c: &Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}
