//! The privacy notice, compiled from the tenant's configuration: the same inventory,
//! recipients and retention rules the platform enforces. Nothing in it is typed per tenant
//! except the facts in `tenant.toml`, so the notice cannot promise a period, recipient or
//! basis the platform does not apply.

use serde::Serialize;
use tenant_router::TenantConfig;
use tenant_router::config::{
    DataCategory, LawfulBasis, RetentionAction, RetentionRule, RetentionTrigger, Source,
};

/// The Information Commissioner's Office, where anyone may complain.
pub const ICO: &str = "Information Commissioner's Office, Wycliffe House, Water Lane, Wilmslow, \
Cheshire, SK9 5AF; telephone 0303 123 1113; website ico.org.uk";

/// A compiled notice.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Notice {
    /// The service.
    pub service: String,
    /// The controller's name.
    pub controller: String,
    /// ICO registration number, where known.
    pub ico_registration: Option<String>,
    /// The controller's postal address lines.
    pub controller_address: Vec<String>,
    /// The data protection officer: name, then how to reach them.
    pub dpo: Vec<String>,
    /// Service contacts, one line each.
    pub contacts: Vec<String>,
    /// What is held and why, by category.
    pub categories: Vec<Section>,
    /// Processors acting for the controller.
    pub processors: Vec<String>,
    /// Transfers outside the UK.
    pub transfers: String,
    /// What analytics cookies record (empty: no analytics).
    pub analytics: Vec<String>,
    /// The person's rights, each with what it means.
    pub rights: Vec<(String, String)>,
    /// How quickly requests are answered.
    pub respond_within: String,
    /// Whether requests may be made by telephone or in person.
    pub verbal_requests: bool,
    /// Automated decision-making.
    pub automated_decisions: String,
    /// Who to complain to, in order, ending with the ICO.
    pub complaints: Vec<String>,
}

/// One data category.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Section {
    /// Category id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The data items.
    pub items: Vec<String>,
    /// Why.
    pub purposes: Vec<String>,
    /// The article 6 basis, in words.
    pub lawful_basis: String,
    /// True for special-category data.
    pub special_category: bool,
    /// Where it comes from.
    pub sources: Vec<String>,
    /// Who receives it beyond the controller.
    pub recipients: Vec<String>,
    /// How long it is kept: one sentence per rule the platform enforces.
    pub retention: Vec<String>,
}

fn basis(b: LawfulBasis) -> &'static str {
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

fn source(s: Source) -> &'static str {
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

/// One retention rule as a sentence, e.g. "Deleted 4 years after your account was last
/// active."
#[must_use]
pub fn retention_sentence(rule: &RetentionRule) -> String {
    let verb = match rule.action {
        RetentionAction::Deactivate => "Switched off",
        RetentionAction::Delete => "Deleted",
        RetentionAction::Anonymise => "Anonymised (your name and details removed)",
        RetentionAction::Review => "Reviewed, and deleted unless there is a reason to keep it,",
    };
    let period = rule.after.map(|p| p.describe());
    let when = match (rule.trigger, period.as_deref()) {
        (RetentionTrigger::AdminSchedule, _) => format!(
            "as set out in {}",
            rule.authority
                .as_deref()
                .unwrap_or("the controller's retention schedule")
        ),
        (RetentionTrigger::LeftOrganisation, None | Some("immediately")) => {
            "as soon as your organisation tells us you have left it".to_owned()
        }
        (RetentionTrigger::LeftOrganisation, Some(p)) => {
            format!("{p} after your organisation tells us you have left it")
        }
        (RetentionTrigger::Inactivity, Some(p)) => {
            format!(
                "{p} after your account was last active (signing in, or a booking, CPD record or purchase by or for you)"
            )
        }
        (RetentionTrigger::ServiceDelivered, Some(p)) => {
            format!("{p} after the course or service was delivered")
        }
        (RetentionTrigger::ContractEnded, Some(p)) => format!("{p} after the contract ends"),
        (RetentionTrigger::Created, Some(p)) => format!("{p} after it was recorded"),
        (_, None) => "when it is no longer needed".to_owned(),
    };
    let mut s = format!("{verb} {when}.");
    if rule.user_may_extend {
        s.push_str(" You can ask us to keep your account for a further period.");
    }
    if let Some(a) = &rule.authority
        && rule.trigger != RetentionTrigger::AdminSchedule
    {
        s.push_str(&format!(" ({a}.)"));
    }
    s
}

fn applies(rule: &RetentionRule, c: &DataCategory) -> bool {
    rule.category == c.id || rule.category == c.group()
}

/// Compiles the tenant's notice.
#[must_use]
pub fn compile(cfg: &TenantConfig) -> Notice {
    let categories = cfg
        .data_categories
        .iter()
        .map(|c| {
            let mut recipients: Vec<String> = cfg
                .providers
                .iter()
                .filter(|p| p.receives.contains(&c.id))
                .map(|p| {
                    if p.third_party {
                        format!("{}, when you book or buy from it", p.name)
                    } else {
                        format!("{} (part of {})", p.name, cfg.controller.name)
                    }
                })
                .collect();
            recipients.extend(
                cfg.processors
                    .iter()
                    .filter(|p| p.categories.iter().any(|r| *r == c.id || *r == c.group()))
                    .map(|p| format!("{}, {} (processor)", p.name, p.role)),
            );
            Section {
                id: c.id.clone(),
                name: c.name.clone(),
                items: c.items.clone(),
                purposes: c.purposes.clone(),
                lawful_basis: basis(c.lawful_basis).to_owned(),
                special_category: c.special_category,
                sources: c.sources.iter().map(|s| source(*s).to_owned()).collect(),
                recipients,
                retention: cfg
                    .retention
                    .iter()
                    .filter(|r| applies(r, c))
                    .map(retention_sentence)
                    .collect(),
            }
        })
        .collect();
    let rights = [
        ("Access", "Ask for a copy of the personal data we hold about you."),
        ("Rectification", "Ask us to correct data that is wrong or incomplete."),
        ("Erasure", "Ask us to delete your data where we no longer need it or have no lawful reason to keep it."),
        ("Restriction", "Ask us to stop using your data while a question about it is settled."),
        ("Objection", "Object to how we use your data; you can always stop direct marketing."),
        ("Portability", "Receive the data you gave us in a machine-readable form."),
        ("Automated decisions", "Not be subject to decisions made solely by a computer."),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let mut complaints: Vec<String> = cfg
        .complaints
        .as_ref()
        .map(|c| c.escalation.clone())
        .unwrap_or_default();
    if !complaints
        .iter()
        .any(|c| c.contains("Information Commissioner"))
    {
        complaints.push("The Information Commissioner's Office".to_owned());
    }
    Notice {
        service: cfg.display_name.clone(),
        controller: cfg.controller.name.clone(),
        ico_registration: cfg.controller.ico_registration.clone(),
        controller_address: cfg.controller.address.clone(),
        dpo: std::iter::once(cfg.dpo.name.clone())
            .chain(cfg.dpo.email.clone())
            .chain(cfg.dpo.phone.clone())
            .collect(),
        contacts: cfg
            .contacts
            .iter()
            .map(|c| {
                let how: Vec<&str> = [&c.email, &c.phone, &c.website]
                    .into_iter()
                    .filter_map(|x| x.as_deref())
                    .collect();
                format!("{}: {}", c.label, how.join(", "))
            })
            .collect(),
        categories,
        processors: cfg
            .processors
            .iter()
            .map(|p| match &p.company_number {
                Some(n) => format!("{} (company {n}): {}", p.name, p.role),
                None => format!("{}: {}", p.name, p.role),
            })
            .collect(),
        transfers: if cfg.transfers.outside_uk {
            format!(
                "Some data goes outside the UK. {}",
                cfg.transfers.safeguards
            )
        } else {
            cfg.transfers.safeguards.clone()
        },
        analytics: if cfg.cookies.analytics {
            cfg.cookies.analytics_items.clone()
        } else {
            Vec::new()
        },
        rights,
        respond_within: cfg.subject_rights.respond_within.describe(),
        verbal_requests: cfg.subject_rights.verbal_requests,
        automated_decisions: if cfg.subject_rights.automated_decisions {
            "Some decisions are made automatically; you can ask for a person to review them."
                .to_owned()
        } else {
            "No decision about you is made solely by a computer: a person is always involved."
                .to_owned()
        },
        complaints,
    }
}
