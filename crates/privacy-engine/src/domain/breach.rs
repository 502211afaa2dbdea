//! Personal-data breaches as UK GDPR Articles 33 and 34 frame them: the risk to people
//! decides what must be done. A breach likely to result in a risk must be reported to the
//! ICO within 72 hours of the council becoming aware of it; one likely to result in a high
//! risk must also be told to the people affected without undue delay (unless an exception
//! applies, which is recorded with its reason).

use chrono::{DateTime, Duration, Utc};

/// Hours from becoming aware of a breach to the ICO's deadline.
pub const ICO_HOURS: i64 = 72;

/// The risk a breach poses to people's rights and freedoms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Risk {
    /// Unlikely to result in a risk: recorded, not reported.
    Unlikely,
    /// Likely to result in a risk: reported to the ICO.
    Likely,
    /// Likely to result in a high risk: reported, and the people told.
    High,
}

impl Risk {
    /// Every level, in the order forms list them.
    pub const ALL: [Self; 3] = [Self::Unlikely, Self::Likely, Self::High];

    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unlikely => "unlikely",
            Self::Likely => "likely",
            Self::High => "high",
        }
    }

    /// The level with stored name `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Plain English.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Unlikely => "Unlikely to result in a risk to people",
            Self::Likely => "Likely to result in a risk to people: report to the ICO",
            Self::High => {
                "Likely to result in a high risk to people: report to the ICO and tell the people"
            }
        }
    }
}

/// A decision to report or to tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not decided yet.
    Pending,
    /// Done (reported, or told), on a recorded date.
    Done,
    /// Decided against, with a reason.
    NotRequired,
}

impl Decision {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::NotRequired => "not_required",
        }
    }

    /// The decision with stored name `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Done, Self::NotRequired]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// Where the ICO report stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IcoStatus {
    /// Not decided and past the 72 hours.
    Overdue,
    /// Not decided, with this many whole hours left.
    Due(i64),
    /// Reported.
    Reported,
    /// Decided not to report.
    NotRequired,
}

/// The moment the ICO must have the report: 72 hours after the breach was discovered.
#[must_use]
pub fn ico_deadline(discovered_at: DateTime<Utc>) -> DateTime<Utc> {
    discovered_at + Duration::hours(ICO_HOURS)
}

/// Where the ICO report stands at `now`.
#[must_use]
pub fn ico_status(
    decision: Decision,
    discovered_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> IcoStatus {
    match decision {
        Decision::Done => IcoStatus::Reported,
        Decision::NotRequired => IcoStatus::NotRequired,
        Decision::Pending => {
            let left = ico_deadline(discovered_at) - now;
            if left <= Duration::zero() {
                IcoStatus::Overdue
            } else {
                IcoStatus::Due(left.num_hours())
            }
        }
    }
}

/// Why a decision is refused as things stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The breach is likely to result in a risk, so the ICO must be told.
    MustReport,
    /// Closing while a decision is still to be made.
    Undecided,
    /// The breach is closed.
    Closed,
}

impl Refusal {
    /// Stable code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::MustReport => "ico_report_required",
            Self::Undecided => "decision_outstanding",
            Self::Closed => "breach_closed",
        }
    }

    /// In words.
    #[must_use]
    pub fn message(self) -> &'static str {
        match self {
            Self::MustReport => {
                "A breach likely to result in a risk to people must be reported to the ICO. \
                 If the risk is unlikely, record that assessment first."
            }
            Self::Undecided => {
                "Record whether the ICO was told and whether the people were told before \
                 closing the breach."
            }
            Self::Closed => "This breach is closed, so it cannot be changed.",
        }
    }
}

/// Whether the ICO may be left untold, for a breach of `risk`.
///
/// # Errors
/// [`Refusal::MustReport`] unless the risk is unlikely.
pub fn may_skip_ico(risk: Risk) -> Result<(), Refusal> {
    if risk == Risk::Unlikely {
        Ok(())
    } else {
        Err(Refusal::MustReport)
    }
}

/// Whether a breach with these decisions may be closed.
///
/// # Errors
/// [`Refusal::Undecided`] while the ICO decision, or (for a high risk) the decision to tell
/// the people, is pending.
pub fn may_close(risk: Risk, ico: Decision, people: Decision) -> Result<(), Refusal> {
    let ico_open = ico == Decision::Pending && risk != Risk::Unlikely;
    let people_open = people == Decision::Pending && risk == Risk::High;
    if ico_open || people_open {
        Err(Refusal::Undecided)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_ico_has_72_hours_from_discovery() {
        let found = at("2026-12-04T16:30:00Z");
        assert_eq!(ico_deadline(found), at("2026-12-07T16:30:00Z"));
        let p = Decision::Pending;
        assert_eq!(
            ico_status(p, found, at("2026-12-05T16:30:00Z")),
            IcoStatus::Due(48)
        );
        assert_eq!(
            ico_status(p, found, at("2026-12-07T16:29:00Z")),
            IcoStatus::Due(0)
        );
        assert_eq!(
            ico_status(p, found, at("2026-12-07T16:30:00Z")),
            IcoStatus::Overdue
        );
        assert_eq!(
            ico_status(Decision::Done, found, at("2026-12-09T00:00:00Z")),
            IcoStatus::Reported
        );
    }

    #[test]
    fn only_an_unlikely_risk_goes_unreported_and_decisions_come_before_closing() {
        assert_eq!(may_skip_ico(Risk::Unlikely), Ok(()));
        assert_eq!(may_skip_ico(Risk::Likely), Err(Refusal::MustReport));
        assert_eq!(may_skip_ico(Risk::High), Err(Refusal::MustReport));
        let (p, d) = (Decision::Pending, Decision::Done);
        assert_eq!(may_close(Risk::Unlikely, p, p), Ok(()));
        assert_eq!(may_close(Risk::Likely, p, p), Err(Refusal::Undecided));
        assert_eq!(may_close(Risk::Likely, d, p), Ok(()));
        assert_eq!(may_close(Risk::High, d, p), Err(Refusal::Undecided));
        assert_eq!(may_close(Risk::High, d, Decision::NotRequired), Ok(()));
    }
}
