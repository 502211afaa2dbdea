//! What booking or buying shares, with whom: generated from the provider's entry in the
//! tenant's configuration and the data categories it names, never typed by hand, so the
//! statement on a course page and the delegate list the provider receives cannot disagree.

use serde::Serialize;
use tenant_router::TenantConfig;
use utoipa::ToSchema;

/// One category passed on.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct SharedCategory {
    /// Category id, e.g. `booking.delegate_details`.
    pub id: String,
    /// Its plain-English name.
    pub name: String,
    /// The data items.
    pub items: Vec<String>,
    /// True for special-category data.
    pub special_category: bool,
}

/// The statement shown before someone books or buys.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct SharingStatement {
    /// Provider id.
    pub provider_id: String,
    /// Who receives the data.
    pub recipient: String,
    /// True when the recipient is a separate organisation (it becomes a controller of what
    /// it receives).
    pub third_party: bool,
    /// What it receives, by category.
    pub categories: Vec<SharedCategory>,
    /// The sentence pages show.
    pub sentence: String,
}

/// What kind of transaction the statement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// Booking a place on a course or event.
    Booking,
    /// Buying a traded service.
    Purchase,
}

/// The statement for `provider_id`, or `None` when the tenant has no such provider.
#[must_use]
pub fn statement(
    cfg: &TenantConfig,
    provider_id: &str,
    occasion: Occasion,
) -> Option<SharingStatement> {
    let provider = cfg.providers.iter().find(|p| p.id == provider_id)?;
    let group = match occasion {
        Occasion::Booking => "booking",
        Occasion::Purchase => "purchase",
    };
    let categories: Vec<SharedCategory> = provider
        .receives
        .iter()
        .filter_map(|id| cfg.data_categories.iter().find(|c| &c.id == id))
        .filter(|c| c.group() == group)
        .map(|c| SharedCategory {
            id: c.id.clone(),
            name: c.name.clone(),
            items: c.items.clone(),
            special_category: c.special_category,
        })
        .collect();
    let verb = match occasion {
        Occasion::Booking => "book",
        Occasion::Purchase => "buy",
    };
    let items: Vec<String> = categories
        .iter()
        .flat_map(|c| c.items.iter().map(|i| lower_first(i)))
        .collect();
    let sentence = if items.is_empty() {
        format!(
            "When you {verb}, none of your personal details are passed to {}.",
            provider.name
        )
    } else if provider.third_party {
        format!(
            "When you {verb}, {} receives {}. {} is a separate organisation and looks after these details under its own privacy notice.",
            provider.name,
            list(&items),
            provider.name
        )
    } else {
        format!(
            "When you {verb}, {} (part of {}) uses {}.",
            provider.name,
            cfg.controller.name,
            list(&items)
        )
    };
    Some(SharingStatement {
        provider_id: provider.id.clone(),
        recipient: provider.name.clone(),
        third_party: provider.third_party,
        categories,
        sentence,
    })
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.clone().next()) {
        // Keep acronyms ("TRN") as written.
        (Some(c), Some(n)) if !n.is_uppercase() => c.to_lowercase().chain(chars).collect(),
        _ => s.to_owned(),
    }
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_english() {
        assert_eq!(list(&["a".into()]), "a");
        assert_eq!(list(&["a".into(), "b".into(), "c".into()]), "a, b and c");
        assert_eq!(lower_first("Your name"), "your name");
        assert_eq!(lower_first("TRN"), "TRN");
    }
}
