//! Who an organisation's checkout concerns, read in one query: the checkout runs it on
//! every booking billed to a school, so it is one round trip whatever the school's size.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, FromQueryResult as _, JoinType,
    QueryFilter as _, QuerySelect as _, QueryTrait as _,
};
use storage::alerts::{Frequency, Recipient};
use tenant_router::TenantId;

use super::entity::{account, membership, organisation};
use super::organisations::its_organisation;
use crate::IdentityError;
use crate::domain::rights::{Right, Rights, membership_status};

/// An organisation as a checkout billed to it finds it.
#[derive(Debug, Clone)]
pub struct CheckoutParty {
    /// Whether its staff's bookings wait for a lead administrator's approval.
    pub approves_bookings: bool,
    /// The memberships there of the people asked about, with their accounts, by account
    /// id (someone not a member is absent).
    pub members: HashMap<String, (membership::Model, account::Model)>,
    /// Its confirmed CPD leads, who get a copy of each confirmation.
    pub cpd_leads: Vec<Recipient>,
}

/// The organisation `organisation_id` for a checkout that concerns `people` (the booker
/// and the colleagues booked for): `None` when none of them is a member of it (nor is
/// anyone its CPD lead), as for another tenant's organisation.
///
/// # Errors
/// When the query fails.
pub async fn checkout_party<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    organisation_id: &str,
    people: &[&str],
) -> Result<Option<CheckoutParty>, IdentityError> {
    let t = tenant.as_str();
    let lead = Right::CpdLead.as_str();
    let query = membership::Entity::find()
        .select_also(account::Entity)
        .join(
            JoinType::InnerJoin,
            membership::Entity::belongs_to(account::Entity)
                .from((membership::Column::TenantId, membership::Column::AccountId))
                .to((account::Column::TenantId, account::Column::Id))
                .into(),
        )
        .join(JoinType::InnerJoin, its_organisation())
        .expr_as(
            Expr::col((organisation::Entity, organisation::Column::ApproveBookings)),
            "approves",
        )
        .filter(membership::Column::TenantId.eq(t))
        .filter(membership::Column::OrganisationId.eq(organisation_id))
        .filter(
            membership::Column::AccountId
                .is_in(people.iter().copied())
                // Narrowed here, checked below: the rights are a list in one column.
                .or(membership::Column::Status
                    .eq(membership_status::VERIFIED)
                    .and(membership::Column::Rights.contains(lead))),
        )
        .into_query();
    let rows = conn.query_all(&query).await?;
    let mut party = CheckoutParty {
        approves_bookings: false,
        members: HashMap::new(),
        cpd_leads: Vec::new(),
    };
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    party.approves_bookings = first.try_get::<bool>("", "approves")?;
    for row in &rows {
        let m = membership::Model::from_query_result(row, "A_")?;
        let a = account::Model::from_query_result(row, "B_")?;
        if m.status == membership_status::VERIFIED
            && Rights::parse(&m.rights).is_ok_and(|r| r.has(Right::CpdLead))
        {
            party.cpd_leads.push(Recipient {
                id: a.id.clone(),
                email: a.email.clone(),
                frequency: Frequency::stored(&a.alert_frequency),
            });
        }
        if people.contains(&m.account_id.as_str()) {
            party.members.insert(m.account_id.clone(), (m, a));
        }
    }
    Ok(Some(party))
}
