//! Tenant-scoped queries for organisations, memberships and tenant-wide roles.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    Set, SqlErr,
};
use storage::TenantTx;
use storage::alerts::{Frequency, Recipient};

use super::entity::{account, account_role, account_totp, membership, organisation};
use crate::IdentityError;
use crate::domain::rights::{Rights, Role, membership_status};

pub use super::checkout_party::{CheckoutParty, checkout_party};

/// Adds an organisation; names are unique in a tenant.
///
/// # Errors
/// [`IdentityError::OrganisationExists`] for a taken name.
pub async fn create(
    tx: &TenantTx,
    name: &str,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<organisation::Model, IdentityError> {
    organisation::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        id: Set(uuid::Uuid::new_v4().to_string()),
        name: Set(name.to_owned()),
        kind: Set(kind.to_owned()),
        created_at: Set(now),
        approve_bookings: Set(false),
    }
    .insert(&**tx)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => IdentityError::OrganisationExists,
        _ => e.into(),
    })
}

/// Every organisation of the tenant, by name.
///
/// # Errors
/// When the query fails.
pub async fn list(tx: &TenantTx) -> Result<Vec<organisation::Model>, IdentityError> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::TenantId.eq(tx.tenant().as_str()))
        .order_by_asc(organisation::Column::Name)
        .all(&**tx)
        .await?)
}

/// One organisation of the tenant; another tenant's id finds nothing.
///
/// # Errors
/// When the query fails.
pub async fn find(tx: &TenantTx, id: &str) -> Result<Option<organisation::Model>, IdentityError> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(organisation::Column::Id.eq(id))
        .one(&**tx)
        .await?)
}

/// Adds or replaces a membership.
///
/// # Errors
/// When the write fails.
pub async fn upsert_membership(
    tx: &TenantTx,
    organisation_id: &str,
    account_id: &str,
    rights: &Rights,
    status: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    match membership(tx, organisation_id, account_id).await? {
        Some(existing) => {
            let mut m: membership::ActiveModel = existing.into();
            m.rights = Set(rights.to_string());
            m.status = Set(status.to_owned());
            m.updated_at = Set(now);
            m.update(&**tx).await?;
        }
        None => {
            membership::ActiveModel {
                tenant_id: Set(tx.tenant().to_string()),
                organisation_id: Set(organisation_id.to_owned()),
                account_id: Set(account_id.to_owned()),
                rights: Set(rights.to_string()),
                status: Set(status.to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&**tx)
            .await?;
        }
    }
    Ok(())
}

/// A person's membership of an organisation.
///
/// # Errors
/// When the query fails.
pub async fn membership(
    tx: &TenantTx,
    organisation_id: &str,
    account_id: &str,
) -> Result<Option<membership::Model>, IdentityError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(membership::Column::OrganisationId.eq(organisation_id))
        .filter(membership::Column::AccountId.eq(account_id))
        .one(&**tx)
        .await?)
}

/// A membership with its organisation: one query.
///
/// # Errors
/// When the query fails.
pub async fn membership_with_organisation(
    tx: &TenantTx,
    organisation_id: &str,
    account_id: &str,
) -> Result<Option<(membership::Model, organisation::Model)>, IdentityError> {
    let found = membership::Entity::find()
        .select_also(organisation::Entity)
        .join(JoinType::InnerJoin, its_organisation())
        .filter(membership::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(membership::Column::OrganisationId.eq(organisation_id))
        .filter(membership::Column::AccountId.eq(account_id))
        .one(&**tx)
        .await?;
    Ok(found.and_then(|(m, o)| Some((m, o?))))
}

/// The join from a membership to its organisation (in the same tenant).
pub(super) fn its_organisation() -> sea_orm::RelationDef {
    membership::Entity::belongs_to(organisation::Entity)
        .from((
            membership::Column::TenantId,
            membership::Column::OrganisationId,
        ))
        .to((organisation::Column::TenantId, organisation::Column::Id))
        .into()
}

/// A person's memberships, with their organisations.
///
/// # Errors
/// When the query fails.
pub async fn memberships_of(
    tx: &TenantTx,
    account_id: &str,
) -> Result<Vec<(membership::Model, organisation::Model)>, IdentityError> {
    let rows = membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(membership::Column::AccountId.eq(account_id))
        .all(&**tx)
        .await?;
    // Two queries whatever the number of memberships.
    let mut orgs: std::collections::HashMap<String, organisation::Model> =
        organisation::Entity::find()
            .filter(organisation::Column::TenantId.eq(tx.tenant().as_str()))
            .filter(organisation::Column::Id.is_in(rows.iter().map(|m| m.organisation_id.as_str())))
            .all(&**tx)
            .await?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
    Ok(rows
        .into_iter()
        .filter_map(|m| {
            let org = orgs.remove(&m.organisation_id)?;
            Some((m, org))
        })
        .collect())
}

/// An organisation's members with their accounts, by name.
///
/// # Errors
/// When the query fails.
pub async fn members(
    tx: &TenantTx,
    organisation_id: &str,
) -> Result<Vec<(membership::Model, account::Model)>, IdentityError> {
    let rows = membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(membership::Column::OrganisationId.eq(organisation_id))
        .all(&**tx)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        if let Some(a) = super::find_by_id(tx, &m.account_id).await? {
            out.push((m, a));
        }
    }
    out.sort_by(|(_, a), (_, b)| (&a.last_name, &a.first_name).cmp(&(&b.last_name, &b.first_name)));
    Ok(out)
}

/// Sets an account's status (`active` / `deactivated`).
///
/// # Errors
/// [`IdentityError::AccountNotFound`], or a query failure.
pub async fn set_account_status(
    tx: &TenantTx,
    account_id: &str,
    status: &str,
) -> Result<(), IdentityError> {
    let done = account::Entity::update_many()
        .filter(account::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account::Column::Id.eq(account_id))
        .col_expr(account::Column::Status, Expr::value(status))
        .exec(&**tx)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(IdentityError::AccountNotFound)
    }
}

/// Grants a tenant-wide role (idempotent).
///
/// # Errors
/// When the write fails.
pub async fn grant_role(
    tx: &TenantTx,
    account_id: &str,
    role: Role,
    provider_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    if has_role(tx, account_id, role).await? {
        return Ok(());
    }
    account_role::ActiveModel {
        tenant_id: Set(tx.tenant().to_string()),
        account_id: Set(account_id.to_owned()),
        role: Set(role.as_str().to_owned()),
        provider_id: Set(provider_id.map(str::to_owned)),
        created_at: Set(now),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// Whether the account holds the role in the tenant.
///
/// # Errors
/// When the query fails.
pub async fn has_role(tx: &TenantTx, account_id: &str, role: Role) -> Result<bool, IdentityError> {
    Ok(account_role::Entity::find()
        .filter(account_role::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_role::Column::AccountId.eq(account_id))
        .filter(account_role::Column::Role.eq(role.as_str()))
        .one(&**tx)
        .await?
        .is_some())
}

/// The active accounts that may use `role` now (holding it, with a confirmed second factor),
/// by name.
///
/// # Errors
/// When the query fails.
pub async fn acting_as(tx: &TenantTx, role: Role) -> Result<Vec<account::Model>, IdentityError> {
    let t = tx.tenant().as_str();
    let holders: Vec<String> = account_role::Entity::find()
        .filter(account_role::Column::TenantId.eq(t))
        .filter(account_role::Column::Role.eq(role.as_str()))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|r| r.account_id)
        .collect();
    let confirmed: Vec<String> = account_totp::Entity::find()
        .filter(account_totp::Column::TenantId.eq(t))
        .filter(account_totp::Column::AccountId.is_in(holders))
        .filter(account_totp::Column::ConfirmedAt.is_not_null())
        .all(&**tx)
        .await?
        .into_iter()
        .map(|r| r.account_id)
        .collect();
    Ok(account::Entity::find()
        .filter(account::Column::TenantId.eq(t))
        .filter(account::Column::Id.is_in(confirmed))
        .filter(account::Column::Status.eq(super::status::ACTIVE))
        .order_by_asc(account::Column::LastName)
        .order_by_asc(account::Column::FirstName)
        .all(&**tx)
        .await?)
}

/// Whether the account may use a role now: it holds the role *and* has a confirmed second
/// factor. A role granted to someone already signed in therefore does nothing until they
/// have set one up (their next sign-in sends them to do so).
///
/// # Errors
/// When the query fails.
pub async fn can_act_as(
    tx: &TenantTx,
    account_id: &str,
    role: Role,
) -> Result<bool, IdentityError> {
    if !has_role(tx, account_id, role).await? {
        return Ok(false);
    }
    Ok(account_totp::Entity::find()
        .filter(account_totp::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_totp::Column::AccountId.eq(account_id))
        .filter(account_totp::Column::ConfirmedAt.is_not_null())
        .one(&**tx)
        .await?
        .is_some())
}

/// The roles the account holds, whether or not it has a second factor yet.
///
/// # Errors
/// When the query fails.
pub async fn roles_held(
    tx: &TenantTx,
    account_id: &str,
) -> Result<Vec<account_role::Model>, IdentityError> {
    Ok(account_role::Entity::find()
        .filter(account_role::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_role::Column::AccountId.eq(account_id))
        .all(&**tx)
        .await?)
}

/// The roles the account may use now: those it holds, provided it has a confirmed second
/// factor (none otherwise), with the provider each provider-staff role is tied to.
///
/// # Errors
/// When the query fails.
pub async fn roles_in_force(
    tx: &TenantTx,
    account_id: &str,
) -> Result<Vec<account_role::Model>, IdentityError> {
    let roles = roles_held(tx, account_id).await?;
    if roles.is_empty() {
        return Ok(roles);
    }
    let confirmed = account_totp::Entity::find()
        .filter(account_totp::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account_totp::Column::AccountId.eq(account_id))
        .filter(account_totp::Column::ConfirmedAt.is_not_null())
        .one(&**tx)
        .await?
        .is_some();
    Ok(if confirmed { roles } else { Vec::new() })
}

/// Whether the account may manage the organisation's accounts: a tenant admin, or a
/// verified lead administrator of that very organisation.
///
/// # Errors
/// When the query fails.
pub async fn can_manage(
    tx: &TenantTx,
    account_id: &str,
    organisation_id: &str,
) -> Result<bool, IdentityError> {
    if can_act_as(tx, account_id, Role::TenantAdmin).await? {
        return Ok(true);
    }
    Ok(membership(tx, organisation_id, account_id)
        .await?
        .is_some_and(|m| {
            m.status == membership_status::VERIFIED
                && Rights::parse(&m.rights)
                    .is_ok_and(|r| r.has(crate::domain::rights::Right::LeadAdmin))
        }))
}

/// An organisation's CPD leads (confirmed members with the right), as recipients of
/// management alerts.
///
/// # Errors
/// When the query fails.
pub async fn cpd_leads(
    tx: &TenantTx,
    organisation_id: &str,
) -> Result<Vec<Recipient>, IdentityError> {
    with_right(tx, organisation_id, crate::domain::rights::Right::CpdLead).await
}

/// An organisation's confirmed lead administrators (the people who approve its staff's
/// bookings), as recipients of management alerts.
///
/// # Errors
/// When the query fails.
pub async fn lead_admins(
    tx: &TenantTx,
    organisation_id: &str,
) -> Result<Vec<Recipient>, IdentityError> {
    with_right(tx, organisation_id, crate::domain::rights::Right::LeadAdmin).await
}

/// Turns approval of staff bookings on or off for an organisation.
///
/// # Errors
/// When the query fails.
pub async fn set_approve_bookings(
    tx: &TenantTx,
    organisation_id: &str,
    on: bool,
) -> Result<(), IdentityError> {
    organisation::Entity::update_many()
        .filter(organisation::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(organisation::Column::Id.eq(organisation_id))
        .col_expr(organisation::Column::ApproveBookings, Expr::value(on))
        .exec(&**tx)
        .await?;
    Ok(())
}

async fn with_right(
    tx: &TenantTx,
    organisation_id: &str,
    right: crate::domain::rights::Right,
) -> Result<Vec<Recipient>, IdentityError> {
    // Two queries whatever the organisation's size: this runs on the checkout path.
    let holders: Vec<String> = membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(membership::Column::OrganisationId.eq(organisation_id))
        .filter(membership::Column::Status.eq(crate::domain::rights::membership_status::VERIFIED))
        .all(&**tx)
        .await?
        .into_iter()
        .filter(|m| crate::domain::rights::Rights::parse(&m.rights).is_ok_and(|r| r.has(right)))
        .map(|m| m.account_id)
        .collect();
    if holders.is_empty() {
        return Ok(Vec::new());
    }
    Ok(account::Entity::find()
        .filter(account::Column::TenantId.eq(tx.tenant().as_str()))
        .filter(account::Column::Id.is_in(holders))
        .all(&**tx)
        .await?
        .into_iter()
        .map(|a| Recipient {
            frequency: Frequency::stored(&a.alert_frequency),
            id: a.id,
            email: a.email,
        })
        .collect())
}
