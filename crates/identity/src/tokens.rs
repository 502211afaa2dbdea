//! API tokens for integrators' systems (a school's or council's own software). A tenant
//! administrator makes one with a name, scopes and a lifetime; it is shown once and only its
//! SHA-256 is kept. A token acts for the administrator who made it, within its scopes: it
//! stops working when it expires, is revoked, or that person stops being a tenant
//! administrator (or their account closes, which deletes it). Every use is audited with
//! the token's name.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use tenant_router::TenantId;

use crate::domain::rights::Role;
use crate::domain::signup::FieldError;
use crate::domain::token;
use crate::service::{actor, record_detail};
use crate::sessions::{Session, Stage};
use crate::store::entity::api_token;
use crate::store::{self, organisations as orgs, status};
use crate::{Identity, IdentityError, SignedIn};

/// Every token starts with this, so a leaked one is easy to recognise and search for.
pub const PREFIX: &str = "ept_";

/// Longest lifetime, in days.
pub const MAX_DAYS: i64 = 366;

/// What a token may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Courses, sessions, services, providers, resources, anonymous feedback.
    Catalogue,
    /// Bookings, checkout, the basket, the waiting list, purchases and who bought a
    /// service, delegate lists and attendance: the areas that name people.
    Bookings,
    /// Data rights requests (for privacy officers).
    Rights,
}

impl Area {
    /// Every area, in the order forms show them.
    pub const ALL: [Self; 3] = [Self::Catalogue, Self::Bookings, Self::Rights];

    /// Stored and form name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Catalogue => "catalogue",
            Self::Bookings => "bookings",
            Self::Rights => "rights",
        }
    }

    /// What people call it.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Catalogue => "Courses, services and resources",
            Self::Bookings => "Bookings, purchases, buyers, delegate lists and attendance",
            Self::Rights => "Data rights requests",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The area of an API path, if a token may reach it at all.
    #[must_use]
    pub fn of_path(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("/api/v1/")?;
        let mut parts = rest.split('/');
        let first = parts.next()?;
        let third = parts.nth(1);
        match (first, third) {
            ("services", Some("purchase" | "purchasers"))
            | ("organisations", Some("invoices"))
            | ("sessions", Some("attendance" | "delegates"))
            | ("bookings" | "checkout" | "basket" | "waiting-list", _) => Some(Self::Bookings),
            ("courses" | "sessions" | "services" | "providers" | "resources", _) => {
                Some(Self::Catalogue)
            }
            ("rights-requests", _) => Some(Self::Rights),
            _ => None,
        }
    }
}

/// Read only, or read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// `GET` only.
    Read,
    /// Every method.
    Write,
}

/// One scope: an area and how far into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The area.
    pub area: Area,
    /// How far.
    pub access: Access,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = match self.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        write!(f, "{}:{access}", self.area.as_str())
    }
}

/// A token's scopes as stored.
fn parse_scopes(stored: &str) -> Vec<Scope> {
    stored
        .split(',')
        .filter_map(|s| {
            let (area, access) = s.split_once(':')?;
            let access = match access {
                "read" => Access::Read,
                "write" => Access::Write,
                _ => return None,
            };
            Some(Scope {
                area: Area::parse(area)?,
                access,
            })
        })
        .collect()
}

/// A token as its list shows it (never the token itself).
#[derive(Debug, Clone)]
pub struct TokenView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<Scope>,
    /// Made when.
    pub created_at: DateTime<Utc>,
    /// Stops working when.
    pub expires_at: DateTime<Utc>,
    /// Revoked when.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last used when.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<api_token::Model> for TokenView {
    fn from(m: api_token::Model) -> Self {
        Self {
            scopes: parse_scopes(&m.scopes),
            id: m.id,
            name: m.name,
            created_at: m.created_at,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
            last_used_at: m.last_used_at,
        }
    }
}

/// A new token's fields, read from a form: `name`, `days`, and `scope_{area}` set to
/// `read` or `write` (anything else: no access to that area).
///
/// # Errors
/// Every field error.
pub fn read_form(
    form: &HashMap<String, String>,
) -> Result<(String, Vec<Scope>, i64), Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = form.get("name").map_or("", |n| n.trim()).to_owned();
    if name.is_empty() || name.chars().count() > 80 {
        errors.push(FieldError {
            field: "name",
            message: "Enter a name of up to 80 characters, like the system that will use it"
                .to_owned(),
        });
    }
    let days = form.get("days").map_or("", |d| d.trim());
    let days = match days.parse::<i64>() {
        Ok(d) if (1..=MAX_DAYS).contains(&d) => d,
        _ => {
            errors.push(FieldError {
                field: "days",
                message: format!("Enter how many days it works, from 1 to {MAX_DAYS}"),
            });
            0
        }
    };
    let mut scopes = Vec::new();
    for area in Area::ALL {
        let access = match form
            .get(&format!("scope_{}", area.as_str()))
            .map(String::as_str)
        {
            Some("read") => Access::Read,
            Some("write") => Access::Write,
            Some("" | "none") | None => continue,
            Some(_) => {
                errors.push(FieldError {
                    field: "scopes",
                    message: "Choose no access, read only, or read and write".to_owned(),
                });
                continue;
            }
        };
        scopes.push(Scope { area, access });
    }
    if scopes.is_empty() && errors.iter().all(|e| e.field != "scopes") {
        errors.push(FieldError {
            field: "scopes",
            message: "Choose at least one area the token may reach".to_owned(),
        });
    }
    if errors.is_empty() {
        Ok((name, scopes, days))
    } else {
        Err(errors)
    }
}

/// Why a token was not accepted.
#[derive(Debug)]
pub enum TokenRefusal {
    /// Unknown (or another tenant's), expired, revoked, or its maker may no longer act.
    Invalid,
    /// Good, but its scopes do not reach this path or method.
    OutOfScope,
}

impl Identity {
    /// The tenant's tokens, newest first (tenant administrators only).
    ///
    /// # Errors
    /// [`IdentityError::NotTenantAdmin`].
    pub async fn api_tokens(
        &self,
        tenant: &TenantId,
        who: &SignedIn,
    ) -> Result<Vec<TokenView>, IdentityError> {
        let tx = self.db.tenant_read(tenant).await?;
        if let Err(e) = self.require_admin(&tx, who).await {
            tx.rollback().await?;
            return Err(e);
        }
        let rows = api_token::Entity::find()
            .filter(api_token::Column::TenantId.eq(tenant.as_str()))
            .order_by_desc(api_token::Column::CreatedAt)
            .all(&*tx)
            .await?;
        tx.rollback().await?;
        Ok(rows.into_iter().map(TokenView::from).collect())
    }

    /// Makes a token; returns it with the secret, which is never shown again.
    ///
    /// # Errors
    /// [`IdentityError::NotTenantAdmin`], [`IdentityError::Invalid`].
    pub async fn create_api_token(
        &self,
        tenant: &TenantId,
        who: &SignedIn,
        form: &HashMap<String, String>,
    ) -> Result<(TokenView, String), IdentityError> {
        let read = self.db.tenant_read(tenant).await?;
        let admin = self.require_admin(&read, who).await;
        read.rollback().await?;
        admin?;
        // Checked before the write transaction opens: a bad form never takes the writer's turn.
        let (name, scopes, days) = read_form(form).map_err(IdentityError::Invalid)?;
        let tx = self.db.tenant_tx(tenant).await?;
        let secret = format!(
            "{PREFIX}{}",
            token::generate().map_err(IdentityError::random)?
        );
        let now = self.clock.now();
        let row = api_token::ActiveModel {
            tenant_id: Set(tenant.as_str().to_owned()),
            id: Set(uuid::Uuid::now_v7().to_string()),
            name: Set(name),
            secret_hash: Set(token::digest(&secret)),
            scopes: Set(scopes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")),
            account_id: Set(who.account.id.clone()),
            created_at: Set(now),
            expires_at: Set(now + Duration::days(days)),
            revoked_at: Set(None),
            last_used_at: Set(None),
        }
        .insert(&*tx)
        .await?;
        record_detail(
            &tx,
            &self.clock,
            &actor(&who.account.id),
            "api_token.created",
            &row.id,
            serde_json::json!({ "name": row.name, "scopes": row.scopes, "expires_at": row.expires_at }),
        )
        .await?;
        tx.commit().await?;
        Ok((row.into(), secret))
    }

    /// Revokes a token of this tenant: it stops working at once.
    ///
    /// # Errors
    /// [`IdentityError::NotTenantAdmin`]; [`IdentityError::BadToken`] for an unknown id
    /// (or another tenant's) or a token already revoked.
    pub async fn revoke_api_token(
        &self,
        tenant: &TenantId,
        who: &SignedIn,
        id: &str,
    ) -> Result<(), IdentityError> {
        let tx = self.db.tenant_tx(tenant).await?;
        if let Err(e) = self.require_admin(&tx, who).await {
            tx.rollback().await?;
            return Err(e);
        }
        let found = api_token::Entity::find_by_id((tenant.as_str().to_owned(), id.to_owned()))
            .one(&*tx)
            .await?
            .filter(|r| r.revoked_at.is_none());
        let Some(row) = found else {
            tx.rollback().await?;
            return Err(IdentityError::BadToken);
        };
        let name = row.name.clone();
        let mut active: api_token::ActiveModel = row.into();
        active.revoked_at = Set(Some(self.clock.now()));
        active.update(&*tx).await?;
        record_detail(
            &tx,
            &self.clock,
            &actor(&who.account.id),
            "api_token.revoked",
            id,
            serde_json::json!({ "name": name }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The person a bearer token acts for, when it is good for this path (and for writing,
    /// when `write`: any method but `GET` and `HEAD`). `route` is what the audit records:
    /// the route's pattern, never the raw path (which may carry a link's secret). A path
    /// outside the token areas is refused before the database is asked; a good token's use
    /// is audited with its name and marks it used, and so is a good token refused for its
    /// scopes.
    ///
    /// # Errors
    /// The database's errors; a refused token is `Ok(Err(..))`.
    pub async fn by_api_token(
        &self,
        tenant: &TenantId,
        secret: &str,
        write: bool,
        path: &str,
        route: &str,
    ) -> Result<Result<SignedIn, TokenRefusal>, IdentityError> {
        let Some(area) = Area::of_path(path) else {
            return Ok(Err(TokenRefusal::OutOfScope));
        };
        let now = self.clock.now();
        // Read first: a bad token never waits for the writer's turn.
        let tx = self.db.tenant_read(tenant).await?;
        let row = api_token::Entity::find()
            .filter(api_token::Column::TenantId.eq(tenant.as_str()))
            .filter(api_token::Column::SecretHash.eq(token::digest(secret)))
            .one(&*tx)
            .await?
            .filter(|r| r.revoked_at.is_none() && r.expires_at > now);
        let account = match &row {
            Some(r) => store::find_by_id(&tx, &r.account_id)
                .await?
                .filter(|a| a.status == status::ACTIVE),
            None => None,
        };
        let maker_may = match &account {
            Some(a) => orgs::can_act_as(&tx, &a.id, Role::TenantAdmin).await?,
            None => false,
        };
        let manages = match &account {
            Some(a) if maker_may => crate::duties::manages_anything(&tx, &a.id).await?,
            _ => false,
        };
        tx.rollback().await?;
        let (Some(row), Some(account), true) = (row, account, maker_may) else {
            return Ok(Err(TokenRefusal::Invalid));
        };
        let needed = if write { Access::Write } else { Access::Read };
        let allowed = parse_scopes(&row.scopes)
            .iter()
            .any(|s| s.area == area && s.access >= needed);
        let tx = self.db.tenant_tx(tenant).await?;
        record_detail(
            &tx,
            &self.clock,
            &format!("api_token:{}", row.id),
            if allowed {
                "api_token.used"
            } else {
                "api_token.refused"
            },
            &row.id,
            serde_json::json!({ "name": row.name, "write": write, "route": route }),
        )
        .await?;
        let id = row.id.clone();
        if allowed {
            let mut active: api_token::ActiveModel = row.into();
            active.last_used_at = Set(Some(now));
            active.update(&*tx).await?;
        }
        // The use's audit event and time: nothing the signed-in cache reads.
        tx.commit_uncounted().await?;
        if !allowed {
            return Ok(Err(TokenRefusal::OutOfScope));
        }
        Ok(Ok(SignedIn {
            session: Session {
                account_id: account.id.clone(),
                // No form is ever checked against a token's session: tokens reach the
                // JSON API only, whose writes need JSON or an empty body.
                csrf: format!("api-token:{id}"),
                stage: Stage::Full,
                created_ms: u64::try_from(now.timestamp_millis()).unwrap_or_default(),
                restarted_ms: 0,
            },
            account,
            manages,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fall_in_their_areas() {
        for (path, area) in [
            ("/api/v1/courses", Some(Area::Catalogue)),
            ("/api/v1/courses/x/sessions/y/cancel", Some(Area::Catalogue)),
            ("/api/v1/sessions/x/delegates", Some(Area::Bookings)),
            ("/api/v1/sessions/x/attendance", Some(Area::Bookings)),
            ("/api/v1/services/x/purchase", Some(Area::Bookings)),
            ("/api/v1/services/x/purchasers", Some(Area::Bookings)),
            ("/api/v1/organisations/x/invoices", Some(Area::Bookings)),
            ("/api/v1/checkout", Some(Area::Bookings)),
            ("/api/v1/rights-requests/x", Some(Area::Rights)),
            ("/api/openapi.json", None),
            ("/account", None),
            ("/api/v1/unknown", None),
        ] {
            assert_eq!(Area::of_path(path), area, "{path}");
        }
    }

    #[test]
    fn forms_need_a_name_a_lifetime_and_a_scope() {
        let form = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<HashMap<_, _>>()
        };
        let (name, scopes, days) = read_form(&form(&[
            ("name", " Finance "),
            ("days", "90"),
            ("scope_catalogue", "read"),
            ("scope_bookings", "write"),
            ("scope_rights", "none"),
        ]))
        .unwrap();
        assert_eq!((name.as_str(), days), ("Finance", 90));
        assert_eq!(
            scopes.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["catalogue:read", "bookings:write"]
        );
        let errors = read_form(&form(&[("days", "0"), ("scope_catalogue", "admin")])).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "days", "scopes"]);
        let errors = read_form(&form(&[("name", "x"), ("days", "400")])).unwrap_err();
        assert_eq!(
            errors.iter().map(|e| e.field).collect::<Vec<_>>(),
            ["days", "scopes"]
        );
    }
}
