//! Declarations of where personal data lives, checked against each tenant's inventory.
//!
//! Invariant: every column that holds personal data is declared here by the crate that owns
//! it, in the commit that adds it, so notice and behaviour cannot drift apart.

use tenant_router::TenantConfig;
use tenant_router::config::Module;

use crate::PrivacyError;

/// One column holding personal data, and the inventory category it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PersonalColumn {
    /// Table name.
    pub table: &'static str,
    /// Column name.
    pub column: &'static str,
    /// Inventory category id (`group.name`), e.g. `account.contact`.
    pub category: &'static str,
    /// When a tenant uses the column.
    pub need: Need,
}

/// When a tenant stores data in a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Every tenant.
    Always,
    /// Tenants that enable the module.
    Module(Module),
    /// Tenants that enable any of the modules (purchases: courses, traded or ICT services).
    AnyModule(&'static [Module]),
    /// Tenants whose account-field policy collects the field (e.g. `home_address`).
    AccountField(&'static str),
}

impl Need {
    /// Whether `config` makes the platform store data under this need.
    #[must_use]
    pub fn applies(self, config: &TenantConfig) -> bool {
        match self {
            Self::Always => true,
            Self::Module(m) => config.has_module(m),
            Self::AnyModule(ms) => ms.iter().any(|m| config.has_module(*m)),
            Self::AccountField(f) => config
                .account_fields
                .collected()
                .iter()
                .any(|(name, _)| *name == f),
        }
    }
}

/// Every declared column whose category the tenant's inventory lacks, for the modules the
/// tenant enables. Empty means the tenant's notice covers everything the platform stores.
#[must_use]
pub fn coverage_problems(config: &TenantConfig, columns: &[PersonalColumn]) -> Vec<PrivacyError> {
    let categories = config.category_ids();
    columns
        .iter()
        .filter(|c| c.need.applies(config))
        .filter(|c| !categories.contains(c.category))
        .map(|c| PrivacyError::UndeclaredCategory {
            tenant: config.slug.to_string(),
            table: c.table,
            column: c.column,
            category: c.category,
        })
        .collect()
}
