//! Newsletters and marketing emails that honour choices. Tenant staff write one (plain
//! text, previewed as it will be sent), keep it as a draft, and send it; it goes, through the outbox, to exactly
//! the people whose latest choice for its purpose in the consent ledger is "given" at the
//! moment of sending (active accounts, not restricted). Each message carries a one-click
//! unsubscribe link for its purpose, in its text and in its `List-Unsubscribe` header.
//! Only purposes the tenant asks people about can be sent to.

use chrono::{DateTime, Utc};
use sea_orm::{FromQueryResult, Value};
use storage::audit::{self, AuditEntry};
use storage::outbox::{self, Email};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};
use tenant_router::config::Module;
use tenant_router::{TenantConfig, TenantId};

use crate::store::consent::{MARKETING, NEWSLETTER};
use crate::store::record;
use crate::{Privacy, PrivacyError};

/// Longest subject line, in characters.
pub const SUBJECT_MAX: usize = 150;
/// Longest body, in characters.
pub const BODY_MAX: usize = 20_000;

/// A stored communication.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct CommunicationRow {
    /// Id.
    pub id: String,
    /// `newsletter` or `marketing`.
    pub purpose: String,
    /// Subject line.
    pub subject: String,
    /// The text, sent as plain text.
    pub body: String,
    /// `draft` or `sent`.
    pub status: String,
    /// Who wrote it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last edit.
    pub updated_at: DateTime<Utc>,
    /// Who sent it.
    pub sent_by: Option<String>,
    /// When.
    pub sent_at: Option<DateTime<Utc>>,
    /// How many people it went to.
    pub recipients: i32,
}

const COLUMNS: &str = "id, purpose, subject, body, status, created_by, created_at, updated_at, \
    sent_by, sent_at, recipients";

fn values(r: &CommunicationRow) -> Vec<Value> {
    vec![
        r.id.clone().into(),
        r.purpose.clone().into(),
        r.subject.clone().into(),
        r.body.clone().into(),
        r.status.clone().into(),
        r.created_by.clone().into(),
        r.created_at.into(),
        r.updated_at.into(),
        r.sent_by.clone().into(),
        r.sent_at.into(),
        r.recipients.into(),
    ]
}

/// The purposes this tenant may send to, with what people were asked: the newsletter and
/// marketing, where the tenant has a newsletter (and so asks about both).
#[must_use]
pub fn purposes(cfg: &TenantConfig) -> Vec<(&'static str, &'static str)> {
    if cfg.has_module(Module::Newsletter) {
        vec![
            (NEWSLETTER, "The newsletter"),
            (MARKETING, "News about training, events and services"),
        ]
    } else {
        Vec::new()
    }
}

/// What staff wrote.
#[derive(Clone, Copy, Debug)]
pub struct Composed<'a> {
    /// `newsletter` or `marketing`.
    pub purpose: &'a str,
    /// Subject line.
    pub subject: &'a str,
    /// The text, sent as plain text.
    pub body: &'a str,
}

fn check(cfg: &TenantConfig, c: &Composed<'_>) -> Result<(), PrivacyError> {
    let mut problems = Vec::new();
    if !purposes(cfg).iter().any(|(p, _)| *p == c.purpose) {
        problems.push((
            "purpose",
            "Choose one of the kinds of email people are asked about".to_owned(),
        ));
    }
    let subject = c.subject.trim();
    if subject.is_empty() {
        problems.push(("subject", "Enter a subject line".to_owned()));
    } else if subject.chars().count() > SUBJECT_MAX || subject.contains(['\r', '\n']) {
        problems.push((
            "subject",
            format!("Enter a subject line of one line and {SUBJECT_MAX} characters or fewer"),
        ));
    }
    let body = c.body.trim();
    if body.is_empty() {
        problems.push(("body", "Write the email".to_owned()));
    } else if body.chars().count() > BODY_MAX {
        problems.push((
            "body",
            format!("Write the email in {BODY_MAX} characters or fewer"),
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PrivacyError::Invalid(problems))
    }
}

async fn list(tx: &TenantTx, id: Option<&str>) -> Result<Vec<CommunicationRow>, PrivacyError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    let one = match id {
        Some(id) => format!(" AND id = {}", sql.bind(id)),
        None => String::new(),
    };
    sql.text = format!(
        "SELECT {COLUMNS} FROM communication WHERE tenant_id = {t}{one} ORDER BY updated_at DESC"
    );
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    Ok(CommunicationRow::find_by_statement(sql.statement(backend))
        .all(&**tx)
        .await
        .map_err(StorageError::from)?)
}

impl Privacy {
    /// Every communication, newest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn communications(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<CommunicationRow>, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let rows = list(&tx, None).await?;
        tx.rollback().await?;
        Ok(rows)
    }

    /// Communication `id` with how many people would get it if it were sent now.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn communication(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<(CommunicationRow, usize)>, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let out = match list(&tx, Some(id)).await?.into_iter().next() {
            Some(row) => {
                let n = self.audience(&tx, &row.purpose).await?.len();
                Some((row, n))
            }
            None => None,
        };
        tx.rollback().await?;
        Ok(out)
    }

    /// Who would get an email for `purpose` now: active people whose latest choice is
    /// "given", less anyone who restricted the use of their data.
    async fn audience(
        &self,
        tx: &TenantTx,
        purpose: &str,
    ) -> Result<Vec<crate::accounts::Recipient>, PrivacyError> {
        let people = self.accounts.consenting_to(tx, purpose).await?;
        let ids: Vec<String> = people.iter().map(|p| p.id.clone()).collect();
        let restricted = crate::effects::restricted(tx, &ids, self.clock.now()).await?;
        Ok(people
            .into_iter()
            .filter(|p| !restricted.contains(&p.id))
            .collect())
    }

    /// Saves a new draft (`id` `None`) or changes draft `id`. Returns it.
    ///
    /// # Errors
    /// [`PrivacyError::Invalid`] for a purpose the tenant does not ask about, or a missing
    /// or too long subject or text; [`PrivacyError::Refused`] (`no_such_communication`,
    /// `communication_sent`). Nothing changes in any of these cases.
    pub async fn save_communication(
        &self,
        cfg: &TenantConfig,
        id: Option<&str>,
        c: &Composed<'_>,
        by: &str,
    ) -> Result<CommunicationRow, PrivacyError> {
        check(cfg, c)?;
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let row = match id {
            Some(id) => {
                // Changed only while still a draft: a send that got there first wins.
                let mut sql = Sql::default();
                let p = sql.bind(c.purpose);
                let sub = sql.bind(c.subject.trim());
                let b = sql.bind(c.body.trim());
                let n = sql.bind(now);
                let t = sql.bind(tx.tenant().as_str());
                let i = sql.bind(id);
                sql.text = format!(
                    "UPDATE communication SET purpose = {p}, subject = {sub}, body = {b}, \
                     updated_at = {n} WHERE tenant_id = {t} AND id = {i} AND status = 'draft'"
                );
                if sql.execute(&tx).await? == 0 {
                    return Err(self.why_not_draft(&tx, id).await);
                }
                self.draft(&tx, id).await?
            }
            None => {
                let row = CommunicationRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    purpose: c.purpose.to_owned(),
                    subject: c.subject.trim().to_owned(),
                    body: c.body.trim().to_owned(),
                    status: "draft".to_owned(),
                    created_by: by.to_owned(),
                    created_at: now,
                    updated_at: now,
                    sent_by: None,
                    sent_at: None,
                    recipients: 0,
                };
                record::insert(&tx, "communication", COLUMNS, values(&row)).await?;
                row
            }
        };
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: by,
                action: "communication.saved",
                subject: &row.id,
                detail: serde_json::json!({ "purpose": row.purpose, "subject": row.subject }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Why communication `id` could not be changed as a draft.
    async fn why_not_draft(&self, tx: &TenantTx, id: &str) -> PrivacyError {
        match self.draft(tx, id).await {
            Err(e) => e,
            // A draft after all (it cannot become one again): treat as sent meanwhile.
            Ok(_) => PrivacyError::Refused {
                code: "communication_sent",
                message: "This email has already been sent; write a new one.",
            },
        }
    }

    async fn draft(&self, tx: &TenantTx, id: &str) -> Result<CommunicationRow, PrivacyError> {
        let row = list(tx, Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or(PrivacyError::Refused {
                code: "no_such_communication",
                message: "There is no such email.",
            })?;
        if row.status != "draft" {
            return Err(PrivacyError::Refused {
                code: "communication_sent",
                message: "This email has already been sent; write a new one.",
            });
        }
        Ok(row)
    }

    /// Sends draft `id`: one message per person whose latest choice for its purpose is
    /// "given" now, each with its own unsubscribe link from `base_url`, queued in the
    /// outbox in one transaction with the record of sending. Returns how many.
    ///
    /// # Errors
    /// [`PrivacyError::Refused`] (`no_such_communication`, `communication_sent`,
    /// `purpose_not_offered` when the tenant no longer asks about its purpose). Nothing
    /// is sent in any of these cases.
    pub async fn send_communication(
        &self,
        cfg: &TenantConfig,
        id: &str,
        by: &str,
        base_url: &str,
    ) -> Result<usize, PrivacyError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        // Claimed first, by a change only a draft allows: two sends at once (a double
        // click) cannot both go, and an edit cannot slip in after the emails are queued.
        let mut sql = Sql::default();
        let b = sql.bind(by);
        let n = sql.bind(now);
        let t = sql.bind(tx.tenant().as_str());
        let i = sql.bind(id);
        sql.text = format!(
            "UPDATE communication SET status = 'sent', sent_by = {b}, sent_at = {n} \
             WHERE tenant_id = {t} AND id = {i} AND status = 'draft'"
        );
        if sql.execute(&tx).await? == 0 {
            return Err(self.why_not_draft(&tx, id).await);
        }
        let mut row = list(&tx, Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or(PrivacyError::NoSuchRequest)?;
        let Some((_, asked)) = purposes(cfg).into_iter().find(|(p, _)| *p == row.purpose) else {
            // Dropping the transaction undoes the claim.
            return Err(PrivacyError::Refused {
                code: "purpose_not_offered",
                message: "People are no longer asked about this kind of email, so it cannot be sent.",
            });
        };
        let people = self.audience(&tx, &row.purpose).await?;
        for p in &people {
            let token = self
                .accounts
                .unsubscribe_token(&cfg.slug, &p.id, &row.purpose)?;
            let link = format!("{base_url}/unsubscribe/{token}");
            let body = format!(
                "{text}\n\n---\nYou get this email from {service} because you chose: \
                 {asked}. To stop these emails (no sign-in needed): {link}\n\
                 You can change all your choices in your account: {base_url}/account/preferences\n",
                text = row.body,
                service = cfg.display_name,
            );
            outbox::enqueue_with_unsubscribe(
                &tx,
                now,
                Email {
                    to: &p.email,
                    subject: &row.subject,
                    body: &body,
                },
                &link,
            )
            .await?;
        }
        row.recipients = i32::try_from(people.len()).unwrap_or(i32::MAX);
        record::save(&tx, "communication", COLUMNS, values(&row)).await?;
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: by,
                action: "communication.sent",
                subject: &row.id,
                detail: serde_json::json!({
                    "purpose": row.purpose,
                    "recipients": people.len(),
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(people.len())
    }
}
