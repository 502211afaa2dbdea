//! A person's TOTP secret (encrypted) and the last time step used with it.

use sea_orm::entity::prelude::*;

/// A TOTP enrolment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_totp")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The account.
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// The shared secret, encrypted under the tenant key, bound to the account.
    pub secret_sealed: Vec<u8>,
    /// When the person proved their app works; until then it is not required.
    pub confirmed_at: Option<ChronoDateTimeUtc>,
    /// The last 30-second step a code was accepted for; older or equal steps are refused,
    /// so a seen code cannot be replayed.
    pub last_step: Option<i64>,
    /// When it was made.
    pub created_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
