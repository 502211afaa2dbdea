//! Identity's declarations to the privacy engine: every column that holds personal data
//! (with its inventory category), every column that does not, and every table about one
//! person (for erasure). A test fails when a column or table is in none of them.

use privacy_engine::store::retention::{Erase, SubjectKey, SubjectTable};
use privacy_engine::{Need, PersonalColumn};
use tenant_router::config::Module;

const fn col(
    table: &'static str,
    column: &'static str,
    category: &'static str,
    need: Need,
) -> PersonalColumn {
    PersonalColumn {
        table,
        column,
        category,
        need,
    }
}

/// Columns holding personal data, with their inventory category.
pub const PERSONAL_DATA: &[PersonalColumn] = &[
    col("account", "email", "account.contact", Need::Always),
    col(
        "account_token",
        "new_email",
        "account.contact",
        Need::Always,
    ),
    col("account", "first_name", "account.profile", Need::Always),
    col("account", "last_name", "account.profile", Need::Always),
    col(
        "account",
        "alert_frequency",
        "account.profile",
        Need::Always,
    ),
    col(
        "induction_record",
        "trn",
        "induction.record",
        Need::Module(Module::Induction),
    ),
    col(
        "induction_record",
        "qualification_institution",
        "induction.record",
        Need::Module(Module::Induction),
    ),
    col(
        "induction_record",
        "key_stage",
        "induction.record",
        Need::Module(Module::Induction),
    ),
    col(
        "induction_record",
        "year_group",
        "induction.record",
        Need::Module(Module::Induction),
    ),
    col(
        "induction_record",
        "start_date",
        "induction.record",
        Need::Module(Module::Induction),
    ),
    col(
        "induction_record",
        "date_of_birth",
        "induction.record",
        Need::Module(Module::Induction),
    ),
    col("account", "password_hash", "account.profile", Need::Always),
    col(
        "account",
        "job_title",
        "account.profile",
        Need::AccountField("job_title"),
    ),
    col(
        "account",
        "job_category",
        "account.profile",
        Need::AccountField("job_category"),
    ),
    col(
        "account",
        "telephone",
        "account.contact",
        Need::AccountField("telephone"),
    ),
    col(
        "account",
        "business_address",
        "account.contact",
        Need::AccountField("business_address"),
    ),
    col(
        "account",
        "organisation_name",
        "account.profile",
        Need::AccountField("organisation_name"),
    ),
    col(
        "account",
        "organisation_telephone",
        "account.contact",
        Need::AccountField("organisation_telephone"),
    ),
    col(
        "account",
        "is_childminder",
        "account.childminder_contact",
        Need::AccountField("personal_telephone"),
    ),
    col(
        "account",
        "personal_telephone",
        "account.childminder_contact",
        Need::AccountField("personal_telephone"),
    ),
    col(
        "account_secret",
        "special_requirements",
        "account.special_requirements",
        Need::AccountField("special_requirements"),
    ),
    // Sign-in credentials are part of the account, kept and erased with it.
    col(
        "account_totp",
        "secret_sealed",
        "account.profile",
        Need::Always,
    ),
    col(
        "account_totp_pending",
        "secret_sealed",
        "account.profile",
        Need::Always,
    ),
    col(
        "federated_identity",
        "subject",
        "account.profile",
        Need::Always,
    ),
    // Who may act for which organisation is part of the person's profile.
    col("membership", "rights", "account.profile", Need::Always),
    col(
        "account",
        "home_address",
        "account.childminder_contact",
        Need::AccountField("home_address"),
    ),
];

/// Columns holding no personal data on their own (ids, states and times).
pub const OTHER_COLUMNS: &[&str] = &[
    "account.tenant_id",
    "account.id",
    "account.email_verified_at",
    "account.status",
    "account.created_at",
    "account.created_by",
    "account.last_activity_at",
    "account_token.tenant_id",
    "account_token.token_hash",
    "account_token.account_id",
    "account_token.purpose",
    "account_token.created_at",
    "account_token.expires_at",
    "account_token.used_at",
    "organisation.tenant_id",
    "organisation.id",
    "organisation.name",
    "organisation.kind",
    "organisation.created_at",
    "organisation.approve_bookings",
    "membership.tenant_id",
    "membership.organisation_id",
    "membership.account_id",
    "membership.status",
    "membership.created_at",
    "membership.updated_at",
    "api_token.tenant_id",
    "api_token.id",
    "api_token.name",
    "api_token.secret_hash",
    "api_token.scopes",
    "api_token.account_id",
    "api_token.created_at",
    "api_token.expires_at",
    "api_token.revoked_at",
    "api_token.last_used_at",
    "account_role.tenant_id",
    "account_role.account_id",
    "account_role.role",
    "account_role.provider_id",
    "account_role.created_at",
    "tenant_key.tenant_id",
    "tenant_key.wrapped",
    "tenant_key.created_at",
    "data_key.tenant_id",
    "data_key.key_id",
    "data_key.created_at",
    "account_secret.tenant_id",
    "account_secret.account_id",
    "account_secret.subject_key",
    "account_secret.updated_at",
    "account_totp.tenant_id",
    "account_totp.account_id",
    "account_totp.confirmed_at",
    "account_totp.last_step",
    "account_totp.created_at",
    "account_totp_pending.tenant_id",
    "account_totp_pending.account_id",
    "account_totp_pending.created_at",
    "recovery_code.tenant_id",
    "recovery_code.account_id",
    "recovery_code.code_hash",
    "recovery_code.used_at",
    "federated_identity.tenant_id",
    "federated_identity.issuer",
    "federated_identity.account_id",
    "federated_identity.created_at",
    "induction_record.tenant_id",
    "induction_record.account_id",
    "induction_record.updated_at",
    "induction_record.created_at",
];

/// Tables holding rows about one person, for erasure. Sign-in credentials, tokens,
/// memberships and roles go with the person.
pub const SUBJECT_TABLES: &[SubjectTable] = &[
    subject("account_token"),
    subject("account_secret"),
    subject("account_totp"),
    subject("account_totp_pending"),
    subject("recovery_code"),
    subject("federated_identity"),
    subject("induction_record"),
    subject("membership"),
    subject("account_role"),
    subject("api_token"),
];

const fn subject(table: &'static str) -> SubjectTable {
    SubjectTable {
        table,
        key: SubjectKey::AccountId("account_id"),
        erase: Erase::Delete,
    }
}
