//! The per-tenant configuration model: one typed struct per `tenants/<slug>/tenant.toml`.
//!
//! Invariants: every table denies unknown keys (a typo is an error, never silently ignored);
//! a value that parses here has also passed [`validate`], so the rest of the platform can rely
//! on, for example, every retention rule naming a category the inventory declares. The file
//! holds no secrets: OIDC client secrets and keys come from the server's environment.

mod inventory;
mod period;
pub mod validate;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::TenantId;

pub use inventory::{
    DataCategory, PersonField, Processor, RetentionAction, RetentionRule, RetentionTrigger, Source,
};
pub use period::{Period, PeriodUnit};

/// Everything a council configures about its portal.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Stable identifier; must equal the folder name.
    pub slug: TenantId,
    /// The service's name as people know it, e.g. "Support Services for Education".
    pub display_name: String,
    /// Abbreviation used in tight spaces, e.g. "SSE".
    pub short_name: String,
    /// Hosts that serve this tenant: `<slug>.localhost` for development plus the real domains.
    pub hostnames: Vec<String>,
    /// Public website of the service, where it has one apart from the portal.
    #[serde(default)]
    pub website: Option<String>,
    /// Colours and logo.
    pub branding: Branding,
    /// Who decides why and how personal data is used.
    pub controller: Controller,
    /// The data protection officer.
    pub dpo: Dpo,
    /// Service contacts shown on every page footer and the controller page.
    pub contacts: Vec<Contact>,
    /// Facts about the notice this tenant published before moving to the platform.
    #[serde(default)]
    pub notice: NoticeFacts,
    /// UK GDPR article 6 bases the tenant relies on.
    pub lawful_bases: Vec<LawfulBasis>,
    /// UK GDPR article 9 conditions, for tenants that hold special-category data.
    #[serde(default)]
    pub special_category_conditions: Vec<SpecialCategoryCondition>,
    /// Features switched on for this tenant.
    pub modules: Vec<Module>,
    /// Who uses the portal.
    pub audiences: Vec<Audience>,
    /// Which account fields are asked for, and how.
    pub account_fields: AccountFields,
    /// Job categories offered at sign-up (empty: free-text job title only).
    #[serde(default)]
    pub job_categories: Vec<String>,
    /// OpenID Connect identity providers staff may sign in with. Client secrets are not
    /// here: they come from the server's settings (`oidc_secrets.<tenant>.<id>`).
    #[serde(default)]
    pub oidc: Vec<OidcProvider>,
    /// Registered third-party providers of training or services.
    #[serde(default)]
    pub providers: Vec<Provider>,
    /// Organisations that process personal data on the controller's behalf.
    #[serde(default)]
    pub processors: Vec<Processor>,
    /// The data inventory's categories.
    pub data_categories: Vec<DataCategory>,
    /// Retention rules; each names a category (or a category group such as `account`).
    pub retention: Vec<RetentionRule>,
    /// Cookies the site sets.
    pub cookies: Cookies,
    /// Transfers outside the UK.
    pub transfers: Transfers,
    /// Subject-rights handling.
    #[serde(default)]
    pub subject_rights: SubjectRights,
    /// Complaint handling, where the tenant states a procedure.
    #[serde(default)]
    pub complaints: Option<Complaints>,
    /// Booking communications.
    #[serde(default)]
    pub bookings: BookingSettings,
}

/// How the portal writes to delegates about their bookings.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BookingSettings {
    /// Days before a session that delegates are reminded of it, with the course's
    /// pre-course information (0: no reminders). A place booked closer to the day than
    /// this gets no reminder: its confirmation has just been sent.
    #[serde(default = "three")]
    pub reminder_days: u32,
}

/// The longest reminder lead time, in days.
pub const REMINDER_DAYS_MAX: u32 = 60;

impl Default for BookingSettings {
    fn default() -> Self {
        Self {
            reminder_days: three(),
        }
    }
}

fn three() -> u32 {
    3
}

/// Tenant colours and logo. Colours are checked for WCAG 2.2 AA contrast when loaded.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    /// Header background, `#rrggbb`; white text sits on it, so it needs 4.5:1 against white.
    pub colour: String,
    /// Link and accent colour on white, `#rrggbb`, 4.5:1 against white.
    pub accent_colour: String,
    /// A logo file inside the tenant folder (`.svg` or `.png`), shown in the header.
    #[serde(default)]
    pub logo: Option<String>,
    /// Text alternative for the logo; required when `logo` is set.
    #[serde(default)]
    pub logo_alt: Option<String>,
}

/// The data controller.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    /// Legal name, e.g. "Somerset County Council".
    pub name: String,
    /// ICO registration number, where known (e.g. `Z5957592`).
    #[serde(default)]
    pub ico_registration: Option<String>,
    /// Postal address, one line per element.
    #[serde(default)]
    pub address: Vec<String>,
    /// The council's own corporate privacy notice.
    #[serde(default)]
    pub notice_url: Option<String>,
}

/// The data protection officer.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dpo {
    /// Name of the officer.
    pub name: String,
    /// Email address. May be left out only while the tenant has not published one; the
    /// platform then lists it as missing and refuses to publish a privacy notice.
    #[serde(default)]
    pub email: Option<String>,
    /// Telephone, where published.
    #[serde(default)]
    pub phone: Option<String>,
    /// Postal address lines, where the notice gives one (Havering's officer is written to
    /// through its Access to Information Team).
    #[serde(default)]
    pub address: Vec<String>,
}

/// A service contact.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// What the contact is for, e.g. "Bookings and general enquiries".
    pub label: String,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Telephone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// A web page to get in touch through, where no email or phone is published.
    #[serde(default)]
    pub website: Option<String>,
}

/// Facts about the tenant's notice before the platform.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NoticeFacts {
    /// Date the previous notice was last updated (ISO date).
    #[serde(default)]
    pub previous_version_date: Option<chrono::NaiveDate>,
    /// How significant changes are announced.
    #[serde(default)]
    pub changes_announced_by: Vec<Announcement>,
}

/// How a change to the notice reaches people.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Announcement {
    /// A notice on the website.
    Website,
    /// An email to account holders.
    Email,
}

/// UK GDPR article 6 lawful bases.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum LawfulBasis {
    /// 6(1)(a)
    Consent,
    /// 6(1)(b)
    Contract,
    /// 6(1)(c)
    LegalObligation,
    /// 6(1)(d)
    VitalInterests,
    /// 6(1)(e)
    PublicTask,
    /// 6(1)(f)
    LegitimateInterests,
}

/// UK GDPR article 9(2) conditions (and article 10 for criminal offence data).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum SpecialCategoryCondition {
    /// 9(2)(a)
    ExplicitConsent,
    /// 9(2)(b)
    EmploymentSocialSecurity,
    /// 9(2)(c)
    VitalInterests,
    /// 9(2)(e)
    MadePublicBySubject,
    /// 9(2)(f)
    LegalClaims,
    /// 9(2)(g), including fraud prevention (DPA 2018 schedule 1 paragraph 14).
    SubstantialPublicInterest,
    /// 9(2)(h)
    HealthSocialCare,
    /// 9(2)(i)
    PublicHealth,
    /// 9(2)(j)
    ArchivingResearchStatistics,
    /// Article 10, under DPA 2018 schedule 1 part 3.
    CriminalOffenceData,
}

/// Optional features of the platform.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    /// Training courses and events.
    Courses,
    /// Traded services and SLAs bought by organisations.
    TradedServices,
    /// Downloadable resources.
    Resources,
    /// Newsletter, sent only with consent.
    Newsletter,
    /// Early-career-teacher induction (the service acts as appropriate body).
    Induction,
    /// Pupil inclusion casework (special-category pupil data).
    InclusionCasework,
    /// SSL certificates and similar contract-bound ICT services.
    IctServices,
}

/// Who the portal serves.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Maintained schools and academies.
    Schools,
    /// Further-education colleges.
    FurtherEducation,
    /// Private, voluntary and independent early-years settings.
    EarlyYears,
    /// Registered childminders.
    Childminders,
    /// School governors.
    Governors,
    /// Council and partner staff (e.g. an inclusion service's caseworkers).
    CouncilStaff,
}

impl Audience {
    /// Every audience, in the order pages list them.
    pub const ALL: [Self; 6] = [
        Self::Schools,
        Self::EarlyYears,
        Self::FurtherEducation,
        Self::Childminders,
        Self::Governors,
        Self::CouncilStaff,
    ];

    /// The configuration name (`early_years`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schools => "schools",
            Self::FurtherEducation => "further_education",
            Self::EarlyYears => "early_years",
            Self::Childminders => "childminders",
            Self::Governors => "governors",
            Self::CouncilStaff => "council_staff",
        }
    }

    /// A plural noun phrase for sentences and filters ("early years settings").
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Schools => "schools",
            Self::FurtherEducation => "further education colleges",
            Self::EarlyYears => "early years settings",
            Self::Childminders => "childminders",
            Self::Governors => "governors",
            Self::CouncilStaff => "council and partner staff",
        }
    }
}

/// How a field is asked for.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FieldPolicy {
    /// Everyone must give it.
    Mandatory,
    /// Anyone may give it.
    Optional,
    /// Childminders must give it; others are not asked.
    ChildminderOnly,
    /// Optional, special-category data: encrypted at rest, seen by few.
    SpecialCategory,
}

/// Account fields the platform knows; a field left out is not collected.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccountFields {
    /// Given name.
    pub first_name: FieldPolicy,
    /// Family name.
    pub last_name: FieldPolicy,
    /// Work email, also the sign-in name.
    pub email: FieldPolicy,
    /// Job title.
    #[serde(default)]
    pub job_title: Option<FieldPolicy>,
    /// One of `job_categories`.
    #[serde(default)]
    pub job_category: Option<FieldPolicy>,
    /// Work telephone.
    #[serde(default)]
    pub telephone: Option<FieldPolicy>,
    /// Work address and postcode.
    #[serde(default)]
    pub business_address: Option<FieldPolicy>,
    /// The organisation the person works for.
    #[serde(default)]
    pub organisation_name: Option<FieldPolicy>,
    /// The organisation's telephone.
    #[serde(default)]
    pub organisation_telephone: Option<FieldPolicy>,
    /// The access rights the person holds in their organisation.
    #[serde(default)]
    pub access_rights: Option<FieldPolicy>,
    /// Personal telephone (childminders).
    #[serde(default)]
    pub personal_telephone: Option<FieldPolicy>,
    /// Home address (childminders).
    #[serde(default)]
    pub home_address: Option<FieldPolicy>,
    /// Disability, access and dietary needs.
    #[serde(default)]
    pub special_requirements: Option<FieldPolicy>,
}

impl AccountFields {
    /// Every collected field with its policy, in form order.
    #[must_use]
    pub fn collected(&self) -> Vec<(&'static str, FieldPolicy)> {
        let optional = [
            ("job_title", self.job_title),
            ("job_category", self.job_category),
            ("telephone", self.telephone),
            ("business_address", self.business_address),
            ("organisation_name", self.organisation_name),
            ("organisation_telephone", self.organisation_telephone),
            ("access_rights", self.access_rights),
            ("personal_telephone", self.personal_telephone),
            ("home_address", self.home_address),
            ("special_requirements", self.special_requirements),
        ];
        let mut all = vec![
            ("first_name", self.first_name),
            ("last_name", self.last_name),
            ("email", self.email),
        ];
        all.extend(optional.into_iter().filter_map(|(n, p)| p.map(|p| (n, p))));
        all
    }
}

/// What kind of offer a provider makes.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Training courses and events.
    Training,
    /// Traded services and SLAs.
    Services,
    /// Both.
    TrainingAndServices,
}

impl ProviderKind {
    /// Whether a provider of this kind offers `what` (training or services): a course
    /// needs a provider of training, a traded service one of services.
    #[must_use]
    pub fn offers(self, what: Self) -> bool {
        self == Self::TrainingAndServices || self == what
    }
}

/// A provider of training or services, the council's own or a registered third party.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Identifier, unique in the tenant (lowercase, digits, hyphens).
    pub id: String,
    /// Name.
    pub name: String,
    /// What it offers.
    pub kind: ProviderKind,
    /// True for a separate organisation (a separate controller once it receives data).
    pub third_party: bool,
    /// Contact email, where known.
    #[serde(default)]
    pub email: Option<String>,
    /// Data categories (ids from `data_categories`) the provider receives when someone
    /// books or buys from it.
    pub receives: Vec<String>,
}

/// An OpenID Connect identity provider for staff sign-in.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    /// Identifier, unique in the tenant; part of the callback path.
    pub id: String,
    /// Button text, e.g. "Sign in with your school Microsoft account".
    pub label: String,
    /// The issuer URL (its discovery document is at `/.well-known/openid-configuration`).
    pub issuer: String,
    /// The client id registered with the provider.
    pub client_id: String,
}

/// Cookies the site sets.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Cookies {
    /// Whether the tenant wants analytics (always off until the visitor agrees).
    pub analytics: bool,
    /// What analytics records, in plain English.
    #[serde(default)]
    pub analytics_items: Vec<String>,
}

/// Transfers outside the UK.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Transfers {
    /// Whether any personal data currently leaves the UK.
    pub outside_uk: bool,
    /// The safeguards and conditions for any future transfer, in plain English.
    pub safeguards: String,
}

/// Subject-rights handling.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SubjectRights {
    /// Time allowed to answer a request (UK GDPR: one month).
    #[serde(default = "one_month")]
    pub respond_within: Period,
    /// Whether requests may be made verbally as well as in writing.
    #[serde(default = "yes")]
    pub verbal_requests: bool,
    /// Whether any decision is made by solely automated means. The portal makes none and
    /// offers no review of one, so validation refuses `true`.
    #[serde(default)]
    pub automated_decisions: bool,
    /// How long the record of a rights request or complaint (what was asked and how it
    /// was answered) is kept after it is closed; then the daily job deletes it. Unset: the
    /// platform's default, [`SubjectRights::DEFAULT_KEEP_RECORDS`], and the notice says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_records: Option<Period>,
}

impl SubjectRights {
    /// The platform's default time to keep closed requests and complaints: two years.
    pub const DEFAULT_KEEP_RECORDS: Period = Period::new(2, PeriodUnit::Years);

    /// How long closed requests and complaints are kept.
    #[must_use]
    pub fn keep_records(&self) -> Period {
        self.keep_records.unwrap_or(Self::DEFAULT_KEEP_RECORDS)
    }
}

impl Default for SubjectRights {
    fn default() -> Self {
        Self {
            respond_within: one_month(),
            verbal_requests: true,
            automated_decisions: false,
            keep_records: None,
        }
    }
}

fn one_month() -> Period {
    Period::new(1, PeriodUnit::Months)
}

fn yes() -> bool {
    true
}

/// A stated complaints procedure.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Complaints {
    /// Working days within which a complaint is acknowledged.
    #[serde(default)]
    pub acknowledge_within_working_days: Option<u8>,
    /// Escalation steps after the service, in order.
    #[serde(default)]
    pub escalation: Vec<String>,
}

impl TenantConfig {
    /// Every rule this configuration breaks (empty when it is good). Loading from a file
    /// runs this; so does reading a tenant back from the database.
    #[must_use]
    pub fn validate(&self) -> Vec<validate::Problem> {
        validate::validate(self)
    }

    /// The data inventory's category ids.
    #[must_use]
    pub fn category_ids(&self) -> BTreeSet<&str> {
        self.data_categories.iter().map(|c| c.id.as_str()).collect()
    }

    /// Whether significant changes to the privacy notice are emailed to every account
    /// holder (`notice.changes_announced_by` lists `email`), not only to those who asked.
    #[must_use]
    pub fn announces_changes_by_email(&self) -> bool {
        self.notice
            .changes_announced_by
            .contains(&Announcement::Email)
    }

    /// Whether a module is switched on.
    #[must_use]
    pub fn has_module(&self, m: Module) -> bool {
        self.modules.contains(&m)
    }

    /// Details a complete privacy notice needs that this configuration does not yet give.
    /// Missing items do not stop the portal; they stop a notice from being published.
    #[must_use]
    pub fn missing_details(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.dpo.email.is_none() {
            missing.push("dpo.email");
        }
        if self.controller.address.is_empty() {
            missing.push("controller.address");
        }
        if self.controller.ico_registration.is_none() {
            missing.push("controller.ico_registration");
        }
        missing
    }
}
