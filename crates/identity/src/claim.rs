//! What a sign-up form claims besides the person: the organisation they work at (which its
//! lead administrator confirms) and, where the tenant asks, the access they need there. Read
//! alike by the password sign-up and the sign-up through an organisation's own sign-in.

use std::collections::HashMap;

use tenant_router::TenantConfig;

use crate::IdentityError;

/// A sign-up form's checked fields with the organisation it claims (if any) and the rights
/// asked of that organisation; every problem of both together when there are any, so the
/// person sees them all at once.
pub(crate) fn read<'f, T>(
    tenant: &TenantConfig,
    form: &'f HashMap<String, String>,
    fields: Result<T, Vec<crate::domain::signup::FieldError>>,
) -> Result<(T, Option<&'f str>, crate::domain::rights::Rights), IdentityError> {
    let claimed = form
        .get("organisation_id")
        .map(String::as_str)
        .filter(|o| !o.is_empty());
    match (fields, requested_access(tenant, form, claimed.is_some())) {
        (Ok(fields), Ok(rights)) => Ok((fields, claimed, rights)),
        (Ok(_), Err(problem)) => Err(IdentityError::Invalid(vec![problem])),
        (Err(problems), Ok(_)) => Err(IdentityError::Invalid(problems)),
        (Err(mut problems), Err(problem)) => {
            problems.push(problem);
            Err(IdentityError::Invalid(problems))
        }
    }
}

/// The rights a person asks their organisation to confirm, where the tenant asks for the
/// level of access at sign-up: required when the policy says so, and anything beyond
/// booking for oneself needs an organisation to confirm it.
fn requested_access(
    tenant: &TenantConfig,
    form: &HashMap<String, String>,
    has_organisation: bool,
) -> Result<crate::domain::rights::Rights, crate::domain::signup::FieldError> {
    use crate::domain::rights::{ACCESS_LEVELS, Rights};
    use crate::domain::signup::FieldError;
    let Some(policy) = tenant.account_fields.access_rights else {
        return Ok(Rights::new([]));
    };
    let chosen = form.get("access").map_or("", |a| a.trim());
    if chosen.is_empty() {
        return if policy == tenant_router::config::FieldPolicy::Mandatory {
            Err(FieldError {
                field: "access",
                message: "Choose the access you need".to_owned(),
            })
        } else {
            Ok(Rights::new([]))
        };
    }
    let Some((_, _, rights)) = ACCESS_LEVELS.iter().find(|(v, _, _)| *v == chosen) else {
        return Err(FieldError {
            field: "access",
            message: "Choose one of the levels of access listed".to_owned(),
        });
    };
    if !rights.is_empty() && !has_organisation {
        return Err(FieldError {
            field: "organisation_id",
            message: "Choose your organisation, so its lead administrator can confirm that access"
                .to_owned(),
        });
    }
    Ok(Rights::new(rights.iter().copied()))
}
