//! The retention rules of the notice's draft: the list, one rule's form, saving and
//! removing a rule. Each change goes into the draft like every other edit.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use identity::domain::signup::FieldError;
use privacy_engine::domain::executor::executor;
use privacy_engine::domain::notice::retention_sentence;
use tenant_router::TenantConfig;
use tenant_router::config::{Period, RetentionAction, RetentionRule, RetentionTrigger};

use super::{FormFields, admin, change, field, not_found, optional, overview_page, working};
use crate::http::auth::{Failure, Visitor};
use crate::http::page::{Chrome, render};
use crate::http::state::AppState;

const TRIGGERS: [(RetentionTrigger, &str, &str); 5] = [
    (
        RetentionTrigger::Inactivity,
        "inactivity",
        "After the account was last active",
    ),
    (
        RetentionTrigger::LeftOrganisation,
        "left_organisation",
        "After the person leaves their organisation",
    ),
    (
        RetentionTrigger::ServiceDelivered,
        "service_delivered",
        "After the course or service was delivered",
    ),
    (
        RetentionTrigger::ContractEnded,
        "contract_ended",
        "After the contract ends",
    ),
    (
        RetentionTrigger::Created,
        "created",
        "After the record was made",
    ),
];

const ACTIONS: [(RetentionAction, &str, &str); 4] = [
    (
        RetentionAction::Deactivate,
        "deactivate",
        "Switch the account off",
    ),
    (RetentionAction::Delete, "delete", "Delete"),
    (
        RetentionAction::Anonymise,
        "anonymise",
        "Anonymise (remove the name and details)",
    ),
    (
        RetentionAction::Review,
        "review",
        "Review, and delete unless there is a reason to keep it",
    ),
];

const UNITS: [(&str, &str); 4] = [
    ("d", "days"),
    ("w", "weeks"),
    ("m", "months"),
    ("y", "years"),
];

#[derive(Template)]
#[template(path = "privacy_admin/rules.html")]
struct RulesPage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    /// Index, data, the notice's sentence, who applies it (or why nothing does) and
    /// whether something does.
    rules: Vec<(usize, String, String, String, bool)>,
}

/// A category id or group, in words.
fn category_name(c: &TenantConfig, id: &str) -> String {
    c.data_categories
        .iter()
        .find(|d| d.id == id)
        .map_or_else(|| format!("All {id} data"), |d| d.name.clone())
}

pub(super) async fn rules(State(state): State<AppState>, v: Visitor) -> Result<Response, Failure> {
    admin(&state, &v).await?;
    let c = working(&state, &v).await?.config;
    let rules = c
        .retention
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (applied, ok) = match executor(&c.retention, i) {
                Ok(e) => (e.describe(), true),
                Err(why) => (format!("Nothing applies this rule: {why}"), false),
            };
            (
                i,
                category_name(&c, &r.category),
                retention_sentence(r),
                applied,
                ok,
            )
        })
        .collect();
    let html = render(
        StatusCode::OK,
        &RulesPage {
            chrome: v.chrome("/manage/privacy"),
            csrf: v.csrf().to_owned(),
            rules,
        },
    );
    Ok(v.respond(html))
}

/// A set of radios: field, legend, and `(value, label)` options.
type Choice = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

#[derive(Template)]
#[template(path = "privacy_admin/rule.html")]
struct RulePage<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    /// `new` or the rule's index.
    rule: String,
    categories: Vec<(String, String)>,
    /// `(field, legend, [(value, label)])`: what happens, and when.
    choices: Vec<Choice>,
    units: Vec<(&'static str, &'static str)>,
    form: FormFields,
    errors: Vec<FieldError>,
}

fn rule_page<'a>(
    v: &'a Visitor,
    c: &TenantConfig,
    rule: String,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
) -> RulePage<'a> {
    let mut categories: Vec<(String, String)> = c
        .data_categories
        .iter()
        .map(|d| (d.id.clone(), d.name.clone()))
        .collect();
    let mut groups: Vec<String> = c
        .data_categories
        .iter()
        .map(|d| d.group().to_owned())
        .collect();
    groups.dedup();
    categories.extend(
        groups
            .into_iter()
            .map(|g| (g.clone(), format!("All {g} data"))),
    );
    RulePage {
        chrome: v.chrome("/manage/privacy"),
        csrf: v.csrf().to_owned(),
        rule,
        categories,
        choices: vec![
            (
                "action",
                "What happens",
                ACTIONS.iter().map(|(_, k, l)| (*k, *l)).collect(),
            ),
            (
                "trigger",
                "When",
                TRIGGERS.iter().map(|(_, k, l)| (*k, *l)).collect(),
            ),
        ],
        units: UNITS.to_vec(),
        errors: errors.clone(),
        form: FormFields { values, errors },
    }
}

fn rule_values(r: &RetentionRule) -> HashMap<String, String> {
    let after = r.after.map(|p| p.to_string()).unwrap_or_default();
    let split = after
        .find(|ch: char| !ch.is_ascii_digit())
        .unwrap_or(after.len());
    let (count, unit) = after.split_at(split);
    HashMap::from([
        ("category".to_owned(), r.category.clone()),
        (
            "trigger".to_owned(),
            TRIGGERS
                .iter()
                .find(|(t, _, _)| *t == r.trigger)
                .map_or("", |(_, k, _)| k)
                .to_owned(),
        ),
        ("count".to_owned(), count.to_owned()),
        ("unit".to_owned(), unit.to_owned()),
        (
            "action".to_owned(),
            ACTIONS
                .iter()
                .find(|(a, _, _)| *a == r.action)
                .map_or("", |(_, k, _)| k)
                .to_owned(),
        ),
        (
            "user_may_extend".to_owned(),
            if r.user_may_extend { "yes" } else { "" }.to_owned(),
        ),
        (
            "authority".to_owned(),
            r.authority.clone().unwrap_or_default(),
        ),
    ])
}

/// `new`, or the index of an existing rule in `c`.
fn rule_index(c: &TenantConfig, rule: &str) -> Result<Option<usize>, Failure> {
    if rule == "new" {
        return Ok(None);
    }
    rule.parse::<usize>()
        .ok()
        .filter(|i| *i < c.retention.len())
        .map(Some)
        .ok_or_else(not_found)
}

pub(super) async fn rule_form(
    State(state): State<AppState>,
    v: Visitor,
    Path(rule): Path<String>,
) -> Result<Response, Failure> {
    admin(&state, &v).await?;
    let c = working(&state, &v).await?.config;
    let values = match rule_index(&c, &rule)? {
        Some(i) => rule_values(&c.retention[i]),
        None => HashMap::new(),
    };
    let html = render(StatusCode::OK, &rule_page(&v, &c, rule, values, Vec::new()));
    Ok(v.respond(html))
}

/// Reads a rule from the form, or says what is wrong with it.
fn parse_rule(form: &HashMap<String, String>) -> Result<RetentionRule, Vec<FieldError>> {
    let mut errors = Vec::new();
    let trigger = TRIGGERS
        .iter()
        .find(|(_, k, _)| *k == field(form, "trigger"));
    if trigger.is_none() {
        errors.push(FieldError {
            field: "trigger",
            message: "Choose when the rule applies".to_owned(),
        });
    }
    let action = ACTIONS.iter().find(|(_, k, _)| *k == field(form, "action"));
    if action.is_none() {
        errors.push(FieldError {
            field: "action",
            message: "Choose what happens".to_owned(),
        });
    }
    let category = field(form, "category");
    if category.is_empty() {
        errors.push(FieldError {
            field: "category",
            message: "Choose the data the rule covers".to_owned(),
        });
    }
    let count = field(form, "count");
    let unit = field(form, "unit");
    let after = match format!("{count}{unit}").parse::<Period>() {
        Ok(p) if UNITS.iter().any(|(u, _)| *u == unit) => Some(p),
        _ => {
            errors.push(FieldError {
                field: "count",
                message: "Enter the period as a whole number of days, weeks, months or years, like 2 years"
                    .to_owned(),
            });
            None
        }
    };
    match (trigger, action) {
        (Some((trigger, _, _)), Some((action, _, _))) if errors.is_empty() => Ok(RetentionRule {
            category,
            trigger: *trigger,
            after,
            action: *action,
            user_may_extend: field(form, "user_may_extend") == "yes",
            authority: optional(form, "authority"),
        }),
        _ => Err(errors),
    }
}

pub(super) async fn save_rule(
    State(state): State<AppState>,
    v: Visitor,
    Path(rule): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = admin(&state, &v).await?;
    let before = working(&state, &v).await?.config;
    let index = rule_index(&before, &rule)?;
    let outcome = match parse_rule(&form) {
        Err(errors) => Err(errors),
        Ok(new) => {
            let describe = match index {
                Some(i) => format!(
                    "Changed a retention rule for {}: “{}” became “{}”",
                    category_name(&before, &new.category),
                    retention_sentence(&before.retention[i]),
                    retention_sentence(&new)
                ),
                None => format!(
                    "Added a retention rule for {}: “{}”",
                    category_name(&before, &new.category),
                    retention_sentence(&new)
                ),
            };
            change(&state, &v, who, &describe, |c, _| {
                let at = match index {
                    Some(i) if i < c.retention.len() => {
                        c.retention[i] = new;
                        i
                    }
                    Some(_) => {
                        return vec![FieldError {
                            field: "config",
                            message: "The rules changed while you were editing; start again"
                                .to_owned(),
                        }];
                    }
                    None => {
                        c.retention.push(new);
                        c.retention.len() - 1
                    }
                };
                // A rule nothing would apply is refused here, not only at publication
                // (an unknown category is left to the configuration's own check).
                let known = c.data_categories.iter().any(|d| {
                    d.id == c.retention[at].category || d.group() == c.retention[at].category
                });
                match executor(&c.retention, at) {
                    Ok(_) => Vec::new(),
                    Err(_) if !known => Vec::new(),
                    Err(why) => vec![FieldError {
                        field: "action",
                        message: format!("Nothing in the portal can apply this rule: {why}"),
                    }],
                }
            })
            .await?
        }
    };
    let html = match outcome {
        Ok(()) => return Ok(v.respond(Redirect::to("/manage/privacy/retention").into_response())),
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &rule_page(&v, &before, rule, form, errors),
        ),
    };
    Ok(v.respond(html))
}

pub(super) async fn remove_rule(
    State(state): State<AppState>,
    v: Visitor,
    Path(rule): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Failure> {
    v.check_csrf(&form)?;
    let who = admin(&state, &v).await?;
    let before = working(&state, &v).await?.config;
    let i = rule_index(&before, &rule)?.ok_or_else(not_found)?;
    let describe = format!(
        "Removed a retention rule for {}: “{}”",
        category_name(&before, &before.retention[i].category),
        retention_sentence(&before.retention[i])
    );
    let removed = before.retention[i].clone();
    let outcome = change(&state, &v, who, &describe, |c, _| {
        if c.retention.get(i) == Some(&removed) {
            c.retention.remove(i);
            Vec::new()
        } else {
            vec![FieldError {
                field: "config",
                message: "The rules changed while you were editing; start again".to_owned(),
            }]
        }
    })
    .await?;
    match outcome {
        Ok(()) => Ok(v.respond(Redirect::to("/manage/privacy/retention").into_response())),
        Err(errors) => {
            let html =
                overview_page(&state, &v, StatusCode::UNPROCESSABLE_ENTITY, None, errors).await?;
            Ok(v.respond(html))
        }
    }
}
