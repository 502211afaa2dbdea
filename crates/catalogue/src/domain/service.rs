//! Traded services and SLAs: packages a school buys for a period, priced in bands.

use chrono::NaiveDate;
use identity::domain::signup::FieldError;
use serde::Deserialize;
use tenant_router::TenantConfig;
use utoipa::ToSchema;

use super::money::MAX_PENCE;
use super::{DESCRIPTION_MAX, Manager, SHORT_MAX, SUMMARY_MAX, TITLE_MAX, choices, error, text};

/// Most price bands one service may have.
pub const BANDS_MAX: usize = 20;

/// One price band (e.g. "Up to 100 pupils", £450).
#[derive(Debug, Clone, Deserialize, ToSchema, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PriceBand {
    /// Who the band applies to.
    pub label: String,
    /// Price in pence.
    pub price_pence: i64,
}

/// A traded service or SLA, as a manager submits it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceFields {
    /// The provider selling it.
    pub provider_id: String,
    /// Title.
    pub title: String,
    /// One or two sentences for the list.
    pub summary: String,
    /// Full description, in markdown.
    #[serde(default)]
    pub description: String,
    /// Audiences it is for.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// First day covered.
    pub period_start: Option<NaiveDate>,
    /// Last day covered.
    pub period_end: Option<NaiveDate>,
    /// The term in words ("Academic year 2027 to 2028").
    #[serde(default)]
    pub term: String,
    /// Price bands, at least one.
    #[serde(default)]
    pub price_bands: Vec<PriceBand>,
}

/// A service that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidService {
    /// Provider id.
    pub provider_id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Markdown description.
    pub description: String,
    /// Audiences.
    pub audiences: Vec<String>,
    /// First day covered.
    pub period_start: NaiveDate,
    /// Last day covered.
    pub period_end: NaiveDate,
    /// Term in words.
    pub term: String,
    /// Bands, in order.
    pub price_bands: Vec<PriceBand>,
}

/// Checks a service.
///
/// # Errors
/// Every problem found, each tied to its field.
pub fn validate(
    cfg: &TenantConfig,
    manager: &Manager,
    f: &ServiceFields,
) -> Result<ValidService, Vec<FieldError>> {
    let mut errors = Vec::new();
    super::provider_for(&mut errors, cfg, manager, &f.provider_id);
    let title = text(&mut errors, "title", "a title", &f.title, true, TITLE_MAX);
    let summary = text(
        &mut errors,
        "summary",
        "a summary",
        &f.summary,
        true,
        SUMMARY_MAX,
    );
    let description = text(
        &mut errors,
        "description",
        "a description",
        &f.description,
        false,
        DESCRIPTION_MAX,
    );
    let allowed: Vec<&str> = cfg.audiences.iter().map(|a| a.as_str()).collect();
    let audiences = choices(
        &mut errors,
        "audiences",
        "who it is for",
        &f.audiences,
        &allowed,
    );
    let term = text(&mut errors, "term", "the term", &f.term, true, SHORT_MAX);
    match (f.period_start, f.period_end) {
        (None, _) => error(
            &mut errors,
            "period_start",
            "Enter the first day the service covers",
        ),
        (_, None) => error(
            &mut errors,
            "period_end",
            "Enter the last day the service covers",
        ),
        (Some(s), Some(e)) if e < s => {
            error(
                &mut errors,
                "period_end",
                "The last day must be on or after the first day",
            );
        }
        (Some(s), Some(e)) if (e - s).num_days() > 366 * 5 => {
            error(
                &mut errors,
                "period_end",
                "A service can cover 5 years at most",
            );
        }
        _ => {}
    }
    if f.price_bands.is_empty() {
        error(&mut errors, "price_bands", "Add at least one price band");
    } else if f.price_bands.len() > BANDS_MAX {
        error(
            &mut errors,
            "price_bands",
            "A service can have 20 price bands at most",
        );
    }
    let mut price_bands = Vec::new();
    for band in &f.price_bands {
        let label = text(
            &mut errors,
            "price_bands",
            "a label for each price band",
            &band.label,
            true,
            SHORT_MAX,
        );
        if !(0..=MAX_PENCE).contains(&band.price_pence) {
            error(
                &mut errors,
                "price_bands",
                "Each band's price must be between £0 and £1,000,000",
            );
        }
        price_bands.push(PriceBand {
            label,
            price_pence: band.price_pence,
        });
    }
    errors.dedup();
    match (errors.is_empty(), f.period_start, f.period_end) {
        (true, Some(period_start), Some(period_end)) => Ok(ValidService {
            provider_id: f.provider_id.trim().to_owned(),
            title,
            summary,
            description,
            audiences,
            period_start,
            period_end,
            term,
            price_bands,
        }),
        _ => Err(errors),
    }
}
