//! An organisation in one tenant: a school, setting, college or childminder business.

use sea_orm::entity::prelude::*;

/// An organisation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisation")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Organisation id (UUID).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Name; unique in the tenant.
    pub name: String,
    /// `school`, `early_years`, `college`, `childminder` or `other`.
    pub kind: String,
    /// When it was added.
    pub created_at: ChronoDateTimeUtc,
    /// Whether places its staff book on its account wait for a lead administrator.
    pub approve_bookings: bool,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
