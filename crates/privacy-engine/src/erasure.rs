//! Erasure on request: an open erasure request linked to an account is carried out by the
//! privacy officer. It is refused while a hold other than the request's own stands (a legal
//! claim, an unpaid invoice) and deferred while the person has places booked on sessions
//! still to come; otherwise it runs the retention sweep's own erasure
//! ([`Privacy::erase_people`]): files and copies, every declared table (what a rule obliges
//! the council to keep is kept, the person pseudonymised), unsent mail that names them, and
//! the account. The requests they made stay as the record that their rights were met,
//! naming them only by the name and address the reply goes to. The request is closed, a
//! disposal record written, and the requester told what was erased and what was kept, why.

use storage::TenantTx;
use storage::audit::{self, AuditEntry};
use tenant_router::TenantConfig;

use crate::PrivacyError;
use crate::domain::retention::HoldKind;
use crate::domain::rights::{Kind, Outcome, reference};
use crate::service::Privacy;
use crate::store::retention::{self as retention_store, Disposal};
use crate::store::rights as store;

/// What erasure on request did.
#[derive(Clone, Debug)]
pub struct Erased {
    /// What was kept and why, as the disposal record says (`table`, `category`, `rows`,
    /// `why` each).
    pub kept: serde_json::Value,
    /// Unsent emails that named the person and were deleted.
    pub mail_removed: u64,
}

/// What erasure kept, a line each: how many records of which category, and why.
fn kept_lines(kept: &serde_json::Value) -> Vec<String> {
    kept.as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            format!(
                "- {} record(s) of {}: {}",
                k["rows"],
                k["category"].as_str().unwrap_or_default(),
                k["why"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// What the email after an erasure says was kept: nothing, or the lines and why.
fn kept_text(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!(
            "\n\nThe law or our published retention rules oblige us to keep some records, \
             which no longer name you:\n{}",
            lines.join("\n")
        )
    }
}

impl Privacy {
    /// Closes account `account` at its holder's asking: the same erasure as on request,
    /// refused while any hold (an open rights request too) or a place on a session still to
    /// come stands. A disposal record is written, the closing audited, and the person told
    /// at their address what was kept and why. Returns what was kept.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchAccount`]; [`PrivacyError::Deferred`] with the reasons when
    /// something stands in the way. Nothing changes in either case.
    pub async fn close_own_account(
        &self,
        cfg: &TenantConfig,
        account: &str,
    ) -> Result<serde_json::Value, PrivacyError> {
        let now = self.clock.now();
        let tx = self.db.system_tx(&cfg.slug).await?;
        let email = self
            .accounts
            .email_of(&tx, account)
            .await?
            .ok_or(PrivacyError::NoSuchAccount)?;
        let run = uuid::Uuid::now_v7().to_string();
        let (kept, mail_removed) = self
            .erase_account(
                &tx,
                cfg,
                (account, &email),
                &[],
                (&run, "Closed by the account holder"),
            )
            .await?;
        let by = format!("account:{account}");
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: &by,
                action: "account.closed_by_holder",
                subject: account,
                detail: serde_json::json!({ "kept": kept, "mail_removed": mail_removed }),
            },
        )
        .await?;
        let body = format!(
            "Your account on the {service} portal is closed, and the data held with it has been \
             deleted.{kept}\n\nIf you are unhappy with how we handled your data, you can \
             complain: {complaints}\n",
            service = cfg.display_name,
            kept = kept_text(&kept_lines(&kept)),
            complaints = crate::domain::notice::compile(cfg).complaints.join("; "),
        );
        storage::outbox::enqueue(
            &tx,
            now,
            storage::outbox::Email {
                to: &email,
                subject: "Your account is closed",
                body: &body,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(kept)
    }

    /// Erases `people` (id and email pairs): their files and copies of their data (with
    /// `files`; a plan leaves them), every declared table's rows (those a rule keeps,
    /// pseudonymised; their requests and complaints detached and kept as records), then the
    /// account rows. The one path of both the sweep and erasure on
    /// request. Returns, per account id, what was kept.
    ///
    /// # Errors
    /// When a statement or the object store fails; the caller's transaction then keeps
    /// every row.
    pub(crate) async fn erase_people(
        &self,
        tx: &TenantTx,
        people: &[(String, String)],
        files: bool,
    ) -> Result<std::collections::HashMap<String, Vec<retention_store::Kept>>, PrivacyError> {
        let ids: Vec<String> = people.iter().map(|(id, _)| id.clone()).collect();
        if files {
            // Before the rows go (which name them): should the transaction then fail, a
            // certificate still on record is made again when it is downloaded.
            for key in self.records.files_of(tx, &ids).await? {
                self.objects.delete(tx.tenant(), &key).await?;
            }
            self.delete_copies_of(tx, &ids).await?;
        }
        // Management alerts about them still waiting (a lead's copy, an approval request)
        // name them, whoever they were going to.
        storage::alerts::forget_about(tx, &ids).await?;
        // Their requests and complaints stay, detached, as the record of how they were met.
        store::detach_accounts(tx, &ids).await?;
        let kept = crate::store::erase::erase_subjects(tx, people, &self.tables).await?;
        self.accounts.delete(tx, &ids).await?;
        Ok(kept)
    }

    /// Erases one account (`id`, `email`) now, unless a hold (other than of a kind in
    /// `allowed`) or an open commitment stands: files and copies, the requests' link to it,
    /// unsent mail naming it, every declared table (kept rows pseudonymised) and the
    /// account; then a disposal record under `(run_id, rule)`. Returns what was kept (as the
    /// disposal record says) and how many unsent emails were removed.
    ///
    /// # Errors
    /// [`PrivacyError::Deferred`] with the reasons when something stands in the way
    /// (nothing changes); otherwise when a statement or the object store fails.
    pub(crate) async fn erase_account(
        &self,
        tx: &TenantTx,
        cfg: &TenantConfig,
        (account, email): (&str, &str),
        allowed: &[HoldKind],
        (run_id, rule): (&str, &str),
    ) -> Result<(serde_json::Value, u64), PrivacyError> {
        let now = self.clock.now();
        let mut reasons: Vec<String> =
            retention_store::holds_in_force(tx, &[account.to_owned()], now)
                .await?
                .remove(account)
                .unwrap_or_default()
                .into_iter()
                .filter(|k| !allowed.contains(k))
                .map(|k| format!("A hold stands on the account: {}", k.describe()))
                .collect();
        reasons.extend(self.records.open_commitments(tx, account, now).await?);
        if !reasons.is_empty() {
            return Err(PrivacyError::Deferred {
                code: "erasure_deferred",
                reason: format!("The account cannot be erased yet. {}.", reasons.join(". ")),
            });
        }
        let people = [(account.to_owned(), email.to_owned())];
        self.delete_copies_of(tx, &[account.to_owned()]).await?;
        let mail_removed = store::delete_unsent_mail_naming(tx, email).await?;
        let mut kept = self.erase_people(tx, &people, true).await?;
        let kept = crate::sweep::remaining(cfg, &kept.remove(account).unwrap_or_default());
        crate::store::erase::record_disposals(
            tx,
            now,
            &[Disposal {
                run_id,
                rule_index: 0,
                rule,
                action: "delete",
                record_kind: "account",
                account_ref: Some(account),
                records: 1,
                remaining: kept.clone(),
            }],
        )
        .await?;
        Ok((kept, mail_removed))
    }

    /// Carries out erasure request `request_id` (see the module's description).
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`]; [`PrivacyError::Refused`] when it is not an open
    /// erasure request with a linked account; [`PrivacyError::Deferred`] with the reasons
    /// when a hold or a booking stands in the way. Nothing changes in any of these cases.
    pub async fn erase_on_request(
        &self,
        cfg: &TenantConfig,
        request_id: &str,
        by: &str,
    ) -> Result<Erased, PrivacyError> {
        let now = self.clock.now();
        // A system transaction, as the sweep's: erasure deletes from tables the request
        // path may only append to (the consent ledger).
        let tx = self.db.system_tx(&cfg.slug).await?;
        let mut row = store::find(&tx, request_id)
            .await?
            .ok_or(PrivacyError::NoSuchRequest)?;
        let refuse = |code, message| Err(PrivacyError::Refused { code, message });
        if Kind::parse(&row.kind) != Some(Kind::Erasure) {
            return refuse(
                "not_an_erasure_request",
                "Only an erasure request can erase an account.",
            );
        }
        if row.stage != "open" {
            return refuse(
                "request_not_open",
                "Erase while the request is open and the requester's identity is confirmed.",
            );
        }
        let Some(account) = row.account_id.clone() else {
            return refuse(
                "no_account",
                "The requester has no account here, so there is nothing on the portal to erase.",
            );
        };
        let Some(email) = self.accounts.email_of(&tx, &account).await? else {
            return refuse("no_account", "The requester's account no longer exists.");
        };
        let (kept, mail_removed) = self
            .erase_account(
                &tx,
                cfg,
                (&account, &email),
                &[HoldKind::SubjectRequest],
                (
                    &row.id,
                    &format!("Erasure on request {}", reference(&row.id)),
                ),
            )
            .await?;
        // The request stays, closed, as the record; its hold went with the account.
        let mut clock = row.clock(cfg.subject_rights.respond_within);
        clock
            .close(Outcome::Completed)
            .map_err(|r| PrivacyError::Refused {
                code: r.code(),
                message: r.message(),
            })?;
        row.set_clock(&clock);
        row.account_id = None;
        row.hold_id = None;
        row.closed_at = Some(now);
        row.updated_at = now;
        store::save(&tx, &row).await?;
        let kept_lines = kept_lines(&kept);
        let note = if kept_lines.is_empty() {
            "Account erased; nothing kept.".to_owned()
        } else {
            format!("Account erased. Kept:\n{}", kept_lines.join("\n"))
        };
        store::add_event(&tx, &row, now, by, "erased", Some(&note)).await?;
        audit::record(
            &tx,
            now,
            AuditEntry {
                actor: by,
                action: "rights.erased",
                subject: &row.id,
                detail: serde_json::json!({ "kept": kept, "mail_removed": mail_removed }),
            },
        )
        .await?;
        if let Some(to) = row.requester_email.clone() {
            let compiled = crate::domain::notice::compile(cfg);
            let text = format!(
                "We have erased your account and the data held with it on the {service} portal.{kept}\n\n\
                 If you are unhappy with how we handled your request, you can complain: {complaints}",
                service = cfg.display_name,
                kept = kept_text(&kept_lines),
                complaints = compiled.complaints.join("; "),
            );
            let subject = format!("Your data has been erased ({})", reference(&row.id));
            crate::rights::tell(&tx, now, cfg, &row, &to, &subject, &text).await?;
        }
        tx.commit().await?;
        Ok(Erased { kept, mail_removed })
    }
}
