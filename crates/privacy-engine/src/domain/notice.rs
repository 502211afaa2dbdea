//! The privacy notice, compiled from the tenant's configuration: the same inventory,
//! recipients and retention rules the platform enforces. Nothing in it is typed per tenant
//! except the facts in `tenant.toml`, so the notice cannot promise a period, recipient or
//! basis the platform does not apply.

use serde::{Deserialize, Serialize};
use tenant_router::TenantConfig;
use tenant_router::config::{DataCategory, RetentionAction, RetentionRule, RetentionTrigger};

use super::notice_words::{basis, basis_name, changes, source};

/// The Information Commissioner's Office, where anyone may complain.
pub const ICO: &str = "Information Commissioner's Office, Wycliffe House, Water Lane, Wilmslow, \
Cheshire, SK9 5AF; telephone 0303 123 1113; website ico.org.uk";

/// A compiled notice.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notice {
    /// The service.
    pub service: String,
    /// The controller's name.
    pub controller: String,
    /// ICO registration number, where known.
    pub ico_registration: Option<String>,
    /// The controller's postal address lines.
    pub controller_address: Vec<String>,
    /// The service's own website apart from the portal, if it has one.
    #[serde(default)]
    pub website: Option<String>,
    /// The data protection officer: name, then how to reach them.
    pub dpo: Vec<String>,
    /// Service contacts, one line each.
    pub contacts: Vec<String>,
    /// Every article 6 basis relied on, named with its article (empty in versions
    /// published before they were listed).
    #[serde(default)]
    pub lawful_bases: Vec<String>,
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
    /// How long the record of a request or complaint is kept after it is closed (empty in
    /// versions published before it was stated).
    #[serde(default)]
    pub keep_records: String,
    /// How long copies of sent emails are kept (empty in versions published before it was
    /// stated).
    #[serde(default)]
    pub sent_mail: String,
    /// Retention rules nothing applies, each as "rule: why" (a notice with any is not
    /// published).
    #[serde(default)]
    pub unapplied: Vec<String>,
    /// How a significant change to the notice reaches people (empty in versions published
    /// before it was stated).
    #[serde(default)]
    pub changes: String,
    /// When the notice the council published before this portal was last updated, e.g.
    /// "18 June 2018", where it is known.
    #[serde(default)]
    pub previous_version: Option<String>,
}

/// One data category.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
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
    /// For special-category data, the Article 9 (or 10) conditions relied on, in words
    /// (empty in versions published before they were stated).
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Where it comes from.
    pub sources: Vec<String>,
    /// Who receives it beyond the controller.
    pub recipients: Vec<String>,
    /// How long it is kept: one sentence per rule the platform enforces.
    pub retention: Vec<String>,
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
        s.push_str(" You can keep your account for a further period by signing in before then.");
    }
    if let Some(a) = &rule.authority
        && rule.trigger != RetentionTrigger::AdminSchedule
    {
        s.push_str(&format!(" ({a}.)"));
    }
    s
}

/// The rule in the notice's words, prefixed with its category.
#[must_use]
pub fn rule_text(cfg: &TenantConfig, rule: usize) -> String {
    cfg.retention.get(rule).map_or_else(String::new, |r| {
        format!("{}: {}", r.category, retention_sentence(r))
    })
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
                conditions: if c.special_category {
                    cfg.special_category_conditions
                        .iter()
                        .map(|x| crate::domain::article9::condition(*x).to_owned())
                        .collect()
                } else {
                    Vec::new()
                },
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
        website: cfg.website.clone(),
        dpo: std::iter::once(cfg.dpo.name.clone())
            .chain(cfg.dpo.email.clone())
            .chain(cfg.dpo.phone.clone())
            .chain((!cfg.dpo.address.is_empty()).then(|| cfg.dpo.address.join(", ")))
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
        lawful_bases: cfg
            .lawful_bases
            .iter()
            .map(|b| basis_name(*b).to_owned())
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
        keep_records: match cfg.subject_rights.keep_records {
            Some(p) => p.describe(),
            None => format!(
                "{} (the platform's standard period)",
                cfg.subject_rights.keep_records().describe()
            ),
        },
        sent_mail: crate::domain::retention::sent_mail_kept().describe(),
        unapplied: crate::domain::executor::unapplied(&cfg.retention)
            .into_iter()
            .map(|(i, why)| {
                let r = &cfg.retention[i];
                format!("{} \u{2013} {} ({why})", r.category, retention_sentence(r))
            })
            .collect(),
        changes: changes(cfg),
        previous_version: cfg
            .notice
            .previous_version_date
            .map(|d| d.format("%-d %B %Y").to_string()),
    }
}

/// Longest prose section, in characters.
pub const PROSE_MAX: usize = 10_000;

/// The tenant's own words around the compiled facts, written in markdown and served
/// sanitised. Facts (periods, recipients, contacts) never go here: they come from the
/// configuration the platform enforces.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Prose {
    /// Opens the notice: who the service is for and what it does.
    pub introduction: String,
    /// Closes it: anything else the council wants people to know.
    pub more: String,
}

impl Prose {
    /// Problems with the prose: `(field, message)`.
    #[must_use]
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        [("introduction", &self.introduction), ("more", &self.more)]
            .into_iter()
            .filter(|(_, text)| text.chars().count() > PROSE_MAX)
            .map(|(field, _)| {
                (
                    field,
                    format!("Keep this to {PROSE_MAX} characters or fewer."),
                )
            })
            .collect()
    }
}

/// A notice as readers get it: the compiled facts and the tenant's prose, the prose as
/// sanitised HTML.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Rendered {
    /// The facts.
    pub notice: Notice,
    /// The prose, as written.
    pub prose: Prose,
    /// The introduction, sanitised HTML.
    pub introduction_html: String,
    /// The closing section, sanitised HTML.
    pub more_html: String,
}

/// Compiles the notice and renders the prose.
#[must_use]
pub fn render(cfg: &TenantConfig, prose: &Prose) -> Rendered {
    Rendered {
        notice: compile(cfg),
        prose: prose.clone(),
        introduction_html: storage::markdown::to_safe_html(&prose.introduction),
        more_html: storage::markdown::to_safe_html(&prose.more),
    }
}

/// One item of the ICO's right-to-be-informed checklist, and whether the notice meets it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckItem {
    /// Stable code, e.g. `dpo_contact`.
    pub code: &'static str,
    /// What the notice must say.
    pub item: &'static str,
    /// Whether it does.
    pub met: bool,
    /// What to do when it does not.
    pub fix: String,
}

/// The notice against every item the ICO's right-to-be-informed checklist requires. A
/// notice with an unmet item is not published.
#[must_use]
pub fn checklist(n: &Notice) -> Vec<CheckItem> {
    let lacking = |f: &dyn Fn(&Section) -> bool| -> Vec<String> {
        n.categories
            .iter()
            .filter(|c| f(c))
            .map(|c| c.name.clone())
            .collect()
    };
    let per_category = |code, item, names: Vec<String>, what: &str| CheckItem {
        code,
        item,
        met: names.is_empty() && !n.categories.is_empty(),
        fix: if names.is_empty() {
            String::new()
        } else {
            format!("Give {what} for: {}.", names.join(", "))
        },
    };
    let rights_named = [
        "Access",
        "Rectification",
        "Erasure",
        "Restriction",
        "Objection",
        "Portability",
    ]
    .iter()
    .all(|r| n.rights.iter().any(|(name, _)| name == r));
    vec![
        CheckItem {
            code: "controller",
            item: "The name of the organisation responsible (the data controller)",
            met: !n.controller.trim().is_empty(),
            fix: "Give the controller's name.".to_owned(),
        },
        CheckItem {
            code: "controller_contact",
            item: "How to contact the controller",
            met: !n.controller_address.is_empty() || !n.contacts.is_empty(),
            fix: "Give the controller's postal address or a service contact.".to_owned(),
        },
        CheckItem {
            code: "dpo_contact",
            item: "How to contact the data protection officer",
            met: n.dpo.len() > 1,
            fix: "Give the data protection officer's email address or telephone number.".to_owned(),
        },
        CheckItem {
            code: "categories",
            item: "The kinds of personal data held",
            met: !n.categories.is_empty() && n.categories.iter().all(|c| !c.items.is_empty()),
            fix: "List the data items held in every category.".to_owned(),
        },
        per_category(
            "purposes",
            "Why the data is used",
            lacking(&|c| c.purposes.is_empty()),
            "a purpose",
        ),
        per_category(
            "lawful_basis",
            "The lawful basis for each use",
            lacking(&|c| c.lawful_basis.is_empty()),
            "a lawful basis",
        ),
        per_category(
            "sources",
            "Where the data comes from",
            lacking(&|c| c.sources.is_empty()),
            "a source",
        ),
        CheckItem {
            code: "recipients",
            item: "Who the data is shared with",
            // Stated per category: a list of recipients, or that only the controller holds it.
            met: !n.categories.is_empty(),
            fix: "Add the data categories.".to_owned(),
        },
        CheckItem {
            code: "transfers",
            item: "Transfers outside the UK, and how they are protected",
            met: !n.transfers.trim().is_empty(),
            fix: "Say whether data leaves the UK (transfers.safeguards).".to_owned(),
        },
        per_category(
            "retention",
            "How long the data is kept",
            lacking(&|c| c.retention.is_empty()),
            "a retention rule",
        ),
        CheckItem {
            code: "retention_applied",
            item: "Every retention rule is applied, by the platform or by an administrator's review",
            met: n.unapplied.is_empty(),
            fix: format!("Change or remove: {}.", n.unapplied.join("; ")),
        },
        CheckItem {
            code: "rights",
            item: "Each of the person's rights",
            met: rights_named && !n.respond_within.is_empty(),
            fix: "The rights list is incomplete.".to_owned(),
        },
        CheckItem {
            code: "withdraw_consent",
            item: "The right to withdraw consent, where consent is the basis",
            met: n
                .categories
                .iter()
                .filter(|c| c.lawful_basis.starts_with("Your consent"))
                .all(|c| c.lawful_basis.contains("withdraw")),
            fix: "Say that consent can be withdrawn.".to_owned(),
        },
        CheckItem {
            code: "complain_to_ico",
            item: "The right to complain to the Information Commissioner's Office",
            met: n
                .complaints
                .iter()
                .any(|c| c.contains("Information Commissioner")),
            fix: "Name the ICO among the places to complain.".to_owned(),
        },
        CheckItem {
            code: "automated_decisions",
            item: "Whether decisions are made by automated means",
            met: !n.automated_decisions.is_empty(),
            fix: "Say whether any decision is automated.".to_owned(),
        },
    ]
}

/// The notice as plain lines, for showing what changed between two versions.
#[must_use]
pub fn lines(r: &Rendered) -> Vec<String> {
    let n = &r.notice;
    let mut out = Vec::new();
    let mut push = |s: String| out.push(s);
    for l in r
        .prose
        .introduction
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        push(format!("Introduction: {l}"));
    }
    push(format!("Controller: {}", n.controller));
    if let Some(reg) = &n.ico_registration {
        push(format!("ICO registration: {reg}"));
    }
    if !n.controller_address.is_empty() {
        push(format!("Address: {}", n.controller_address.join(", ")));
    }
    push(format!("Data protection officer: {}", n.dpo.join(", ")));
    for c in &n.contacts {
        push(format!("Contact: {c}"));
    }
    for c in &n.categories {
        push(format!("{}: holds {}", c.name, c.items.join(", ")));
        for p in &c.purposes {
            push(format!("{}: used to {p}", c.name));
        }
        push(format!("{}: lawful basis: {}", c.name, c.lawful_basis));
        push(format!("{}: comes from {}", c.name, c.sources.join(", ")));
        for x in &c.recipients {
            push(format!("{}: shared with {x}", c.name));
        }
        for x in &c.retention {
            push(format!("{}: kept: {x}", c.name));
        }
    }
    for p in &n.processors {
        push(format!("Processor: {p}"));
    }
    push(format!("Outside the UK: {}", n.transfers));
    for a in &n.analytics {
        push(format!("Analytics cookies record: {a}"));
    }
    push(format!("Requests answered within {}", n.respond_within));
    if !n.keep_records.is_empty() {
        push(format!(
            "Records of requests and complaints kept for {} after closing",
            n.keep_records
        ));
    }
    push(n.automated_decisions.clone());
    for c in &n.complaints {
        push(format!("Complaints: {c}"));
    }
    for l in r.prose.more.lines().filter(|l| !l.trim().is_empty()) {
        push(format!("More: {l}"));
    }
    out
}
