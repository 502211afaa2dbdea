//! Sending the email outbox by SMTP (lettre), when `smtp.url` is set.
//!
//! Mail is queued in the same transaction as the work that causes it (`storage::outbox`), so
//! it survives restarts; this sender drains it. A message is claimed for two minutes before
//! it is sent, so two replicas never send it at once; success marks it sent, failure counts
//! the attempt and retries later (1, 2, 4… minutes, up to an hour, at most
//! [`outbox::MAX_ATTEMPTS`] times). The one gap SMTP leaves, a crash after the server took a
//! message but before it was marked sent, is closed on the receiving side: the
//! `Message-ID` is the outbox id, so a resend is recognisably the same message.

use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use lettre::message::{
    Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart,
    header::{ContentType, HeaderName, HeaderValue},
};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use storage::entity::outbox_email;
use storage::outbox;
use storage::{Clock, Db};
use tenant_router::TenantId;

use crate::settings::SmtpSettings;

/// Messages claimed per look.
const BATCH: u64 = 20;

/// An SMTP sender.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::Address,
    /// How often the outbox is looked at.
    pub poll: Duration,
}

/// What one drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Handed to the mail server.
    pub sent: usize,
    /// Refused or failed; tried again later.
    pub failed: usize,
}

impl Mailer {
    /// The sender the settings describe, or `None` when no SMTP URL is set.
    ///
    /// # Errors
    /// When the URL or the sender address does not parse.
    pub fn from_settings(s: &SmtpSettings) -> anyhow::Result<Option<Self>> {
        let Some(url) = s.url.as_ref().filter(|u| !u.expose_secret().is_empty()) else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .context("smtp.url is not a usable SMTP URL")?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = s
            .from
            .parse()
            .with_context(|| format!("smtp.from `{}` is not an email address", s.from))?;
        Ok(Some(Self {
            transport,
            from,
            poll: Duration::from_secs(s.poll_secs.max(1)),
        }))
    }

    /// Sends what is waiting in one tenant's outbox, as `display_name`.
    ///
    /// # Errors
    /// When the database fails (a mail server's refusal is recorded, not returned).
    pub async fn drain(
        &self,
        db: &Db,
        clock: &Clock,
        tenant: &TenantId,
        display_name: &str,
    ) -> anyhow::Result<Drained> {
        let mut done = Drained::default();
        loop {
            let now = clock.now();
            let tx = db.tenant_tx(tenant).await?;
            let claimed =
                outbox::claim(&tx, now, now + chrono::Duration::minutes(2), BATCH).await?;
            tx.commit().await?;
            if claimed.is_empty() {
                return Ok(done);
            }
            for m in claimed {
                let result = match self.message(&m, tenant, display_name) {
                    Ok(msg) => self
                        .transport
                        .send(msg)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                let tx = db.tenant_tx(tenant).await?;
                match result {
                    Ok(()) => {
                        outbox::mark_sent(&tx, &m.id, clock.now()).await?;
                        done.sent += 1;
                    }
                    Err(error) => {
                        tracing::warn!(tenant = %tenant, message = %m.id, %error, "email not sent; will retry");
                        outbox::mark_failed(&tx, &m.id, &error, retry_at(clock.now(), m.attempts))
                            .await?;
                        done.failed += 1;
                    }
                }
                tx.commit().await?;
            }
        }
    }

    fn message(
        &self,
        m: &outbox_email::Model,
        tenant: &TenantId,
        display_name: &str,
    ) -> Result<Message, String> {
        let to: Mailbox = m
            .to_address
            .parse()
            .map_err(|e| format!("the address cannot be used: {e}"))?;
        let mut builder = Message::builder()
            .from(Mailbox::new(
                Some(display_name.to_owned()),
                self.from.clone(),
            ))
            .to(to)
            .subject(&m.subject)
            .message_id(Some(format!("<{}@{}.portal>", m.id, tenant)));
        // Newsletters and marketing: one-click unsubscribe that mail programs offer
        // (RFC 8058); the address answers a POST without a form token.
        if let Some(url) = &m.unsubscribe_url {
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let sent = match (&m.attachment_name, &m.attachment_type, &m.attachment_text) {
            (Some(name), Some(kind), Some(text)) => {
                let kind = ContentType::parse(kind).map_err(|e| e.to_string())?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(SinglePart::plain(m.body_text.clone()))
                        .singlepart(LettreAttachment::new(name.clone()).body(text.clone(), kind)),
                )
            }
            _ => builder
                .header(ContentType::TEXT_PLAIN)
                .body(m.body_text.clone()),
        };
        sent.map_err(|e| e.to_string())
    }
}

/// When to try again after `attempts` failures: 1, 2, 4… minutes, at most an hour.
fn retry_at(now: DateTime<Utc>, attempts: i32) -> DateTime<Utc> {
    let minutes = 1_i64 << attempts.clamp(0, 6);
    now + chrono::Duration::minutes(minutes.min(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        let now = Utc::now();
        assert_eq!(retry_at(now, 0) - now, chrono::Duration::minutes(1));
        assert_eq!(retry_at(now, 3) - now, chrono::Duration::minutes(8));
        assert_eq!(retry_at(now, 30) - now, chrono::Duration::minutes(60));
    }
}
