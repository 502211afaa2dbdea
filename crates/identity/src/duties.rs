//! What a signed-in person looks after on the portal: the tenant-wide roles they hold
//! (each in force only with a confirmed second factor) and the organisations whose
//! accounts they manage as lead administrator. The administrators' console and the
//! header's "Manage" entry read it; every page still checks its own permission.

use storage::TenantTx;
use tenant_router::TenantId;

use crate::domain::rights::{Right, Rights, Role, membership_status};
use crate::store::entity::{account_role, organisation};
use crate::store::organisations as orgs;
use crate::{Identity, IdentityError, SignedIn};

/// A person's management duties.
#[derive(Debug, Clone, Default)]
pub struct Duties {
    /// Roles the person may use now.
    pub roles: Vec<Role>,
    /// Roles the person holds that wait for a confirmed second factor.
    pub waiting: Vec<Role>,
    /// Organisations whose accounts the person manages as a verified lead administrator.
    pub organisations: Vec<organisation::Model>,
    /// Other organisations the person buys for (a verified purchaser, not their lead
    /// administrator): their invoices.
    pub purchasing: Vec<organisation::Model>,
}

impl Duties {
    /// Whether the person may use `role` now.
    #[must_use]
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the person looks after anything at all (roles waiting included).
    #[must_use]
    pub fn any(&self) -> bool {
        !(self.roles.is_empty()
            && self.waiting.is_empty()
            && self.organisations.is_empty()
            && self.purchasing.is_empty())
    }
}

fn held_roles(rows: &[account_role::Model]) -> Vec<Role> {
    let mut roles: Vec<Role> = Vec::new();
    for role in rows.iter().filter_map(|r| r.role.parse::<Role>().ok()) {
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles
}

/// Whether the account holds any role or leads any organisation: the header's "Manage"
/// entry. Two indexed reads.
///
/// # Errors
/// When a query fails.
pub(crate) async fn manages_anything(
    tx: &TenantTx,
    account_id: &str,
) -> Result<bool, IdentityError> {
    if !orgs::roles_held(tx, account_id).await?.is_empty() {
        return Ok(true);
    }
    Ok(orgs::memberships_of(tx, account_id)
        .await?
        .iter()
        .any(|(m, _)| holds(m, Right::LeadAdmin) || holds(m, Right::Purchaser)))
}

fn leads(m: &crate::store::entity::membership::Model) -> bool {
    holds(m, Right::LeadAdmin)
}

fn holds(m: &crate::store::entity::membership::Model, right: Right) -> bool {
    m.status == membership_status::VERIFIED && Rights::parse(&m.rights).is_ok_and(|r| r.has(right))
}

impl Identity {
    /// What the signed-in person looks after (see [`Duties`]).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn duties(&self, tenant: &TenantId, who: &SignedIn) -> Result<Duties, IdentityError> {
        let tx = self.db.tenant_read(tenant).await?;
        let id = &who.account.id;
        let held = held_roles(&orgs::roles_held(&tx, id).await?);
        let in_force = held_roles(&orgs::roles_in_force(&tx, id).await?);
        let memberships = orgs::memberships_of(&tx, id).await?;
        tx.rollback().await?;
        let (mut organisations, mut purchasing): (Vec<_>, Vec<_>) = memberships
            .into_iter()
            .filter(|(m, _)| leads(m) || holds(m, Right::Purchaser))
            .partition(|(m, _)| leads(m));
        organisations.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        purchasing.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        Ok(Duties {
            waiting: held.into_iter().filter(|r| !in_force.contains(r)).collect(),
            roles: in_force,
            organisations: organisations.into_iter().map(|(_, o)| o).collect(),
            purchasing: purchasing.into_iter().map(|(_, o)| o).collect(),
        })
    }
}
