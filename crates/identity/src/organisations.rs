//! Organisations and User Management: tenant admins add organisations and name their lead
//! administrators; a lead administrator lists the organisation's people, adds colleagues
//! (who are sent an invitation and a just-in-time privacy notice), verifies people who
//! claimed the organisation at sign-up, changes rights and marks leavers.
//!
//! Invariant: every action first checks that the actor may manage that organisation
//! (tenant admin, or its verified lead administrator) and answers "not found" otherwise,
//! so one school's administrator learns nothing about another school.

use std::collections::HashMap;

use storage::TenantTx;
use tenant_router::{TenantConfig, TenantId};

use crate::domain::rights::{Right, Rights, Role, membership_status};
use crate::domain::signup::{FieldError, NewAccount, is_email};
pub use crate::members::MemberChange;
use crate::members::rights_from_form;
use crate::service::{actor as actor_id, email_link, record_detail};
use crate::store::entity::{account, membership, organisation};
use crate::store::{self, Purpose, organisations as orgs, status};
use crate::{Identity, IdentityError, SignedIn};

/// Organisation kinds offered when adding one.
pub const KINDS: [(&str, &str); 5] = [
    ("school", "School or academy"),
    ("early_years", "Early years setting"),
    ("college", "Further education college"),
    ("childminder", "Childminder business"),
    ("other", "Other organisation"),
];

/// One row of an organisation's people list.
#[derive(Debug, Clone)]
pub struct Person {
    /// Their membership.
    pub membership: membership::Model,
    /// Their account.
    pub account: account::Model,
    /// Parsed rights.
    pub rights: Rights,
}

impl Identity {
    pub(crate) async fn require_admin(
        &self,
        tx: &TenantTx,
        actor: &SignedIn,
    ) -> Result<(), IdentityError> {
        if orgs::can_act_as(tx, &actor.account.id, Role::TenantAdmin).await? {
            Ok(())
        } else {
            Err(IdentityError::NotTenantAdmin)
        }
    }

    pub(crate) async fn managed_org(
        &self,
        tx: &TenantTx,
        actor: &SignedIn,
        org_id: &str,
    ) -> Result<organisation::Model, IdentityError> {
        let org = orgs::find(tx, org_id)
            .await?
            .ok_or(IdentityError::OrganisationNotFound)?;
        if orgs::can_manage(tx, &actor.account.id, &org.id).await? {
            Ok(org)
        } else {
            Err(IdentityError::OrganisationNotFound)
        }
    }

    /// Whether the actor is a tenant admin.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn is_tenant_admin(
        &self,
        tenant: &TenantId,
        actor: &SignedIn,
    ) -> Result<bool, IdentityError> {
        self.may_act_as(tenant, actor, Role::TenantAdmin).await
    }

    /// Whether the actor may use `role` now (holds it, with a confirmed second factor).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn may_act_as(
        &self,
        tenant: &TenantId,
        actor: &SignedIn,
        role: Role,
    ) -> Result<bool, IdentityError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let may = orgs::can_act_as(&tx, &actor.account.id, role).await?;
        tx.rollback().await?;
        Ok(may)
    }

    /// The tenant's organisations (for sign-up's list and the admin page).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn organisations(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<organisation::Model>, IdentityError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let list = orgs::list(&tx).await?;
        tx.rollback().await?;
        Ok(list)
    }

    /// The actor's memberships, with organisations, and whether they may manage each.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn memberships(
        &self,
        tenant: &TenantId,
        actor: &SignedIn,
    ) -> Result<Vec<(membership::Model, organisation::Model, bool)>, IdentityError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let mut out = Vec::new();
        for (m, o) in orgs::memberships_of(&tx, &actor.account.id).await? {
            let manage = orgs::can_manage(&tx, &actor.account.id, &o.id).await?;
            out.push((m, o, manage));
        }
        tx.rollback().await?;
        Ok(out)
    }

    /// Adds an organisation (tenant admins only).
    ///
    /// # Errors
    /// [`IdentityError::NotTenantAdmin`], [`IdentityError::Invalid`],
    /// [`IdentityError::OrganisationExists`].
    pub async fn create_organisation(
        &self,
        tenant: &TenantId,
        actor: &SignedIn,
        name: &str,
        kind: &str,
    ) -> Result<organisation::Model, IdentityError> {
        let name = name.trim();
        let mut errors = Vec::new();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError {
                field: "name",
                message: "Enter the organisation's name (200 characters or fewer)".to_owned(),
            });
        }
        if !KINDS.iter().any(|(k, _)| *k == kind) {
            errors.push(FieldError {
                field: "kind",
                message: "Select the kind of organisation".to_owned(),
            });
        }
        let tx = self.db.tenant_tx(tenant).await?;
        self.require_admin(&tx, actor).await?;
        if !errors.is_empty() {
            return Err(IdentityError::Invalid(errors));
        }
        let org = orgs::create(&tx, name, kind, self.clock.now()).await?;
        record_detail(
            &tx,
            &self.clock,
            &actor_id(&actor.account.id),
            "organisation.created",
            &org.id,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// Makes the account with `email` a verified lead administrator of the organisation
    /// (tenant admins only).
    ///
    /// # Errors
    /// [`IdentityError::NotTenantAdmin`], [`IdentityError::OrganisationNotFound`],
    /// [`IdentityError::AccountNotFound`].
    pub async fn appoint_lead_admin(
        &self,
        tenant: &TenantId,
        actor: &SignedIn,
        org_id: &str,
        email: &str,
    ) -> Result<(), IdentityError> {
        let tx = self.db.tenant_tx(tenant).await?;
        self.require_admin(&tx, actor).await?;
        let org = orgs::find(&tx, org_id)
            .await?
            .ok_or(IdentityError::OrganisationNotFound)?;
        let person = store::find_by_email(&tx, email)
            .await?
            .ok_or(IdentityError::AccountNotFound)?;
        let mut rights: Vec<Right> = match orgs::membership(&tx, &org.id, &person.id).await? {
            Some(m) => Rights::parse(&m.rights)
                .map_err(IdentityError::Internal)?
                .iter()
                .collect(),
            None => Vec::new(),
        };
        rights.push(Right::LeadAdmin);
        let rights = Rights::new(rights);
        let now = self.clock.now();
        orgs::upsert_membership(
            &tx,
            &org.id,
            &person.id,
            &rights,
            membership_status::VERIFIED,
            now,
        )
        .await?;
        record_detail(
            &tx,
            &self.clock,
            &actor_id(&actor.account.id),
            "membership.lead_admin_appointed",
            &person.id,
            serde_json::json!({ "organisation": org.id }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The organisation and its people, for someone who may manage it.
    ///
    /// # Errors
    /// [`IdentityError::OrganisationNotFound`] when it does not exist in the tenant or the
    /// actor may not manage it.
    pub async fn people(
        &self,
        tenant: &TenantId,
        actor: &SignedIn,
        org_id: &str,
    ) -> Result<(organisation::Model, Vec<Person>), IdentityError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let org = self.managed_org(&tx, actor, org_id).await?;
        let people = orgs::members(&tx, &org.id)
            .await?
            .into_iter()
            .map(|(membership, account)| {
                let rights = Rights::parse(&membership.rights).unwrap_or_default();
                Person {
                    membership,
                    account,
                    rights,
                }
            })
            .collect();
        tx.rollback().await?;
        Ok((org, people))
    }

    /// Creates a colleague's account in the organisation. The person is emailed at once:
    /// an invitation to choose a password, and the just-in-time privacy notice owed to
    /// anyone whose data came from someone else; the notice version sent is audited.
    ///
    /// # Errors
    /// [`IdentityError::OrganisationNotFound`], [`IdentityError::Invalid`],
    /// [`IdentityError::EmailTaken`]; nothing is saved on any of them.
    pub async fn add_colleague(
        &self,
        tenant: &TenantConfig,
        notice_version: &str,
        actor: &SignedIn,
        org_id: &str,
        form: &HashMap<String, String>,
        base_url: &str,
    ) -> Result<account::Model, IdentityError> {
        let get = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or_default();
        let mut errors = Vec::new();
        for (field, label) in [("first_name", "first name"), ("last_name", "last name")] {
            let v = get(field);
            if v.is_empty() || v.chars().count() > 100 {
                errors.push(FieldError {
                    field,
                    message: format!("Enter their {label} (100 characters or fewer)"),
                });
            }
        }
        if !is_email(get("email")) {
            errors.push(FieldError {
                field: "email",
                message: "Enter their email address, like name@school.org.uk".to_owned(),
            });
        }
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        let org = self.managed_org(&tx, actor, org_id).await?;
        if !errors.is_empty() {
            return Err(IdentityError::Invalid(errors));
        }
        let new = NewAccount {
            email: get("email").to_lowercase(),
            first_name: get("first_name").to_owned(),
            last_name: get("last_name").to_owned(),
            job_title: Some(get("job_title").to_owned()).filter(|s| !s.is_empty()),
            organisation_name: Some(org.name.clone()),
            ..NewAccount::default()
        };
        let now = self.clock.now();
        let by = actor_id(&actor.account.id);
        let account = store::insert_account(&tx, &new, None, now, Some(by.clone())).await?;
        let rights = rights_from_form(form);
        orgs::upsert_membership(
            &tx,
            &org.id,
            &account.id,
            &rights,
            membership_status::VERIFIED,
            now,
        )
        .await?;
        let subject = format!(
            "An account has been created for you on {}",
            tenant.display_name
        );
        email_link(&tx, now, &account, Purpose::Invitation, &subject, |token| {
            invitation_text(tenant, actor, &org, &account, base_url, token)
        })
        .await?;
        record_detail(
            &tx,
            &self.clock,
            &by,
            "account.created_for_person",
            &account.id,
            serde_json::json!({
                "organisation": org.id,
                "rights": rights.to_string(),
                "privacy_notice_sent": notice_version,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Changes a member's state or rights: `verify`, `rights` (from the form's `right_*`
    /// boxes) or `leaver`. Marking a leaver deactivates the account at once; their session
    /// stops working on its next request.
    ///
    /// # Errors
    /// [`IdentityError::OrganisationNotFound`] when the actor may not manage the
    /// organisation; [`IdentityError::AccountNotFound`] when the person is not in it.
    pub async fn change_member(
        &self,
        tenant: &TenantId,
        actor: &SignedIn,
        org_id: &str,
        account_id: &str,
        change: MemberChange,
    ) -> Result<(), IdentityError> {
        // Leaving would switch off the very account doing it, and could leave the
        // organisation with no one to manage it: another lead administrator or the council
        // does it.
        if matches!(change, MemberChange::Leaver) && actor.account.id == account_id {
            return Err(IdentityError::OwnLeaving);
        }
        let tx = self.db.tenant_tx(tenant).await?;
        let org = self.managed_org(&tx, actor, org_id).await?;
        let current = orgs::membership(&tx, &org.id, account_id)
            .await?
            .filter(|m| m.status != membership_status::LEFT)
            .ok_or(IdentityError::AccountNotFound)?;
        let rights = Rights::parse(&current.rights).map_err(IdentityError::Internal)?;
        let now = self.clock.now();
        let leaving = matches!(change, MemberChange::Leaver);
        let (rights, state, action) = match change {
            MemberChange::Verify => (rights, membership_status::VERIFIED, "membership.verified"),
            MemberChange::Rights(new) => {
                (new, current.status.as_str(), "membership.rights_changed")
            }
            MemberChange::Leaver => (rights, membership_status::LEFT, "membership.left"),
        };
        orgs::upsert_membership(&tx, &org.id, account_id, &rights, state, now).await?;
        if leaving {
            orgs::set_account_status(&tx, account_id, status::DEACTIVATED).await?;
        }
        record_detail(
            &tx,
            &self.clock,
            &actor_id(&actor.account.id),
            action,
            account_id,
            serde_json::json!({ "organisation": org.id, "rights": rights.to_string() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that an account claims membership of an organisation (at sign-up); the lead
    /// administrator verifies it later.
    pub(crate) async fn claim(
        tx: &TenantTx,
        org_id: &str,
        account_id: &str,
        requested: &Rights,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), IdentityError> {
        if orgs::find(tx, org_id).await?.is_none() {
            return Err(IdentityError::Invalid(vec![FieldError {
                field: "organisation_id",
                message: "Select your organisation from the list".to_owned(),
            }]));
        }
        orgs::upsert_membership(
            tx,
            org_id,
            account_id,
            // Asked for, not held: rights count only once the membership is verified.
            requested,
            membership_status::CLAIMED,
            now,
        )
        .await
    }

    /// Grants a tenant-wide role to the account with `email` (the operator's CLI).
    ///
    /// # Errors
    /// [`IdentityError::AccountNotFound`].
    pub async fn grant_role(
        &self,
        tenant: &TenantId,
        email: &str,
        role: Role,
        provider_id: Option<&str>,
    ) -> Result<(), IdentityError> {
        let tx = self.db.system_tx(tenant).await?;
        let person = store::find_by_email(&tx, email)
            .await?
            .ok_or(IdentityError::AccountNotFound)?;
        orgs::grant_role(&tx, &person.id, role, provider_id, self.clock.now()).await?;
        record_detail(
            &tx,
            &self.clock,
            "operator:cli",
            "account.role_granted",
            &person.id,
            serde_json::json!({ "role": role.as_str(), "provider": provider_id }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn invitation_text(
    tenant: &TenantConfig,
    actor: &SignedIn,
    org: &organisation::Model,
    account: &account::Model,
    base_url: &str,
    token: &str,
) -> String {
    let dpo = tenant
        .dpo
        .email
        .as_deref()
        .map_or_else(String::new, |e| format!(" ({e})"));
    format!(
        "Hello {first},\n\n\
         {admin_first} {admin_last}, who manages accounts for {org}, has created an account for \
         you on {portal}, so you can book training and keep your CPD records.\n\n\
         Choose your password to start using it (the link works once, for 14 days):\n\
         {base_url}/set-password/{token}\n\n\
         How we use your details\n\
         {admin_first} gave us your {given}. {controller} is \
         the data controller: it uses them to run your account, your bookings and your \
         records, and keeps them only as long as its retention rules say. You can see, \
         correct or ask us to delete them, and you can complain to the Information \
         Commissioner's Office. Our data protection officer is {dpo_name}{dpo}. The full \
         details are at {base_url}/data-controller.\n\n\
         If you do not want this account, reply to tell us, or ignore this email and it will \
         be removed under our retention rules.\n",
        first = account.first_name,
        admin_first = actor.account.first_name,
        admin_last = actor.account.last_name,
        org = org.name,
        portal = tenant.display_name,
        controller = tenant.controller.name,
        given = if account.job_title.is_some() {
            "name, work email address and job title"
        } else {
            "name and work email address"
        },
        dpo_name = tenant.dpo.name,
    )
}

/// What a tenant admin sees of one person.
#[derive(Debug, Clone)]
pub struct PersonView {
    /// The account.
    pub account: account::Model,
    /// Their special requirements, decrypted (only where the tenant collects them).
    pub special_requirements: Option<String>,
    /// Their memberships with organisation names.
    pub memberships: Vec<(membership::Model, organisation::Model)>,
}

impl Identity {
    /// One person's record for a tenant admin, special requirements included. Showing
    /// special-category data is audited, naming who saw whose.
    ///
    /// # Errors
    /// [`IdentityError::NotTenantAdmin`] or [`IdentityError::AccountNotFound`] (both shown
    /// as "not found").
    pub async fn person_for_admin(
        &self,
        tenant: &TenantConfig,
        actor: &SignedIn,
        account_id: &str,
    ) -> Result<PersonView, IdentityError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&tenant.slug).await?;
        self.require_admin(&tx, actor).await?;
        let person = store::find_by_id(&tx, account_id)
            .await?
            .ok_or(IdentityError::AccountNotFound)?;
        let special = if tenant.account_fields.special_requirements.is_some() {
            store::secrets::special_requirements(&tx, &self.keys, &person.id, now).await?
        } else {
            None
        };
        let memberships = orgs::memberships_of(&tx, &person.id).await?;
        record_detail(
            &tx,
            &self.clock,
            &actor_id(&actor.account.id),
            "account.viewed_by_admin",
            &person.id,
            serde_json::json!({ "special_requirements_shown": special.is_some() }),
        )
        .await?;
        tx.commit().await?;
        Ok(PersonView {
            account: person,
            special_requirements: special,
            memberships,
        })
    }
}

impl Identity {
    /// The special requirements of those of `ids` who recorded any, decrypted in the
    /// caller's transaction for one view the caller logs (a course organiser's delegate
    /// list). Nothing is returned where the tenant does not collect them.
    ///
    /// # Errors
    /// When the database fails or a value does not open.
    pub async fn special_requirements_of(
        &self,
        tx: &TenantTx,
        tenant: &TenantConfig,
        ids: &[String],
    ) -> Result<HashMap<String, String>, IdentityError> {
        let mut out = HashMap::new();
        if tenant.account_fields.special_requirements.is_none() {
            return Ok(out);
        }
        let now = self.clock.now();
        for id in ids {
            if let Some(s) = store::secrets::special_requirements(tx, &self.keys, id, now).await? {
                out.insert(id.clone(), s);
            }
        }
        Ok(out)
    }
}
