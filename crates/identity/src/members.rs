//! What a lead administrator can change about a member of their organisation.

use std::collections::HashMap;

use crate::domain::rights::{Right, Rights};

/// A change a lead administrator makes to a member.
#[derive(Debug, Clone)]
pub enum MemberChange {
    /// Confirm a self-registered member.
    Verify,
    /// Replace their rights.
    Rights(Rights),
    /// Mark them as having left (deactivates the account).
    Leaver,
}

impl MemberChange {
    /// Reads a change from a submitted form's `action` (and `right_*` boxes).
    #[must_use]
    pub fn from_form(form: &HashMap<String, String>) -> Option<Self> {
        match form.get("action").map(String::as_str) {
            Some("verify") => Some(Self::Verify),
            Some("rights") => Some(Self::Rights(rights_from_form(form))),
            Some("leaver") => Some(Self::Leaver),
            _ => None,
        }
    }
}

/// The rights ticked in a form's `right_*` boxes.
pub(crate) fn rights_from_form(form: &HashMap<String, String>) -> Rights {
    Rights::new(
        Right::ALL
            .into_iter()
            .filter(|r| form.get(&format!("right_{}", r.as_str())).is_some()),
    )
}
