//! Access rights within an organisation, and tenant-wide roles.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// What a member may do in their organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Right {
    /// Books for themself.
    Member,
    /// Books for colleagues too.
    Booker,
    /// Buys services and SLAs for the organisation.
    Purchaser,
    /// Manages the organisation's accounts ("User Management").
    LeadAdmin,
    /// The organisation's CPD lead: copied on colleagues' booking emails.
    CpdLead,
}

/// The levels of access a person asks for at sign-up where the tenant requires it
/// (Havering): the value, what it lets them do, and the rights it asks their
/// organisation's lead administrator to confirm.
pub const ACCESS_LEVELS: [(&str, &str, &[Right]); 3] = [
    ("member", "Book training for myself", &[]),
    (
        "booker",
        "Book training for myself and colleagues",
        &[Right::Booker],
    ),
    (
        "purchaser",
        "Book training for colleagues and buy services for the organisation",
        &[Right::Booker, Right::Purchaser],
    ),
];

impl Right {
    /// Every right, in display order.
    pub const ALL: [Self; 5] = [
        Self::Member,
        Self::Booker,
        Self::Purchaser,
        Self::LeadAdmin,
        Self::CpdLead,
    ];

    /// Stored and form name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Booker => "booker",
            Self::Purchaser => "purchaser",
            Self::LeadAdmin => "lead_admin",
            Self::CpdLead => "cpd_lead",
        }
    }

    /// Shown to people.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Member => "Member: books training for themself",
            Self::Booker => "Booker: books training for colleagues",
            Self::Purchaser => "Purchaser: buys services and SLAs for the organisation",
            Self::LeadAdmin => "Lead administrator: manages the organisation's accounts",
            Self::CpdLead => {
                "CPD lead: gets a copy of the booking emails for places the organisation pays for"
            }
        }
    }
}

impl FromStr for Right {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown access right `{s}`"))
    }
}

/// A set of rights; every member has at least [`Right::Member`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rights(BTreeSet<Right>);

impl Rights {
    /// The given rights plus [`Right::Member`].
    pub fn new(rights: impl IntoIterator<Item = Right>) -> Self {
        let mut set: BTreeSet<Right> = rights.into_iter().collect();
        set.insert(Right::Member);
        Self(set)
    }

    /// Whether the set holds `right`.
    #[must_use]
    pub fn has(&self, right: Right) -> bool {
        self.0.contains(&right)
    }

    /// The rights, in order.
    pub fn iter(&self) -> impl Iterator<Item = Right> + '_ {
        self.0.iter().copied()
    }

    /// Parses a stored value (`member,booker`).
    ///
    /// # Errors
    /// On an unknown right name.
    pub fn parse(stored: &str) -> Result<Self, String> {
        stored
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
    }
}

impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Right::as_str).collect();
        f.write_str(&names.join(","))
    }
}

/// A membership's state.
pub mod membership_status {
    /// Self-registered; the lead administrator has not yet confirmed it.
    pub const CLAIMED: &str = "claimed";
    /// Confirmed (or created) by the lead administrator.
    pub const VERIFIED: &str = "verified";
    /// Marked as a leaver.
    pub const LEFT: &str = "left";
}

/// A tenant-wide role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs the tenant: organisations, catalogue, notices.
    TenantAdmin,
    /// Staff of one provider: manages that provider's courses and delegate lists.
    ProviderStaff,
    /// Answers rights requests: the queue, each request's clock and history.
    PrivacyOfficer,
}

impl Role {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TenantAdmin => "tenant_admin",
            Self::ProviderStaff => "provider_staff",
            Self::PrivacyOfficer => "privacy_officer",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.replace('-', "_").as_str() {
            "tenant_admin" => Ok(Self::TenantAdmin),
            "provider_staff" => Ok(Self::ProviderStaff),
            "privacy_officer" => Ok(Self::PrivacyOfficer),
            _ => Err(format!(
                "unknown role `{s}`: use tenant-admin, provider-staff or privacy-officer"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_round_trip_and_always_include_member() {
        let r = Rights::parse("lead_admin,booker").unwrap();
        assert_eq!(r.to_string(), "member,booker,lead_admin");
        assert!(r.has(Right::Member));
        assert!(Rights::parse("member,root").is_err());
        assert_eq!(Rights::parse("").unwrap().to_string(), "member");
    }
}
