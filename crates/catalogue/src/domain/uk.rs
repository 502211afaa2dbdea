//! Times as people in the UK read them, on pages and in emails alike.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::London;

/// The UK calendar day of an instant.
#[must_use]
pub fn uk_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&London).date_naive()
}

/// `Tuesday 12 January 2027`
#[must_use]
pub fn uk_day(t: DateTime<Utc>) -> String {
    t.with_timezone(&London).format("%A %-d %B %Y").to_string()
}

/// `9:30am`
#[must_use]
pub fn uk_clock(t: DateTime<Utc>) -> String {
    t.with_timezone(&London)
        .format("%-I:%M%P")
        .to_string()
        .replace(":00", "")
}

/// `Tuesday 12 January 2027, 9:30am to 12:30pm` (or across days when it spans them).
#[must_use]
pub fn uk_span(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    if uk_date(start) == uk_date(end) {
        format!(
            "{}, {} to {}",
            uk_day(start),
            uk_clock(start),
            uk_clock(end)
        )
    } else {
        format!(
            "{}, {} to {}, {}",
            uk_day(start),
            uk_clock(start),
            uk_day(end),
            uk_clock(end)
        )
    }
}
