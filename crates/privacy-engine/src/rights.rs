//! Rights requests, the privacy officer's desk: a person files one from their account, or
//! a privacy officer logs one that came by email, telephone, letter or in person. Each has
//! a clock ([`crate::domain::rights::RequestClock`]) kept on the UK calendar, a history,
//! an assignee, and while open a retention hold on the person's account, so nothing of
//! theirs is deleted while the council answers. Every change is audited; the requester is
//! told when the request is received, when the clock stops for clarification and when an
//! extension is taken; the privacy officers get a daily list of what falls due.

use chrono::NaiveDate;
use storage::TenantTx;
use storage::audit::{self, AuditEntry};
use storage::outbox::{self, Email};
use tenant_router::{TenantConfig, TenantId};

use crate::PrivacyError;
use crate::accounts::Recipient;
use crate::domain::calendar::{self, long_date};
use crate::domain::retention::HoldKind;
use crate::domain::rights::{
    Channel, ClockRefusal, Kind, Outcome, RequestClock, Urgency, reference,
};
use crate::service::Privacy;
use crate::store::retention::{self as holds, NewHold};
use crate::store::rights::{self as store, EventRow, RequestRow};

/// Longest free text accepted (details, notes, reasons).
pub const MAX_TEXT: usize = 10_000;

/// A request to record.
#[derive(Clone, Copy, Debug)]
pub struct NewRequest<'a> {
    /// What is asked for.
    pub kind: Kind,
    /// How it arrived.
    pub channel: Channel,
    /// The person's account, when they have one here (always, when filed online).
    pub account_id: Option<&'a str>,
    /// Who asked.
    pub requester_name: &'a str,
    /// Where to answer, when known.
    pub requester_email: Option<&'a str>,
    /// What they asked for.
    pub details: &'a str,
    /// The day it arrived (today, when filed online).
    pub received_on: NaiveDate,
    /// Whether the requester's identity is known (signed in, or checked when logged): the
    /// clock then starts on receipt; otherwise when proof arrives.
    pub identity_known: bool,
    /// Who records it (`account:…`).
    pub by: &'a str,
}

/// What a privacy officer does to a request.
#[derive(Clone, Copy, Debug)]
pub enum Action<'a> {
    /// Proof of identity arrived on this day: the clock starts.
    ConfirmIdentity(NaiveDate),
    /// Asked the requester to clarify: the clock stops today.
    Pause(&'a str),
    /// The clarification arrived on this day: the clock runs again.
    Resume(NaiveDate),
    /// Takes one or two further months, for this reason (the requester is told).
    Extend(u32, &'a str),
    /// Hands it to this privacy officer (account id), or to nobody.
    Assign(Option<&'a str>),
    /// Adds a note to the history.
    Note(&'a str),
    /// Closes it, with a note of what was done.
    Close(Outcome, &'a str),
}

/// A request with where it stands today.
#[derive(Clone, Debug)]
pub struct RequestSummary {
    /// The stored request.
    pub row: RequestRow,
    /// `RR-…`
    pub reference: String,
    /// How pressing it is today.
    pub urgency: Urgency,
}

pub(crate) fn refused(r: ClockRefusal) -> PrivacyError {
    PrivacyError::Refused {
        code: r.code(),
        message: r.message(),
    }
}

/// The problem of a free-text field that must be filled in, if any.
pub(crate) fn required(
    field: &'static str,
    value: &str,
    what: &str,
) -> Option<(&'static str, String)> {
    if value.trim().is_empty() {
        Some((field, format!("Enter {what}")))
    } else if value.chars().count() > MAX_TEXT {
        Some((
            field,
            format!("{what} must be {MAX_TEXT} characters or fewer"),
        ))
    } else {
        None
    }
}

pub(crate) fn looks_like_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None)
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                && !domain.ends_with('.') && !s.contains(char::is_whitespace)
    )
}

/// Emails the requester of `row` at `to`: `text` between the greeting and the reference.
pub(crate) async fn tell(
    tx: &TenantTx,
    now: chrono::DateTime<chrono::Utc>,
    cfg: &TenantConfig,
    row: &RequestRow,
    to: &str,
    subject: &str,
    text: &str,
) -> Result<(), PrivacyError> {
    let body = format!(
        "Dear {name},\n\n{text}\n\nYour reference is {reference}. Questions about it: {dpo}.\n",
        name = row.requester_name,
        reference = reference(&row.id),
        dpo = cfg.dpo.email.as_deref().unwrap_or(&cfg.dpo.name),
    );
    outbox::enqueue(
        tx,
        now,
        Email {
            to,
            subject,
            body: &body,
        },
    )
    .await?;
    Ok(())
}

impl Privacy {
    /// The UK day today, by the engine's clock.
    #[must_use]
    pub fn uk_today(&self) -> NaiveDate {
        calendar::uk_date(self.clock.now())
    }

    /// Records a new request: its clock, a hold on the person's account, its first history
    /// entry, an audit event, and an acknowledgement to the requester. Returns it.
    ///
    /// # Errors
    /// [`PrivacyError::Invalid`] with every problem when a field is wrong (nothing is
    /// stored); otherwise when the database fails.
    pub async fn file_request(
        &self,
        cfg: &TenantConfig,
        new: &NewRequest<'_>,
    ) -> Result<RequestRow, PrivacyError> {
        let now = self.clock.now();
        let today = calendar::uk_date(now);
        let mut problems: Vec<(&'static str, String)> = [
            required("requester_name", new.requester_name, "the requester's name"),
            required("details", new.details, "what the person asked for"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some(e) = new.requester_email
            && !looks_like_email(e.trim())
        {
            problems.push((
                "requester_email",
                "Enter an email address in the correct format, like name@example.com".to_owned(),
            ));
        }
        if new.received_on > today {
            problems.push((
                "received_on",
                "The date received must be today or in the past".to_owned(),
            ));
        } else if (today - new.received_on).num_days() > 366 {
            problems.push((
                "received_on",
                "The date received must be within the last year".to_owned(),
            ));
        }
        if !problems.is_empty() {
            return Err(PrivacyError::Invalid(problems));
        }
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        // A request logged with an address that is an account's is linked to that account.
        let account_id = match (new.account_id, new.requester_email) {
            (Some(a), _) => Some(a.to_owned()),
            (None, Some(e)) => self.accounts.find_by_email(&tx, e.trim()).await?,
            (None, None) => None,
        };
        let id = uuid::Uuid::now_v7().to_string();
        let reference = reference(&id);
        let clock = RequestClock::new(
            new.received_on,
            new.identity_known,
            cfg.subject_rights.respond_within,
        );
        let hold_id = match account_id.as_deref() {
            Some(account) => Some(
                holds::place_hold(
                    &tx,
                    now,
                    &NewHold {
                        account_id: account,
                        kind: HoldKind::SubjectRequest,
                        reason: &format!("Rights request {reference}"),
                        placed_by: new.by,
                        until: None,
                    },
                )
                .await?,
            ),
            None => None,
        };
        let mut row = RequestRow {
            id,
            kind: new.kind.as_str().to_owned(),
            channel: new.channel.as_str().to_owned(),
            account_id,
            requester_name: new.requester_name.trim().to_owned(),
            requester_email: new.requester_email.map(|e| e.trim().to_lowercase()),
            details: new.details.trim().to_owned(),
            received_on: new.received_on,
            started_on: None,
            paused_since: None,
            paused_days: 0,
            extension_months: 0,
            extension_reason: None,
            due_on: None,
            stage: String::new(),
            outcome: None,
            assignee: None,
            hold_id,
            created_by: new.by.to_owned(),
            created_at: now,
            updated_at: now,
            closed_at: None,
        };
        row.set_clock(&clock);
        store::insert(&tx, &row).await?;
        store::add_event(
            &tx,
            &row,
            now,
            new.by,
            "received",
            Some(new.channel.describe()),
        )
        .await?;
        self.audit(&tx, &row, new.by, "rights.request_received")
            .await?;
        if let Some(to) = &row.requester_email {
            let due = match clock.due() {
                Some(d) => format!(
                    "We will answer by {}. If we need more time, or need you to tell us more, \
                     we will let you know before then.",
                    long_date(d.day)
                ),
                None => "Before we can start, we need to be sure who you are: we will contact \
                         you about proof of identity. We have one month to answer from the day \
                         it arrives."
                    .to_owned(),
            };
            let text = format!(
                "{service} received your request on {received}: {what}.\n\n{due}",
                service = cfg.display_name,
                received = long_date(row.received_on),
                what = new.kind.describe().to_lowercase(),
            );
            let subject = format!("We have your request ({reference})");
            tell(&tx, now, cfg, &row, to, &subject, &text).await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    async fn audit(
        &self,
        tx: &TenantTx,
        row: &RequestRow,
        by: &str,
        action: &str,
    ) -> Result<(), PrivacyError> {
        audit::record(
            tx,
            self.clock.now(),
            AuditEntry {
                actor: by,
                action,
                subject: &row.id,
                detail: serde_json::json!({
                    "kind": row.kind,
                    "stage": row.stage,
                    "due_on": row.due_on,
                }),
            },
        )
        .await?;
        Ok(())
    }

    /// The tenant's requests with where each stands today: the open ones, or with `closed`
    /// every one; due first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn requests(
        &self,
        cfg: &TenantConfig,
        closed: bool,
    ) -> Result<Vec<RequestSummary>, PrivacyError> {
        self.summaries(cfg, None, closed).await
    }

    /// The requests a person filed or that were logged for their account.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn requests_of(
        &self,
        cfg: &TenantConfig,
        account: &str,
    ) -> Result<Vec<RequestSummary>, PrivacyError> {
        self.summaries(cfg, Some(account), true).await
    }

    async fn summaries(
        &self,
        cfg: &TenantConfig,
        account: Option<&str>,
        closed: bool,
    ) -> Result<Vec<RequestSummary>, PrivacyError> {
        let today = self.uk_today();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let rows = store::list(&tx, account, closed).await?;
        tx.rollback().await?;
        let mut out: Vec<RequestSummary> = rows
            .into_iter()
            .map(|row| RequestSummary {
                reference: reference(&row.id),
                urgency: row.clock(cfg.subject_rights.respond_within).urgency(today),
                row,
            })
            .collect();
        out.sort_by_key(|s| s.urgency);
        Ok(out)
    }

    /// One request and its history.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`] when the tenant has no such request.
    pub async fn request(
        &self,
        cfg: &TenantConfig,
        id: &str,
    ) -> Result<(RequestSummary, Vec<EventRow>), PrivacyError> {
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let row = store::find(&tx, id)
            .await?
            .ok_or(PrivacyError::NoSuchRequest)?;
        let events = store::events(&tx, id).await?;
        tx.rollback().await?;
        Ok((
            RequestSummary {
                reference: reference(&row.id),
                urgency: row
                    .clock(cfg.subject_rights.respond_within)
                    .urgency(self.uk_today()),
                row,
            },
            events,
        ))
    }

    /// The tenant's active privacy officers.
    ///
    /// # Errors
    /// When the account owner fails.
    pub async fn privacy_officers(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<Recipient>, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let officers = self.accounts.privacy_officers(&tx).await?;
        tx.rollback().await?;
        Ok(officers)
    }

    /// Applies `action` to request `id`, by `by`; recorded in its history and audited, the
    /// requester told where the action affects them. Returns the request as it now is.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`]; [`PrivacyError::Refused`] when the action does not
    /// apply as things stand; [`PrivacyError::Invalid`] for a missing note or reason or an
    /// assignee who is not a privacy officer. Nothing changes in any of these cases.
    pub async fn act(
        &self,
        cfg: &TenantConfig,
        id: &str,
        action: Action<'_>,
        by: &str,
    ) -> Result<RequestRow, PrivacyError> {
        let now = self.clock.now();
        let today = calendar::uk_date(now);
        let invalid = |p: Option<(&'static str, String)>| match p {
            Some(p) => Err(PrivacyError::Invalid(vec![p])),
            None => Ok(()),
        };
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let mut row = store::find(&tx, id)
            .await?
            .ok_or(PrivacyError::NoSuchRequest)?;
        let mut clock = row.clock(cfg.subject_rights.respond_within);
        let mut told: Option<(String, String)> = None;
        let (event, note): (&str, Option<String>) = match action {
            Action::ConfirmIdentity(on) => {
                clock.identity_confirmed(on, today).map_err(refused)?;
                (
                    "identity_confirmed",
                    Some(format!("Proof of identity received {}", long_date(on))),
                )
            }
            Action::Pause(note) => {
                invalid(required(
                    "note",
                    note,
                    "what you asked the requester to clarify",
                ))?;
                clock.pause(today).map_err(refused)?;
                told = Some((
                    format!("We need more information ({})", reference(&row.id)),
                    format!(
                        "We have asked you to tell us more about your request: {}\n\n\
                         The month we have to answer is stopped until you reply.",
                        note.trim()
                    ),
                ));
                ("paused", Some(note.trim().to_owned()))
            }
            Action::Resume(on) => {
                clock.resume(on, today).map_err(refused)?;
                (
                    "resumed",
                    Some(format!("Clarification received {}", long_date(on))),
                )
            }
            Action::Extend(months, reason) => {
                invalid(required("reason", reason, "why more time is needed"))?;
                clock.extend(months, today).map_err(refused)?;
                row.extension_reason = Some(reason.trim().to_owned());
                let due = clock.due().map(|d| long_date(d.day)).unwrap_or_default();
                told = Some((
                    format!("We need more time to answer ({})", reference(&row.id)),
                    format!(
                        "We need {months} more month{s} to answer your request, because: {reason}\n\n\
                         We will answer by {due}.",
                        s = if months == 1 { "" } else { "s" },
                        reason = reason.trim(),
                    ),
                ));
                (
                    "extended",
                    Some(format!("{months} month(s): {}", reason.trim())),
                )
            }
            Action::Assign(to) => {
                if clock.urgency(today) == Urgency::Closed {
                    return Err(refused(ClockRefusal::Closed));
                }
                if let Some(to) = to
                    && !self
                        .accounts
                        .privacy_officers(&tx)
                        .await?
                        .iter()
                        .any(|o| o.id == to)
                {
                    return Err(PrivacyError::Invalid(vec![(
                        "assignee",
                        "Choose one of the privacy officers".to_owned(),
                    )]));
                }
                row.assignee = to.map(str::to_owned);
                ("assigned", to.map(|t| format!("account:{t}")))
            }
            Action::Note(text) => {
                invalid(required("note", text, "a note"))?;
                ("note", Some(text.trim().to_owned()))
            }
            Action::Close(outcome, note) => {
                invalid(required("note", note, "what was done"))?;
                clock.close(outcome).map_err(refused)?;
                row.closed_at = Some(now);
                if let Some(hold) = row.hold_id.take() {
                    holds::release_hold(&tx, &hold, now).await?;
                }
                (outcome.as_str(), Some(note.trim().to_owned()))
            }
        };
        row.set_clock(&clock);
        self.record_step(tx, cfg, row, by, event, note.as_deref(), told)
            .await
    }

    /// Saves `row` after a step `event` by `by`: its history entry (with `note`), an audit
    /// event, and, with `told` (subject, text), an email to the requester; then commits.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record_step(
        &self,
        tx: TenantTx,
        cfg: &TenantConfig,
        mut row: RequestRow,
        by: &str,
        event: &str,
        note: Option<&str>,
        told: Option<(String, String)>,
    ) -> Result<RequestRow, PrivacyError> {
        let now = self.clock.now();
        row.updated_at = now;
        store::save(&tx, &row).await?;
        store::add_event(&tx, &row, now, by, event, note).await?;
        self.audit(&tx, &row, by, &format!("rights.{event}"))
            .await?;
        if let (Some((subject, text)), Some(to)) = (told, &row.requester_email) {
            tell(&tx, now, cfg, &row, to, &subject, &text).await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    /// Emails the tenant's privacy officers (or, with none, the DPO's published address)
    /// the open requests that are overdue or fall due within the week. Returns how many
    /// emails were queued (none when nothing falls due).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn send_due_list(
        &self,
        cfg: &TenantConfig,
        base_url: &str,
    ) -> Result<usize, PrivacyError> {
        let now = self.clock.now();
        let today = calendar::uk_date(now);
        let due: Vec<RequestSummary> = self
            .requests(cfg, false)
            .await?
            .into_iter()
            .filter(|s| matches!(s.urgency, Urgency::Overdue | Urgency::DueSoon))
            .collect();
        if due.is_empty() {
            return Ok(0);
        }
        let lines: Vec<String> = due
            .iter()
            .map(|s| {
                format!(
                    "- {reference} ({what}), {when}: {base_url}/manage/requests/{id}",
                    reference = s.reference,
                    what = Kind::parse(&s.row.kind).map_or("request", Kind::as_str),
                    when = match (s.urgency, s.row.due_on) {
                        (Urgency::Overdue, Some(d)) => format!("overdue since {}", long_date(d)),
                        (_, Some(d)) => format!("due {}", long_date(d)),
                        _ => String::new(),
                    },
                    id = s.row.id,
                )
            })
            .collect();
        let subject = format!("{} rights request(s) due this week", due.len());
        let body = format!(
            "Rights requests of {service} that are overdue or due within the week, as of {today}:\n\n{list}\n\n\
             The whole queue: {base_url}/manage/requests\n",
            service = cfg.display_name,
            today = long_date(today),
            list = lines.join("\n"),
        );
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let sent = self.tell_officers(&tx, cfg, &subject, &body).await?;
        tx.commit().await?;
        Ok(sent)
    }
}
