//! A tenant's data inventory: processors, the categories of personal data it holds (with
//! their sources, purposes and lawful bases) and the retention rules that apply to them.

use serde::{Deserialize, Serialize};

use super::*;

/// An organisation processing personal data for the controller.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Processor {
    /// Identifier, unique in the tenant.
    pub id: String,
    /// Legal name.
    pub name: String,
    /// Companies House number, where known.
    #[serde(default)]
    pub company_number: Option<String>,
    /// What it does for the controller.
    pub role: String,
    /// Data categories it processes (ids from `data_categories`).
    pub categories: Vec<String>,
}

/// Where personal data comes from.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The person, through sign-up or their profile.
    DataSubject,
    /// A lead administrator of the person's organisation, through User Management.
    OrganisationLeadAdmin,
    /// A school administrator sending details to the service's admins.
    SchoolAdministrator,
    /// A user verification form.
    VerificationForm,
    /// Paper or electronic contact forms collected at events.
    EventContactForm,
    /// The person's browser or device (cookies, analytics).
    Device,
    /// Schools and settings sharing records about their pupils or staff.
    Schools,
    /// Other public bodies and agencies.
    OtherAgencies,
    /// Providers reporting attendance and results.
    Providers,
}

/// One category of the data inventory.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataCategory {
    /// Identifier `group.name`, e.g. `account.contact`.
    pub id: String,
    /// Plain-English name, e.g. "Your contact details".
    pub name: String,
    /// The data items in the category, in plain English.
    pub items: Vec<String>,
    /// Why it is used.
    pub purposes: Vec<String>,
    /// The article 6 basis.
    pub lawful_basis: LawfulBasis,
    /// Where it comes from.
    pub sources: Vec<Source>,
    /// True for UK GDPR article 9 or 10 data.
    #[serde(default)]
    pub special_category: bool,
    /// For categories passed to providers: the platform's fields about the person that
    /// the category covers, which is exactly what a provider receiving it is shown (e.g.
    /// on a delegate list). Empty: none.
    #[serde(default)]
    pub fields: Vec<PersonField>,
}

/// A field about a person that the platform can pass to a provider.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum PersonField {
    /// First and last name.
    Name,
    /// Email address.
    Email,
    /// Job title.
    JobTitle,
    /// The organisation the booking is for (or the one named on the account).
    Organisation,
    /// The organisation's telephone number.
    OrganisationTelephone,
    /// The person's special requirements (disability, access, diet), decrypted for the
    /// view only; special-category data where they reveal health.
    SpecialRequirements,
}

impl PersonField {
    /// Column heading.
    #[must_use]
    pub fn heading(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Email => "Email address",
            Self::JobTitle => "Job title",
            Self::Organisation => "Organisation",
            Self::OrganisationTelephone => "Organisation telephone",
            Self::SpecialRequirements => "Special requirements",
        }
    }

    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Email => "email",
            Self::JobTitle => "job_title",
            Self::Organisation => "organisation",
            Self::OrganisationTelephone => "organisation_telephone",
            Self::SpecialRequirements => "special_requirements",
        }
    }
}

impl DataCategory {
    /// The group part of the id (`account` for `account.contact`).
    #[must_use]
    pub fn group(&self) -> &str {
        self.id.split_once('.').map_or(self.id.as_str(), |(g, _)| g)
    }
}

/// What starts a retention clock.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RetentionTrigger {
    /// Time since the person's last activity (sign-in, booking, CPD record or purchase).
    Inactivity,
    /// The person's organisation marked them as a leaver.
    LeftOrganisation,
    /// The service or training bought was delivered in full.
    ServiceDelivered,
    /// The contract the data serves ended.
    ContractEnded,
    /// The record was created.
    Created,
    /// Periods come from a per-record-type schedule the tenant admin maintains.
    AdminSchedule,
}

/// What happens when a retention period ends.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    /// The account stops working; data is kept.
    Deactivate,
    /// The data is deleted.
    Delete,
    /// The person is removed from the record; the record is kept.
    Anonymise,
    /// An administrator reviews the record and decides.
    Review,
}

/// One retention rule.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    /// A category id (`purchase.record`) or a group (`account`).
    pub category: String,
    /// What starts the clock.
    pub trigger: RetentionTrigger,
    /// How long after the trigger, e.g. `2y`, `6m`, `30d`, `0d`; absent only for `admin_schedule`.
    #[serde(default)]
    pub after: Option<Period>,
    /// What happens then.
    pub action: RetentionAction,
    /// The person may ask to keep their account for a further period.
    #[serde(default)]
    pub user_may_extend: bool,
    /// The schedule or law the rule follows, where it follows one.
    #[serde(default)]
    pub authority: Option<String>,
}
