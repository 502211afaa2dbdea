//! What a visitor can ask of the course and service lists: filters, sort and page.

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Items per page.
pub const PER_PAGE: u64 = 20;
/// The highest page number a list answers (the JSON API refuses more with 400; the pages
/// show the last one).
pub const MAX_PAGE: u64 = 10_000;
/// Longest search text accepted (longer is cut, not refused: it is a search box).
pub const SEARCH_MAX: usize = 200;

/// How to order the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Next session first (courses without a future session last).
    #[default]
    Date,
    /// Alphabetical.
    Title,
    /// Lowest price first.
    Price,
}

/// Filters for the course list. Every field is optional; unknown values are ignored by
/// the page and refused by the JSON API's strict parser.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CourseQuery {
    /// Words to search for in titles, summaries and descriptions.
    #[serde(default)]
    pub q: Option<String>,
    /// Only courses with a session on or after this day.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Only courses with a session on or before this day.
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// Only this provider's courses.
    #[serde(default)]
    pub provider: Option<String>,
    /// Only courses for this audience.
    #[serde(default)]
    pub audience: Option<String>,
    /// Only courses for this job category.
    #[serde(default)]
    pub job_category: Option<String>,
    /// Only courses with a future session that has places left.
    #[serde(default)]
    pub has_places: Option<bool>,
    /// Order.
    #[serde(default)]
    pub sort: Option<Sort>,
    /// Page number, from 1.
    #[serde(default)]
    #[param(minimum = 0, maximum = 10_000)]
    pub page: Option<u64>,
}

impl CourseQuery {
    /// The search text, trimmed and cut to [`SEARCH_MAX`]; `None` when empty.
    #[must_use]
    pub fn text(&self) -> Option<String> {
        self.q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| q.chars().take(SEARCH_MAX).collect())
    }

    /// The page, from 1.
    #[must_use]
    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1).clamp(1, MAX_PAGE)
    }
}

/// Turns what a visitor typed into an FTS5 query that cannot be a syntax error or an
/// operator: each word quoted, all required, the last matched as a prefix (search as you
/// type). `None` when nothing searchable is left.
#[must_use]
pub fn fts5_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .map(|w| format!("\"{w}\""))
        .collect();
    if words.is_empty() {
        None
    } else {
        Some(format!("{}*", words.join(" ")))
    }
}

#[cfg(test)]
mod tests {
    use super::fts5_query;

    #[test]
    fn fts5_query_is_inert() {
        assert_eq!(
            fts5_query("safeguarding level 2").as_deref(),
            Some("\"safeguarding\" \"level\" \"2\"*")
        );
        assert_eq!(
            fts5_query("\"OR NEAR( * -"),
            Some("\"OR\" \"NEAR\"*".into())
        );
        assert_eq!(fts5_query("  ;;; "), None);
    }
}
