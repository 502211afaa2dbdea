//! The tenant identifier: a validated slug, never a bare `String`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// A tenant's slug: 1 to 63 characters of `a-z`, `0-9` and `-`, starting with a letter.
/// It names the `tenants/<slug>` folder, leads every tenant-owned primary key and prefixes
/// every cache and storage key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

/// Why a string is not a tenant id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a tenant id: use 1 to 63 lowercase letters, digits or hyphens, starting with a letter"
)]
pub struct InvalidTenantId(pub String);

impl TenantId {
    /// The slug.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TenantId {
    type Err = InvalidTenantId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=63).contains(&s.len())
            && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidTenantId(s.to_owned()))
        }
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_slugs_and_rejects_everything_else() {
        for ok in ["somerset", "segfl", "a", "harrow-2"] {
            assert!(ok.parse::<TenantId>().is_ok(), "{ok}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "Somerset",
            "1abc",
            "-x",
            "a b",
            "a_b",
            "ä",
            long.as_str(),
        ] {
            assert!(bad.parse::<TenantId>().is_err(), "{bad}");
        }
    }
}
