//! An email waiting to be sent (or already sent) for one tenant.

use sea_orm::entity::prelude::*;

/// An outbox email.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_email")]
pub struct Model {
    /// Owning tenant; leads the key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// Message id (UUID v7, so ids sort by creation).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Recipient.
    pub to_address: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    #[sea_orm(column_type = "Text")]
    pub body_text: String,
    /// When it was queued.
    pub created_at: ChronoDateTimeUtc,
    /// When it was handed to the mail server; `None` while waiting.
    pub sent_at: Option<ChronoDateTimeUtc>,
    /// A sender holds it until then.
    pub claimed_until: Option<ChronoDateTimeUtc>,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// Why the last attempt failed.
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// File name of the one attachment, if any.
    pub attachment_name: Option<String>,
    /// Its media type.
    pub attachment_type: Option<String>,
    /// Its text (calendar entries are text).
    #[sea_orm(column_type = "Text", nullable)]
    pub attachment_text: Option<String>,
    /// The one-click unsubscribe address (newsletters and marketing), sent as the
    /// `List-Unsubscribe` header with `List-Unsubscribe-Post` (RFC 8058).
    #[sea_orm(column_type = "Text", nullable)]
    pub unsubscribe_url: Option<String>,
    /// A management alert held for its recipient's summary (`daily` or `weekly`); no
    /// sender claims it until the daily job folds it into one. `None` for every other email.
    pub digest: Option<String>,
    /// The account a management alert is about (a colleague's place, a member's account),
    /// so erasing that person deletes the alerts still waiting. `None` for other email.
    pub about_account: Option<String>,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
