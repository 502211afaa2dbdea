//! The administrators' console (`/manage`): one page that leads a person to everything
//! they look after on this portal, built from their duties (roles in force, organisations
//! they lead) and the areas the tenant uses. It only links: every page it leads to checks
//! its own permission. Anyone with no duties gets 404, like the pages themselves.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use http::StatusCode;
use identity::domain::rights::Role;
use identity::duties::Duties;
use tenant_router::TenantConfig;

use crate::http::error::not_found;
use crate::http::page::{Chrome, offers_courses, offers_resources, offers_services, render};
use crate::http::state::AppState;
use crate::http::visitor::{Failure, Visitor};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/manage", get(page))
}

/// One link on the console.
pub(crate) struct Link {
    pub(crate) href: String,
    pub(crate) label: String,
    pub(crate) hint: &'static str,
}

/// A heading and its links.
pub(crate) struct Section {
    pub(crate) heading: String,
    pub(crate) links: Vec<Link>,
}

fn link(href: impl Into<String>, label: impl Into<String>, hint: &'static str) -> Link {
    Link {
        href: href.into(),
        label: label.into(),
        hint,
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::TenantAdmin => "council administrator",
        Role::ProviderStaff => "training provider staff",
        Role::PrivacyOfficer => "privacy officer",
    }
}

/// The console's sections for these duties at this tenant, empty ones left out.
pub(crate) fn sections(cfg: &TenantConfig, d: &Duties) -> Vec<Section> {
    let admin = d.has(Role::TenantAdmin);
    let officer = d.has(Role::PrivacyOfficer);
    let mut out = Vec::new();

    let mut catalogue = Vec::new();
    let sells = offers_courses(cfg) || offers_services(cfg);
    if sells && (admin || d.has(Role::ProviderStaff)) {
        catalogue.push(link(
            "/manage/catalogue",
            "Courses, events and services",
            "Create, edit, publish and cancel; see delegate lists, feedback and buyers.",
        ));
    }
    if offers_resources(cfg) && (admin || d.has(Role::ProviderStaff)) {
        catalogue.push(link(
            "/manage/resources",
            "Resources",
            "Upload and delete documents for schools and settings.",
        ));
    }
    if admin && cfg.cookies.analytics {
        catalogue.push(link(
            "/manage/analytics",
            "How the site is used",
            "Page views from visitors who accepted analytics cookies.",
        ));
    }
    if admin && !privacy_engine::communications::purposes(cfg).is_empty() {
        catalogue.push(link(
            "/manage/communications",
            "Newsletters and marketing emails",
            "Write and send to the people who chose to receive them.",
        ));
    }
    if admin {
        catalogue.push(link(
            "/manage/tokens",
            "API tokens",
            "Let another system, such as a school's or the council's, use the JSON API.",
        ));
    }
    out.push(Section {
        heading: "The portal".to_owned(),
        links: catalogue,
    });

    let mut people = Vec::new();
    if admin {
        people.push(link(
            "/admin/organisations",
            "Organisations and people",
            "Add organisations, their lead administrators and people's roles.",
        ));
    }
    for o in &d.organisations {
        people.push(link(
            format!("/organisations/{}/people", o.id),
            format!("People at {}", o.name),
            "Confirm colleagues, change their access and mark leavers.",
        ));
        if offers_courses(cfg) {
            people.push(link(
                format!("/organisations/{}/approvals", o.id),
                format!("Bookings waiting for approval at {}", o.name),
                "Approve or decline places colleagues asked for.",
            ));
            people.push(link(
                format!("/organisations/{}/bookings", o.id),
                format!("Bookings made for {}", o.name),
                "Every place booked for the organisation's staff.",
            ));
        }
        people.push(link(
            format!("/organisations/{}/invoices", o.id),
            format!("Invoices for {}", o.name),
            "Invoices and credit notes, as PDF or CSV for the finance system.",
        ));
    }
    for o in &d.purchasing {
        people.push(link(
            format!("/organisations/{}/invoices", o.id),
            format!("Invoices for {}", o.name),
            "What you and colleagues bought for it: invoices and credit notes, as PDF or CSV.",
        ));
    }
    out.push(Section {
        heading: "Organisations and people".to_owned(),
        links: people,
    });

    let mut privacy = Vec::new();
    if admin {
        privacy.push(link(
            "/manage/privacy",
            "Privacy notice, controller details and retention rules",
            "Edit the notice, preview and publish it.",
        ));
    }
    if officer {
        privacy.push(link(
            "/manage/requests",
            "Data rights requests",
            "Copies, corrections and erasure, each with its calendar-month deadline.",
        ));
        privacy.push(link(
            "/manage/complaints",
            "Complaints about how data is handled",
            "Log, answer and close complaints.",
        ));
        privacy.push(link(
            "/manage/breaches",
            "Personal data breaches",
            "Record a breach, assess the risk and the 72-hour report.",
        ));
        privacy.push(link(
            "/manage/retention/reviews",
            "Retention reviews",
            "Records the retention rules hold for a person to decide on.",
        ));
    }
    if admin || officer {
        privacy.push(link(
            "/manage/privacy/record",
            "Record of processing",
            "What the portal processes, why, for how long and who receives it.",
        ));
    }
    if admin {
        privacy.push(link(
            "/manage/privacy/audit",
            "Check the audit log is intact",
            "Confirm no recorded change was altered or removed.",
        ));
    }
    out.push(Section {
        heading: "Privacy and data protection".to_owned(),
        links: privacy,
    });
    out.retain(|s| !s.links.is_empty());
    out
}

#[derive(Template)]
#[template(path = "console.html")]
struct ConsolePage<'a> {
    chrome: Chrome<'a>,
    sections: Vec<Section>,
    /// Roles that start working once the person uses security codes.
    waiting: Vec<&'static str>,
}

async fn page(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    let who = v.signed_in_or_redirect()?;
    let duties = state.identity.duties(&v.tenant().id, who).await?;
    if !duties.any() {
        return Err(not_found());
    }
    let html = render(
        StatusCode::OK,
        &ConsolePage {
            chrome: v.chrome("/manage"),
            sections: sections(&v.tenant().config, &duties),
            waiting: duties.waiting.iter().map(|r| role_name(*r)).collect(),
        },
    );
    Ok(v.respond(html))
}
