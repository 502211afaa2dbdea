//! An early-career teacher's induction record (induction module).

use sea_orm::entity::prelude::*;

/// An induction record.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "induction_record")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The teacher's account.
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    /// Teacher Reference Number.
    pub trn: String,
    /// Where they qualified.
    pub qualification_institution: String,
    /// Key stage taught.
    pub key_stage: String,
    /// Year group taught.
    pub year_group: Option<String>,
    /// Induction start date.
    pub start_date: Date,
    /// Date of birth.
    pub date_of_birth: Date,
    /// Last change.
    pub updated_at: ChronoDateTimeUtc,
    /// When it was made (records made before this was kept: their last change).
    pub created_at: Option<ChronoDateTimeUtc>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
