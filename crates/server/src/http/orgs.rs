//! User Management pages: a lead administrator's view of their organisation's people, and
//! the tenant admin's list of organisations. Another organisation's (or tenant's) id answers
//! 404, never 403, so ids do not reveal what exists.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use http::StatusCode;
use identity::domain::rights::Right;
use identity::domain::signup::FieldError;
use identity::organisations::{KINDS, MemberChange, Person};
use identity::store::entity::organisation;
use identity::{IdentityError, SignedIn};

use crate::http::auth::{Failure, Visitor};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

/// The organisation pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/organisations/{org}/people",
            get(people).post(add_colleague),
        )
        .route("/organisations/{org}/people/{account}", post(change_member))
        .route(
            "/admin/organisations",
            get(admin_organisations).post(create_organisation),
        )
        .route(
            "/admin/organisations/{org}/lead-admin",
            post(appoint_lead_admin),
        )
        .route("/admin/people/{account}", get(person))
}

fn not_found() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Page not found. If you typed the web address, check it is correct.",
    )
}

/// Maps the errors these pages expect; anything else is the generic mapping.
fn page_error(e: IdentityError) -> Failure {
    match e {
        IdentityError::OrganisationNotFound
        | IdentityError::AccountNotFound
        | IdentityError::NotTenantAdmin => not_found(),
        IdentityError::OwnLeaving => Failure::new(
            StatusCode::CONFLICT,
            "own_leaving",
            "You cannot mark yourself as a leaver. Ask another lead administrator of the \
             organisation, or the council, to do it.",
        ),
        other => other.into(),
    }
}

fn signed_in(v: &Visitor) -> Result<&SignedIn, Failure> {
    v.signed_in().ok_or_else(|| {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Sign in to see this page.",
        )
    })
}

struct RightView {
    name: &'static str,
    label: &'static str,
}

fn right_views() -> Vec<RightView> {
    Right::ALL
        .into_iter()
        .map(|r| RightView {
            name: r.as_str(),
            label: r.label(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "orgs/people.html")]
struct PeoplePage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    org: organisation::Model,
    people: Vec<Person>,
    rights: Vec<RightView>,
    errors: Vec<FieldError>,
    values: HashMap<String, String>,
    added: Option<String>,
    /// Tenant admins get a link to each person's full record.
    is_admin: bool,
    /// Who is looking: their own row offers no "Mark as leaver".
    viewer: String,
}

impl PeoplePage<'_> {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn has_right(&self, person: &Person, right: &str) -> bool {
        person.rights.iter().any(|r| r.as_str() == right)
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

async fn people_page(
    state: &AppState,
    v: &Visitor,
    org_id: &str,
    status: StatusCode,
    errors: Vec<FieldError>,
    values: HashMap<String, String>,
    added: Option<String>,
) -> Result<Response, Failure> {
    let actor = signed_in(v)?;
    let (org, people) = state
        .identity
        .people(&v.tenant().id, actor, org_id)
        .await
        .map_err(page_error)?;
    let is_admin = state
        .identity
        .is_tenant_admin(&v.tenant().id, actor)
        .await?;
    let page = PeoplePage {
        is_admin,
        viewer: actor.account.id.clone(),
        chrome: v.chrome(""),
        csrf: v.csrf().to_owned(),
        org,
        people,
        rights: right_views(),
        errors,
        values,
        added,
    };
    Ok(render(status, &page))
}

async fn people(
    State(state): State<AppState>,
    v: Visitor,
    Path(org): Path<String>,
) -> Result<Response, Failure> {
    let html = people_page(
        &state,
        &v,
        &org,
        StatusCode::OK,
        Vec::new(),
        HashMap::new(),
        None,
    )
    .await?;
    Ok(v.respond(html))
}

async fn add_colleague(
    State(state): State<AppState>,
    v: Visitor,
    Path(org): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let actor = signed_in(&v)?;
    let notice = crate::http::privacy_web::version_in_force(&state, v.tenant()).await?;
    let outcome = state
        .identity
        .add_colleague(
            &v.tenant().config,
            &notice,
            actor,
            &org,
            &form,
            v.base_url(),
        )
        .await;
    let html = match outcome {
        Ok(account) => {
            let added = format!(
                "{} {} has been added and sent an email to choose a password",
                account.first_name, account.last_name
            );
            people_page(
                &state,
                &v,
                &org,
                StatusCode::OK,
                Vec::new(),
                HashMap::new(),
                Some(added),
            )
            .await?
        }
        Err(IdentityError::Invalid(errors)) => {
            people_page(
                &state,
                &v,
                &org,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                form,
                None,
            )
            .await?
        }
        Err(IdentityError::EmailTaken) => {
            let errors = vec![FieldError {
                field: "email",
                message: "Someone already has an account with this email address: ask them to \
                          sign in and choose your organisation, then verify them here"
                    .to_owned(),
            }];
            people_page(&state, &v, &org, StatusCode::CONFLICT, errors, form, None).await?
        }
        Err(e) => return Err(page_error(e)),
    };
    Ok(v.respond(html))
}

async fn change_member(
    State(state): State<AppState>,
    v: Visitor,
    Path((org, account)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let actor = signed_in(&v)?;
    let change = MemberChange::from_form(&form).ok_or_else(|| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "unknown_action",
            "Choose what to change.",
        )
    })?;
    state
        .identity
        .change_member(&v.tenant().id, actor, &org, &account, change)
        .await
        .map_err(page_error)?;
    Ok(v.respond(Redirect::to(&format!("/organisations/{org}/people")).into_response()))
}

#[derive(Template)]
#[template(path = "orgs/admin.html")]
struct AdminPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    organisations: Vec<organisation::Model>,
    kinds: Vec<(&'static str, &'static str)>,
    errors: Vec<FieldError>,
}

async fn admin_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response, Failure> {
    let actor = signed_in(v)?;
    if !state
        .identity
        .is_tenant_admin(&v.tenant().id, actor)
        .await?
    {
        return Err(not_found());
    }
    let organisations = state.identity.organisations(&v.tenant().id).await?;
    let page = AdminPage {
        chrome: v.chrome(""),
        csrf: v.csrf().to_owned(),
        organisations,
        kinds: KINDS.to_vec(),
        errors,
    };
    Ok(render(status, &page))
}

async fn admin_organisations(
    State(state): State<AppState>,
    v: Visitor,
) -> Result<Response, Failure> {
    let html = admin_page(&state, &v, StatusCode::OK, Vec::new()).await?;
    Ok(v.respond(html))
}

async fn create_organisation(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let actor = signed_in(&v)?;
    let get = |k: &str| form.get(k).map_or("", String::as_str);
    let outcome = state
        .identity
        .create_organisation(&v.tenant().id, actor, get("name"), get("kind"))
        .await;
    let html = match outcome {
        Ok(_) => return Ok(v.respond(Redirect::to("/admin/organisations").into_response())),
        Err(IdentityError::Invalid(errors)) => {
            admin_page(&state, &v, StatusCode::UNPROCESSABLE_ENTITY, errors).await?
        }
        Err(IdentityError::OrganisationExists) => {
            let errors = vec![FieldError {
                field: "name",
                message: "An organisation with this name already exists".to_owned(),
            }];
            admin_page(&state, &v, StatusCode::CONFLICT, errors).await?
        }
        Err(e) => return Err(page_error(e)),
    };
    Ok(v.respond(html))
}

async fn appoint_lead_admin(
    State(state): State<AppState>,
    v: Visitor,
    Path(org): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let actor = signed_in(&v)?;
    let email = form.get("email").map_or("", String::as_str);
    match state
        .identity
        .appoint_lead_admin(&v.tenant().id, actor, &org, email)
        .await
    {
        Ok(()) => {
            Ok(v.respond(Redirect::to(&format!("/organisations/{org}/people")).into_response()))
        }
        Err(IdentityError::AccountNotFound) => {
            let errors = vec![FieldError {
                field: "email",
                message: "No account has this email address: ask the person to create one first"
                    .to_owned(),
            }];
            let html = admin_page(&state, &v, StatusCode::UNPROCESSABLE_ENTITY, errors).await?;
            Ok(v.respond(html))
        }
        Err(e) => Err(page_error(e)),
    }
}

#[derive(Template)]
#[template(path = "orgs/person.html")]
struct PersonPage<'a> {
    chrome: Chrome<'a>,
    person: identity::organisations::PersonView,
}

async fn person(
    State(state): State<AppState>,
    v: Visitor,
    Path(account): Path<String>,
) -> Result<Response, Failure> {
    let actor = signed_in(&v)?;
    let person = state
        .identity
        .person_for_admin(&v.tenant().config, actor, &account)
        .await
        .map_err(page_error)?;
    let page = PersonPage {
        chrome: v.chrome(""),
        person,
    };
    let html = render(StatusCode::OK, &page);
    Ok(v.respond(html))
}
