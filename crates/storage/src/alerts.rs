//! Management alerts: emails to a person about others in their care (a CPD lead's copies of
//! colleagues' booking emails; a lead administrator's approval requests and warnings about
//! accounts due to go). Each goes at the frequency its recipient chose on their profile: at
//! once, gathered into one email a day or a week, or never. A gathered alert waits in the
//! outbox, held (`digest` set, so no sender claims it), until the daily job folds each
//! person's held alerts into one summary email.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, Set};

use crate::entity::outbox_email::{Column, Entity};
use crate::outbox::{self, Email};
use crate::{StorageError, TenantTx, Writes};
use tenant_router::TenantId;

/// How often a person gets management alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// Each alert as it happens.
    Immediately,
    /// One summary a day.
    Daily,
    /// One summary a week (on Mondays).
    Weekly,
    /// None.
    Never,
}

impl Frequency {
    /// Every frequency, with the words a person chooses it by.
    pub const CHOICES: [(Self, &'static str); 4] = [
        (Self::Immediately, "As soon as something needs my attention"),
        (Self::Daily, "In one email a day"),
        (Self::Weekly, "In one email a week"),
        (Self::Never, "Never"),
    ];

    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Immediately => "immediately",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Never => "never",
        }
    }

    /// The frequency of a stored name; `None` for anything else.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::CHOICES
            .iter()
            .map(|(f, _)| *f)
            .find(|f| f.as_str() == s)
    }

    /// The frequency of a stored name, falling back to daily (the default every account
    /// starts with) for a value no longer known.
    #[must_use]
    pub fn stored(s: &str) -> Self {
        Self::parse(s).unwrap_or(Self::Daily)
    }

    /// The digest an alert waits for, if it waits.
    const fn held(self) -> Option<&'static str> {
        match self {
            Self::Daily | Self::Weekly => Some(self.as_str()),
            Self::Immediately | Self::Never => None,
        }
    }
}

/// Someone who gets management alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// Their account id.
    pub id: String,
    /// Their email address.
    pub email: String,
    /// How often they want alerts.
    pub frequency: Frequency,
}

/// Adds to `writes` an alert for `to` about the account `about` (the colleague or member
/// it concerns), at `to`'s frequency: queued to send, held for their next summary, or (for
/// "never") nothing at all.
pub fn add(
    writes: &mut Writes,
    tenant: &TenantId,
    now: DateTime<Utc>,
    to: &Recipient,
    about: &str,
    subject: &str,
    body: &str,
) {
    if to.frequency == Frequency::Never {
        return;
    }
    let email = Email {
        to: &to.email,
        subject,
        body,
    };
    let id = uuid::Uuid::now_v7().to_string();
    let mut row = outbox::model(tenant, &id, now, email, None, None);
    row.digest = Set(to.frequency.held().map(str::to_owned));
    row.about_account = Set(Some(about.to_owned()));
    writes.insert(row);
}

/// Queues (or holds) an alert for `to` in `tx`; see [`add`].
///
/// # Errors
/// [`StorageError::Db`] when the insert fails.
pub async fn enqueue(
    tx: &TenantTx,
    now: DateTime<Utc>,
    to: &Recipient,
    about: &str,
    subject: &str,
    body: &str,
) -> Result<(), StorageError> {
    let mut writes = Writes::new();
    add(&mut writes, tx.tenant(), now, to, about, subject, body);
    Ok(writes.run(tx).await?)
}

/// After a person changes how often they want alerts, their held alerts follow the choice:
/// released to send now, moved to the other summary, or dropped ("never"). Returns how many
/// alerts were changed.
///
/// # Errors
/// [`StorageError::Db`] when the statement fails.
pub async fn refile(tx: &TenantTx, email: &str, frequency: Frequency) -> Result<u64, StorageError> {
    let held = || {
        Condition::all()
            .add(Column::TenantId.eq(tx.tenant().as_str()))
            .add(Column::ToAddress.eq(email))
            .add(Column::SentAt.is_null())
            .add(Column::Digest.is_not_null())
    };
    let n = if frequency == Frequency::Never {
        Entity::delete_many()
            .filter(held())
            .exec(&**tx)
            .await?
            .rows_affected
    } else {
        Entity::update_many()
            .filter(held())
            .col_expr(
                Column::Digest,
                Expr::value(frequency.held().map(str::to_owned)),
            )
            .exec(&**tx)
            .await?
            .rows_affected
    };
    Ok(n)
}

/// After a person's address changed from `old` to `new`, the alerts waiting for their
/// summary go to the new address (and stay theirs for a later change of frequency or an
/// erasure, which find mail by the current address). Returns how many moved.
///
/// # Errors
/// [`StorageError::Db`] when the statement fails.
pub async fn readdress(tx: &TenantTx, old: &str, new: &str) -> Result<u64, StorageError> {
    Ok(Entity::update_many()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .filter(Column::ToAddress.eq(old))
        .filter(Column::SentAt.is_null())
        .filter(Column::Digest.is_not_null())
        .col_expr(Column::ToAddress, Expr::value(new.to_owned()))
        .exec(&**tx)
        .await?
        .rows_affected)
}

/// Deletes the unsent alerts about any of `accounts` (being erased), to whomever they were
/// going: they name the person. Returns how many went.
///
/// # Errors
/// [`StorageError::Db`] when the statement fails.
pub async fn forget_about(tx: &TenantTx, accounts: &[String]) -> Result<u64, StorageError> {
    if accounts.is_empty() {
        return Ok(0);
    }
    // The ids as one array on PostgreSQL (`Sql::among`): the sweep passes a page of them.
    let mut sql = crate::sql::Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let list = sql.among(tx, accounts);
    sql.text = format!(
        "DELETE FROM outbox_email WHERE tenant_id = {t} AND sent_at IS NULL \
         AND about_account {list}"
    );
    sql.execute(tx).await
}

/// What a summary says around the alerts it gathers.
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a> {
    /// The service's name, as people know it.
    pub service: &'a str,
    /// The address of the profile page where the frequency is chosen.
    pub preferences_url: &'a str,
}

/// Folds each person's held alerts into one summary email queued to send: daily alerts
/// made before today, and on Mondays weekly alerts made before the day (a weekly alert left
/// more than eight days, because a Monday's run did not happen, goes on any day). So a
/// second run on the same day finds nothing more to send. The alerts are taken out of the
/// outbox by the same statement that reads them, and only while still held: one released
/// to send at once by a change of frequency is never in a summary too. Returns how many
/// summaries were queued.
///
/// # Errors
/// [`StorageError::Db`] when the database fails.
pub async fn fold(
    tx: &TenantTx,
    now: DateTime<Utc>,
    summary: Summary<'_>,
) -> Result<u64, StorageError> {
    use chrono::Datelike as _;
    let today = now.date_naive();
    let start_of_today = today.and_time(chrono::NaiveTime::MIN).and_utc();
    let weekly_before = if today.weekday() == chrono::Weekday::Mon {
        start_of_today
    } else {
        now - chrono::Duration::days(8)
    };
    let due = Condition::any()
        .add(
            Condition::all()
                .add(Column::Digest.eq(Frequency::Daily.as_str()))
                .add(Column::CreatedAt.lt(start_of_today)),
        )
        .add(
            Condition::all()
                .add(Column::Digest.eq(Frequency::Weekly.as_str()))
                .add(Column::CreatedAt.lt(weekly_before)),
        );
    let mut held = Entity::delete_many()
        .filter(Column::TenantId.eq(tx.tenant().as_str()))
        .filter(Column::SentAt.is_null())
        .filter(due)
        .exec_with_returning(&**tx)
        .await?;
    held.sort_by(|a, b| a.id.cmp(&b.id));
    let mut by_person: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for alert in &held {
        by_person
            .entry(alert.to_address.as_str())
            .or_default()
            .push(alert);
    }
    let mut writes = Writes::new();
    for (to, alerts) in &by_person {
        let how_often = alerts
            .first()
            .and_then(|a| a.digest.as_deref())
            .map_or("day", |d| if d == "weekly" { "week" } else { "day" });
        let mut body = format!(
            "Here {are} the {n} {alerts} from {service} since your last summary.\n\n",
            are = if alerts.len() == 1 { "is" } else { "are" },
            n = alerts.len(),
            alerts = if alerts.len() == 1 { "alert" } else { "alerts" },
            service = summary.service,
        );
        for a in alerts {
            body.push_str(&format!(
                "----\n{}, {}\n\n{}\n\n",
                a.created_at.format("%-d %B %Y %H:%M UTC"),
                a.subject,
                a.body_text.trim_end(),
            ));
        }
        body.push_str(&format!(
            "----\nYou chose to get management alerts in one email a {how_often}. You can \
             change that on your profile: {}\n",
            summary.preferences_url,
        ));
        let subject = format!(
            "Your management alerts from {} ({})",
            summary.service,
            alerts.len()
        );
        outbox::add(
            &mut writes,
            tx.tenant(),
            now,
            Email {
                to,
                subject: &subject,
                body: &body,
            },
            None,
        );
    }
    writes.run(tx).await?;
    Ok(by_person.len() as u64)
}
