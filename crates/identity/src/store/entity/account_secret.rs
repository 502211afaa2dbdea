//! A person's subject key and their encrypted special-category values.

use sea_orm::entity::prelude::*;

/// Encrypted values of one account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_secret")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The account.
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// The subject key, wrapped under the tenant key.
    pub subject_key: Vec<u8>,
    /// Disability, access and dietary needs, encrypted under the subject key.
    pub special_requirements: Option<Vec<u8>>,
    /// Last change.
    pub updated_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
