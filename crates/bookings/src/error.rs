//! Booking errors. No HTTP here: the server maps these once.

/// What can go wrong in bookings.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The storage layer failed.
    #[error(transparent)]
    Store(#[from] storage::StorageError),
    /// Identity (memberships) failed.
    #[error(transparent)]
    Identity(#[from] identity::IdentityError),
    /// The privacy engine failed.
    #[error(transparent)]
    Privacy(#[from] privacy_engine::PrivacyError),
    /// No such session, booking or order in this tenant (also another tenant's id).
    #[error("no such session or booking")]
    NotFound,
    /// A document (a certificate) could not be written.
    #[error(transparent)]
    Document(#[from] crate::pdf_font::FontError),
    /// The request is malformed (no items, too many, a bad idempotency key…).
    #[error("{0}")]
    BadRequest(&'static str),
    /// The session cannot be booked now.
    #[error("{message}")]
    NotBookable {
        /// Stable code.
        code: &'static str,
        /// What to tell the person.
        message: &'static str,
    },
    /// The delegate already holds a place (or a waiting-list entry) on the session.
    #[error("already booked on this session")]
    AlreadyBooked,
    /// The booker may not book for this delegate or organisation.
    #[error("{0}")]
    NotAllowed(&'static str),
    /// The total the client showed is not what the platform computes.
    #[error("the price has changed: the total is now {computed_pence} pence")]
    PriceMismatch {
        /// What the platform computes.
        computed_pence: i64,
    },
    /// The idempotency key was used before for a different request.
    #[error("this idempotency key was used for a different checkout")]
    IdempotencyConflict,
    /// The waiting-list offer has lapsed; it has passed to the next person.
    #[error("this offer has lapsed")]
    OfferExpired,
    /// The waiting-list offer was already accepted or has lapsed.
    #[error("this offer has already been used")]
    OfferUsed,
    /// The booking can no longer be cancelled online.
    #[error("{0}")]
    CannotCancel(&'static str),
    /// The register cannot be marked before the session starts.
    #[error("the session has not started yet")]
    NotStarted,
    /// The organisation already holds this service.
    #[error("the organisation already holds this service")]
    AlreadyPurchased,
    /// Feedback is open only to delegates marked as attended.
    #[error("feedback is open once the delegate has attended")]
    FeedbackNotOpen,
    /// The delegate has already given feedback for this booking.
    #[error("feedback already given")]
    FeedbackGiven,
    /// The course holds certificates until the delegate gives feedback.
    #[error("feedback comes before the certificate")]
    FeedbackFirst {
        /// The booking to give feedback on.
        booking_id: String,
    },
    /// Feedback answers that fail the checks, each with its field.
    #[error("the feedback has problems")]
    InvalidFeedback(Vec<(&'static str, String)>),
}

impl From<sea_orm::DbErr> for BookingError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}
