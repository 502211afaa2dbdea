//! What carries out each retention rule. A rule the notice states is kept only when
//! something does it: the daily sweep (on accounts, or on a kind of record it knows how
//! to find by the rule's trigger) or an administrator's review of the records that reach
//! the rule. A rule with neither is refused at publication, naming the rule, so a notice
//! never states a period nothing applies.

use chrono::NaiveDate;
use tenant_router::config::{Period, RetentionAction, RetentionRule, RetentionTrigger};

/// Whether a rule's category (a group such as `purchase`, or a category id such as
/// `purchase.record`) falls under `group`.
#[must_use]
pub fn in_group(category: &str, group: &str) -> bool {
    category == group
        || category
            .strip_prefix(group)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Records the sweep acts on by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// Bookings on sessions that ended (anonymised), with the delegate disclosures about
    /// them; their waiting lists go.
    Bookings,
    /// Orders whose sessions ended and whose service periods (contracts) ended, deleted
    /// with their bookings, service purchases, waiting-list entries and log entries.
    Orders,
    /// Orders of services alone (no course places) whose contracts ended, deleted with
    /// their service purchases and log entries.
    ServiceOrders,
    /// Transaction-log entries, by the day they were recorded.
    TransactionLog,
    /// The daily counts of page views kept for analytics, by their day.
    PageViews,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [Self; 5] = [
        Self::Bookings,
        Self::Orders,
        Self::ServiceOrders,
        Self::TransactionLog,
        Self::PageViews,
    ];

    /// What the sweep report counts.
    #[must_use]
    pub fn unit(self) -> &'static str {
        match self {
            Self::Bookings => "bookings",
            Self::Orders | Self::ServiceOrders => "orders",
            Self::TransactionLog => "log entries",
            Self::PageViews => "daily page counts",
        }
    }

    /// Stored name of the record kind, in disposal records.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bookings => "booking",
            Self::Orders | Self::ServiceOrders => "purchase",
            Self::TransactionLog => "transaction_log",
            Self::PageViews => "page_view",
        }
    }

    /// What the rule covers, for administrators.
    #[must_use]
    pub fn covers(self) -> &'static str {
        match self {
            Self::Bookings => {
                "bookings on sessions that have ended, and what providers were sent about them"
            }
            Self::Orders => {
                "orders, with their bookings, service purchases, waiting-list entries and transaction-log entries"
            }
            Self::ServiceOrders => {
                "orders of services alone, once their contracts end, with their service purchases and transaction-log entries"
            }
            Self::TransactionLog => "transaction-log entries",
            Self::PageViews => "daily counts of page views",
        }
    }
}

/// Records an administrator reviews when they reach a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReviewKind {
    /// Accounts, by the day they were last active; disposing deletes the account as
    /// erasure does.
    Accounts,
    /// Induction records, by the day they were made.
    InductionRecords,
}

impl ReviewKind {
    /// Every kind.
    pub const ALL: [Self; 2] = [Self::Accounts, Self::InductionRecords];

    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accounts => "account",
            Self::InductionRecords => "induction_record",
        }
    }

    /// The kind with stored name `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the sweep report counts.
    #[must_use]
    pub fn unit(self) -> &'static str {
        match self {
            Self::Accounts => "accounts put up for review",
            Self::InductionRecords => "induction records put up for review",
        }
    }

    /// What is reviewed, for administrators.
    #[must_use]
    pub fn covers(self) -> &'static str {
        match self {
            Self::Accounts => "accounts, once they have not been used for the period",
            Self::InductionRecords => "induction records, once they are as old as the period",
        }
    }
}

/// What applies one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executor {
    /// The sweep warns, switches off and deletes accounts.
    Accounts,
    /// The records go with the account under the account deletion rule of the same
    /// trigger and period (CPD records and feedback).
    WithAccount,
    /// The sweep acts on these records.
    Sweep(RecordKind),
    /// Records are put in front of an administrator, who keeps each with a reason or
    /// disposes of it.
    Review(ReviewKind),
}

impl Executor {
    /// What the rule covers and who applies it, for administrators.
    #[must_use]
    pub fn describe(self) -> String {
        match self {
            Self::Accounts => "Applied by the daily sweep to accounts".to_owned(),
            Self::WithAccount => {
                "Applied with the account: deleted when the account is deleted".to_owned()
            }
            Self::Sweep(k) => format!("Applied by the daily sweep to {}", k.covers()),
            Self::Review(k) => format!("Reviewed by an administrator: {}", k.covers()),
        }
    }
}

/// The groups of records the portal holds and can apply rules to.
const HELD: [&str; 8] = [
    "account",
    "cpd",
    "booking",
    "purchase",
    "service",
    "transactions",
    "analytics",
    "induction",
];

/// What applies rule `index` of `rules`, or why nothing can.
///
/// # Errors
/// A sentence saying why the rule cannot be applied, for the administrator to act on.
pub fn executor(rules: &[RetentionRule], index: usize) -> Result<Executor, &'static str> {
    use RetentionAction::{Anonymise, Deactivate, Delete, Review};
    use RetentionTrigger::{
        AdminSchedule, ContractEnded, Created, Inactivity, LeftOrganisation, ServiceDelivered,
    };
    let Some(rule) = rules.get(index) else {
        return Err("there is no such rule");
    };
    if !HELD.iter().any(|g| in_group(&rule.category, g)) {
        return Err(
            "the portal holds no records of this kind (they come with a module the portal does not have yet), so nothing here can apply a rule to them",
        );
    }
    if rule.trigger == AdminSchedule {
        return Err(
            "a schedule rule must say when records are reviewed: choose \"after the record was made\" or \"after the account was last active\" and give the schedule's period",
        );
    }
    if rule.after.is_none() {
        return Err("the rule gives no period");
    }
    let group = |g: &str| in_group(&rule.category, g);
    match (rule.trigger, rule.action) {
        (Inactivity | LeftOrganisation, Deactivate | Delete) if group("account") => {
            Ok(Executor::Accounts)
        }
        (Inactivity, Review) if group("account") => Ok(Executor::Review(ReviewKind::Accounts)),
        (Inactivity, Delete) if group("cpd") => {
            let with_account = rules.iter().any(|r| {
                in_group(&r.category, "account")
                    && r.trigger == Inactivity
                    && r.action == Delete
                    && r.after == rule.after
            });
            if with_account {
                Ok(Executor::WithAccount)
            } else {
                Err(
                    "CPD records are deleted with the account: give the same period as the rule that deletes inactive accounts",
                )
            }
        }
        (ServiceDelivered, Anonymise) if group("booking") => {
            Ok(Executor::Sweep(RecordKind::Bookings))
        }
        (ServiceDelivered, Delete) if group("purchase") || group("service") => {
            Ok(Executor::Sweep(RecordKind::Orders))
        }
        // A contract ends for services, not for course places (their bookings have rules
        // of their own).
        (ContractEnded, Delete) if group("purchase") || group("service") => {
            Ok(Executor::Sweep(RecordKind::ServiceOrders))
        }
        (Created, Delete) if group("transactions") => {
            Ok(Executor::Sweep(RecordKind::TransactionLog))
        }
        (Created, Delete) if group("analytics") => Ok(Executor::Sweep(RecordKind::PageViews)),
        (Created, Review) if group("induction") => {
            Ok(Executor::Review(ReviewKind::InductionRecords))
        }
        _ => Err("the platform has nothing that applies this rule to these records"),
    }
}

/// The rules nothing applies, each with why: empty when every rule is applied.
#[must_use]
pub fn unapplied(rules: &[RetentionRule]) -> Vec<(usize, &'static str)> {
    (0..rules.len())
        .filter_map(|i| executor(rules, i).err().map(|why| (i, why)))
        .collect()
}

/// A record reaching a review rule: its id and the day the rule reached it.
pub type Due = (String, NaiveDate);

/// The review rules on accounts, with their index and period.
#[must_use]
pub fn account_review_rules(rules: &[RetentionRule]) -> Vec<(usize, Period)> {
    (0..rules.len())
        .filter_map(|i| match executor(rules, i) {
            Ok(Executor::Review(ReviewKind::Accounts)) => Some((i, rules[i].after?)),
            _ => None,
        })
        .collect()
}

/// Of `accounts` (id, last active), those each account review rule reaches by `today`.
#[must_use]
pub fn accounts_due<'a>(
    rules: &[(usize, Period)],
    accounts: impl Iterator<Item = (&'a str, NaiveDate)> + Clone,
    today: NaiveDate,
) -> Vec<(usize, Vec<Due>)> {
    rules
        .iter()
        .map(|(rule, period)| {
            let due = accounts
                .clone()
                .filter_map(|(id, last)| {
                    let on = period.after(last)?;
                    (on <= today).then(|| (id.to_owned(), on))
                })
                .collect();
            (*rule, due)
        })
        .filter(|(_, due): &(usize, Vec<Due>)| !due.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenant_router::config::Period;

    fn rule(
        category: &str,
        trigger: RetentionTrigger,
        after: Option<&str>,
        action: RetentionAction,
    ) -> RetentionRule {
        RetentionRule {
            category: category.to_owned(),
            trigger,
            after: after.and_then(|a| a.parse::<Period>().ok()),
            action,
            user_may_extend: false,
            authority: None,
        }
    }

    #[test]
    fn each_rule_kind_has_its_executor() {
        use RetentionAction::{Anonymise, Deactivate, Delete, Review};
        use RetentionTrigger::{
            ContractEnded, Created, Inactivity, LeftOrganisation, ServiceDelivered,
        };
        let rules = vec![
            rule("account", Inactivity, Some("4y"), Delete),
            rule("account", LeftOrganisation, Some("0d"), Deactivate),
            rule("cpd", Inactivity, Some("4y"), Delete),
            rule("booking", ServiceDelivered, Some("6y"), Anonymise),
            rule("purchase.record", ServiceDelivered, Some("7y"), Delete),
            rule("service", ContractEnded, Some("0d"), Delete),
            rule("transactions.log", Created, Some("6y"), Delete),
            rule("analytics.usage", Created, Some("14m"), Delete),
            rule("induction.record", Created, Some("6y"), Review),
            rule("account", Inactivity, Some("3y"), Review),
        ];
        let got: Vec<_> = (0..rules.len()).map(|i| executor(&rules, i)).collect();
        assert_eq!(
            got,
            vec![
                Ok(Executor::Accounts),
                Ok(Executor::Accounts),
                Ok(Executor::WithAccount),
                Ok(Executor::Sweep(RecordKind::Bookings)),
                Ok(Executor::Sweep(RecordKind::Orders)),
                Ok(Executor::Sweep(RecordKind::ServiceOrders)),
                Ok(Executor::Sweep(RecordKind::TransactionLog)),
                Ok(Executor::Sweep(RecordKind::PageViews)),
                Ok(Executor::Review(ReviewKind::InductionRecords)),
                Ok(Executor::Review(ReviewKind::Accounts)),
            ]
        );
        assert!(unapplied(&rules).is_empty());
    }

    #[test]
    fn rules_nothing_applies_are_named() {
        use RetentionAction::{Anonymise, Delete, Review};
        use RetentionTrigger::{AdminSchedule, Created, Inactivity};
        let rules = vec![
            rule("account", Inactivity, Some("5y"), Delete),
            // A different period from the account deletion.
            rule("cpd", Inactivity, Some("3y"), Delete),
            rule("inclusion", AdminSchedule, None, Review),
            rule("booking", Created, Some("1y"), Anonymise),
            rule("account", Inactivity, None, Delete),
        ];
        let names: Vec<usize> = unapplied(&rules).into_iter().map(|(i, _)| i).collect();
        assert_eq!(names, vec![1, 2, 3, 4]);
    }
}
