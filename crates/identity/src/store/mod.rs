//! Tenant-scoped persistence for accounts and their email tokens.
//!
//! Every query filters on the transaction's tenant as well as relying on row-level security
//! (PostgreSQL), so SQLite gets the same isolation. [`PERSONAL_DATA`] lists every column
//! here that holds personal data; [`OTHER_COLUMNS`] the rest. A test fails when a column is
//! in neither list.

mod checkout_party;
mod declarations;
pub mod entity;
pub mod induction;
pub mod organisations;
pub mod second_factor;
pub mod secrets;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder as _, QueryTrait, Set,
    SqlErr,
};
use storage::TenantTx;
use tenant_router::TenantId;

pub use declarations::{OTHER_COLUMNS, PERSONAL_DATA, SUBJECT_TABLES};

use crate::IdentityError;
use crate::domain::signup::NewAccount;
use crate::domain::token;
use entity::{account, account_token};

/// Account status values. Identity owns them: the privacy engine's retention sweep asks
/// identity to switch accounts off (`crate::privacy`) and never writes a status itself.
pub mod status {
    /// May sign in.
    pub const ACTIVE: &str = "active";
    /// Switched off after inactivity: signing in with the right password reopens it.
    pub const DORMANT: &str = "dormant";
    /// Switched off (a leaver, or an administrator's decision): stays off.
    pub const DEACTIVATED: &str = "deactivated";
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Proves the person receives mail at the account's address.
    VerifyEmail,
    /// Lets the person choose a new password.
    ResetPassword,
    /// Lets a person whose account someone else created choose their first password.
    Invitation,
    /// Confirms a new email address (the token carries it).
    ChangeEmail,
}

impl Purpose {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::Invitation => "invitation",
            Self::ChangeEmail => "change_email",
        }
    }

    /// How long a token of this kind works.
    #[must_use]
    pub fn lifetime(self) -> Duration {
        match self {
            Self::VerifyEmail => Duration::hours(48),
            Self::ResetPassword => Duration::hours(1),
            Self::Invitation => Duration::days(14),
            Self::ChangeEmail => Duration::hours(48),
        }
    }
}

/// Creates an account; the email must be free in the tenant.
///
/// # Errors
/// [`IdentityError::EmailTaken`] when it is not (decided by the unique index, so two
/// simultaneous sign-ups cannot both win).
pub async fn insert_account(
    tx: &TenantTx,
    new: &NewAccount,
    password_hash: Option<String>,
    now: DateTime<Utc>,
    created_by: Option<String>,
) -> Result<account::Model, IdentityError> {
    let model = account::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        id: Set(uuid::Uuid::new_v4().to_string()),
        email: Set(new.email.clone()),
        email_verified_at: Set(None),
        password_hash: Set(password_hash),
        first_name: Set(new.first_name.clone()),
        last_name: Set(new.last_name.clone()),
        job_title: Set(new.job_title.clone()),
        job_category: Set(new.job_category.clone()),
        telephone: Set(new.telephone.clone()),
        business_address: Set(new.business_address.clone()),
        organisation_name: Set(new.organisation_name.clone()),
        organisation_telephone: Set(new.organisation_telephone.clone()),
        is_childminder: Set(new.is_childminder),
        personal_telephone: Set(new.personal_telephone.clone()),
        home_address: Set(new.home_address.clone()),
        status: Set(status::ACTIVE.to_owned()),
        created_at: Set(now),
        created_by: Set(created_by),
        last_activity_at: Set(now),
        alert_frequency: Set("daily".to_owned()),
    };
    model.insert(&**tx).await.map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => IdentityError::EmailTaken,
        _ => e.into(),
    })
}

fn scoped(tx: &TenantTx) -> sea_orm::Select<account::Entity> {
    account::Entity::find().filter(account::Column::TenantId.eq(tx.tenant().as_str()))
}

/// The account with this (lower-cased) email in the tenant.
///
/// # Errors
/// When the query fails.
pub async fn find_by_email(
    tx: &TenantTx,
    email: &str,
) -> Result<Option<account::Model>, IdentityError> {
    Ok(scoped(tx)
        .filter(account::Column::Email.eq(email.trim().to_lowercase()))
        .one(&**tx)
        .await?)
}

/// Every active account of the tenant whose email address is confirmed, oldest first.
///
/// # Errors
/// When the query fails.
pub async fn active(tx: &TenantTx) -> Result<Vec<account::Model>, IdentityError> {
    Ok(scoped(tx)
        .filter(account::Column::Status.eq(status::ACTIVE))
        .filter(account::Column::EmailVerifiedAt.is_not_null())
        .order_by_asc(account::Column::CreatedAt)
        .order_by_asc(account::Column::Id)
        .all(&**tx)
        .await?)
}

/// The account with this id in the tenant; another tenant's id finds nothing.
///
/// # Errors
/// When the query fails.
pub async fn find_by_id(tx: &TenantTx, id: &str) -> Result<Option<account::Model>, IdentityError> {
    Ok(scoped(tx)
        .filter(account::Column::Id.eq(id))
        .one(&**tx)
        .await?)
}

async fn update_one(
    tx: &TenantTx,
    id: &str,
    set: impl FnOnce(sea_orm::UpdateMany<account::Entity>) -> sea_orm::UpdateMany<account::Entity>,
) -> Result<(), IdentityError> {
    let update = account::Entity::update_many()
        .filter(account::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account::Column::Id.eq(id));
    let result = set(update).exec(&**tx).await?;
    if result.rows_affected == 1 {
        Ok(())
    } else {
        Err(IdentityError::AccountNotFound)
    }
}

/// Marks the email as verified (the first time only) and counts it as activity.
///
/// # Errors
/// [`IdentityError::AccountNotFound`], or a query failure.
pub async fn mark_verified(
    tx: &TenantTx,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    account::Entity::update_many()
        .filter(account::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account::Column::Id.eq(id))
        .filter(account::Column::EmailVerifiedAt.is_null())
        .col_expr(account::Column::EmailVerifiedAt, Expr::value(now))
        .exec(&**tx)
        .await?;
    touch(tx, id, now).await
}

/// Replaces the details a person may edit themself (not email, password or status).
///
/// # Errors
/// [`IdentityError::AccountNotFound`], or a query failure.
pub async fn update_details(
    tx: &TenantTx,
    id: &str,
    new: &NewAccount,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let n = new.clone();
    update_one(tx, id, move |u| {
        u.col_expr(account::Column::FirstName, Expr::value(n.first_name))
            .col_expr(account::Column::LastName, Expr::value(n.last_name))
            .col_expr(account::Column::JobTitle, Expr::value(n.job_title))
            .col_expr(account::Column::JobCategory, Expr::value(n.job_category))
            .col_expr(account::Column::Telephone, Expr::value(n.telephone))
            .col_expr(
                account::Column::BusinessAddress,
                Expr::value(n.business_address),
            )
            .col_expr(
                account::Column::OrganisationName,
                Expr::value(n.organisation_name),
            )
            .col_expr(
                account::Column::OrganisationTelephone,
                Expr::value(n.organisation_telephone),
            )
            .col_expr(
                account::Column::IsChildminder,
                Expr::value(n.is_childminder),
            )
            .col_expr(
                account::Column::PersonalTelephone,
                Expr::value(n.personal_telephone),
            )
            .col_expr(account::Column::HomeAddress, Expr::value(n.home_address))
            .col_expr(account::Column::LastActivityAt, Expr::value(now))
    })
    .await
}

/// Replaces the password hash.
///
/// # Errors
/// [`IdentityError::AccountNotFound`], or a query failure.
pub async fn set_password(
    tx: &TenantTx,
    id: &str,
    hash: String,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    update_one(tx, id, |u| {
        u.col_expr(account::Column::PasswordHash, Expr::value(hash))
            .col_expr(account::Column::LastActivityAt, Expr::value(now))
    })
    .await
}

/// Sets how often management alerts are sent.
///
/// # Errors
/// [`IdentityError::AccountNotFound`], or a query failure.
pub async fn set_alert_frequency(
    tx: &TenantTx,
    id: &str,
    frequency: &str,
) -> Result<(), IdentityError> {
    let frequency = frequency.to_owned();
    update_one(tx, id, move |u| {
        u.col_expr(account::Column::AlertFrequency, Expr::value(frequency))
    })
    .await
}

/// Records activity (sign-in or another authenticated action); retention counts from it.
///
/// # Errors
/// [`IdentityError::AccountNotFound`], or a query failure.
pub async fn touch(tx: &TenantTx, id: &str, now: DateTime<Utc>) -> Result<(), IdentityError> {
    update_one(tx, id, |u| {
        u.col_expr(account::Column::LastActivityAt, Expr::value(now))
    })
    .await
}

/// How finely activity is recorded: an action within this long of the last one counted
/// need not be counted again (retention works in months and years).
pub const ACTIVITY_GRAIN: Duration = Duration::hours(1);

/// Whether `account`'s activity is to be counted again at `now` ([`ACTIVITY_GRAIN`]).
#[must_use]
pub fn touch_due(account: &account::Model, now: DateTime<Utc>) -> bool {
    now - account.last_activity_at >= ACTIVITY_GRAIN
}

/// Adds to `writes` the update that counts `now` as activity of account `id` of `tenant`
/// (as [`touch`], sent with the rest of the transaction's writes).
pub fn touch_later(writes: &mut storage::Writes, tenant: &TenantId, id: &str, now: DateTime<Utc>) {
    writes.update(
        account::Entity::update_many()
            .filter(account::Column::TenantId.eq(tenant.as_str()))
            .filter(account::Column::Id.eq(id))
            .col_expr(account::Column::LastActivityAt, Expr::value(now))
            .into_query(),
    );
}

/// Issues a single-use token for `account_id` and returns it (only its hash is stored).
///
/// # Errors
/// When the insert fails or no randomness is available.
pub async fn issue_token(
    tx: &TenantTx,
    account_id: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<String, IdentityError> {
    let secret = token::generate().map_err(IdentityError::random)?;
    insert_token(tx, account_id, purpose, now, &secret).await?;
    Ok(secret)
}

/// Issues a token confirming `new_email` as the account's address; returns the secret.
///
/// # Errors
/// When no random token can be made or the insert fails.
pub async fn issue_email_change_token(
    tx: &TenantTx,
    account_id: &str,
    new_email: &str,
    now: DateTime<Utc>,
) -> Result<String, IdentityError> {
    let secret = token::generate().map_err(IdentityError::random)?;
    let purpose = Purpose::ChangeEmail;
    account_token::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        token_hash: Set(token::digest(&secret)),
        account_id: Set(account_id.to_owned()),
        purpose: Set(purpose.as_str().to_owned()),
        created_at: Set(now),
        expires_at: Set(now + purpose.lifetime()),
        used_at: Set(None),
        new_email: Set(Some(new_email.to_owned())),
    }
    .insert(&**tx)
    .await?;
    Ok(secret)
}

/// Marks every unused token of the account for `purposes` as used, so none works again.
///
/// # Errors
/// When the update fails.
pub async fn revoke_tokens(
    tx: &TenantTx,
    account_id: &str,
    purposes: &[Purpose],
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    account_token::Entity::update_many()
        .filter(account_token::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_token::Column::AccountId.eq(account_id))
        .filter(account_token::Column::Purpose.is_in(purposes.iter().map(|p| p.as_str())))
        .filter(account_token::Column::UsedAt.is_null())
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .exec(&**tx)
        .await?;
    Ok(())
}

/// The account's newest unused, unexpired token for `purpose`, if any.
///
/// # Errors
/// When the query fails.
pub async fn live_token(
    tx: &TenantTx,
    account_id: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<account_token::Model>, IdentityError> {
    use sea_orm::QueryOrder as _;
    Ok(account_token::Entity::find()
        .filter(account_token::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_token::Column::AccountId.eq(account_id))
        .filter(account_token::Column::Purpose.eq(purpose.as_str()))
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::ExpiresAt.gt(now))
        .order_by_desc(account_token::Column::CreatedAt)
        .one(&**tx)
        .await?)
}

/// Stores a token the caller made (only its digest is kept).
///
/// # Errors
/// When the insert fails.
pub async fn insert_token(
    tx: &TenantTx,
    account_id: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
    secret: &str,
) -> Result<(), IdentityError> {
    account_token::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        token_hash: Set(token::digest(secret)),
        account_id: Set(account_id.to_owned()),
        purpose: Set(purpose.as_str().to_owned()),
        created_at: Set(now),
        expires_at: Set(now + purpose.lifetime()),
        used_at: Set(None),
        new_email: Set(None),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// Whether a token is live (unused, unexpired, of `purpose`), without using it.
///
/// # Errors
/// When the query fails.
pub async fn token_is_live(
    tx: &TenantTx,
    secret: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<bool, IdentityError> {
    Ok(account_token::Entity::find()
        .filter(account_token::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_token::Column::TokenHash.eq(token::digest(secret)))
        .filter(account_token::Column::Purpose.eq(purpose.as_str()))
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::ExpiresAt.gt(now))
        .one(&**tx)
        .await?
        .is_some())
}

/// Uses a token: succeeds once, before expiry, for its purpose, in its tenant; returns the
/// account id. The check and the marking are one conditional update, so two simultaneous
/// uses cannot both succeed.
///
/// # Errors
/// [`IdentityError::BadToken`] when unknown, used, expired, of another purpose or tenant.
pub async fn consume_token(
    tx: &TenantTx,
    secret: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<String, IdentityError> {
    Ok(use_token(tx, secret, purpose, now).await?.account_id)
}

/// As [`consume_token`], returning the whole token row (a `change_email` token's address).
///
/// # Errors
/// [`IdentityError::BadToken`] when unknown, used, expired, of another purpose or tenant.
pub async fn use_token(
    tx: &TenantTx,
    secret: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<account_token::Model, IdentityError> {
    let hash = token::digest(secret);
    let filter = |q: sea_orm::UpdateMany<account_token::Entity>| {
        q.filter(account_token::Column::TenantId.eq(tx.tenant().as_str()))
            .filter(account_token::Column::TokenHash.eq(hash.clone()))
            .filter(account_token::Column::Purpose.eq(purpose.as_str()))
            .filter(account_token::Column::UsedAt.is_null())
            .filter(account_token::Column::ExpiresAt.gt(now))
    };
    let used = filter(account_token::Entity::update_many())
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .exec(&**tx)
        .await?;
    if used.rows_affected != 1 {
        return Err(IdentityError::BadToken);
    }
    account_token::Entity::find()
        .filter(account_token::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_token::Column::TokenHash.eq(hash))
        .one(&**tx)
        .await?
        .ok_or(IdentityError::BadToken)
}
