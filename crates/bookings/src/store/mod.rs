//! Tenant-scoped persistence for orders, bookings, waiting lists and the transaction log.

pub mod entity;

use privacy_engine::store::retention::{Erase, SubjectKey, SubjectTable};
use privacy_engine::{Need, PersonalColumn};
use tenant_router::config::Module;

const fn booking(table: &'static str, column: &'static str) -> PersonalColumn {
    PersonalColumn {
        table,
        column,
        category: "booking.record",
        need: Need::Module(Module::Courses),
    }
}

const fn purchase(table: &'static str, column: &'static str) -> PersonalColumn {
    PersonalColumn {
        table,
        column,
        category: "purchase.record",
        need: Need::AnyModule(&[Module::Courses, Module::TradedServices, Module::IctServices]),
    }
}

/// Columns holding personal data: what a person booked, when, for whom and at what price.
pub const PERSONAL_DATA: &[PersonalColumn] = &[
    booking("booking", "session_id"),
    booking("booking", "course_id"),
    booking("booking", "organisation_id"),
    booking("booking", "status"),
    booking("booking", "price_pence"),
    booking("waiting_list_entry", "session_id"),
    booking("waiting_list_entry", "course_id"),
    booking("waiting_list_entry", "organisation_id"),
    booking("waiting_list_entry", "status"),
    booking("booking", "attendance"),
    booking("booking", "attendance_marked_at"),
    booking("booking", "reminded_at"),
    // What someone has picked and not yet booked.
    booking("basket_item", "session_id"),
    // A delegate's own words about a course they attended.
    booking("course_feedback", "rating"),
    booking("course_feedback", "useful"),
    booking("course_feedback", "improve"),
    booking("course_feedback", "submitted_at"),
    PersonalColumn {
        table: "cpd_record",
        column: "title",
        category: "cpd.record",
        need: Need::Module(Module::Courses),
    },
    PersonalColumn {
        table: "cpd_record",
        column: "minutes",
        category: "cpd.record",
        need: Need::Module(Module::Courses),
    },
    PersonalColumn {
        table: "cpd_record",
        column: "completed_on",
        category: "cpd.record",
        need: Need::Module(Module::Courses),
    },
    // Who received whose delegate details, and which.
    PersonalColumn {
        table: "disclosure_log",
        column: "provider_id",
        category: "booking.delegate_details",
        need: Need::Module(Module::Courses),
    },
    PersonalColumn {
        table: "disclosure_log",
        column: "fields",
        category: "booking.delegate_details",
        need: Need::Module(Module::Courses),
    },
    purchase("booking_order", "number"),
    purchase("booking_order", "organisation_id"),
    purchase("booking_order", "total_pence"),
    purchase("service_purchase", "service_id"),
    purchase("service_purchase", "organisation_id"),
    purchase("service_purchase", "band"),
    purchase("service_purchase", "price_pence"),
    purchase("service_purchase", "period_start"),
    purchase("service_purchase", "period_end"),
    purchase("service_purchase", "status"),
    purchase("transaction_log", "organisation_id"),
    purchase("transaction_log", "action"),
    purchase("transaction_log", "subject"),
    purchase("transaction_log", "detail"),
];

/// Ids, keys and times, which say nothing about a person on their own.
pub const OTHER_COLUMNS: &[&str] = &[
    "invoice.tenant_id",
    "invoice.id",
    "invoice.number",
    "invoice.kind",
    "invoice.organisation_id",
    "invoice.order_id",
    "invoice.booking_id",
    "invoice.credits_number",
    "invoice.issued_at",
    "invoice.total_pence",
    "invoice.lines",
    "invoice_pending.tenant_id",
    "invoice_pending.id",
    "invoice_pending.short_name",
    "invoice_pending.organisation_id",
    "invoice_pending.order_id",
    "invoice_pending.issued_at",
    "invoice_pending.total_pence",
    "invoice_pending.lines",
    "invoice_counter.tenant_id",
    "invoice_counter.kind",
    "invoice_counter.last",
    "booking.tenant_id",
    "booking.id",
    "booking.order_id",
    "booking.account_id",
    "booking.created_at",
    "booking.cancelled_at",
    "waiting_list_entry.tenant_id",
    "waiting_list_entry.id",
    "waiting_list_entry.order_id",
    "waiting_list_entry.account_id",
    "waiting_list_entry.created_at",
    "waiting_list_entry.offer_token_hash",
    "waiting_list_entry.offer_expires_at",
    "booking_order.tenant_id",
    "booking_order.id",
    "booking_order.account_id",
    "booking_order.idempotency_key",
    "booking_order.request_hash",
    "booking_order.created_at",
    "transaction_log.tenant_id",
    "transaction_log.id",
    "transaction_log.account_id",
    "transaction_log.occurred_at",
    "cpd_record.tenant_id",
    "cpd_record.id",
    "cpd_record.account_id",
    "cpd_record.booking_id",
    "cpd_record.course_id",
    "cpd_record.created_at",
    "disclosure_log.tenant_id",
    "disclosure_log.id",
    "disclosure_log.disclosure_id",
    "disclosure_log.account_id",
    "disclosure_log.session_id",
    "disclosure_log.actor_id",
    "disclosure_log.format",
    "disclosure_log.occurred_at",
    "basket_item.tenant_id",
    "basket_item.id",
    "basket_item.account_id",
    "basket_item.delegate_account_id",
    "basket_item.added_at",
    "service_purchase.tenant_id",
    "service_purchase.id",
    "service_purchase.order_id",
    "service_purchase.account_id",
    "service_purchase.created_at",
    "course_feedback.tenant_id",
    "course_feedback.id",
    "course_feedback.booking_id",
    "course_feedback.course_id",
    "course_feedback.session_id",
    "course_feedback.account_id",
];

/// Tables holding rows about one person, for erasure. Waiting-list entries go with the
/// person; bookings, orders and the transaction log have their own retention and are kept
/// with the person pseudonymised.
pub const SUBJECT_TABLES: &[SubjectTable] = &[
    SubjectTable {
        table: "waiting_list_entry",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "cpd_record",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "basket_item",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    // A place in a colleague's basket for the person goes with the person too.
    SubjectTable {
        table: "basket_item",
        key: SubjectKey::AccountId("delegate_account_id"),
        erase: Erase::Delete,
    },
    SubjectTable {
        table: "course_feedback",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    },
    // The council must still be able to show what it passed on, and to whom.
    SubjectTable {
        table: "disclosure_log",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Pseudonymise {
            category: "booking.delegate_details",
        },
    },
    SubjectTable {
        table: "booking",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Pseudonymise {
            category: "booking.record",
        },
    },
    SubjectTable {
        table: "booking_order",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Pseudonymise {
            category: "purchase.record",
        },
    },
    SubjectTable {
        table: "service_purchase",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Pseudonymise {
            category: "purchase.record",
        },
    },
    SubjectTable {
        table: "transaction_log",
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Pseudonymise {
            category: "purchase.record",
        },
    },
];
