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
    /// The module that must be enabled for the column to be used (e.g. `induction`), or
    /// `None` when every tenant uses it.
    pub module: Option<Module>,
}

/// Every declared column whose category the tenant's inventory lacks, for the modules the
/// tenant enables. Empty means the tenant's notice covers everything the platform stores.
#[must_use]
pub fn coverage_problems(config: &TenantConfig, columns: &[PersonalColumn]) -> Vec<PrivacyError> {
    let categories = config.category_ids();
    columns
        .iter()
        .filter(|c| c.module.is_none_or(|m| config.has_module(m)))
        .filter(|c| !categories.contains(c.category))
        .map(|c| PrivacyError::UndeclaredCategory {
            tenant: config.slug.to_string(),
            table: c.table,
            column: c.column,
            category: c.category,
        })
        .collect()
}
