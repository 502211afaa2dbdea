//! The induction module's record (early-career teachers, where the tenant is the appropriate
//! body): Teacher Reference Number, qualification institution, key stage, year group, start
//! date and date of birth. Kept in its own data category, apart from the account.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::signup::FieldError;

/// Key stages offered.
pub const KEY_STAGES: [&str; 6] = ["EYFS", "KS1", "KS2", "KS3", "KS4", "KS5"];

/// A validated induction record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Induction {
    /// Teacher Reference Number: 7 digits.
    pub trn: String,
    /// Where the person qualified.
    pub qualification_institution: String,
    /// One of [`KEY_STAGES`].
    pub key_stage: String,
    /// Year group taught, if given.
    pub year_group: Option<String>,
    /// Induction start date.
    pub start_date: NaiveDate,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
}

/// A TRN as the DfE issues it: 7 digits (spaces ignored), not all zeros.
#[must_use]
pub fn normalise_trn(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 7 && digits.bytes().all(|b| b.is_ascii_digit()) && digits != "0000000")
        .then_some(digits)
}

fn date(form: &HashMap<String, String>, name: &str) -> Option<NaiveDate> {
    let part = |p: &str| {
        form.get(&format!("{name}-{p}"))
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    let year = i32::try_from(part("year")?).ok()?;
    NaiveDate::from_ymd_opt(year, part("month")?, part("day")?)
}

/// Validates the induction form; `today` bounds the dates.
///
/// # Errors
/// Every problem found, each tied to its field.
pub fn validate(
    form: &HashMap<String, String>,
    today: NaiveDate,
) -> Result<Induction, Vec<FieldError>> {
    let get = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or_default();
    let mut errors = Vec::new();
    let mut fail = |field: &'static str, message: &str| {
        errors.push(FieldError {
            field,
            message: message.to_owned(),
        });
    };
    let trn = normalise_trn(get("trn"));
    if trn.is_none() {
        fail(
            "trn",
            "Enter your Teacher Reference Number: 7 digits, like 1234567",
        );
    }
    let institution = get("qualification_institution");
    if institution.is_empty() || institution.chars().count() > 200 {
        fail(
            "qualification_institution",
            "Enter where you qualified (200 characters or fewer)",
        );
    }
    let key_stage = get("key_stage");
    if !KEY_STAGES.contains(&key_stage) {
        fail("key_stage", "Select the key stage you teach");
    }
    let year_group = get("year_group");
    if year_group.chars().count() > 50 {
        fail("year_group", "Year group must be 50 characters or fewer");
    }
    let start = date(form, "start_date");
    let earliest_start = today - chrono::Duration::days(366 * 5);
    let latest_start = today + chrono::Duration::days(366);
    if !start.is_some_and(|d| d >= earliest_start && d <= latest_start) {
        fail(
            "start_date",
            "Enter a real start date, within the last 5 years or the next year",
        );
    }
    let birth = date(form, "date_of_birth");
    let plausible = |d: NaiveDate| {
        let age_days = (today - d).num_days();
        (16 * 365..=80 * 365).contains(&age_days)
    };
    if !birth.is_some_and(plausible) {
        fail(
            "date_of_birth",
            "Enter a real date of birth: you must be between 16 and 80",
        );
    }
    match (trn, start, birth) {
        (Some(trn), Some(start_date), Some(date_of_birth)) if errors.is_empty() => Ok(Induction {
            trn,
            qualification_institution: institution.to_owned(),
            key_stage: key_stage.to_owned(),
            year_group: Some(year_group.to_owned()).filter(|y| !y.is_empty()),
            start_date,
            date_of_birth,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("trn", "12 34 567"),
            ("qualification_institution", "University of Bath"),
            ("key_stage", "KS2"),
            ("start_date-day", "1"),
            ("start_date-month", "9"),
            ("start_date-year", "2026"),
            ("date_of_birth-day", "29"),
            ("date_of_birth-month", "2"),
            ("date_of_birth-year", "2000"),
        ]
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn trns_are_seven_digits() {
        assert_eq!(normalise_trn(" 123 4567 "), Some("1234567".to_owned()));
        for bad in ["123456", "12345678", "RP99/12345", "0000000", "12a4567", ""] {
            assert_eq!(normalise_trn(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_good_form_is_accepted() {
        let r = validate(&form(&good()), today()).unwrap();
        assert_eq!(r.trn, "1234567");
        assert_eq!(
            r.date_of_birth,
            NaiveDate::from_ymd_opt(2000, 2, 29).unwrap()
        );
        assert_eq!(r.year_group, None);
    }

    #[test]
    fn impossible_and_implausible_dates_are_refused() {
        let mut f = good();
        f[7] = ("date_of_birth-month", "13");
        f[4] = ("start_date-month", "2");
        f[3] = ("start_date-day", "30");
        let errors = validate(&form(&f), today()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["start_date", "date_of_birth"]);
        let mut f = good();
        f[8] = ("date_of_birth-year", "2020");
        assert_eq!(
            validate(&form(&f), today()).unwrap_err()[0].field,
            "date_of_birth"
        );
    }
}
