//! The course list's filters as a visitor types them (`ListParams`): every box a string,
//! dates as GOV.UK day/month/year boxes or a whole `YYYY-MM-DD`, read into a
//! [`CourseQuery`] with the problems to show beside the boxes.

use catalogue::domain::query::{CourseQuery, Sort};
use serde::Deserialize;

/// The list's filters as typed into the page's form: every value a string, so an empty
/// or mistyped box narrows nothing instead of failing the page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListParams {
    #[serde(default)]
    pub(super) q: String,
    /// `YYYY-MM-DD` (links and the JSON API's form), or the three boxes below.
    #[serde(default)]
    pub(super) from: String,
    #[serde(default, rename = "from-day")]
    pub(super) from_day: String,
    #[serde(default, rename = "from-month")]
    pub(super) from_month: String,
    #[serde(default, rename = "from-year")]
    pub(super) from_year: String,
    #[serde(default)]
    pub(super) to: String,
    #[serde(default, rename = "to-day")]
    pub(super) to_day: String,
    #[serde(default, rename = "to-month")]
    pub(super) to_month: String,
    #[serde(default, rename = "to-year")]
    pub(super) to_year: String,
    #[serde(default)]
    pub(super) provider: String,
    #[serde(default)]
    pub(super) audience: String,
    #[serde(default)]
    pub(super) job_category: String,
    #[serde(default)]
    pub(super) has_places: String,
    #[serde(default)]
    pub(super) sort: String,
    #[serde(default)]
    pub(super) page: String,
}

/// A date typed into the GOV.UK date input (day, month and year boxes) or given whole as
/// `YYYY-MM-DD`: `None` when every box is empty, the date when it is real, and the problem
/// otherwise.
fn typed_date(
    whole: &str,
    [day, month, year]: [&str; 3],
    which: &str,
) -> Result<Option<chrono::NaiveDate>, String> {
    let (whole, parts) = (whole.trim(), [day.trim(), month.trim(), year.trim()]);
    if parts.iter().all(|p| p.is_empty()) {
        if whole.is_empty() {
            return Ok(None);
        }
        return chrono::NaiveDate::parse_from_str(whole, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("The ‘{which}’ date must be a real date, like 21 3 2027"));
    }
    let number = |p: &str| p.parse::<u32>().ok();
    match (number(parts[0]), number(parts[1]), number(parts[2])) {
        (Some(d), Some(m), Some(y)) if (2000..=2100).contains(&y) => {
            chrono::NaiveDate::from_ymd_opt(i32::try_from(y).unwrap_or(0), m, d)
                .map(Some)
                .ok_or_else(|| format!("The ‘{which}’ date must be a real date, like 21 3 2027"))
        }
        _ => Err(format!(
            "Enter the ‘{which}’ date as a day, month and year, like 21 3 2027"
        )),
    }
}

/// One problem with the filters, and the box it is about.
pub(super) struct Problem {
    pub(super) field: &'static str,
    pub(super) message: String,
}

impl ListParams {
    /// Every parameter the list reads, in one order: what a kept list depends on, so the
    /// same list asked for with its parameters in another order, or with parameters the
    /// list does not read, is one part kept, not one per spelling of the address.
    pub(super) fn key(&self) -> String {
        format!("{self:?}")
    }

    pub(super) fn query(&self) -> (CourseQuery, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut date = |whole: &str, parts: [&str; 3], which: &'static str| {
            typed_date(whole, parts, which).unwrap_or_else(|message| {
                problems.push(Problem {
                    field: if which == "from" {
                        "from-day"
                    } else {
                        "to-day"
                    },
                    message,
                });
                None
            })
        };
        let from = date(
            &self.from,
            [&self.from_day, &self.from_month, &self.from_year],
            "from",
        );
        let to = date(
            &self.to,
            [&self.to_day, &self.to_month, &self.to_year],
            "to",
        );
        let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let q = CourseQuery {
            q: nonempty(&self.q),
            from,
            to,
            provider: nonempty(&self.provider),
            audience: nonempty(&self.audience),
            job_category: nonempty(&self.job_category),
            has_places: Some(self.has_places == "yes"),
            sort: Some(match self.sort.as_str() {
                "title" => Sort::Title,
                "price" => Sort::Price,
                _ => Sort::Date,
            }),
            page: self.page.parse().ok(),
        };
        (q, problems)
    }

    /// What a date's three boxes show: what was typed, or the parts of a whole date.
    pub(super) fn date_boxes(&self, which: &str) -> [String; 3] {
        let (whole, parts) = if which == "from" {
            (
                &self.from,
                [&self.from_day, &self.from_month, &self.from_year],
            )
        } else {
            (&self.to, [&self.to_day, &self.to_month, &self.to_year])
        };
        if parts.iter().all(|p| p.trim().is_empty())
            && let Ok(d) = chrono::NaiveDate::parse_from_str(whole.trim(), "%Y-%m-%d")
        {
            use chrono::Datelike as _;
            return [
                d.day().to_string(),
                d.month().to_string(),
                d.year().to_string(),
            ];
        }
        parts.map(|p| p.trim().to_owned())
    }

    /// How many filters narrow the list (the disclosure's summary says so).
    pub(super) fn applied(&self) -> usize {
        let dates = [
            [
                &self.from,
                &self.from_day,
                &self.from_month,
                &self.from_year,
            ],
            [&self.to, &self.to_day, &self.to_month, &self.to_year],
        ]
        .iter()
        .filter(|d| d.iter().any(|p| !p.trim().is_empty()))
        .count();
        dates
            + [&self.provider, &self.audience, &self.job_category]
                .iter()
                .filter(|p| !p.trim().is_empty())
                .count()
            + usize::from(self.has_places == "yes")
    }

    /// This query string with another page number.
    pub(super) fn with_page(&self, page: u64) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("from", &self.from),
            ("from-day", &self.from_day),
            ("from-month", &self.from_month),
            ("from-year", &self.from_year),
            ("to", &self.to),
            ("to-day", &self.to_day),
            ("to-month", &self.to_month),
            ("to-year", &self.to_year),
            ("provider", &self.provider),
            ("audience", &self.audience),
            ("job_category", &self.job_category),
            ("has_places", &self.has_places),
            ("sort", &self.sort),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.append_pair("page", &page.to_string());
        format!("?{}", s.finish())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::extract::Query;

    use super::ListParams;

    fn key(uri: &str) -> String {
        let uri: http::Uri = uri.parse().unwrap();
        Query::<ListParams>::try_from_uri(&uri).unwrap().0.key()
    }

    #[test]
    fn one_list_is_one_key_however_its_address_is_spelt() {
        let list = key("/courses?provider=ss4e&sort=soonest&q=phonics");
        assert_eq!(key("/courses?q=phonics&sort=soonest&provider=ss4e"), list);
        assert_eq!(
            key("/courses?q=phonics&utm_source=newsletter&provider=ss4e&sort=soonest"),
            list,
            "a parameter the list does not read"
        );
        assert_ne!(key("/courses?q=phonics&provider=ss4e"), list);
        assert_ne!(key("/courses?q=phonic&provider=ss4e&sort=soonest"), list);
        assert_ne!(
            key("/courses?q=phonics&provider=ss4e&sort=soonest&page=2"),
            list
        );
    }
}
