//! Rights requests as plain data: what a person may ask for, how it reached the council,
//! and the clock that says when the answer is due ([`RequestClock`]), counted as the ICO
//! counts it (see [`crate::domain::calendar`]).
//!
//! The clock starts on the day a request is received, or, when the council needs proof of
//! identity first, on the day that proof arrives. It stops while the council waits for the
//! requester to clarify what they want, and the days stopped are added back. It can be
//! extended once, by up to two further months, and only within the first month.

use chrono::NaiveDate;
use tenant_router::config::Period;

use crate::domain::calendar::{self, Deadline};

/// What a person asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A copy of their data (subject access).
    Access,
    /// Correcting what is wrong or incomplete.
    Rectification,
    /// Deleting their data.
    Erasure,
    /// Limiting what is done with their data.
    Restriction,
    /// Objecting to a use of their data.
    Objection,
    /// Their data in a machine-readable form, to take elsewhere.
    Portability,
}

impl Kind {
    /// Every kind, in the order forms list them.
    pub const ALL: [Self; 6] = [
        Self::Access,
        Self::Rectification,
        Self::Erasure,
        Self::Restriction,
        Self::Objection,
        Self::Portability,
    ];

    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Rectification => "rectification",
            Self::Erasure => "erasure",
            Self::Restriction => "restriction",
            Self::Objection => "objection",
            Self::Portability => "portability",
        }
    }

    /// The kind stored as `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the person asks for, in words.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Access => "A copy of the data held about them",
            Self::Rectification => "Correcting data that is wrong or incomplete",
            Self::Erasure => "Deleting their data",
            Self::Restriction => "Limiting how their data is used",
            Self::Objection => "Objecting to a use of their data",
            Self::Portability => "Their data in a form they can take elsewhere",
        }
    }
}

/// How a request reached the council.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Filed by the signed-in person from their account.
    Online,
    /// By email.
    Email,
    /// By telephone.
    Phone,
    /// By letter.
    Letter,
    /// In person.
    InPerson,
}

impl Channel {
    /// The channels a privacy officer logs a request from (online ones file themselves).
    pub const LOGGED: [Self; 4] = [Self::Email, Self::Phone, Self::Letter, Self::InPerson];

    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Letter => "letter",
            Self::InPerson => "in_person",
        }
    }

    /// The channel stored as `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Online]
            .into_iter()
            .chain(Self::LOGGED)
            .find(|c| c.as_str() == s)
    }

    /// In words.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Online => "Online, from their account",
            Self::Email => "Email",
            Self::Phone => "Telephone",
            Self::Letter => "Letter",
            Self::InPerson => "In person",
        }
    }
}

/// How a closed request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done as asked (or in part, as the reply explains).
    Completed,
    /// Refused, with the reason and the complaint route in the reply.
    Refused,
    /// The requester withdrew it.
    Withdrawn,
}

impl Outcome {
    /// Every outcome, in the order forms list them.
    pub const ALL: [Self; 3] = [Self::Completed, Self::Refused, Self::Withdrawn];

    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// The outcome stored as `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// In words.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Completed => "Answered",
            Self::Refused => "Refused",
            Self::Withdrawn => "Withdrawn by the requester",
        }
    }
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Waiting for proof of identity: the clock has not started.
    AwaitingIdentity,
    /// The clock is running.
    Open,
    /// Waiting for the requester to clarify: the clock is stopped.
    AwaitingClarification,
    /// Answered, refused or withdrawn.
    Closed(Outcome),
}

/// Why a change to a request's clock is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockRefusal {
    /// The request is closed.
    Closed,
    /// Identity is already confirmed (or was never needed).
    AlreadyStarted,
    /// The clock has not started: confirm identity first.
    NotStarted,
    /// Already waiting for clarification.
    AlreadyPaused,
    /// Not waiting for clarification.
    NotPaused,
    /// An extension was already taken.
    AlreadyExtended,
    /// Extensions are taken within the first month only.
    TooLateToExtend,
    /// An extension is of one or two further months.
    BadExtension,
    /// A date before the request was received, or in the future.
    BadDate,
}

impl ClockRefusal {
    /// A stable code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Closed => "request_closed",
            Self::AlreadyStarted => "identity_already_confirmed",
            Self::NotStarted => "identity_not_confirmed",
            Self::AlreadyPaused => "already_paused",
            Self::NotPaused => "not_paused",
            Self::AlreadyExtended => "already_extended",
            Self::TooLateToExtend => "too_late_to_extend",
            Self::BadExtension => "invalid_extension",
            Self::BadDate => "invalid_date",
        }
    }

    /// In words, for the privacy officer.
    #[must_use]
    pub fn message(self) -> &'static str {
        match self {
            Self::Closed => "This request is closed, so it cannot be changed.",
            Self::AlreadyStarted => "The requester's identity is already confirmed.",
            Self::NotStarted => {
                "Confirm the requester's identity first: the clock has not started."
            }
            Self::AlreadyPaused => "The clock is already stopped, waiting for clarification.",
            Self::NotPaused => "The clock is not stopped.",
            Self::AlreadyExtended => "This request has already been extended.",
            Self::TooLateToExtend => {
                "An extension can only be taken within the first month, and that has passed."
            }
            Self::BadExtension => "Extend by one or two further months.",
            Self::BadDate => {
                "Enter a date on or after the day the request was received, and not in the future."
            }
        }
    }
}

/// A request's clock: when it started, stops, extension and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestClock {
    /// The day the request was received.
    pub received_on: NaiveDate,
    /// The day the clock started (receipt, or proof of identity); `None` while waiting.
    pub started_on: Option<NaiveDate>,
    /// The day the clock stopped to wait for clarification, while it is stopped.
    pub paused_since: Option<NaiveDate>,
    /// Days stopped so far (added to the deadline).
    pub paused_days: u32,
    /// Further months taken (0, 1 or 2).
    pub extension_months: u32,
    /// Where the request stands.
    pub stage: Stage,
    /// The time to answer the tenant's notice states (`subject_rights.respond_within`).
    pub respond: Period,
}

impl RequestClock {
    /// A request received on `received_on`, answered within `respond`; with
    /// `identity_known`, its clock starts then.
    #[must_use]
    pub fn new(received_on: NaiveDate, identity_known: bool, respond: Period) -> Self {
        Self {
            respond,
            received_on,
            started_on: identity_known.then_some(received_on),
            paused_since: None,
            paused_days: 0,
            extension_months: 0,
            stage: if identity_known {
                Stage::Open
            } else {
                Stage::AwaitingIdentity
            },
        }
    }

    fn open(&self) -> Result<(), ClockRefusal> {
        match self.stage {
            Stage::Closed(_) => Err(ClockRefusal::Closed),
            _ => Ok(()),
        }
    }

    fn check_day(&self, day: NaiveDate, today: NaiveDate) -> Result<(), ClockRefusal> {
        if day < self.received_on || day > today {
            Err(ClockRefusal::BadDate)
        } else {
            Ok(())
        }
    }

    /// When the answer is due, as things stand; `None` while the clock has not started or
    /// is stopped (it depends on when it restarts) or the request is closed.
    #[must_use]
    pub fn due(&self) -> Option<Deadline> {
        match self.stage {
            Stage::Open => Some(calendar::deadline(
                self.started_on?,
                self.respond,
                self.extension_months,
                self.paused_days,
            )),
            _ => None,
        }
    }

    /// The first month's deadline (pauses counted, no extension): an extension must be
    /// taken by then.
    #[must_use]
    pub fn first_month_ends(&self) -> Option<Deadline> {
        Some(calendar::deadline(
            self.started_on?,
            self.respond,
            0,
            self.paused_days,
        ))
    }

    /// Proof of identity arrived on `on`: the clock starts that day.
    ///
    /// # Errors
    /// When closed, already started, or `on` is not a day between receipt and `today`.
    pub fn identity_confirmed(
        &mut self,
        on: NaiveDate,
        today: NaiveDate,
    ) -> Result<(), ClockRefusal> {
        self.open()?;
        if self.stage != Stage::AwaitingIdentity {
            return Err(ClockRefusal::AlreadyStarted);
        }
        self.check_day(on, today)?;
        self.started_on = Some(on);
        self.stage = Stage::Open;
        Ok(())
    }

    /// Stops the clock on `today` to wait for clarification.
    ///
    /// # Errors
    /// When closed, not started, or already stopped.
    pub fn pause(&mut self, today: NaiveDate) -> Result<(), ClockRefusal> {
        match self.stage {
            Stage::Closed(_) => Err(ClockRefusal::Closed),
            Stage::AwaitingIdentity => Err(ClockRefusal::NotStarted),
            Stage::AwaitingClarification => Err(ClockRefusal::AlreadyPaused),
            Stage::Open => {
                self.paused_since = Some(today);
                self.stage = Stage::AwaitingClarification;
                Ok(())
            }
        }
    }

    /// The clarification arrived on `on`: the clock runs again, the days stopped added.
    ///
    /// # Errors
    /// When not stopped, or `on` is before the stop or after `today`.
    pub fn resume(&mut self, on: NaiveDate, today: NaiveDate) -> Result<(), ClockRefusal> {
        self.open()?;
        let (Stage::AwaitingClarification, Some(since)) = (self.stage, self.paused_since) else {
            return Err(ClockRefusal::NotPaused);
        };
        if on < since || on > today {
            return Err(ClockRefusal::BadDate);
        }
        let stopped = u32::try_from((on - since).num_days()).unwrap_or(0);
        self.paused_days = self.paused_days.saturating_add(stopped);
        self.paused_since = None;
        self.stage = Stage::Open;
        Ok(())
    }

    /// Takes an extension of `months` (1 or 2) on `today`.
    ///
    /// # Errors
    /// When closed, not running, already extended, past the first month, or `months` is
    /// not 1 or 2.
    pub fn extend(&mut self, months: u32, today: NaiveDate) -> Result<(), ClockRefusal> {
        self.open()?;
        if !(1..=2).contains(&months) {
            return Err(ClockRefusal::BadExtension);
        }
        if self.extension_months > 0 {
            return Err(ClockRefusal::AlreadyExtended);
        }
        let ends = self.first_month_ends().ok_or(ClockRefusal::NotStarted)?;
        if self.stage != Stage::Open {
            return Err(ClockRefusal::NotStarted);
        }
        if today > ends.day {
            return Err(ClockRefusal::TooLateToExtend);
        }
        self.extension_months = months;
        Ok(())
    }

    /// Closes the request with `outcome`.
    ///
    /// # Errors
    /// When already closed.
    pub fn close(&mut self, outcome: Outcome) -> Result<(), ClockRefusal> {
        self.open()?;
        self.paused_since = None;
        self.stage = Stage::Closed(outcome);
        Ok(())
    }

    /// How pressing the request is on `today`.
    #[must_use]
    pub fn urgency(&self, today: NaiveDate) -> Urgency {
        match (self.stage, self.due()) {
            (Stage::Closed(_), _) => Urgency::Closed,
            (Stage::AwaitingIdentity, _) => Urgency::AwaitingIdentity,
            (Stage::AwaitingClarification, _) => Urgency::Paused,
            (Stage::Open, Some(d)) if d.day < today => Urgency::Overdue,
            (Stage::Open, Some(d)) if (d.day - today).num_days() < DUE_SOON_DAYS => {
                Urgency::DueSoon
            }
            (Stage::Open, _) => Urgency::Due,
        }
    }
}

/// A request due within this many days is "due soon".
pub const DUE_SOON_DAYS: i64 = 7;

/// How pressing a request is, for the privacy officer's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    /// Past its deadline.
    Overdue,
    /// Due within [`DUE_SOON_DAYS`].
    DueSoon,
    /// Running, with time in hand.
    Due,
    /// Waiting for the requester to prove who they are.
    AwaitingIdentity,
    /// Waiting for the requester to clarify.
    Paused,
    /// Closed.
    Closed,
}

impl Urgency {
    /// In words, for the queue's tags.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Overdue => "Overdue",
            Self::DueSoon => "Due soon",
            Self::Due => "Open",
            Self::AwaitingIdentity => "Waiting for proof of identity",
            Self::Paused => "Waiting for clarification",
            Self::Closed => "Closed",
        }
    }

    /// Stable name, for the API and filters.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overdue => "overdue",
            Self::DueSoon => "due_soon",
            Self::Due => "open",
            Self::AwaitingIdentity => "awaiting_identity",
            Self::Paused => "awaiting_clarification",
            Self::Closed => "closed",
        }
    }
}

/// A request's short reference, from its id: `RR-` and eight characters of it.
#[must_use]
pub fn reference(id: &str) -> String {
    reference_with("RR", id)
}

pub use super::reference::reference_with;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::ONE_MONTH;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_known_requester_is_due_a_month_after_receipt() {
        let c = RequestClock::new(d("2026-09-03"), true, ONE_MONTH);
        assert_eq!(c.due().unwrap().day, d("2026-10-05"));
        assert_eq!(c.urgency(d("2026-09-04")), Urgency::Due);
        assert_eq!(c.urgency(d("2026-09-30")), Urgency::DueSoon);
        assert_eq!(c.urgency(d("2026-10-06")), Urgency::Overdue);
    }

    #[test]
    fn the_clock_waits_for_proof_of_identity() {
        let mut c = RequestClock::new(d("2026-09-03"), false, ONE_MONTH);
        assert_eq!(c.due(), None);
        assert_eq!(c.urgency(d("2026-12-01")), Urgency::AwaitingIdentity);
        assert_eq!(c.pause(d("2026-09-05")), Err(ClockRefusal::NotStarted));
        assert_eq!(
            c.identity_confirmed(d("2026-09-01"), d("2026-09-10")),
            Err(ClockRefusal::BadDate)
        );
        c.identity_confirmed(d("2026-09-10"), d("2026-09-11"))
            .unwrap();
        assert_eq!(c.due().unwrap().day, d("2026-10-12"));
        assert_eq!(
            c.identity_confirmed(d("2026-09-10"), d("2026-09-11")),
            Err(ClockRefusal::AlreadyStarted)
        );
    }

    #[test]
    fn clarification_stops_the_clock_and_adds_the_days_back() {
        let mut c = RequestClock::new(d("2026-09-03"), true, ONE_MONTH);
        c.pause(d("2026-09-10")).unwrap();
        assert_eq!(c.due(), None);
        assert_eq!(c.pause(d("2026-09-11")), Err(ClockRefusal::AlreadyPaused));
        assert_eq!(
            c.resume(d("2026-09-09"), d("2026-09-25")),
            Err(ClockRefusal::BadDate)
        );
        c.resume(d("2026-09-20"), d("2026-09-25")).unwrap();
        assert_eq!(c.paused_days, 10);
        assert_eq!(c.due().unwrap().day, d("2026-10-13"));
        assert_eq!(
            c.resume(d("2026-09-20"), d("2026-09-25")),
            Err(ClockRefusal::NotPaused)
        );
    }

    #[test]
    fn an_extension_is_one_or_two_months_taken_within_the_first() {
        let mut c = RequestClock::new(d("2026-09-03"), true, ONE_MONTH);
        assert_eq!(
            c.extend(3, d("2026-09-10")),
            Err(ClockRefusal::BadExtension)
        );
        assert_eq!(
            c.extend(0, d("2026-09-10")),
            Err(ClockRefusal::BadExtension)
        );
        // The first month ends on Monday 5 October (3 October is a Saturday).
        assert_eq!(
            c.extend(2, d("2026-10-06")),
            Err(ClockRefusal::TooLateToExtend)
        );
        c.extend(2, d("2026-10-05")).unwrap();
        assert_eq!(c.due().unwrap().day, d("2026-12-03"));
        assert_eq!(
            c.extend(1, d("2026-10-05")),
            Err(ClockRefusal::AlreadyExtended)
        );
    }

    #[test]
    fn a_closed_request_does_not_change() {
        let mut c = RequestClock::new(d("2026-09-03"), true, ONE_MONTH);
        c.close(Outcome::Completed).unwrap();
        assert_eq!(c.urgency(d("2027-01-01")), Urgency::Closed);
        assert_eq!(c.close(Outcome::Refused), Err(ClockRefusal::Closed));
        assert_eq!(c.pause(d("2026-09-04")), Err(ClockRefusal::Closed));
        assert_eq!(c.extend(1, d("2026-09-04")), Err(ClockRefusal::Closed));
    }

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        for c in Channel::LOGGED {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(Channel::parse("online"), Some(Channel::Online));
        assert_eq!(Kind::parse("root"), None);
        assert_eq!(
            reference("0193a4b2-77c1-7000-8000-00ab12cd34ef"),
            "RR-12CD34EF"
        );
    }
}
