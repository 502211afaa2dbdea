//! Text for CSV files people open in spreadsheets.

/// A CSV cell that a spreadsheet will not run as a formula: text starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading apostrophe. A plain negative number
/// (`-75.00`) is left as it is: it is no formula, and finance systems read it as a number.
#[must_use]
pub fn safe_cell(value: &str) -> String {
    let negative_number = value.strip_prefix('-').is_some_and(|rest| {
        !rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && rest.bytes().filter(|b| *b == b'.').count() <= 1
    });
    if !negative_number && value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_cell;

    #[test]
    fn formulas_are_disarmed_and_text_is_kept() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("Pat Jones"), "Pat Jones");
        assert_eq!(safe_cell(""), "");
        assert_eq!(safe_cell("-75.00"), "-75.00");
        assert_eq!(safe_cell("-1+1"), "'-1+1");
        assert_eq!(safe_cell("-"), "'-");
        assert_eq!(safe_cell("-1.2.3"), "'-1.2.3");
    }
}
