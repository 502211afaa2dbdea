//! The UK calendar that rights-request deadlines are counted on, as the ICO counts them:
//! one calendar month from the day the clock starts to the corresponding date (the month's
//! last day where there is none), moved to the next working day when it falls on a weekend
//! or an England and Wales bank holiday.
//!
//! The bank holidays are data (`data/bank-holidays-england-and-wales.txt`, compiled in);
//! [`covered_until`] says how far they reach, and a deadline past it is counted on weekends
//! alone and flagged ([`Deadline::uncertain`]).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::London;
use tenant_router::config::{Period, PeriodUnit};

const LIST: &str = include_str!("../../data/bank-holidays-england-and-wales.txt");

static HOLIDAYS: LazyLock<BTreeSet<NaiveDate>> = LazyLock::new(|| {
    parse(LIST)
        .unwrap_or_else(|line| panic!("the compiled-in bank-holiday list has a bad line: {line}"))
});

/// The UK calendar day of an instant (deadlines are counted in UK days).
#[must_use]
pub fn uk_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&London).date_naive()
}

/// `Monday 5 October 2026`
#[must_use]
pub fn long_date(d: NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}

/// The instant of a UK wall-clock time (the earlier one when clocks go back; `None` for a
/// time skipped when they go forward).
#[must_use]
pub fn from_uk(day: NaiveDate, time: chrono::NaiveTime) -> Option<DateTime<Utc>> {
    use chrono::TimeZone as _;
    London
        .from_local_datetime(&day.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// `Monday 5 October 2026 at 4:30pm`, in UK time.
#[must_use]
pub fn long_moment(t: DateTime<Utc>) -> String {
    let uk = t.with_timezone(&London);
    format!(
        "{} at {}",
        long_date(uk.date_naive()),
        uk.format("%-I:%M%P")
    )
}

/// The dates of a bank-holiday list, or the first line that is not a date.
///
/// # Errors
/// The offending line.
pub fn parse(text: &str) -> Result<BTreeSet<NaiveDate>, String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(|l| NaiveDate::parse_from_str(l, "%Y-%m-%d").map_err(|_| l.to_owned()))
        .collect()
}

/// The England and Wales bank holidays the portal knows.
#[must_use]
pub fn bank_holidays() -> &'static BTreeSet<NaiveDate> {
    &HOLIDAYS
}

/// The last day of the last year the bank-holiday list covers.
#[must_use]
pub fn covered_until() -> NaiveDate {
    let year = HOLIDAYS.last().map_or(1970, Datelike::year);
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MIN)
}

/// Whether `day` is a working day: not a Saturday, Sunday or bank holiday.
#[must_use]
pub fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !HOLIDAYS.contains(&day)
}

/// `day`, or the first working day after it.
#[must_use]
pub fn next_working_day(day: NaiveDate) -> NaiveDate {
    day.iter_days().find(|d| is_working_day(*d)).unwrap_or(day)
}

/// The date `months` calendar months after `from`: the corresponding date, or the month's
/// last day where there is none (31 January plus one month is 28 or 29 February).
#[must_use]
pub fn months_after(from: NaiveDate, months: u32) -> NaiveDate {
    // chrono clamps to the month's last day, which is the ICO's rule.
    from.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// `n` working days after `from` (Harrow acknowledges complaints within five).
#[must_use]
pub fn working_days_after(from: NaiveDate, n: u32) -> NaiveDate {
    from.iter_days()
        .skip(1)
        .filter(|d| is_working_day(*d))
        .nth(n.saturating_sub(1) as usize)
        .unwrap_or(from)
}

/// A deadline and whether the bank-holiday list reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// The day.
    pub day: NaiveDate,
    /// The day is past [`covered_until`]: only weekends were skipped.
    pub uncertain: bool,
}

/// One calendar month: the law's time to answer, and every launch tenant's.
pub const ONE_MONTH: Period = Period::new(1, PeriodUnit::Months);

/// The deadline of a clock that started on `start`, with `respond` to answer, `extension`
/// further months taken and `paused_days` stopped while waiting for the requester: the day
/// `respond` after `start` (the corresponding date, or the month's last day), `extension`
/// months and `paused_days` days later, moved to the next working day.
#[must_use]
pub fn deadline(start: NaiveDate, respond: Period, extension: u32, paused_days: u32) -> Deadline {
    let raw = respond
        .after(start)
        .map(|d| months_after(d, extension))
        .and_then(|d| d.checked_add_days(Days::new(u64::from(paused_days))))
        .unwrap_or(NaiveDate::MAX);
    let day = next_working_day(raw);
    Deadline {
        day,
        uncertain: day > covered_until(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uk_wall_clock_times_become_instants_and_back() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let t = |s: &str| s.parse::<chrono::NaiveTime>().unwrap();
        // Winter is GMT, summer BST.
        let winter = from_uk(d("2026-12-04"), t("16:30:00")).unwrap();
        assert_eq!(winter.to_rfc3339(), "2026-12-04T16:30:00+00:00");
        let summer = from_uk(d("2026-07-01"), t("09:05:00")).unwrap();
        assert_eq!(summer.to_rfc3339(), "2026-07-01T08:05:00+00:00");
        assert_eq!(long_moment(summer), "Wednesday 1 July 2026 at 9:05am");
        // 01:30 on the last Sunday of March does not exist in the UK.
        assert_eq!(from_uk(d("2026-03-29"), t("01:30:00")), None);
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Easter Sunday (the anonymous Gregorian computus).
    fn easter(y: i32) -> NaiveDate {
        let a = y % 19;
        let b = y / 100;
        let c = y % 100;
        let dd = b / 4;
        let e = b % 4;
        let f = (b + 8) / 25;
        let g = (b - f + 1) / 3;
        let h = (19 * a + b - dd - g + 15) % 30;
        let i = c / 4;
        let k = c % 4;
        let l = (32 + 2 * e + 2 * i - h - k) % 7;
        let m = (a + 11 * h + 22 * l) / 451;
        let month = (h + l - 7 * m + 114) / 31;
        let day = (h + l - 7 * m + 114) % 31 + 1;
        NaiveDate::from_ymd_opt(y, month as u32, day as u32).unwrap()
    }

    fn first_monday(y: i32, m: u32) -> NaiveDate {
        NaiveDate::from_weekday_of_month_opt(y, m, Weekday::Mon, 1).unwrap()
    }

    fn last_monday(y: i32, m: u32) -> NaiveDate {
        (1..=5)
            .rev()
            .find_map(|n| NaiveDate::from_weekday_of_month_opt(y, m, Weekday::Mon, n))
            .unwrap()
    }

    /// The usual eight, with weekend substitutes.
    fn usual(y: i32) -> BTreeSet<NaiveDate> {
        let mut out = BTreeSet::new();
        let new_year = NaiveDate::from_ymd_opt(y, 1, 1).unwrap();
        out.insert(next_weekday(new_year));
        out.insert(easter(y) - Days::new(2));
        out.insert(easter(y) + Days::new(1));
        out.insert(first_monday(y, 5));
        out.insert(last_monday(y, 5));
        out.insert(last_monday(y, 8));
        // Christmas and Boxing Day: a weekend one moves to the next free weekday.
        let mut taken = BTreeSet::new();
        for day in [25, 26] {
            let mut date = next_weekday(NaiveDate::from_ymd_opt(y, 12, day).unwrap());
            while taken.contains(&date) {
                date = next_weekday(date + Days::new(1));
            }
            taken.insert(date);
        }
        out.extend(taken);
        out
    }

    fn next_weekday(d: NaiveDate) -> NaiveDate {
        d.iter_days()
            .find(|x| !matches!(x.weekday(), Weekday::Sat | Weekday::Sun))
            .unwrap()
    }

    #[test]
    fn every_listed_year_has_the_usual_holidays_and_only_marked_one_offs() {
        let first = HOLIDAYS.first().unwrap().year();
        let last = HOLIDAYS.last().unwrap().year();
        assert!(first <= 2024 && last >= 2030, "list runs {first} to {last}");
        let one_offs: BTreeSet<NaiveDate> = LIST
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains("one-off"))
            .map(|l| d(l.split('#').next().unwrap().trim()))
            .collect();
        for y in first..=last {
            let listed: BTreeSet<NaiveDate> =
                HOLIDAYS.iter().copied().filter(|x| x.year() == y).collect();
            let expected = usual(y);
            let extra: BTreeSet<_> = listed.difference(&expected).copied().collect();
            assert!(
                expected.is_subset(&listed),
                "{y}: missing {:?}",
                expected.difference(&listed).collect::<Vec<_>>()
            );
            assert!(extra.is_subset(&one_offs), "{y}: unexplained {extra:?}");
        }
        assert_eq!(
            covered_until(),
            NaiveDate::from_ymd_opt(last, 12, 31).unwrap()
        );
    }

    #[test]
    fn a_month_runs_to_the_corresponding_date_or_the_months_last_day() {
        assert_eq!(months_after(d("2026-09-03"), 1), d("2026-10-03"));
        assert_eq!(months_after(d("2027-01-31"), 1), d("2027-02-28"));
        assert_eq!(months_after(d("2028-01-31"), 1), d("2028-02-29"));
        assert_eq!(months_after(d("2026-08-31"), 1), d("2026-09-30"));
        assert_eq!(months_after(d("2026-11-30"), 3), d("2027-02-28"));
    }

    #[test]
    fn a_deadline_on_a_weekend_or_bank_holiday_moves_to_the_next_working_day() {
        // 3 October 2026 is a Saturday.
        assert_eq!(
            deadline(d("2026-09-03"), ONE_MONTH, 0, 0).day,
            d("2026-10-05")
        );
        // 25 December 2026 is a Friday, 26 a Saturday, 28 the Boxing Day substitute.
        assert_eq!(
            deadline(d("2026-11-25"), ONE_MONTH, 0, 0).day,
            d("2026-12-29")
        );
        // Good Friday and Easter Monday 2027.
        assert_eq!(
            deadline(d("2027-02-26"), ONE_MONTH, 0, 0).day,
            d("2027-03-30")
        );
        // An ordinary Wednesday stays.
        assert_eq!(
            deadline(d("2026-12-09"), ONE_MONTH, 0, 0).day,
            d("2027-01-11")
        );
        assert_eq!(
            deadline(d("2026-12-02"), ONE_MONTH, 0, 0).day,
            d("2027-01-04")
        );
        assert!(!deadline(d("2026-12-02"), ONE_MONTH, 0, 0).uncertain);
    }

    #[test]
    fn paused_days_and_extensions_push_the_deadline() {
        // Paused ten days: 3 October plus ten is Tuesday 13 October.
        assert_eq!(
            deadline(d("2026-09-03"), ONE_MONTH, 0, 10).day,
            d("2026-10-13")
        );
        // Extended by two months: 3 December 2026, a Thursday.
        assert_eq!(
            deadline(d("2026-09-03"), ONE_MONTH, 2, 0).day,
            d("2026-12-03")
        );
    }

    #[test]
    fn a_tenant_answering_sooner_than_a_month_is_held_to_it() {
        // Twenty days from Thursday 3 September 2026 is Wednesday 23 September.
        let twenty_days = Period::new(20, PeriodUnit::Days);
        assert_eq!(
            deadline(d("2026-09-03"), twenty_days, 0, 0).day,
            d("2026-09-23")
        );
    }

    #[test]
    fn a_deadline_past_the_list_is_flagged() {
        assert!(deadline(covered_until(), ONE_MONTH, 0, 0).uncertain);
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        // Thursday 24 December 2026: 29, 30, 31 December, 4, 5 January.
        assert_eq!(working_days_after(d("2026-12-24"), 5), d("2027-01-05"));
        assert!(!is_working_day(d("2026-12-28")));
        assert!(is_working_day(d("2026-12-29")));
    }

    #[test]
    fn a_bad_line_is_named() {
        assert_eq!(parse("2026-01-01\n2026-13-01\n").unwrap_err(), "2026-13-01");
        assert_eq!(parse("# only a comment\n\n").unwrap().len(), 0);
    }
}
