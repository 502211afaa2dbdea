//! The basket: places picked for oneself or colleagues, booked together. Adding and
//! removing go into the transaction log; checkout books every line as one order and empties
//! the basket in the same transaction (all or nothing), with the same rules, computed
//! prices and idempotency as a direct checkout.

use std::collections::HashMap;

use catalogue::store::entity::{course, course_session};
use identity::store::entity::account;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    Set, SqlErr,
};
use serde::{Deserialize, Serialize};
use tenant_router::TenantConfig;
use utoipa::ToSchema;

use crate::common::{Entry, log};
use crate::domain::{CheckoutItem, CheckoutOutcome, CheckoutRequest, ITEMS_MAX, check_key};
use crate::store::entity::basket_item;
use crate::take::bookable;
use crate::{BookingError, Bookings};

/// A line to add.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BasketAdd {
    /// The session.
    pub session_id: String,
    /// Who the place is for; the basket's owner when absent.
    #[serde(default)]
    pub delegate_account_id: Option<String>,
}

/// Checking out the basket.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BasketCheckout {
    /// The organisation billed (required when any place is for a colleague).
    #[serde(default)]
    pub organisation_id: Option<String>,
    /// The total the booker was shown, in pence (refused if it differs).
    #[serde(default)]
    pub expected_total_pence: Option<i64>,
}

/// A basket line, as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BasketLine {
    /// The line.
    pub id: String,
    /// The session.
    pub session_id: String,
    /// Its course.
    pub course_id: String,
    /// The course's title.
    pub course_title: String,
    /// When the session starts.
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// When it ends.
    pub ends_at: chrono::DateTime<chrono::Utc>,
    /// Who the place is for.
    pub delegate_account_id: String,
    /// Their name.
    pub delegate_name: String,
    /// The standard price (an SLA the organisation billed holds may lower it at checkout).
    pub price_pence: i64,
}

impl Bookings {
    /// The person's basket, in the order lines were added.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn basket(
        &self,
        cfg: &TenantConfig,
        account_id: &str,
    ) -> Result<Vec<BasketLine>, BookingError> {
        let t = cfg.slug.as_str();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let items = basket_item::Entity::find()
            .filter(basket_item::Column::TenantId.eq(t))
            .filter(basket_item::Column::AccountId.eq(account_id))
            .order_by_asc(basket_item::Column::Id)
            .all(&*tx)
            .await?;
        let sessions: HashMap<String, course_session::Model> = course_session::Entity::find()
            .filter(course_session::Column::TenantId.eq(t))
            .filter(course_session::Column::Id.is_in(items.iter().map(|i| i.session_id.as_str())))
            .all(&*tx)
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        let courses: HashMap<String, course::Model> = course::Entity::find()
            .filter(course::Column::TenantId.eq(t))
            .filter(course::Column::Id.is_in(sessions.values().map(|s| s.course_id.as_str())))
            .all(&*tx)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let names =
            crate::common::names_of(&tx, items.iter().map(|i| i.delegate_account_id.as_str()))
                .await?;
        tx.rollback().await?;
        Ok(items
            .into_iter()
            .filter_map(|i| {
                let s = sessions.get(&i.session_id)?;
                let c = courses.get(&s.course_id)?;
                Some(BasketLine {
                    session_id: s.id.clone(),
                    course_id: c.id.clone(),
                    course_title: c.title.clone(),
                    starts_at: s.starts_at,
                    ends_at: s.ends_at,
                    delegate_name: names
                        .get(&i.delegate_account_id)
                        .cloned()
                        .unwrap_or_default(),
                    delegate_account_id: i.delegate_account_id,
                    price_pence: c.price_pence,
                    id: i.id,
                })
            })
            .collect())
    }

    /// Adds a place to the person's basket. A place for someone else needs the checkout's
    /// rule already: the owner holds the booker (or lead administrator) right in an
    /// organisation where that person is a confirmed member; any other id is answered as
    /// unknown, so the basket reveals no one. Checkout checks again, against the
    /// organisation billed.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] (unknown session or person, also another tenant's),
    /// [`BookingError::NotBookable`], [`BookingError::AlreadyBooked`] (already in the
    /// basket), [`BookingError::BadRequest`] (basket full).
    pub async fn add_to_basket(
        &self,
        cfg: &TenantConfig,
        owner: &account::Model,
        add: &BasketAdd,
    ) -> Result<String, BookingError> {
        let t = cfg.slug.as_str();
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let (session, _) = bookable(&tx, &add.session_id, now).await?;
        let delegate = add
            .delegate_account_id
            .clone()
            .unwrap_or_else(|| owner.id.clone());
        if delegate != owner.id && !may_book_for(&tx, &owner.id, &delegate).await? {
            return Err(BookingError::NotFound);
        }
        let lines = basket_item::Entity::find()
            .filter(basket_item::Column::TenantId.eq(t))
            .filter(basket_item::Column::AccountId.eq(owner.id.as_str()))
            .all(&*tx)
            .await?
            .len();
        if lines >= ITEMS_MAX {
            return Err(BookingError::BadRequest(
                "A basket can hold 50 places at most",
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        basket_item::ActiveModel {
            tenant_id: Set(t.to_owned()),
            id: Set(id.clone()),
            account_id: Set(owner.id.clone()),
            session_id: Set(session.id.clone()),
            delegate_account_id: Set(delegate.clone()),
            added_at: Set(now),
        }
        .insert(&*tx)
        .await
        .map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => BookingError::AlreadyBooked,
            _ => e.into(),
        })?;
        let detail = serde_json::json!({ "session": session.id, "delegate": delegate });
        log(
            &tx,
            now,
            Entry {
                account: &owner.id,
                organisation: None,
                action: "basket.add",
                subject: &id,
                detail: &detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Takes a line out of the person's basket.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] for a line that is not in their basket.
    pub async fn remove_from_basket(
        &self,
        cfg: &TenantConfig,
        owner_id: &str,
        item_id: &str,
    ) -> Result<(), BookingError> {
        let t = cfg.slug.as_str();
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let item = basket_item::Entity::find()
            .filter(basket_item::Column::TenantId.eq(t))
            .filter(basket_item::Column::AccountId.eq(owner_id))
            .filter(basket_item::Column::Id.eq(item_id))
            .one(&*tx)
            .await?
            .ok_or(BookingError::NotFound)?;
        basket_item::Entity::delete_many()
            .filter(basket_item::Column::TenantId.eq(t))
            .filter(basket_item::Column::Id.eq(item.id.as_str()))
            .exec(&*tx)
            .await?;
        let detail = serde_json::json!({
            "session": item.session_id,
            "delegate": item.delegate_account_id,
        });
        log(
            &tx,
            now,
            Entry {
                account: owner_id,
                organisation: None,
                action: "basket.remove",
                subject: &item.id,
                detail: &detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Books everything in the basket as one order and empties it, in one transaction. A
    /// retry with the same key answers the first result (the basket is empty by then).
    ///
    /// # Errors
    /// As [`Bookings::checkout`]; [`BookingError::BadRequest`] for an empty basket.
    pub async fn checkout_basket(
        &self,
        cfg: &TenantConfig,
        booker: &account::Model,
        key: &str,
        how: &BasketCheckout,
    ) -> Result<CheckoutOutcome, BookingError> {
        check_key(key)?;
        if let Some(done) = self.replay_key(cfg, &booker.id, key, None).await? {
            return Ok(done);
        }
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let items = basket_item::Entity::find()
            .filter(basket_item::Column::TenantId.eq(cfg.slug.as_str()))
            .filter(basket_item::Column::AccountId.eq(booker.id.as_str()))
            .order_by_asc(basket_item::Column::Id)
            .all(&*tx)
            .await?;
        tx.rollback().await?;
        if items.is_empty() {
            return Err(BookingError::BadRequest("Your basket is empty"));
        }
        let req = CheckoutRequest {
            organisation_id: how.organisation_id.clone().filter(|o| !o.is_empty()),
            items: items
                .iter()
                .map(|i| CheckoutItem {
                    session_id: i.session_id.clone(),
                    delegate_account_id: Some(i.delegate_account_id.clone()),
                })
                .collect(),
            expected_total_pence: how.expected_total_pence,
        };
        let lines: Vec<String> = items.into_iter().map(|i| i.id).collect();
        self.checkout_emptying(cfg, booker, key, &req, &lines).await
    }
}

/// Whether `owner` may book for `delegate`: both confirmed members of one organisation,
/// where the owner holds the booker or lead administrator right.
async fn may_book_for(
    tx: &storage::TenantTx,
    owner: &str,
    delegate: &str,
) -> Result<bool, BookingError> {
    use identity::domain::rights::{Right, Rights};
    use identity::store::organisations::{membership, memberships_of};
    let verified = identity::domain::rights::membership_status::VERIFIED;
    for (m, o) in memberships_of(tx, owner).await? {
        let rights = Rights::parse(&m.rights).unwrap_or_default();
        if m.status != verified || !(rights.has(Right::Booker) || rights.has(Right::LeadAdmin)) {
            continue;
        }
        if membership(tx, &o.id, delegate)
            .await?
            .is_some_and(|d| d.status == verified)
        {
            return Ok(true);
        }
    }
    Ok(false)
}
