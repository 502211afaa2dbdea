//! A downloadable resource; its bytes are in object storage at `object_key`.

use sea_orm::entity::prelude::*;

/// A resource.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "resource")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Id (UUID v7).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The provider that published it.
    pub provider_id: String,
    /// Title.
    pub title: String,
    /// What it is.
    pub summary: String,
    /// `public` or `signed_in`.
    pub access: String,
    /// File name offered on download.
    pub file_name: String,
    /// Content type, decided by the platform from the file's type (never the uploader's say).
    pub content_type: String,
    /// Size.
    pub size_bytes: i64,
    /// Key under the tenant's prefix in object storage.
    pub object_key: String,
    /// Uploaded.
    pub created_at: ChronoDateTimeUtc,
    /// Last changed.
    pub updated_at: ChronoDateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
