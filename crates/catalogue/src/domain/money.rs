//! Prices are whole pence everywhere; pounds appear only at the edges (forms and pages).

/// Most a single price may be: £1,000,000.
pub const MAX_PENCE: i64 = 100_000_000;

/// Formats pence as pounds: `£1,250.00`, or `Free` for zero.
#[must_use]
pub fn format_pence(pence: i64) -> String {
    if pence == 0 {
        return "Free".to_owned();
    }
    pounds(pence)
}

/// Pounds and pence whatever the amount (`£1,234.50`, `-£45.00`, `£0.00`), for invoices.
#[must_use]
pub fn pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let pence = pence.unsigned_abs();
    let pounds = (pence / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in pounds.chars().enumerate() {
        if i > 0 && (pounds.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}£{grouped}.{:02}", pence % 100)
}

/// Reads pounds as typed into a form (`45`, `45.5`, `£1,250.00`) into pence.
///
/// # Errors
/// A message for the person when it is not an amount of money.
pub fn parse_pounds(text: &str) -> Result<i64, &'static str> {
    let cleaned: String = text
        .trim()
        .trim_start_matches('£')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    if cleaned.is_empty() {
        return Ok(0);
    }
    if cleaned.starts_with('-') {
        return Err("must be £0 or more");
    }
    let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(frac.is_empty() || (frac.len() <= 2 && digits(frac))) {
        return Err("must be an amount in pounds, like 45 or 45.50");
    }
    let pounds: i64 = whole.parse().map_err(|_| "is too large")?;
    let pence: i64 = format!("{frac:0<2}").parse().map_err(|_| "is too large")?;
    pounds
        .checked_mul(100)
        .and_then(|p| p.checked_add(pence))
        .filter(|p| *p <= MAX_PENCE)
        .ok_or("must be £1,000,000 or less")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_pence(0), "Free");
        assert_eq!(format_pence(4550), "£45.50");
        assert_eq!(format_pence(125_000), "£1,250.00");
        assert_eq!(format_pence(100_000_000), "£1,000,000.00");
    }

    #[test]
    fn parses() {
        assert_eq!(parse_pounds("45"), Ok(4500));
        assert_eq!(parse_pounds("£1,250.5"), Ok(125_050));
        assert_eq!(parse_pounds(""), Ok(0));
        assert!(parse_pounds("-5").is_err());
        assert!(parse_pounds("12.345").is_err());
        assert!(parse_pounds("ten").is_err());
        assert!(parse_pounds("99999999999999999999").is_err());
        assert!(parse_pounds("1000001").is_err());
    }
}
