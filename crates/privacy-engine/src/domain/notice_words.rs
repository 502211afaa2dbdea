//! The notice's fixed wording for the facts a tenant's configuration gives: its lawful
//! bases, the sources of its data and how it announces changes.

use tenant_router::TenantConfig;
use tenant_router::config::{LawfulBasis, Source};

pub(crate) fn basis(b: LawfulBasis) -> &'static str {
    match b {
        LawfulBasis::Consent => {
            "Your consent. You can withdraw it at any time, as easily as you gave it."
        }
        LawfulBasis::Contract => "A contract with you or your organisation, or steps before one.",
        LawfulBasis::LegalObligation => "A legal obligation the controller must meet.",
        LawfulBasis::VitalInterests => "Protecting someone's life.",
        LawfulBasis::PublicTask => "A public task: the council's functions set out in law.",
        LawfulBasis::LegitimateInterests => "Legitimate interests, balanced against your rights.",
    }
}

pub(crate) fn basis_name(b: LawfulBasis) -> &'static str {
    match b {
        LawfulBasis::Consent => "Consent (UK GDPR article 6(1)(a))",
        LawfulBasis::Contract => "Contract (article 6(1)(b))",
        LawfulBasis::LegalObligation => "Legal obligation (article 6(1)(c))",
        LawfulBasis::VitalInterests => "Vital interests (article 6(1)(d))",
        LawfulBasis::PublicTask => "Public task (article 6(1)(e))",
        LawfulBasis::LegitimateInterests => "Legitimate interests (article 6(1)(f))",
    }
}

/// How significant changes are announced, as the publishing step does it
/// (`Privacy::publish`).
pub(crate) fn changes(cfg: &TenantConfig) -> String {
    let email = if cfg.announces_changes_by_email() {
        "we email everyone whose account has a confirmed email address"
    } else {
        "we email you if you ask us to in your account's preferences"
    };
    format!(
        "Each version of this notice stays readable on this site. When we change it \
         significantly, we ask you to read the new version when you next sign in, and {email}."
    )
}

pub(crate) fn source(s: Source) -> &'static str {
    match s {
        Source::DataSubject => "you",
        Source::OrganisationLeadAdmin => "your organisation's lead administrator",
        Source::SchoolAdministrator => "administrators at your school or setting",
        Source::VerificationForm => "a user verification form",
        Source::EventContactForm => "contact forms collected at events",
        Source::Device => "your browser or device, as you use the site",
        Source::Schools => "schools",
        Source::OtherAgencies => "other public bodies and agencies",
        Source::Providers => "the providers of courses you attend",
    }
}
