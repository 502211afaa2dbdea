//! Changing and correcting an account's details.
//!
//! - A person changes their own email address: the new address takes over only once the
//!   link sent there is used (a `change_email` token carrying the address); the old address
//!   is told at both steps. An address another account uses is never revealed to the
//!   person asking: its owner is emailed instead, and nothing changes.
//! - A lead administrator (or a tenant administrator) corrects a confirmed member's name,
//!   job title and email; a privacy officer does the same for a rectification request,
//!   through the privacy engine ([`privacy_engine::Accounts::correct`]). Names and job title
//!   change at once. A new email address changes only when the person approves it through a
//!   link sent to their *current* address: whoever asks for the change may control the new
//!   address, so its confirmation cannot be theirs to give. The person is told what changed,
//!   and every change is audited (field names only).
//! - Each new link replaces any earlier one; once the address changes, every unused
//!   email-change and password-reset link of the account stops working.

use chrono::{DateTime, Utc};
use privacy_engine::accounts::Correction;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, SqlErr};
use storage::TenantTx;
use storage::outbox::{self, Email};
use tenant_router::TenantConfig;

use crate::domain::signup::{FieldError, is_email};
use crate::service::actor as actor_id;
use crate::store::entity::{account, organisation};
use crate::store::{self, Purpose, organisations as orgs};
use crate::{Identity, IdentityError, SignedIn};

fn problem(field: &'static str, message: &str) -> FieldError {
    FieldError {
        field,
        message: message.to_owned(),
    }
}

async fn send(
    tx: &TenantTx,
    now: DateTime<Utc>,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), IdentityError> {
    outbox::enqueue(tx, now, Email { to, subject, body }).await?;
    Ok(())
}

/// Who must approve a new address: the person at the new one (a change they asked for), or
/// at their current one (a change someone else asked for).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Approver {
    NewAddress,
    CurrentAddress,
}

/// Sends the link that approves `new` as `account`'s address, in `tx`, replacing any
/// earlier link.
async fn send_confirmation(
    tx: &TenantTx,
    now: DateTime<Utc>,
    tenant: &TenantConfig,
    account: &account::Model,
    new: &str,
    (approver, base_url): (Approver, &str),
) -> Result<(), IdentityError> {
    store::revoke_tokens(tx, &account.id, &[Purpose::ChangeEmail], now).await?;
    let token = store::issue_email_change_token(tx, &account.id, new, now).await?;
    let link = format!("{base_url}/account/email/confirm/{token}");
    let (to, body) = match approver {
        Approver::NewAddress => (
            new,
            format!(
                "Dear {name},\n\nTo use this address for your account on {service}, open this \
                 link within 48 hours:\n{link}\n\nUntil then your account keeps its current \
                 address. If you did not expect this, ignore this email.\n",
                name = account.first_name,
                service = tenant.display_name,
            ),
        ),
        Approver::CurrentAddress => (
            account.email.as_str(),
            format!(
                "Dear {name},\n\nWe were asked to change the email address of your account on \
                 {service} to {new}. If that is right, approve it within 48 hours:\n{link}\n\n\
                 If it is not, ignore this email: nothing changes.\n",
                name = account.first_name,
                service = tenant.display_name,
            ),
        ),
    };
    send(tx, now, to, "Confirm your new email address", &body).await
}

fn contact(tenant: &TenantConfig) -> &str {
    tenant.dpo.email.as_deref().unwrap_or(&tenant.dpo.name)
}

/// Corrects `account` to `c` in `tx` (see the module's description); returns the fields
/// changed. `by` is the actor, for the audit log.
pub(crate) async fn correct(
    tx: &TenantTx,
    now: DateTime<Utc>,
    tenant: &TenantConfig,
    account: &account::Model,
    c: &Correction<'_>,
    by: &str,
    base_url: &str,
) -> Result<Vec<&'static str>, IdentityError> {
    let mut errors = Vec::new();
    for (field, value, label) in [
        ("first_name", c.first_name, "first name"),
        ("last_name", c.last_name, "last name"),
    ] {
        let v = value.trim();
        if v.is_empty() || v.chars().count() > 100 {
            errors.push(problem(
                field,
                &format!("Enter the {label} (100 characters or fewer)"),
            ));
        }
    }
    if c.job_title.trim().chars().count() > 100 {
        errors.push(problem(
            "job_title",
            "The job title must be 100 characters or fewer",
        ));
    }
    let email = c.email.trim().to_lowercase();
    if !is_email(&email) {
        errors.push(problem(
            "email",
            "Enter an email address in the correct format, like name@school.org.uk",
        ));
    }
    if !errors.is_empty() {
        return Err(IdentityError::Invalid(errors));
    }
    let job_title = Some(c.job_title.trim().to_owned()).filter(|j| !j.is_empty());
    let mut changed = Vec::new();
    if c.first_name.trim() != account.first_name {
        changed.push("first name");
    }
    if c.last_name.trim() != account.last_name {
        changed.push("last name");
    }
    if job_title != account.job_title {
        changed.push("job title");
    }
    // Whether another account uses the address is not said here (it would tell whoever
    // corrects which addresses have accounts): the change fails when approved, if so.
    let new_email = email != account.email;
    if new_email {
        changed.push("email address");
    }
    if changed.is_empty() {
        return Err(IdentityError::Invalid(vec![problem(
            "first_name",
            "Nothing has changed: correct at least one detail",
        )]));
    }
    account::Entity::update_many()
        .filter(account::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account::Column::Id.eq(account.id.as_str()))
        .col_expr(account::Column::FirstName, Expr::value(c.first_name.trim()))
        .col_expr(account::Column::LastName, Expr::value(c.last_name.trim()))
        .col_expr(account::Column::JobTitle, Expr::value(job_title))
        .exec(&**tx)
        .await?;
    let body = format!(
        "Dear {name},\n\nYour details on {service} have been corrected: {fields}.{pending}\n\n\
         If something is wrong, contact {contact}.\n",
        name = c.first_name.trim(),
        service = tenant.display_name,
        fields = changed.join(", "),
        pending = if new_email {
            "\n\nThe new email address takes over only once you approve it through the link \
             we have sent you in a separate email; until then we write to you here."
        } else {
            ""
        },
        contact = contact(tenant),
    );
    send(
        tx,
        now,
        &account.email,
        "Your details have been corrected",
        &body,
    )
    .await?;
    // The approval last, so it is the newest email the person has.
    if new_email {
        let approval = (Approver::CurrentAddress, base_url);
        send_confirmation(tx, now, tenant, account, &email, approval).await?;
    }
    audit(tx, now, by, "account.corrected", &account.id, &changed).await?;
    Ok(changed)
}

async fn audit(
    tx: &TenantTx,
    now: DateTime<Utc>,
    by: &str,
    action: &str,
    subject: &str,
    fields: &[&str],
) -> Result<(), IdentityError> {
    storage::audit::record(
        tx,
        now,
        storage::audit::AuditEntry {
            actor: by,
            action,
            subject,
            detail: serde_json::json!({ "fields": fields }),
        },
    )
    .await?;
    Ok(())
}

impl Identity {
    /// Checks the signed-in person's password before a change that needs it (accounts
    /// without a password, signed in through their organisation, pass). Wrong passwords
    /// count with failed sign-ins (`client` is the client's address).
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] naming `password` when it is wrong;
    /// [`IdentityError::Throttled`] after too many wrong ones.
    pub async fn confirm_password(
        &self,
        tenant: &TenantConfig,
        who: &SignedIn,
        password: &str,
        client: &str,
    ) -> Result<(), IdentityError> {
        let a = &who.account;
        if a.password_hash.is_none() {
            return Ok(());
        }
        self.sessions
            .check_account_throttle(&tenant.slug, "account", &a.email, client)
            .await?;
        if self
            .hasher
            .verify(password, a.password_hash.as_deref())
            .await?
        {
            return Ok(());
        }
        self.sessions
            .record_failure(&tenant.slug, &a.email, client)
            .await?;
        Err(IdentityError::Invalid(vec![problem(
            "password",
            "Your password is not right",
        )]))
    }

    /// Starts a change of the signed-in person's own address to `new`, after checking their
    /// password (when the account has one; `client` is the client's address, for
    /// throttling). The link goes to the new address and the old one is told. When another
    /// account uses the new address, its owner is told instead and nothing changes; the
    /// caller cannot tell the difference.
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] for a malformed or unchanged address or a wrong password;
    /// [`IdentityError::Throttled`] after too many wrong passwords. Nothing changes.
    pub async fn start_email_change(
        &self,
        tenant: &TenantConfig,
        who: &SignedIn,
        new: &str,
        password: &str,
        client: &str,
        base_url: &str,
    ) -> Result<(), IdentityError> {
        let a = &who.account;
        let new = new.trim().to_lowercase();
        if !is_email(&new) {
            return Err(IdentityError::Invalid(vec![problem(
                "email",
                "Enter an email address in the correct format, like name@school.org.uk",
            )]));
        }
        if new == a.email {
            return Err(IdentityError::Invalid(vec![problem(
                "email",
                "This is already your email address",
            )]));
        }
        self.confirm_password(tenant, who, password, client).await?;
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        if store::find_by_email(&tx, &new).await?.is_some() {
            let body = format!(
                "Someone asked to use this address for another account on {service}. This \
                 address already has an account, so nothing was changed. If it was you, sign \
                 in with this address instead.\n",
                service = tenant.display_name,
            );
            send(&tx, now, &new, "Your address was not changed", &body).await?;
            self.audit_own(&tx, &a.id, "account.email_change_to_taken_address")
                .await?;
        } else {
            let approval = (Approver::NewAddress, base_url);
            send_confirmation(&tx, now, tenant, a, &new, approval).await?;
            let body = format!(
                "Dear {name},\n\nYou asked to use a new email address for your account on \
                 {service}. It changes once the link we sent to the new address is used. If \
                 this was not you, change your password and contact {contact}.\n",
                name = a.first_name,
                service = tenant.display_name,
                contact = contact(tenant),
            );
            send(&tx, now, &a.email, "A change of your email address", &body).await?;
            self.audit_own(&tx, &a.id, "account.email_change_requested")
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Uses a confirmation link: the account takes the new address (confirmed), and the old
    /// address is told.
    ///
    /// # Errors
    /// [`IdentityError::BadToken`] for a link unknown, used or expired;
    /// [`IdentityError::EmailTaken`] when another account took the address meanwhile.
    /// Nothing changes.
    pub async fn confirm_email_change(
        &self,
        tenant: &TenantConfig,
        token: &str,
    ) -> Result<(), IdentityError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let row = store::use_token(&tx, token, Purpose::ChangeEmail, now).await?;
        let new = row.new_email.ok_or(IdentityError::BadToken)?;
        let account = store::find_by_id(&tx, &row.account_id)
            .await?
            .ok_or(IdentityError::BadToken)?;
        account::Entity::update_many()
            .filter(account::Column::TenantId.eq(tx.tenant().as_str()))
            .filter(account::Column::Id.eq(account.id.as_str()))
            .col_expr(account::Column::Email, Expr::value(new.as_str()))
            .col_expr(account::Column::EmailVerifiedAt, Expr::value(now))
            .exec(&*tx)
            .await
            .map_err(|e| match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => IdentityError::EmailTaken,
                _ => e.into(),
            })?;
        // Management alerts waiting for their summary follow the person to the new address.
        storage::alerts::readdress(&tx, &account.email, &new).await?;
        // Links sent to the old address (a password reset, another change) stop working.
        store::revoke_tokens(
            &tx,
            &account.id,
            &[Purpose::ChangeEmail, Purpose::ResetPassword],
            now,
        )
        .await?;
        let body = format!(
            "Dear {name},\n\nThe email address of your account on {service} is now {new}. We \
             will not write to this address again. If this was not you, contact {contact}.\n",
            name = account.first_name,
            service = tenant.display_name,
            contact = contact(tenant),
        );
        send(
            &tx,
            now,
            &account.email,
            "Your email address has changed",
            &body,
        )
        .await?;
        self.audit_own(&tx, &account.id, "account.email_changed")
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A member of an organisation the actor may manage, with the organisation, for the
    /// correction form.
    ///
    /// # Errors
    /// [`IdentityError::OrganisationNotFound`] when the actor may not manage it;
    /// [`IdentityError::AccountNotFound`] when the person is not a current member.
    pub async fn member(
        &self,
        tenant: &TenantConfig,
        actor: &SignedIn,
        org_id: &str,
        account_id: &str,
    ) -> Result<(organisation::Model, account::Model), IdentityError> {
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let found = self.managed_member(&tx, actor, org_id, account_id).await?;
        tx.rollback().await?;
        Ok(found)
    }

    async fn managed_member(
        &self,
        tx: &TenantTx,
        actor: &SignedIn,
        org_id: &str,
        account_id: &str,
    ) -> Result<(organisation::Model, account::Model), IdentityError> {
        let org = self.managed_org(tx, actor, org_id).await?;
        orgs::membership(tx, &org.id, account_id)
            .await?
            .filter(|m| m.status == crate::domain::rights::membership_status::VERIFIED)
            .ok_or(IdentityError::AccountNotFound)?;
        let account = store::find_by_id(tx, account_id)
            .await?
            .ok_or(IdentityError::AccountNotFound)?;
        Ok((org, account))
    }

    /// A lead administrator's (or tenant administrator's) correction of a member's details.
    /// Returns the fields changed.
    ///
    /// # Errors
    /// As [`Identity::member`]; [`IdentityError::Invalid`] with every problem. Nothing is
    /// saved on any of them.
    pub async fn correct_member(
        &self,
        tenant: &TenantConfig,
        actor: &SignedIn,
        org_id: &str,
        account_id: &str,
        c: &Correction<'_>,
        base_url: &str,
    ) -> Result<Vec<&'static str>, IdentityError> {
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let (_, account) = self.managed_member(&tx, actor, org_id, account_id).await?;
        let by = actor_id(&actor.account.id);
        let changed = correct(&tx, self.clock.now(), tenant, &account, c, &by, base_url).await?;
        tx.commit().await?;
        Ok(changed)
    }
}
