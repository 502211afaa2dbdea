//! Booking errors. No HTTP here: the server maps these once.

/// What can go wrong in bookings.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The storage layer failed.
    #[error(transparent)]
    Store(#[from] storage::StorageError),
    /// No such booking or order in this tenant.
    #[error("no such booking")]
    NotFound,
    /// The session has no free place.
    #[error("the session is full")]
    SessionFull,
}
