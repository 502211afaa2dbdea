//! What a tenant's retention rules do today, decided without a database: which accounts
//! are deactivated or deleted, which are warned first, and which records (bookings,
//! purchases) are anonymised or deleted. Every period is a calendar [`Period`] counted
//! from a UTC date, the same value the privacy notice prints, so notice and sweep agree
//! to the day.

use chrono::{Days, Months, NaiveDate};
use tenant_router::config::{Period, PeriodUnit, RetentionAction, RetentionRule, RetentionTrigger};

pub use crate::domain::executor::in_group;
use crate::domain::executor::{Executor, RecordKind, executor};

/// Days before a deactivation or deletion that the person (and their lead administrator)
/// are told, so they can keep the account by signing in.
pub const WARN_DAYS: u64 = 30;

/// Why an account may not be deleted yet. Holds never stop a deactivation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HoldKind {
    /// A subject-rights request is open.
    SubjectRequest,
    /// An invoice is unpaid.
    UnpaidInvoice,
    /// A legal claim needs the records.
    LegalClaim,
    /// The person asked to keep their account for a further period.
    UserExtension,
    /// The person asked for the use of their data to be restricted (UK GDPR Article 18):
    /// it is kept, not shared with providers, and used for nothing but what is essential
    /// until the restriction is lifted.
    Restriction,
}

impl HoldKind {
    /// Every kind, in the order forms list them.
    pub const ALL: [Self; 5] = [
        Self::SubjectRequest,
        Self::UnpaidInvoice,
        Self::LegalClaim,
        Self::UserExtension,
        Self::Restriction,
    ];

    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubjectRequest => "subject_request",
            Self::UnpaidInvoice => "unpaid_invoice",
            Self::LegalClaim => "legal_claim",
            Self::UserExtension => "user_extension",
            Self::Restriction => "restriction",
        }
    }

    /// The kind with stored name `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Plain English.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::SubjectRequest => "an open subject-rights request",
            Self::UnpaidInvoice => "an unpaid invoice",
            Self::LegalClaim => "a legal claim",
            Self::UserExtension => "the person asked to keep their account",
            Self::Restriction => "the person restricted the use of their data",
        }
    }
}

/// What retention does to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// The account stops working (the person can sign in again to reopen it after
    /// inactivity; a leaver cannot).
    Deactivate,
    /// The account and every personal-data row of the person are removed; records with
    /// their own retention are kept with the person pseudonymised.
    Delete,
}

impl Step {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deactivate => "deactivate",
            Self::Delete => "delete",
        }
    }
}

/// What the engine knows about one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountFacts {
    /// Account id.
    pub id: String,
    /// Whether the account can sign in now.
    pub active: bool,
    /// Day of the last sign-in, booking, CPD record or purchase by or for the person (the
    /// day of creation when there has been none).
    pub last_activity: NaiveDate,
    /// Day the person left their last organisation; `None` while any membership is current
    /// or they never had one.
    pub left_on: Option<NaiveDate>,
    /// Holds in force today.
    pub holds: Vec<HoldKind>,
}

/// One step of one rule for one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Index of the rule in the tenant's `retention` list.
    pub rule: usize,
    /// The step.
    pub step: Step,
    /// The day the rule makes it due.
    pub due_on: NaiveDate,
}

/// What happens to one account today.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountPlan {
    /// The step to take today.
    pub due: Option<Decision>,
    /// A deletion that is due but blocked, and what blocks it.
    pub held: Option<(Decision, Vec<HoldKind>)>,
    /// A step due within [`WARN_DAYS`], to warn about.
    pub warn: Option<Decision>,
}

/// The account rules among `rules`, with their index: group `account`, started by
/// inactivity or leaving, ending in deactivation or deletion.
pub fn account_rules(rules: &[RetentionRule]) -> impl Iterator<Item = (usize, &RetentionRule)> {
    rules.iter().enumerate().filter(|(_, r)| {
        in_group(&r.category, "account")
            && matches!(
                r.trigger,
                RetentionTrigger::Inactivity | RetentionTrigger::LeftOrganisation
            )
            && matches!(
                r.action,
                RetentionAction::Deactivate | RetentionAction::Delete
            )
            && r.after.is_some()
    })
}

/// Decides what retention does to one account today.
#[must_use]
pub fn plan_account(
    rules: &[RetentionRule],
    facts: &AccountFacts,
    today: NaiveDate,
) -> AccountPlan {
    let mut candidates: Vec<Decision> = account_rules(rules)
        .filter_map(|(index, rule)| {
            let start = match rule.trigger {
                RetentionTrigger::LeftOrganisation => facts.left_on?,
                _ => facts.last_activity,
            };
            let due_on = rule.after?.after(start)?;
            let step = match rule.action {
                RetentionAction::Delete => Step::Delete,
                _ => Step::Deactivate,
            };
            // Deactivating an account that no longer works changes nothing.
            (step == Step::Delete || facts.active).then_some(Decision {
                rule: index,
                step,
                due_on,
            })
        })
        .collect();
    // Deletion before deactivation, then the earliest.
    candidates.sort_by_key(|d| (std::cmp::Reverse(d.step), d.due_on, d.rule));
    let blocking: Vec<HoldKind> = {
        let mut h = facts.holds.clone();
        h.sort();
        h.dedup();
        h
    };
    let mut plan = AccountPlan::default();
    for d in candidates.iter().filter(|d| d.due_on <= today) {
        if d.step == Step::Delete && !blocking.is_empty() {
            if plan.held.is_none() {
                plan.held = Some((d.clone(), blocking.clone()));
            }
            continue;
        }
        plan.due = Some(d.clone());
        break;
    }
    if plan.due.is_none() {
        let horizon = today.checked_add_days(Days::new(WARN_DAYS));
        plan.warn = candidates
            .iter()
            .filter(|d| d.due_on > today && horizon.is_some_and(|h| d.due_on <= h))
            .filter(|d| d.step == Step::Deactivate || blocking.is_empty())
            .min_by_key(|d| (d.due_on, std::cmp::Reverse(d.step)))
            .cloned();
    }
    plan
}

/// Midnight UTC at the start of `day` (the far past when there is no such day).
#[must_use]
pub fn start_of(day: Option<NaiveDate>) -> chrono::DateTime<chrono::Utc> {
    day.and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(chrono::DateTime::<chrono::Utc>::MIN_UTC, |t| t.and_utc())
}

/// Days the copy of a sent email stays in the outbox (every notice states it): long
/// enough to answer "did you send it?", then deleted.
pub const SENT_MAIL_KEPT_DAYS: u32 = 30;

/// The period [`SENT_MAIL_KEPT_DAYS`], as notices print it.
#[must_use]
pub fn sent_mail_kept() -> Period {
    Period::new(SENT_MAIL_KEPT_DAYS, PeriodUnit::Days)
}

/// The latest trigger day whose period has run out by `today`: a record whose trigger day
/// is on or before it is due. `None` when the period reaches before the calendar starts.
#[must_use]
pub fn cutoff(period: Period, today: NaiveDate) -> Option<NaiveDate> {
    let count = period.count();
    let back = match period.unit() {
        PeriodUnit::Days => today.checked_sub_days(Days::new(count.into())),
        PeriodUnit::Weeks => today.checked_sub_days(Days::new(u64::from(count) * 7)),
        PeriodUnit::Months => today.checked_sub_months(Months::new(count)),
        PeriodUnit::Years => today.checked_sub_months(Months::new(count.checked_mul(12)?)),
    }?;
    // Month ends clamp (31 March less a month is 28 February), so later days may be due
    // too; `after` never decreases, so the due days end at the first one that is not.
    let mut last = back;
    while let Some(next) = last.succ_opt() {
        if period.after(next).is_some_and(|d| d <= today) {
            last = next;
        } else {
            break;
        }
    }
    Some(last)
}

/// A rule the sweep applies to records with their own retention (bookings, orders, log
/// entries, page counts).
#[derive(Clone, Debug, PartialEq)]
pub struct RecordRule {
    /// Index of the rule in the tenant's list.
    pub rule: usize,
    /// The records.
    pub kind: RecordKind,
    /// `anonymise` or `delete`.
    pub action: RetentionAction,
    /// Records whose trigger day (delivery, contract end, recording) is on or before this
    /// day are due.
    pub delivered_by: NaiveDate,
}

/// The rules the sweep applies to records, with the day their period reaches today.
#[must_use]
pub fn record_rules(rules: &[RetentionRule], today: NaiveDate) -> Vec<RecordRule> {
    (0..rules.len())
        .filter_map(|rule| match executor(rules, rule) {
            Ok(Executor::Sweep(kind)) => {
                let mut delivered_by = cutoff(rules[rule].after?, today)?;
                // A contract ends at the close of its last day (a service's delivery day),
                // so its period counts from the day after.
                if rules[rule].trigger == RetentionTrigger::ContractEnded {
                    delivered_by = delivered_by.pred_opt()?;
                }
                Some(RecordRule {
                    rule,
                    kind,
                    action: rules[rule].action,
                    delivered_by,
                })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(
        category: &str,
        trigger: RetentionTrigger,
        after: &str,
        action: RetentionAction,
    ) -> RetentionRule {
        RetentionRule {
            category: category.to_owned(),
            trigger,
            after: Some(
                after
                    .parse()
                    .unwrap_or_else(|_| Period::new(0, PeriodUnit::Days)),
            ),
            action,
            user_may_extend: false,
            authority: None,
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn somerset() -> Vec<RetentionRule> {
        use RetentionAction::{Deactivate, Delete};
        use RetentionTrigger::{Inactivity, LeftOrganisation};
        vec![
            rule("account", Inactivity, "2y", Deactivate),
            rule("account", LeftOrganisation, "0d", Deactivate),
            rule("account", Inactivity, "4y", Delete),
        ]
    }

    fn facts(last: NaiveDate) -> AccountFacts {
        AccountFacts {
            id: "a".into(),
            active: true,
            last_activity: last,
            left_on: None,
            holds: vec![],
        }
    }

    #[test]
    fn inactivity_deactivates_on_the_day_and_not_before() {
        let f = facts(day(2020, 3, 1));
        let before = plan_account(&somerset(), &f, day(2022, 2, 28));
        assert_eq!(before.due, None);
        assert_eq!(before.warn.map(|d| d.step), Some(Step::Deactivate));
        let on = plan_account(&somerset(), &f, day(2022, 3, 1));
        assert_eq!(
            on.due,
            Some(Decision {
                rule: 0,
                step: Step::Deactivate,
                due_on: day(2022, 3, 1)
            })
        );
    }

    #[test]
    fn deletion_wins_over_deactivation_and_holds_block_only_deletion() {
        let mut f = facts(day(2020, 3, 1));
        let plan = plan_account(&somerset(), &f, day(2024, 3, 1));
        assert_eq!(plan.due.map(|d| d.step), Some(Step::Delete));
        f.holds = vec![HoldKind::LegalClaim];
        let held = plan_account(&somerset(), &f, day(2024, 3, 1));
        assert_eq!(held.due.map(|d| d.step), Some(Step::Deactivate));
        assert_eq!(
            held.held.map(|(d, h)| (d.step, h)),
            Some((Step::Delete, vec![HoldKind::LegalClaim]))
        );
        f.active = false;
        let held_inactive = plan_account(&somerset(), &f, day(2024, 3, 1));
        assert_eq!(held_inactive.due, None);
        assert!(held_inactive.held.is_some());
    }

    #[test]
    fn leaving_deactivates_at_once_and_a_deactivated_account_is_only_warned_of_deletion() {
        let mut f = facts(day(2026, 1, 1));
        f.left_on = Some(day(2026, 6, 1));
        let plan = plan_account(&somerset(), &f, day(2026, 6, 1));
        assert_eq!(
            plan.due.map(|d| (d.rule, d.step)),
            Some((1, Step::Deactivate))
        );
        f.active = false;
        let later = plan_account(&somerset(), &f, day(2029, 12, 15));
        assert_eq!(later.due, None);
        assert_eq!(
            later.warn.map(|d| (d.step, d.due_on)),
            Some((Step::Delete, day(2030, 1, 1)))
        );
    }

    #[test]
    fn nothing_happens_to_a_recent_account() {
        let plan = plan_account(&somerset(), &facts(day(2026, 1, 1)), day(2026, 11, 23));
        assert_eq!(plan, AccountPlan::default());
    }

    #[test]
    fn record_rules_pick_the_rules_the_sweep_applies_to_records() {
        use RetentionAction::{Anonymise, Delete, Review};
        use RetentionTrigger::{Created, ServiceDelivered};
        let rules = vec![
            rule("purchase.record", ServiceDelivered, "7y", Delete),
            rule("booking", ServiceDelivered, "6y", Anonymise),
            rule("analytics.usage", Created, "14m", Delete),
            rule("induction.record", Created, "6y", Review),
            rule("booking", Created, "1y", Delete),
        ];
        let got = record_rules(&rules, day(2026, 11, 23));
        let kinds: Vec<_> = got.iter().map(|r| (r.kind, r.delivered_by)).collect();
        assert_eq!(
            kinds,
            vec![
                (RecordKind::Orders, day(2019, 11, 23)),
                (RecordKind::Bookings, day(2020, 11, 23)),
                (RecordKind::PageViews, day(2025, 9, 23)),
            ]
        );
        assert!(in_group("purchase.record", "purchase"));
        assert!(!in_group("purchases", "purchase"));
    }

    #[test]
    fn cutoff_handles_month_ends_and_leap_days() {
        let p: Period = "1m".parse().unwrap_or(Period::new(1, PeriodUnit::Months));
        assert_eq!(cutoff(p, day(2026, 3, 31)), Some(day(2026, 2, 28)));
        let y: Period = "1y".parse().unwrap_or(Period::new(1, PeriodUnit::Years));
        // 29 February 2024 plus a year is 28 February 2025.
        assert_eq!(cutoff(y, day(2025, 2, 28)), Some(day(2024, 2, 29)));
    }

    proptest! {
        /// A record is due exactly when its period, added to its trigger day, has run out.
        #[test]
        fn cutoff_is_exactly_the_last_due_day(
            count in 0u32..120,
            unit in 0u8..4,
            today_offset in 0i64..20_000,
            trigger_offset in 0i64..20_000,
        ) {
            let unit = [PeriodUnit::Days, PeriodUnit::Weeks, PeriodUnit::Months, PeriodUnit::Years][usize::from(unit)];
            let period = Period::new(count, unit);
            let base = day(1990, 1, 1);
            let today = base + chrono::Duration::days(today_offset);
            let trigger = base + chrono::Duration::days(trigger_offset);
            let c = cutoff(period, today);
            let due = period.after(trigger).is_some_and(|d| d <= today);
            prop_assert_eq!(c.is_some_and(|c| trigger <= c), due);
        }
    }
}
