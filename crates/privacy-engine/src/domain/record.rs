//! The record of processing activities (UK GDPR Article 30(1)), generated from what the
//! platform applies: the tenant's inventory (categories, purposes, lawful bases, sources,
//! special-category conditions), the people it serves, the providers and processors that
//! receive data, the retention rules in force, transfers, the platform's security measures,
//! and where the platform holds each category (the crates' column declarations). Nothing
//! in it is typed by hand, so it cannot say what the platform does not do.

use tenant_router::TenantConfig;

use crate::domain::inventory::PersonalColumn;
use crate::domain::notice;

/// The technical and organisational measures the platform itself applies (Article 30(1)(g)),
/// each true of every deployment.
pub const SECURITY_MEASURES: [&str; 8] = [
    "Every tenant's data is kept apart: each query names the tenant, and on PostgreSQL \
     row-level security refuses rows of another tenant.",
    "Special-category data (access and support needs) is encrypted at rest \
     (XChaCha20-Poly1305) under a key per person, wrapped by the tenant's key.",
    "Passwords are stored as Argon2 hashes; sign-in is throttled per account and per client.",
    "Roles that see other people's data (administrators, provider staff, privacy officers) \
     need a second factor.",
    "Every change to personal data and every disclosure to a provider is written to an \
     append-only audit log whose hash chain shows any alteration.",
    "Providers receive only the fields the notice names for them, and each read is logged.",
    "Retention rules are applied daily; deletion is recorded in disposal records.",
    "Session cookies are HTTP-only and same-site (and secure wherever the portal is served \
     over HTTPS); every form carries a CSRF token.",
];

/// One processing activity: a category of personal data and everything Article 30 asks of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    /// Category id, e.g. `account.contact`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The data items.
    pub items: Vec<String>,
    /// Why.
    pub purposes: Vec<String>,
    /// Article 6 basis.
    pub lawful_basis: String,
    /// For special-category data: the Article 9 (or 10) conditions.
    pub conditions: Vec<String>,
    /// Whose data.
    pub subjects: Vec<String>,
    /// Where it comes from.
    pub sources: Vec<String>,
    /// Who receives it.
    pub recipients: Vec<String>,
    /// How long it is kept.
    pub retention: Vec<String>,
    /// Where the platform holds it (`table.column`).
    pub held_in: Vec<String>,
}

/// A tenant's record of processing activities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessingRecord {
    /// The controller, its address and ICO registration.
    pub controller: Vec<String>,
    /// The data protection officer's contacts.
    pub dpo: Vec<String>,
    /// One per category of the inventory.
    pub activities: Vec<Activity>,
    /// Processors and what they do.
    pub processors: Vec<String>,
    /// Transfers outside the UK and their safeguards.
    pub transfers: String,
    /// The platform's security measures.
    pub security: Vec<&'static str>,
}

/// The record of `cfg`, with the platform's `columns` (only those the tenant's modules and
/// fields use are listed as where data is held).
#[must_use]
pub fn record_of(cfg: &TenantConfig, columns: &[PersonalColumn]) -> ProcessingRecord {
    let compiled = notice::compile(cfg);
    let subjects: Vec<String> = cfg
        .audiences
        .iter()
        .map(|a| format!("Staff of {}", a.label()))
        .collect();
    let activities = cfg
        .data_categories
        .iter()
        .zip(compiled.categories)
        .map(|(c, s)| {
            let mut held_in: Vec<String> = columns
                .iter()
                .filter(|p| p.category == c.id && p.need.applies(cfg))
                .map(|p| format!("{}.{}", p.table, p.column))
                .collect();
            held_in.sort();
            held_in.dedup();
            Activity {
                id: s.id,
                name: s.name,
                items: s.items,
                purposes: s.purposes,
                lawful_basis: s.lawful_basis,
                conditions: s.conditions,
                subjects: subjects.clone(),
                sources: s.sources,
                recipients: s.recipients,
                retention: s.retention,
                held_in,
            }
        })
        .collect();
    let mut controller = vec![compiled.controller];
    controller.extend(compiled.controller_address);
    if let Some(r) = compiled.ico_registration {
        controller.push(format!("ICO registration {r}"));
    }
    ProcessingRecord {
        controller,
        dpo: compiled.dpo,
        activities,
        processors: compiled.processors,
        transfers: compiled.transfers,
        security: SECURITY_MEASURES.to_vec(),
    }
}

/// The record as table rows (a heading row, then one row per activity), lists joined
/// with `; `, for a CSV download.
#[must_use]
pub fn rows(r: &ProcessingRecord) -> Vec<Vec<String>> {
    let heading = [
        "Category",
        "Name",
        "Data items",
        "Purposes",
        "Lawful basis",
        "Special-category conditions",
        "Data subjects",
        "Sources",
        "Recipients",
        "Retention",
        "Held in",
        "Transfers outside the UK",
        "Controller",
    ];
    std::iter::once(heading.map(str::to_owned).to_vec())
        .chain(r.activities.iter().map(|a| {
            vec![
                a.id.clone(),
                a.name.clone(),
                a.items.join("; "),
                a.purposes.join("; "),
                a.lawful_basis.clone(),
                a.conditions.join("; "),
                a.subjects.join("; "),
                a.sources.join("; "),
                a.recipients.join("; "),
                a.retention.join("; "),
                a.held_in.join("; "),
                r.transfers.clone(),
                r.controller.join(", "),
            ]
        }))
        .collect()
}
