//! Tenant-scoped persistence for the privacy engine (consent ledger, notice versions,
//! disposal records, as later issues add them), and the classification of the platform
//! tables the `storage` crate owns.

pub mod consent;
pub mod notice;
pub mod retention;
pub mod rights;

use tenant_router::config::Module;

use crate::{Need, PersonalColumn};

/// Platform-table columns holding personal data. The outbox holds each email until sent:
/// the address and the text (which may quote names).
pub const PERSONAL_DATA: &[PersonalColumn] = &[
    PersonalColumn {
        table: "outbox_email",
        column: "to_address",
        category: "account.contact",
        need: Need::Always,
    },
    PersonalColumn {
        table: "outbox_email",
        column: "body_text",
        category: "account.contact",
        need: Need::Always,
    },
    // Booking confirmations carry a calendar entry for the course booked.
    PersonalColumn {
        table: "outbox_email",
        column: "attachment_text",
        category: "booking.record",
        need: Need::Module(Module::Courses),
    },
    // A mail server's refusal often quotes the address.
    PersonalColumn {
        table: "outbox_email",
        column: "last_error",
        category: "account.contact",
        need: Need::Always,
    },
    // Choices about emails: every tenant asks whether to email notice changes; those
    // offering a newsletter also ask about it and about marketing.
    PersonalColumn {
        table: "consent_event",
        column: "purpose",
        category: "account.preferences",
        need: Need::Always,
    },
    // What an administrator wrote about why a person's account is held.
    PersonalColumn {
        table: "retention_hold",
        column: "reason",
        category: "account.profile",
        need: Need::Always,
    },
    // A rights request: who asked, where to answer and what they asked for, in their words;
    // its history's notes may quote them.
    PersonalColumn {
        table: "rights_request",
        column: "requester_name",
        category: "account.profile",
        need: Need::Always,
    },
    PersonalColumn {
        table: "rights_request",
        column: "requester_email",
        category: "account.contact",
        need: Need::Always,
    },
    PersonalColumn {
        table: "rights_request",
        column: "details",
        category: "account.profile",
        need: Need::Always,
    },
    PersonalColumn {
        table: "rights_request",
        column: "extension_reason",
        category: "account.profile",
        need: Need::Always,
    },
    PersonalColumn {
        table: "rights_request_event",
        column: "note",
        category: "account.profile",
        need: Need::Always,
    },
    PersonalColumn {
        table: "consent_event",
        column: "given",
        category: "account.preferences",
        need: Need::Always,
    },
];

/// Platform-table columns that hold no personal data. The audit log's `subject` and
/// `detail` hold ids, never names or contact details.
pub const OTHER_COLUMNS: &[&str] = &[
    "tenant.id",
    "tenant.display_name",
    "tenant.config",
    "tenant.config_sha256",
    "tenant.logo",
    "tenant.logo_content_type",
    "tenant.created_at",
    "tenant.updated_at",
    "audit_event.tenant_id",
    "audit_event.seq",
    "audit_event.occurred_at",
    "audit_event.actor",
    "audit_event.action",
    "audit_event.subject",
    "audit_event.detail",
    "audit_event.prev_hash",
    "audit_event.hash",
    "audit_pending.tenant_id",
    "audit_pending.id",
    "audit_pending.occurred_at",
    "audit_pending.actor",
    "audit_pending.action",
    "audit_pending.subject",
    "audit_pending.detail",
    "outbox_email.tenant_id",
    "outbox_email.id",
    "outbox_email.subject",
    "outbox_email.created_at",
    "outbox_email.sent_at",
    "outbox_email.claimed_until",
    "outbox_email.attachment_name",
    "outbox_email.attachment_type",
    "outbox_email.attempts",
    "consent_event.tenant_id",
    "consent_event.id",
    "consent_event.account_id",
    "consent_event.method",
    "consent_event.notice_version",
    "consent_event.occurred_at",
    "job_lease.name",
    "job_lease.holder",
    "job_lease.expires_at",
    "retention_hold.tenant_id",
    "retention_hold.id",
    "retention_hold.account_id",
    "retention_hold.kind",
    "retention_hold.placed_by",
    "retention_hold.created_at",
    "retention_hold.until",
    "retention_hold.released_at",
    "retention_warning.tenant_id",
    "retention_warning.account_id",
    "retention_warning.step",
    "retention_warning.due_on",
    "retention_warning.warned_at",
    // Disposal records name accounts by id only, and say what was done under which rule.
    "disposal_record.tenant_id",
    "disposal_record.id",
    "disposal_record.run_id",
    "disposal_record.rule_index",
    "disposal_record.rule",
    "disposal_record.action",
    "disposal_record.record_kind",
    "disposal_record.account_ref",
    "disposal_record.records",
    "disposal_record.remaining",
    "disposal_record.occurred_at",
    // Notice drafts and versions hold what the notice publishes: the controller's and the
    // DPO's published work contacts, never a reader's data. Editors are named by account id.
    "notice_draft.tenant_id",
    "notice_draft.config",
    "notice_draft.prose",
    "notice_draft.based_on",
    "notice_draft.changes",
    "notice_draft.updated_by",
    "notice_draft.updated_at",
    "notice_version.tenant_id",
    "notice_version.version",
    "notice_version.config",
    "notice_version.prose",
    "notice_version.notice",
    "notice_version.significant",
    "notice_version.summary",
    "notice_version.changes",
    "notice_version.published_by",
    "notice_version.published_at",
    // An acknowledgement says only who read which version when; it goes with the person.
    "notice_ack.tenant_id",
    "notice_ack.account_id",
    "notice_ack.version",
    "notice_ack.acknowledged_at",
    // A rights request's clock and state, and who did what to it, by account id.
    "rights_request.tenant_id",
    "rights_request.id",
    "rights_request.kind",
    "rights_request.channel",
    "rights_request.account_id",
    "rights_request.received_on",
    "rights_request.started_on",
    "rights_request.paused_since",
    "rights_request.paused_days",
    "rights_request.extension_months",
    "rights_request.due_on",
    "rights_request.stage",
    "rights_request.outcome",
    "rights_request.assignee",
    "rights_request.hold_id",
    "rights_request.created_by",
    "rights_request.created_at",
    "rights_request.updated_at",
    "rights_request.closed_at",
    "rights_request_event.tenant_id",
    "rights_request_event.id",
    "rights_request_event.request_id",
    "rights_request_event.account_id",
    "rights_request_event.occurred_at",
    "rights_request_event.actor",
    "rights_request_event.action",
    // A bundle names the object holding the copy and the digest of its link's token.
    "rights_bundle.tenant_id",
    "rights_bundle.id",
    "rights_bundle.request_id",
    "rights_bundle.account_id",
    "rights_bundle.object_key",
    "rights_bundle.token_hash",
    "rights_bundle.created_at",
    "rights_bundle.expires_at",
    "rights_bundle.used_at",
];
