//! A person's account in one tenant.

use sea_orm::entity::prelude::*;

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Account id (UUID).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Lower-cased email; unique in the tenant.
    pub email: String,
    /// When the person proved they receive mail at `email`.
    pub email_verified_at: Option<ChronoDateTimeUtc>,
    /// argon2id PHC string; `None` until a password is set (invited or OIDC accounts).
    pub password_hash: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Job title.
    pub job_title: Option<String>,
    /// Job category.
    pub job_category: Option<String>,
    /// Work telephone.
    pub telephone: Option<String>,
    /// Work address.
    #[sea_orm(column_type = "Text", nullable)]
    pub business_address: Option<String>,
    /// Organisation as named by the person.
    pub organisation_name: Option<String>,
    /// Organisation telephone.
    pub organisation_telephone: Option<String>,
    /// Registered childminder.
    pub is_childminder: bool,
    /// Childminder's own telephone.
    pub personal_telephone: Option<String>,
    /// Childminder's home address.
    #[sea_orm(column_type = "Text", nullable)]
    pub home_address: Option<String>,
    /// `active` or `deactivated`.
    pub status: String,
    /// When the account was created.
    pub created_at: ChronoDateTimeUtc,
    /// Who created it, when not the person (`account:<id>`, `import:<source>`).
    pub created_by: Option<String>,
    /// Last sign-in or other activity; retention counts from here.
    pub last_activity_at: ChronoDateTimeUtc,
    /// How often management alerts are sent: `immediately`, `daily`, `weekly` or `never`.
    pub alert_frequency: String,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
