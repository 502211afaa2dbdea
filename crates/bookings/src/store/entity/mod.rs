//! sea-orm entities for the booking tables.

pub mod basket_item;
pub mod booking;
pub mod booking_order;
pub mod course_feedback;
pub mod cpd_record;
pub mod disclosure_log;
pub mod invoice;
pub mod invoice_pending;
pub mod service_purchase;
pub mod transaction_log;
pub mod waiting_list_entry;
