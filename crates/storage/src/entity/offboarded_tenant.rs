//! A council that has left the platform (see `crate::tenants::offboarded`).

use sea_orm::entity::prelude::*;

/// An offboarded tenant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "offboarded_tenant")]
pub struct Model {
    /// The slug, never used again.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Its display name when it left.
    pub display_name: String,
    /// The hostnames it answered to, as a JSON array.
    #[sea_orm(column_type = "Text")]
    pub hostnames: String,
    /// The archive's key in the platform's area of the object store; empty while the
    /// offboarding is under way.
    pub archive: String,
    /// SHA-256 of the archive (hex); empty while under way.
    pub archive_sha256: String,
    /// Rows per table removed, as a JSON object.
    #[sea_orm(column_type = "Text")]
    pub counts: String,
    /// When it stopped being served.
    pub offboarded_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
