//! The accessibility statement's facts (`accessibility/statement.toml`): the standard, the
//! pages the automated checks cover and the problems known. Every tenant's
//! `/accessibility` page is generated from them; the accessibility tests check the very
//! pages listed here, so the statement cannot claim a check that does not run.

use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Deserialize;

const SOURCE: &str = include_str!("../accessibility/statement.toml");

/// What the statement says.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// The standard the site is checked against, e.g. "WCAG 2.2 AA".
    pub standard: String,
    /// When the statement was first prepared.
    pub prepared: NaiveDate,
    /// When it was last reviewed.
    pub reviewed: NaiveDate,
    /// The automated checks, by area.
    pub automated: Vec<Checked>,
    /// Problems known and not yet fixed.
    #[serde(default)]
    pub problem: Vec<Problem>,
}

/// One area's pages, checked on every test run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checked {
    /// Who uses them, e.g. "Public pages".
    pub area: String,
    /// The paths, with `{placeholders}` for ids.
    pub pages: Vec<String>,
}

/// A known accessibility problem.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    /// What does not work, and for whom.
    pub summary: String,
    /// The WCAG success criteria it fails, if any.
    pub criteria: Vec<String>,
    /// What we will do about it.
    pub plan: String,
}

impl Statement {
    /// The compliance status the regulations ask for, from the problems known.
    #[must_use]
    pub fn status(&self) -> &'static str {
        if self.problem.is_empty() {
            "fully compliant"
        } else {
            "partially compliant"
        }
    }

    /// The pages listed for an area.
    #[must_use]
    pub fn pages(&self, area: &str) -> Vec<&str> {
        self.automated
            .iter()
            .filter(|c| c.area == area)
            .flat_map(|c| c.pages.iter().map(String::as_str))
            .collect()
    }
}

/// The statement, read once.
///
/// # Errors
/// When the embedded file does not parse (a unit test reads it on every build).
pub fn statement() -> Result<&'static Statement, &'static str> {
    static S: OnceLock<Result<Statement, String>> = OnceLock::new();
    S.get_or_init(|| {
        let s: Statement = toml::from_str(SOURCE).map_err(|e| e.to_string())?;
        if let Some(c) = s.automated.iter().find(|c| c.pages.is_empty()) {
            return Err(format!("the area `{}` lists no pages", c.area));
        }
        Ok(s)
    })
    .as_ref()
    .map_err(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::statement;

    #[test]
    fn the_statement_parses_and_lists_pages() {
        let s = statement().unwrap();
        assert!(s.reviewed >= s.prepared);
        assert!(s.automated.iter().all(|c| !c.pages.is_empty()));
        assert!(s.pages("Public pages").contains(&"/accessibility"));
        assert_eq!(s.status(), "partially compliant");
    }
}
