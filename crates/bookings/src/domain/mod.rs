//! Booking rules as plain types and pure functions: no axum, no sea-orm.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::BookingError;

/// Most items one checkout may hold.
pub const ITEMS_MAX: usize = 50;

/// One place asked for at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutItem {
    /// The session.
    pub session_id: String,
    /// Who the place is for; the booker when absent.
    #[serde(default)]
    pub delegate_account_id: Option<String>,
}

/// A checkout: places on sessions, billed to an organisation or to the booker.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// The organisation billed (required when booking for colleagues).
    #[serde(default)]
    pub organisation_id: Option<String>,
    /// The places.
    pub items: Vec<CheckoutItem>,
    /// The total the booker was shown, in pence. When given it must equal the computed
    /// total, so a stale or altered price is refused rather than charged.
    #[serde(default)]
    pub expected_total_pence: Option<i64>,
}

/// A place taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Booked {
    /// The booking.
    pub booking_id: String,
    /// The session.
    pub session_id: String,
    /// The delegate.
    pub delegate_account_id: String,
    /// Price charged.
    pub price_pence: i64,
    /// `confirmed`, or `pending` while it waits for the organisation's approval.
    pub status: String,
}

/// A place waited for (the session was full).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Waiting {
    /// The entry.
    pub entry_id: String,
    /// The session.
    pub session_id: String,
    /// The delegate.
    pub delegate_account_id: String,
}

/// What a checkout did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CheckoutOutcome {
    /// The order.
    pub order_id: String,
    /// Its number.
    pub number: String,
    /// Total of the places taken.
    pub total_pence: i64,
    /// Places taken.
    pub booked: Vec<Booked>,
    /// Places waited for.
    pub waiting: Vec<Waiting>,
    /// True when this answers a retry of an earlier checkout with the same key.
    pub replayed: bool,
}

/// Checks the shape of a request and its idempotency key.
///
/// # Errors
/// [`BookingError::BadRequest`] naming the problem.
pub fn check_request(key: &str, req: &CheckoutRequest) -> Result<(), BookingError> {
    check_key(key)?;
    if req.items.is_empty() {
        return Err(BookingError::BadRequest("Add at least one place to book"));
    }
    if req.items.len() > ITEMS_MAX {
        return Err(BookingError::BadRequest(
            "A checkout can hold 50 places at most",
        ));
    }
    if req.expected_total_pence.is_some_and(|t| t < 0) {
        return Err(BookingError::BadRequest(
            "The expected total cannot be negative",
        ));
    }
    Ok(())
}

/// Checks an idempotency key: 8 to 100 printable ASCII characters.
///
/// # Errors
/// [`BookingError::BadRequest`] when it is not.
pub fn check_key(key: &str) -> Result<(), BookingError> {
    if !(8..=100).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(BookingError::BadRequest(
            "The idempotency key must be 8 to 100 printable characters",
        ));
    }
    Ok(())
}

/// A traded service or SLA bought for an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseRequest {
    /// The organisation it is for (and billed); the buyer needs the purchaser right there.
    pub organisation_id: String,
    /// The price band, by its label (as the service lists them).
    pub band: String,
    /// The total the buyer was shown, in pence; when given it must equal the band's price.
    #[serde(default)]
    pub expected_total_pence: Option<i64>,
}

/// What a purchase did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PurchaseOutcome {
    /// The order.
    pub order_id: String,
    /// Its number.
    pub number: String,
    /// The purchase.
    pub purchase_id: String,
    /// The price charged.
    pub total_pence: i64,
    /// First day covered.
    pub period_start: chrono::NaiveDate,
    /// Last day covered.
    pub period_end: chrono::NaiveDate,
    /// True when this answers a retry with the same key.
    pub replayed: bool,
}

/// A request's fingerprint: a retry with the same key must send the same request.
#[must_use]
pub fn fingerprint(req: &impl Serialize) -> String {
    let json = serde_json::to_vec(req).unwrap_or_default();
    hex::encode(Sha256::digest(json))
}

/// The request's fingerprint: a retry with the same key must send the same request.
#[must_use]
pub fn request_hash(req: &CheckoutRequest) -> String {
    fingerprint(req)
}

/// The price of a place: the SLA price when the course names an SLA and the organisation
/// holds it for the period, otherwise the standard price. Never typed by anyone at checkout.
#[must_use]
pub fn price(standard_pence: i64, sla_price_pence: Option<i64>, holds_sla: bool) -> i64 {
    match sla_price_pence {
        Some(p) if holds_sla => p,
        _ => standard_pence,
    }
}

/// An order number people can quote: the tenant's short name and ten characters from the
/// order's random id (Crockford base 32: no I, L, O or U to misread). Fifty random bits: a
/// council with a million orders would expect a clash about once in two thousand such
/// councils (eight characters made one likely), and a checkout whose number clashes runs
/// again with another ([`crate::common::number_taken`]).
#[must_use]
pub fn order_number(short_name: &str, id: uuid::Uuid) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bits = id.as_u128();
    let code: String = (0..10)
        .map(|i| char::from(ALPHABET[usize::try_from((bits >> (i * 5)) & 31).unwrap_or(0)]))
        .collect();
    let prefix: String = short_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_uppercase();
    format!("{prefix}-{code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(items: usize) -> CheckoutRequest {
        CheckoutRequest {
            organisation_id: None,
            items: (0..items)
                .map(|i| CheckoutItem {
                    session_id: format!("s{i}"),
                    delegate_account_id: None,
                })
                .collect(),
            expected_total_pence: None,
        }
    }

    #[test]
    fn requests_are_checked() {
        assert!(check_request("key-12345", &req(1)).is_ok());
        assert!(check_request("short", &req(1)).is_err());
        assert!(check_request("key with space", &req(1)).is_err());
        assert!(check_request("key-12345", &req(0)).is_err());
        assert!(check_request("key-12345", &req(51)).is_err());
    }

    #[test]
    fn hash_changes_with_content() {
        let a = req(1);
        let mut b = req(1);
        assert_eq!(request_hash(&a), request_hash(&b));
        b.expected_total_pence = Some(100);
        assert_ne!(request_hash(&a), request_hash(&b));
    }

    #[test]
    fn sla_holders_pay_the_sla_price() {
        assert_eq!(price(8500, Some(0), true), 0);
        assert_eq!(price(8500, Some(0), false), 8500);
        assert_eq!(price(8500, None, true), 8500);
    }

    #[test]
    fn order_numbers_read_well() {
        let n = order_number("SS4E", uuid::Uuid::from_u128(0x1234_5678_9abc_def0));
        assert!(n.starts_with("SS4E-"));
        assert_eq!(n.len(), 15);
        assert!(!n[5..].contains(['I', 'L', 'O', 'U']));
    }
}
