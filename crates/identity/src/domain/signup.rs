//! Self sign-up: which fields a tenant asks for, and turning a submitted form into a valid
//! new account or a list of field errors (never half of each).

use std::collections::HashMap;

use tenant_router::config::{AccountFields, FieldPolicy};

use super::password_policy;

/// A form field the sign-up page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// Form name, e.g. `first_name`.
    pub name: &'static str,
    /// Label shown to the person.
    pub label: &'static str,
    /// How the tenant collects it.
    pub policy: FieldPolicy,
    /// Longest accepted value, in characters.
    pub max_chars: usize,
    /// Shown as a multi-line box.
    pub multiline: bool,
}

/// One error, tied to the field it concerns (for the GOV.UK error summary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Form name of the field.
    pub field: &'static str,
    /// What is wrong, in words the person can act on.
    pub message: String,
}

/// A validated sign-up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewAccount {
    /// Lower-cased email, the sign-in name.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Job title.
    pub job_title: Option<String>,
    /// One of the tenant's job categories.
    pub job_category: Option<String>,
    /// Work telephone.
    pub telephone: Option<String>,
    /// Work address.
    pub business_address: Option<String>,
    /// Organisation named by the person (matched to an organisation later).
    pub organisation_name: Option<String>,
    /// The organisation's telephone.
    pub organisation_telephone: Option<String>,
    /// Registered childminder.
    pub is_childminder: bool,
    /// Childminder's own telephone.
    pub personal_telephone: Option<String>,
    /// Childminder's home address.
    pub home_address: Option<String>,
    /// The chosen password (hashed before it goes anywhere).
    pub password: String,
}

/// The fields a tenant's sign-up form shows, in order. Access rights are granted by a lead
/// administrator, not claimed at sign-up; special requirements are asked for separately,
/// once the account exists, because they are special-category data.
#[must_use]
pub fn fields(policy: &AccountFields) -> Vec<FieldSpec> {
    policy
        .collected()
        .into_iter()
        .filter_map(|(name, policy)| {
            let (label, max_chars, multiline) = match name {
                "first_name" => ("First name", 100, false),
                "last_name" => ("Last name", 100, false),
                "email" => ("Work email address", 254, false),
                "job_title" => ("Job title", 150, false),
                "job_category" => ("Job category", 150, false),
                "telephone" => ("Work telephone number", 30, false),
                "business_address" => ("Work address, including postcode", 500, true),
                "organisation_name" => ("School, setting or organisation", 200, false),
                "organisation_telephone" => ("Organisation telephone number", 30, false),
                "personal_telephone" => ("Your own telephone number", 30, false),
                "home_address" => ("Home address, including postcode", 500, true),
                _ => return None,
            };
            Some(FieldSpec {
                name,
                label,
                policy,
                max_chars,
                multiline,
            })
        })
        .collect()
}

/// Whether the form asks "are you a registered childminder?".
#[must_use]
pub fn asks_childminder(policy: &AccountFields) -> bool {
    fields(policy)
        .iter()
        .any(|f| f.policy == FieldPolicy::ChildminderOnly)
}

/// Validates a submitted sign-up form against the tenant's field policy.
///
/// # Errors
/// Every problem found, each tied to its field.
pub fn validate(
    policy: &AccountFields,
    job_categories: &[String],
    form: &HashMap<String, String>,
) -> Result<NewAccount, Vec<FieldError>> {
    let (mut account, mut errors) = details(policy, job_categories, form);
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    let confirm = form
        .get("password_confirm")
        .map(String::as_str)
        .unwrap_or_default();
    let personal = [
        account.email.as_str(),
        account.first_name.as_str(),
        account.last_name.as_str(),
    ];
    errors.extend(check_new_password(password, confirm, &personal));
    account.password = password.to_owned();
    if errors.is_empty() {
        Ok(account)
    } else {
        Err(errors)
    }
}

/// Validates an edit of someone's details (everything but email and password, which have
/// their own flows). The result keeps `email` as given.
///
/// # Errors
/// Every problem found, each tied to its field.
pub fn validate_profile(
    policy: &AccountFields,
    job_categories: &[String],
    form: &HashMap<String, String>,
    email: &str,
) -> Result<NewAccount, Vec<FieldError>> {
    let mut form = form.clone();
    form.insert("email".to_owned(), email.to_owned());
    let (account, errors) = details(policy, job_categories, &form);
    if errors.is_empty() {
        Ok(account)
    } else {
        Err(errors)
    }
}

/// A new password's problem, if it has one: the policy, then the confirmation.
#[must_use]
pub fn check_new_password(password: &str, confirm: &str, personal: &[&str]) -> Option<FieldError> {
    if let Err(problem) = password_policy::check(password, personal) {
        Some(FieldError {
            field: "password",
            message: problem.to_string(),
        })
    } else if password != confirm {
        Some(FieldError {
            field: "password_confirm",
            message: "The passwords do not match".to_owned(),
        })
    } else {
        None
    }
}

fn details(
    policy: &AccountFields,
    job_categories: &[String],
    form: &HashMap<String, String>,
) -> (NewAccount, Vec<FieldError>) {
    let mut errors = Vec::new();
    let get = |name: &str| form.get(name).map(|v| v.trim()).unwrap_or_default();
    let is_childminder = asks_childminder(policy) && get("is_childminder") == "yes";
    let mut account = NewAccount {
        is_childminder,
        ..NewAccount::default()
    };
    for spec in fields(policy) {
        let value = get(spec.name);
        let required = match spec.policy {
            FieldPolicy::Mandatory => true,
            FieldPolicy::ChildminderOnly => is_childminder,
            FieldPolicy::Optional | FieldPolicy::SpecialCategory => false,
        };
        if spec.policy == FieldPolicy::ChildminderOnly && !is_childminder {
            continue;
        }
        if value.is_empty() {
            if required {
                let what = spec.label.to_lowercase();
                let what = what.strip_prefix("your ").unwrap_or(&what);
                errors.push(FieldError {
                    field: spec.name,
                    message: format!("Enter your {what}"),
                });
            }
            continue;
        }
        if value.chars().count() > spec.max_chars {
            errors.push(FieldError {
                field: spec.name,
                message: format!(
                    "{} must be {} characters or fewer",
                    spec.label, spec.max_chars
                ),
            });
            continue;
        }
        if let Err(message) = check_format(spec.name, value, job_categories) {
            errors.push(FieldError {
                field: spec.name,
                message,
            });
            continue;
        }
        let value = value.to_owned();
        match spec.name {
            "first_name" => account.first_name = value,
            "last_name" => account.last_name = value,
            "email" => account.email = value.to_lowercase(),
            "job_title" => account.job_title = Some(value),
            "job_category" => account.job_category = Some(value),
            "telephone" => account.telephone = Some(value),
            "business_address" => account.business_address = Some(value),
            "organisation_name" => account.organisation_name = Some(value),
            "organisation_telephone" => account.organisation_telephone = Some(value),
            "personal_telephone" => account.personal_telephone = Some(value),
            "home_address" => account.home_address = Some(value),
            _ => {}
        }
    }
    (account, errors)
}

fn check_format(name: &str, value: &str, job_categories: &[String]) -> Result<(), String> {
    match name {
        "email" if !is_email(value) => {
            Err("Enter an email address in the correct format, like name@school.org.uk".into())
        }
        "telephone" | "organisation_telephone" | "personal_telephone" if !is_phone(value) => {
            Err("Enter a telephone number, like 01632 960 001 or +44 7700 900 982".into())
        }
        "job_category" if !job_categories.iter().any(|c| c == value) => {
            Err("Select a job category from the list".into())
        }
        _ if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r') =>
        {
            Err("Remove the special characters".into())
        }
        _ => Ok(()),
    }
}

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain, no spaces.
/// Deliverability is proven by the verification email, not by a regex.
#[must_use]
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (10..=15).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(toml_text: &str) -> AccountFields {
        toml::from_str(toml_text).unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const HARROW: &str = r#"
        first_name = "mandatory"
        last_name = "mandatory"
        email = "mandatory"
        job_title = "mandatory"
        personal_telephone = "childminder_only"
        home_address = "childminder_only"
        special_requirements = "special_category"
    "#;

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("first_name", "Ada"),
            ("last_name", "Lovelace"),
            ("email", " Ada.Lovelace@School.ORG.uk "),
            ("job_title", "Teacher"),
            ("password", "analytical engine"),
            ("password_confirm", "analytical engine"),
        ]
    }

    #[test]
    fn a_complete_form_is_accepted_and_normalised() {
        let a = validate(&policy(HARROW), &[], &form(&good())).unwrap();
        assert_eq!(a.email, "ada.lovelace@school.org.uk");
        assert!(!a.is_childminder);
        assert_eq!(a.personal_telephone, None);
    }

    #[test]
    fn every_missing_mandatory_field_is_reported() {
        let errors = validate(&policy(HARROW), &[], &form(&[])).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["first_name", "last_name", "email", "job_title", "password"]
        );
    }

    #[test]
    fn childminders_must_give_their_own_contact_details() {
        let mut f = good();
        f.push(("is_childminder", "yes"));
        let errors = validate(&policy(HARROW), &[], &form(&f)).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["personal_telephone", "home_address"]);
        f.push(("personal_telephone", "07700 900982"));
        f.push(("home_address", "1 Lane, Harrow HA1 1AA"));
        let a = validate(&policy(HARROW), &[], &form(&f)).unwrap();
        assert!(a.is_childminder);
        assert_eq!(a.personal_telephone.as_deref(), Some("07700 900982"));
    }

    #[test]
    fn formats_and_lengths_are_checked() {
        let mut f = good();
        f[2] = ("email", "not-an-email");
        f[3] = ("job_title", "x");
        let long = "y".repeat(151);
        f.push(("job_title", &long));
        let f = form(&f);
        let errors = validate(&policy(HARROW), &[], &f).unwrap_err();
        assert_eq!(errors[0].field, "email");
        assert_eq!(errors[1].field, "job_title");
        assert!(errors[1].message.contains("150"));
    }

    #[test]
    fn job_category_must_come_from_the_list() {
        let p = policy(&format!("{HARROW}\njob_category = \"optional\""));
        let cats = vec!["Teacher".to_owned()];
        let mut f = good();
        f.push(("job_category", "Astronaut"));
        let errors = validate(&p, &cats, &form(&f)).unwrap_err();
        assert_eq!(errors[0].field, "job_category");
    }

    #[test]
    fn mismatched_confirmation_is_an_error() {
        let mut f = good();
        f[5] = ("password_confirm", "analytical engine 2");
        let errors = validate(&policy(HARROW), &[], &form(&f)).unwrap_err();
        assert_eq!(errors[0].field, "password_confirm");
    }
}
