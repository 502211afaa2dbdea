//! Catalogue rules as plain types and pure functions: no axum, no sea-orm.

pub mod course;
pub use storage::markdown;
pub mod money;
pub mod query;
pub mod resource;
pub mod service;
pub mod sharing;
pub mod uk;

use identity::domain::signup::FieldError;
use tenant_router::TenantConfig;
use tenant_router::config::ProviderKind;

/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest summary, in characters.
pub const SUMMARY_MAX: usize = 600;
/// Longest description (markdown), in characters.
pub const DESCRIPTION_MAX: usize = 20_000;
/// Longest short text (venue, terms, band label), in characters.
pub const SHORT_MAX: usize = 500;

/// Where an item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written; only its managers see it.
    Draft,
    /// Public.
    Published,
    /// Withdrawn; still readable so people who booked can see it.
    Cancelled,
}

impl Status {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a stored name (anything unknown reads as a draft, which nobody public sees).
    #[must_use]
    pub fn parse(s: &str) -> Self {
        match s {
            "published" => Self::Published,
            "cancelled" => Self::Cancelled,
            _ => Self::Draft,
        }
    }
}

/// Who may manage which items: a tenant admin manages every provider's, provider staff
/// only their own provider's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manager {
    /// A tenant admin (with a second factor).
    Tenant {
        /// Their account.
        account_id: String,
    },
    /// Staff of one provider (with a second factor).
    Provider {
        /// Their account.
        account_id: String,
        /// The provider they work for.
        provider_id: String,
    },
    /// The platform operator acting from the command line (demo data, imports).
    Operator {
        /// What is acting, for the audit log (`demo-data`).
        tool: &'static str,
    },
}

impl Manager {
    /// Whether this manager may manage the provider's items.
    #[must_use]
    pub fn manages(&self, provider_id: &str) -> bool {
        match self {
            Self::Tenant { .. } | Self::Operator { .. } => true,
            Self::Provider {
                provider_id: own, ..
            } => own == provider_id,
        }
    }

    /// The provider this manager is confined to, if any.
    #[must_use]
    pub fn provider(&self) -> Option<&str> {
        match self {
            Self::Tenant { .. } | Self::Operator { .. } => None,
            Self::Provider { provider_id, .. } => Some(provider_id),
        }
    }

    /// The audit actor.
    #[must_use]
    pub fn actor(&self) -> String {
        match self {
            Self::Tenant { account_id } | Self::Provider { account_id, .. } => {
                format!("account:{account_id}")
            }
            Self::Operator { tool } => format!("operator:{tool}"),
        }
    }
}

pub(crate) fn error(errors: &mut Vec<FieldError>, field: &'static str, message: impl Into<String>) {
    errors.push(FieldError {
        field,
        message: message.into(),
    });
}

/// Trims `value` and checks it is present (when `required`) and no longer than `max`.
pub(crate) fn text(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    label: &str,
    value: &str,
    required: bool,
    max: usize,
) -> String {
    let value = value.trim();
    if required && value.is_empty() {
        error(errors, field, format!("Enter {label}"));
    } else if value.chars().count() > max {
        error(
            errors,
            field,
            format!("{} must be {max} characters or fewer", capitalise(label)),
        );
    }
    value.to_owned()
}

fn capitalise(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// Checks the provider exists in the tenant and the manager may act for it.
pub(crate) fn provider_for(
    errors: &mut Vec<FieldError>,
    cfg: &TenantConfig,
    manager: &Manager,
    provider_id: &str,
) {
    let provider_id = provider_id.trim();
    if provider_id.is_empty() {
        error(errors, "provider_id", "Select a provider");
    } else if !cfg.providers.iter().any(|p| p.id == provider_id) {
        error(
            errors,
            "provider_id",
            "Select a provider from the list: this one is not registered with the portal",
        );
    } else if !manager.manages(provider_id) {
        error(
            errors,
            "provider_id",
            "You can only manage your own provider's courses and services",
        );
    }
}

/// Refuses a provider that does not offer `what` (a course needs a provider of training,
/// a traded service one of services), unless it is the item's `current` provider: an item
/// made before kinds were checked stays editable without being moved to another provider.
///
/// # Errors
/// The problem, tied to `provider_id`.
pub fn provider_offers(
    cfg: &TenantConfig,
    provider_id: &str,
    current: Option<&str>,
    what: ProviderKind,
) -> Result<(), Vec<FieldError>> {
    let provider_id = provider_id.trim();
    let Some(provider) = cfg.providers.iter().find(|p| p.id == provider_id) else {
        return Ok(());
    };
    if current == Some(provider_id) || provider.kind.offers(what) {
        return Ok(());
    }
    let mut errors = Vec::new();
    let message = match what {
        ProviderKind::Training => {
            "Select a provider of training: this one offers traded services only"
        }
        _ => "Select a provider of traded services: this one offers training only",
    };
    error(&mut errors, "provider_id", message);
    Err(errors)
}

/// The providers `manager` may choose for something `offering` `what`, for an editor's
/// list: those that offer it, and the item's `current` provider whatever it offers.
pub fn providers_for<'a>(
    cfg: &'a TenantConfig,
    manager: &'a Manager,
    what: ProviderKind,
    current: Option<&'a str>,
) -> impl Iterator<Item = &'a tenant_router::config::Provider> {
    cfg.providers.iter().filter(move |p| {
        manager.manages(&p.id) && (p.kind.offers(what) || current == Some(p.id.as_str()))
    })
}

/// Keeps the chosen values that are among `allowed`, reporting any that are not.
pub(crate) fn choices(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    label: &str,
    chosen: &[String],
    allowed: &[&str],
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in chosen {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        if allowed.contains(&c) {
            if !out.iter().any(|o| o == c) {
                out.push(c.to_owned());
            }
        } else {
            error(errors, field, format!("Select {label} from the list"));
            break;
        }
    }
    out
}

/// Joins a list for storage as `,a,b,` so one `LIKE '%,a,%'` matches a member on either
/// database.
#[must_use]
pub fn join_list(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(",{},", items.join(","))
    }
}

/// Splits a stored list.
#[must_use]
pub fn split_list(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip() {
        let items = vec!["schools".to_owned(), "early_years".to_owned()];
        assert_eq!(join_list(&items), ",schools,early_years,");
        assert_eq!(split_list(&join_list(&items)), items);
        assert_eq!(join_list(&[]), "");
        assert!(split_list("").is_empty());
    }

    #[test]
    fn provider_staff_manage_only_their_provider() {
        let m = Manager::Provider {
            account_id: "a".into(),
            provider_id: "p1".into(),
        };
        assert!(m.manages("p1"));
        assert!(!m.manages("p2"));
        assert!(
            Manager::Tenant {
                account_id: "a".into()
            }
            .manages("p2")
        );
    }
}
