//! Which right applies to which data, from each category's lawful basis (UK GDPR articles
//! 17, 18, 20 and 21), so the privacy officer sees, for a request, what the person is
//! entitled to and why, and the reply can say so.

use tenant_router::TenantConfig;
use tenant_router::config::{LawfulBasis, RetentionAction};

use crate::domain::notice::retention_sentence;
use crate::domain::rights::Kind;

/// Whether a right applies to one category's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applies {
    /// It applies.
    Yes,
    /// It applies only where its condition is met; what the condition is.
    IfMet(&'static str),
    /// It does not apply; why.
    No(String),
}

impl Applies {
    /// `yes`, `if_met` or `no`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::IfMet(_) => "if_met",
            Self::No(_) => "no",
        }
    }

    /// The condition or the reason, in words (empty when it simply applies).
    #[must_use]
    pub fn why(&self) -> &str {
        match self {
            Self::Yes => "",
            Self::IfMet(s) => s,
            Self::No(s) => s,
        }
    }
}

/// Whether right `kind` applies to data held on `basis`.
#[must_use]
pub fn applies(kind: Kind, basis: LawfulBasis) -> Applies {
    use LawfulBasis as B;
    match (kind, basis) {
        (Kind::Access | Kind::Rectification, _) => Applies::Yes,
        (Kind::Restriction, _) => Applies::IfMet(
            "while accuracy is contested or an objection is considered, or where the data is no \
             longer needed but the person wants it kept for a legal claim",
        ),
        (Kind::Erasure, B::LegalObligation) => Applies::No(
            "it is kept to meet a legal obligation, which erasure does not override".to_owned(),
        ),
        (Kind::Erasure, B::PublicTask) => Applies::No(
            "it is used for a public task set out in law, which erasure does not override"
                .to_owned(),
        ),
        (Kind::Erasure, B::Consent) => Applies::Yes,
        (Kind::Erasure, _) => Applies::IfMet(
            "where the data is no longer needed for its purpose, or an objection succeeds",
        ),
        (Kind::Portability, B::Consent | B::Contract) => Applies::Yes,
        (Kind::Portability, _) => {
            Applies::No("portability covers only data given under consent or a contract".to_owned())
        }
        (Kind::Objection, B::PublicTask | B::LegitimateInterests) => Applies::IfMet(
            "unless the council shows compelling legitimate grounds that override the person's \
             interests; an objection to direct marketing always succeeds",
        ),
        (Kind::Objection, B::Consent) => Applies::No(
            "it is used with the person's consent: withdrawing consent stops it, at once"
                .to_owned(),
        ),
        (Kind::Objection, _) => Applies::No(
            "objection applies only to data used for a public task or legitimate interests"
                .to_owned(),
        ),
    }
}

/// For request `kind`, each of the tenant's categories with whether the right applies and
/// why; an erasure refused under a legal obligation names the retention rule that keeps
/// the data.
#[must_use]
pub fn for_request(cfg: &TenantConfig, kind: Kind) -> Vec<(String, Applies)> {
    cfg.data_categories
        .iter()
        .map(|c| {
            let mut a = applies(kind, c.lawful_basis);
            if let Applies::No(why) = &mut a
                && kind == Kind::Erasure
            {
                let group = c.id.split('.').next().unwrap_or_default();
                if let Some(rule) = cfg.retention.iter().find(|r| {
                    (r.category == c.id || r.category == group)
                        && r.action != RetentionAction::Deactivate
                }) {
                    why.push_str(&format!(" ({})", retention_sentence(rule)));
                }
            }
            (c.name.clone(), a)
        })
        .collect()
}

/// A reply to draft from, for request `reference` of `kind` by `name`: what the right
/// covers of each kind of data held, and why not where it does not, then the complaint
/// route ending with the ICO. The officer edits it to the case before sending.
#[must_use]
pub fn draft_reply(cfg: &TenantConfig, kind: Kind, name: &str, reference: &str) -> String {
    let lines: Vec<String> = for_request(cfg, kind)
        .into_iter()
        .map(|(category, a)| match a {
            Applies::Yes => format!("- {category}: yes."),
            Applies::IfMet(when) => format!("- {category}: yes, {when}."),
            Applies::No(why) => format!("- {category}: no, because {why}."),
        })
        .collect();
    let complaints = crate::domain::notice::compile(cfg).complaints;
    format!(
        "Dear {name},\n\nThank you for your request ({reference}): {what}.\n\n\
         What this right covers of the data {service} holds:\n{lines}\n\n\
         [What we have done, and anything we could not do and why.]\n\n\
         If you are unhappy with our answer you can complain: {complaints}.\n",
        what = kind.describe().to_lowercase(),
        service = cfg.display_name,
        lines = lines.join("\n"),
        complaints = complaints.join("; "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use LawfulBasis as B;

    #[test]
    fn portability_only_for_consent_and_contract() {
        assert_eq!(applies(Kind::Portability, B::Consent), Applies::Yes);
        assert_eq!(applies(Kind::Portability, B::Contract), Applies::Yes);
        for b in [
            B::LegalObligation,
            B::PublicTask,
            B::LegitimateInterests,
            B::VitalInterests,
        ] {
            assert!(
                matches!(applies(Kind::Portability, b), Applies::No(_)),
                "{b:?}"
            );
        }
    }

    #[test]
    fn erasure_is_refused_for_legal_obligation_and_public_task() {
        assert!(matches!(
            applies(Kind::Erasure, B::LegalObligation),
            Applies::No(_)
        ));
        assert!(matches!(
            applies(Kind::Erasure, B::PublicTask),
            Applies::No(_)
        ));
        assert_eq!(applies(Kind::Erasure, B::Consent), Applies::Yes);
        assert!(matches!(
            applies(Kind::Erasure, B::Contract),
            Applies::IfMet(_)
        ));
    }

    #[test]
    fn objection_fits_public_task_and_legitimate_interests_and_marketing_is_absolute() {
        let a = applies(Kind::Objection, B::LegitimateInterests);
        assert!(matches!(a, Applies::IfMet(_)) && a.why().contains("direct marketing always"));
        assert!(matches!(
            applies(Kind::Objection, B::PublicTask),
            Applies::IfMet(_)
        ));
        assert!(matches!(
            applies(Kind::Objection, B::Contract),
            Applies::No(_)
        ));
        assert!(
            applies(Kind::Objection, B::Consent)
                .why()
                .contains("withdrawing consent")
        );
    }

    #[test]
    fn access_and_rectification_always_apply() {
        for b in [B::Consent, B::Contract, B::LegalObligation, B::PublicTask] {
            assert_eq!(applies(Kind::Access, b), Applies::Yes);
            assert_eq!(applies(Kind::Rectification, b), Applies::Yes);
        }
    }
}
