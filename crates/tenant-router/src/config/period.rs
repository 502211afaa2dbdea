//! Retention periods written as `<count><unit>`: `30d`, `6w`, `18m`, `2y`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The unit of a [`Period`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodUnit {
    /// Calendar days.
    Days,
    /// Weeks of seven days.
    Weeks,
    /// Calendar months.
    Months,
    /// Calendar years.
    Years,
}

/// A calendar period. Months and years stay calendar units (a year after 29 February is
/// 28 February), so a notice saying "2 years" and the engine agree to the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    count: u32,
    unit: PeriodUnit,
}

/// Why a period did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a period: write a whole number and a unit, e.g. `30d`, `6w`, `18m` or `2y`")]
pub struct InvalidPeriod(pub String);

/// Longest period accepted (a typo such as `2000y` is caught).
const MAX_DAYS: u64 = 100 * 366;

impl Period {
    /// A period of `count` units.
    #[must_use]
    pub const fn new(count: u32, unit: PeriodUnit) -> Self {
        Self { count, unit }
    }

    /// The number of units.
    #[must_use]
    pub fn count(self) -> u32 {
        self.count
    }

    /// The unit.
    #[must_use]
    pub fn unit(self) -> PeriodUnit {
        self.unit
    }

    /// Adds the period to a date; `None` past the calendar's end.
    #[must_use]
    pub fn after(self, date: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
        use chrono::{Days, Months};
        match self.unit {
            PeriodUnit::Days => date.checked_add_days(Days::new(self.count.into())),
            PeriodUnit::Weeks => date.checked_add_days(Days::new(u64::from(self.count) * 7)),
            PeriodUnit::Months => date.checked_add_months(Months::new(self.count)),
            PeriodUnit::Years => date.checked_add_months(Months::new(self.count.checked_mul(12)?)),
        }
    }

    /// Plain English, e.g. "2 years", "1 month", "immediately".
    #[must_use]
    pub fn describe(self) -> String {
        let (one, many) = match self.unit {
            PeriodUnit::Days => ("day", "days"),
            PeriodUnit::Weeks => ("week", "weeks"),
            PeriodUnit::Months => ("month", "months"),
            PeriodUnit::Years => ("year", "years"),
        };
        match self.count {
            0 => "immediately".to_owned(),
            1 => format!("1 {one}"),
            n => format!("{n} {many}"),
        }
    }

    fn approx_days(self) -> u64 {
        let per = match self.unit {
            PeriodUnit::Days => 1,
            PeriodUnit::Weeks => 7,
            PeriodUnit::Months => 31,
            PeriodUnit::Years => 366,
        };
        u64::from(self.count) * per
    }
}

impl FromStr for Period {
    type Err = InvalidPeriod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidPeriod(s.to_owned());
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (digits, unit) = s.split_at(split);
        if digits.is_empty() || digits.len() > 5 {
            return Err(bad());
        }
        let count: u32 = digits.parse().map_err(|_| bad())?;
        let unit = match unit {
            "d" => PeriodUnit::Days,
            "w" => PeriodUnit::Weeks,
            "m" => PeriodUnit::Months,
            "y" => PeriodUnit::Years,
            _ => return Err(bad()),
        };
        let period = Self { count, unit };
        if period.approx_days() > MAX_DAYS {
            return Err(bad());
        }
        Ok(period)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            PeriodUnit::Days => 'd',
            PeriodUnit::Weeks => 'w',
            PeriodUnit::Months => 'm',
            PeriodUnit::Years => 'y',
        };
        write!(f, "{}{unit}", self.count)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for s in ["0d", "30d", "6w", "18m", "2y", "100y"] {
            let p: Period = s.parse().unwrap();
            assert_eq!(p.to_string(), s);
        }
    }

    #[test]
    fn rejects_malformed_periods() {
        for s in [
            "",
            "2",
            "y",
            "2 y",
            "2Y",
            "-1y",
            "1.5y",
            "2years",
            "101y",
            "99999999d",
        ] {
            assert!(s.parse::<Period>().is_err(), "{s} should not parse");
        }
    }

    #[test]
    fn calendar_arithmetic_clamps_to_month_end() {
        let leap = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let p: Period = "1y".parse().unwrap();
        assert_eq!(p.after(leap), chrono::NaiveDate::from_ymd_opt(2025, 2, 28));
        assert_eq!("0d".parse::<Period>().unwrap().describe(), "immediately");
        assert_eq!("1m".parse::<Period>().unwrap().describe(), "1 month");
    }
}
