//! A tenant row: the running truth of a council's configuration.

use sea_orm::entity::prelude::*;

/// A tenant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenant")]
pub struct Model {
    /// The slug.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Display name, for listings without parsing the config.
    pub display_name: String,
    /// The configuration as JSON.
    #[sea_orm(column_type = "Text")]
    pub config: String,
    /// SHA-256 of the configuration JSON and logo, to notice a changed tenant file.
    pub config_sha256: String,
    /// Logo bytes.
    pub logo: Option<Vec<u8>>,
    /// Logo content type.
    pub logo_content_type: Option<String>,
    /// When the row was created.
    pub created_at: ChronoDateTimeUtc,
    /// When the row last changed.
    pub updated_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
