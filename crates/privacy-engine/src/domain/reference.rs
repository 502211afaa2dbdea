//! Short references for the records people and officers quote (`RR-…`, `CP-…`, `BR-…`).

/// A record's short reference: `prefix`, a dash and the last eight letters and digits of
/// its id. Ids are UUID v7, whose leading characters are the time (the same for every
/// record made within a minute or so) and whose trailing ones are random.
#[must_use]
pub fn reference_with(prefix: &str, id: &str) -> String {
    let tail: Vec<char> = id.chars().filter(char::is_ascii_alphanumeric).collect();
    let start = tail.len().saturating_sub(8);
    format!(
        "{prefix}-{}",
        tail[start..].iter().collect::<String>().to_uppercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_made_in_the_same_minute_have_different_references() {
        let a = uuid::Uuid::now_v7().to_string();
        let b = uuid::Uuid::now_v7().to_string();
        assert_eq!(a[..8], b[..8], "the same time prefix");
        assert_ne!(reference_with("RR", &a), reference_with("RR", &b));
        assert_eq!(reference_with("RR", &a).len(), "RR-".len() + 8);
        assert_eq!(reference_with("BR", "0193-ab-cdef0123"), "BR-CDEF0123");
    }
}
