//! What makes a password acceptable, after NIST SP 800-63B: long enough, not absurdly long,
//! not a known-common password, not the person's own email or name. No composition rules
//! (they make passwords harder to remember, not harder to guess) and no forced expiry.

/// Shortest accepted password, in characters.
pub const MIN_CHARS: usize = 12;
/// Longest accepted password, in characters (hashing cost is bounded anyway).
pub const MAX_CHARS: usize = 256;

const COMMON: &str = include_str!("common_passwords.txt");

/// Why a password was refused; each has a message fit to show beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("Your password must be at least 12 characters long")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("Your password must be 256 characters or fewer")]
    TooLong,
    /// On the list of commonly used passwords.
    #[error("That password is too common: choose one that other people are unlikely to use")]
    Common,
    /// Contains the person's email or name.
    #[error("Your password must not contain your email address or name")]
    Personal,
}

/// Checks a new password. `personal` holds the person's email and names.
///
/// # Errors
/// The first [`PasswordProblem`] found.
pub fn check(password: &str, personal: &[&str]) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    let lower = password.to_lowercase();
    let one_character_repeated = lower.chars().all(|c| lower.starts_with(c));
    if one_character_repeated || COMMON.lines().any(|c| c == lower) {
        return Err(PasswordProblem::Common);
    }
    let personal_hit = personal
        .iter()
        .flat_map(|p| {
            let p = p.to_lowercase();
            let local = p.split('@').next().unwrap_or_default().to_owned();
            [p, local]
        })
        .any(|p| p.chars().count() >= 4 && lower.contains(&p));
    if personal_hit {
        return Err(PasswordProblem::Personal);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules() {
        assert_eq!(check("short", &[]), Err(PasswordProblem::TooShort));
        assert_eq!(check(&"x1".repeat(200), &[]), Err(PasswordProblem::TooLong));
        assert_eq!(check("correct horse battery", &[]), Ok(()));
        // Counted in characters, not bytes.
        assert_eq!(check("ééééééééééé", &[]), Err(PasswordProblem::TooShort));
    }

    #[test]
    fn common_and_personal_passwords_are_refused() {
        assert_eq!(check("Password1234", &[]), Err(PasswordProblem::Common));
        assert_eq!(check("zzzzzzzzzzzzzz", &[]), Err(PasswordProblem::Common));
        assert_eq!(
            check(
                "jane.smith-rocks",
                &["jane.smith@school.org.uk", "Jane", "Smith"]
            ),
            Err(PasswordProblem::Personal)
        );
        assert_eq!(
            check("Jo is my name ok", &["Jo"]),
            Ok(()),
            "short names are not matched"
        );
    }
}
