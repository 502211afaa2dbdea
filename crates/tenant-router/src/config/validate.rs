//! Rules a tenant file must satisfy beyond its shape. Each failure names the key it is about,
//! so `check` can print `tenants/x/tenant.toml: retention[2].after: …`.

use std::collections::BTreeSet;

use super::{FieldPolicy, Module, RetentionTrigger, TenantConfig};
use crate::host::normalise_host;

/// One broken rule: the key path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, e.g. `branding.colour` or `retention[1].category`.
    pub key: String,
    /// What is wrong, in plain English.
    pub message: String,
}

struct Checker(Vec<Problem>);

impl Checker {
    fn fail(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    fn non_empty(&mut self, key: &str, value: &str) {
        if value.trim().is_empty() {
            self.fail(key, "must not be empty");
        } else if value.len() > 500 {
            self.fail(key, "is longer than 500 characters");
        }
    }

    fn email(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value
            && !looks_like_email(v)
        {
            self.fail(key, format!("`{v}` is not an email address"));
        }
    }

    fn url(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value
            && !(v.starts_with("https://") && v.len() > "https://".len() && !v.contains(' '))
        {
            self.fail(key, format!("`{v}` is not an https:// address"));
        }
    }

    fn unique_ids<'a>(&mut self, list: &str, ids: impl Iterator<Item = &'a str>) {
        let mut seen = BTreeSet::new();
        for (i, id) in ids.enumerate() {
            if !is_slug(id) {
                self.fail(
                    format!("{list}[{i}].id"),
                    format!("`{id}` must be lowercase letters, digits and hyphens"),
                );
            }
            if !seen.insert(id) {
                self.fail(format!("{list}[{i}].id"), format!("`{id}` is used twice"));
            }
        }
    }
}

/// Checks every rule and returns all problems found (empty when the file is good).
pub(crate) fn validate(cfg: &TenantConfig) -> Vec<Problem> {
    let mut c = Checker(Vec::new());
    c.non_empty("display_name", &cfg.display_name);
    c.non_empty("short_name", &cfg.short_name);
    hostnames(&mut c, cfg);
    branding(&mut c, cfg);
    c.unique_ids("oidc", cfg.oidc.iter().map(|o| o.id.as_str()));
    for (i, o) in cfg.oidc.iter().enumerate() {
        c.non_empty(&format!("oidc[{i}].label"), &o.label);
        c.non_empty(&format!("oidc[{i}].client_id"), &o.client_id);
        // Plain http only on loopback (development and tests); anywhere else the issuer
        // must be https, or its keys and tokens could be tampered with in transit.
        let loopback =
            o.issuer.starts_with("http://127.0.0.1:") || o.issuer.starts_with("http://localhost:");
        if !loopback {
            c.url(&format!("oidc[{i}].issuer"), Some(&o.issuer));
        }
    }
    c.non_empty("controller.name", &cfg.controller.name);
    if let Some(ico) = &cfg.controller.ico_registration
        && !is_ico_registration(ico)
    {
        c.fail(
            "controller.ico_registration",
            format!("`{ico}` is not an ICO registration number (e.g. Z5957592)"),
        );
    }
    c.url(
        "controller.notice_url",
        cfg.controller.notice_url.as_deref(),
    );
    c.url("website", cfg.website.as_deref());
    c.non_empty("dpo.name", &cfg.dpo.name);
    c.email("dpo.email", cfg.dpo.email.as_deref());
    // The rights desk counts requests by this period; the law allows no more than a month.
    let respond = cfg.subject_rights.respond_within;
    let within_a_month = respond.count() >= 1
        && match respond.unit() {
            super::PeriodUnit::Days => respond.count() <= 28,
            super::PeriodUnit::Weeks => respond.count() <= 4,
            super::PeriodUnit::Months => respond.count() == 1,
            super::PeriodUnit::Years => false,
        };
    if !within_a_month {
        c.fail(
            "subject_rights.respond_within",
            "must be at least a day and at most one month (UK GDPR article 12(3)), e.g. `1m` or `20d`",
        );
    }
    // Long enough to show how a complaint about the answer was handled; not for ever.
    let keep = cfg.subject_rights.keep_records();
    let days = match keep.unit() {
        super::PeriodUnit::Days => keep.count(),
        super::PeriodUnit::Weeks => keep.count().saturating_mul(7),
        super::PeriodUnit::Months => keep.count().saturating_mul(30),
        super::PeriodUnit::Years => keep.count().saturating_mul(365),
    };
    if !(90..=6 * 365).contains(&days) {
        c.fail(
            "subject_rights.keep_records",
            "must be at least three months and at most six years, e.g. `2y`",
        );
    }
    if cfg.contacts.is_empty() {
        c.fail("contacts", "at least one service contact is required");
    }
    for (i, contact) in cfg.contacts.iter().enumerate() {
        c.non_empty(&format!("contacts[{i}].label"), &contact.label);
        c.email(&format!("contacts[{i}].email"), contact.email.as_deref());
        c.url(
            &format!("contacts[{i}].website"),
            contact.website.as_deref(),
        );
        if contact.email.is_none() && contact.phone.is_none() && contact.website.is_none() {
            c.fail(
                format!("contacts[{i}]"),
                "needs an email, a phone number or a website",
            );
        }
    }
    if cfg.lawful_bases.is_empty() {
        c.fail("lawful_bases", "at least one lawful basis is required");
    }
    // The notice lists the bases relied on and gives each category its own: the two agree.
    for (i, cat) in cfg.data_categories.iter().enumerate() {
        if !cfg.lawful_bases.contains(&cat.lawful_basis) {
            c.fail(
                format!("data_categories[{i}].lawful_basis"),
                format!(
                    "`{}` relies on a basis `lawful_bases` does not list",
                    cat.id
                ),
            );
        }
    }
    if cfg.subject_rights.automated_decisions {
        c.fail(
            "subject_rights.automated_decisions",
            "the portal makes no decision about anyone by automated means alone, and has no \
             request for a person to review one; set it to false",
        );
    }
    if cfg.audiences.is_empty() {
        c.fail("audiences", "at least one audience is required");
    }
    if cfg.bookings.reminder_days > super::REMINDER_DAYS_MAX {
        c.fail(
            "bookings.reminder_days",
            format!("must be between 0 and {} days", super::REMINDER_DAYS_MAX),
        );
    }
    account_fields(&mut c, cfg);
    inventory(&mut c, cfg);
    retention(&mut c, cfg);
    c.0
}

fn hostnames(c: &mut Checker, cfg: &TenantConfig) {
    if cfg.hostnames.is_empty() {
        c.fail("hostnames", "at least one hostname is required");
    }
    let mut seen = BTreeSet::new();
    for (i, h) in cfg.hostnames.iter().enumerate() {
        match normalise_host(h) {
            Ok(n) if n == *h && !h.contains(':') => {
                if !seen.insert(h.as_str()) {
                    c.fail(format!("hostnames[{i}]"), format!("`{h}` is listed twice"));
                }
            }
            _ => c.fail(
                format!("hostnames[{i}]"),
                format!("`{h}` is not a lowercase host name without a port"),
            ),
        }
    }
    let dev = format!("{}.localhost", cfg.slug);
    if !cfg.hostnames.contains(&dev) {
        c.fail(
            "hostnames",
            format!("must include the development host `{dev}`"),
        );
    }
}

fn branding(c: &mut Checker, cfg: &TenantConfig) {
    for (key, colour) in [
        ("branding.colour", &cfg.branding.colour),
        ("branding.accent_colour", &cfg.branding.accent_colour),
    ] {
        match parse_hex_colour(colour) {
            None => c.fail(key, format!("`{colour}` is not a colour: write #rrggbb")),
            Some(rgb) => {
                let ratio = contrast_ratio(rgb, [255, 255, 255]);
                if ratio < 4.5 {
                    c.fail(
                        key,
                        format!(
                            "`{colour}` has contrast {ratio:.2}:1 against white; WCAG 2.2 AA needs 4.5:1"
                        ),
                    );
                }
            }
        }
    }
    if let Some(logo) = &cfg.branding.logo {
        let ok_name = !logo.contains(['/', '\\']) && !logo.starts_with('.');
        let ok_ext = logo.ends_with(".svg") || logo.ends_with(".png");
        if !ok_name || !ok_ext {
            c.fail(
                "branding.logo",
                format!("`{logo}` must be a .svg or .png file name inside the tenant folder"),
            );
        }
        if cfg
            .branding
            .logo_alt
            .as_deref()
            .is_none_or(|a| a.trim().is_empty())
        {
            c.fail("branding.logo_alt", "a logo needs a text alternative");
        }
    }
}

fn account_fields(c: &mut Checker, cfg: &TenantConfig) {
    let f = &cfg.account_fields;
    for (key, policy) in [
        ("account_fields.first_name", f.first_name),
        ("account_fields.last_name", f.last_name),
        ("account_fields.email", f.email),
    ] {
        if policy != FieldPolicy::Mandatory {
            c.fail(key, "must be `mandatory`: accounts cannot work without it");
        }
    }
    if f.job_category.is_some() && cfg.job_categories.is_empty() {
        c.fail(
            "job_categories",
            "must list the categories offered because account_fields.job_category is collected",
        );
    }
    if let Some(p) = f.special_requirements
        && p != FieldPolicy::SpecialCategory
    {
        c.fail(
            "account_fields.special_requirements",
            "must be `special_category`: it can reveal health",
        );
    }
    for (name, policy) in f.collected() {
        if policy == FieldPolicy::SpecialCategory && name != "special_requirements" {
            c.fail(
                format!("account_fields.{name}"),
                "only special_requirements may be `special_category`",
            );
        }
    }
}

fn inventory(c: &mut Checker, cfg: &TenantConfig) {
    if cfg.data_categories.is_empty() {
        c.fail(
            "data_categories",
            "the data inventory needs at least one category",
        );
    }
    let mut seen = BTreeSet::new();
    for (i, cat) in cfg.data_categories.iter().enumerate() {
        let key = format!("data_categories[{i}]");
        if !is_category_id(&cat.id) {
            c.fail(
                format!("{key}.id"),
                format!(
                    "`{}` must look like `group.name` (lowercase, digits, _)",
                    cat.id
                ),
            );
        }
        if !seen.insert(cat.id.as_str()) {
            c.fail(format!("{key}.id"), format!("`{}` is used twice", cat.id));
        }
        c.non_empty(&format!("{key}.name"), &cat.name);
        for (list, empty) in [
            ("items", cat.items.is_empty()),
            ("purposes", cat.purposes.is_empty()),
            ("sources", cat.sources.is_empty()),
        ] {
            if empty {
                c.fail(format!("{key}.{list}"), "must not be empty");
            }
        }
        if cat.special_category && cfg.special_category_conditions.is_empty() {
            c.fail(
                "special_category_conditions",
                format!(
                    "`{}` is special-category data, so an article 9 condition is required",
                    cat.id
                ),
            );
        }
    }
    for (module, group, needs_special) in [
        (Module::Induction, "induction", false),
        (Module::InclusionCasework, "inclusion", true),
    ] {
        let present = cfg
            .data_categories
            .iter()
            .any(|d| d.group() == group && (!needs_special || d.special_category));
        if cfg.has_module(module) && !present {
            let extra = if needs_special {
                " with special_category = true"
            } else {
                ""
            };
            c.fail(
                "modules",
                format!("module `{group}` needs a `{group}.*` data category{extra}"),
            );
        }
    }
    let ids = cfg.category_ids();
    c.unique_ids("providers", cfg.providers.iter().map(|p| p.id.as_str()));
    for (i, p) in cfg.providers.iter().enumerate() {
        c.non_empty(&format!("providers[{i}].name"), &p.name);
        c.email(&format!("providers[{i}].email"), p.email.as_deref());
        unknown_categories(c, &format!("providers[{i}].receives"), &p.receives, &ids);
    }
    c.unique_ids("processors", cfg.processors.iter().map(|p| p.id.as_str()));
    for (i, p) in cfg.processors.iter().enumerate() {
        c.non_empty(&format!("processors[{i}].name"), &p.name);
        c.non_empty(&format!("processors[{i}].role"), &p.role);
        unknown_categories(
            c,
            &format!("processors[{i}].categories"),
            &p.categories,
            &ids,
        );
    }
}

fn unknown_categories(c: &mut Checker, key: &str, list: &[String], ids: &BTreeSet<&str>) {
    for (j, cat) in list.iter().enumerate() {
        if !ids.contains(cat.as_str()) {
            c.fail(
                format!("{key}[{j}]"),
                format!("`{cat}` is not a category in data_categories"),
            );
        }
    }
}

fn retention(c: &mut Checker, cfg: &TenantConfig) {
    if cfg.retention.is_empty() {
        c.fail("retention", "at least one retention rule is required");
    }
    let ids = cfg.category_ids();
    let groups: BTreeSet<&str> = cfg.data_categories.iter().map(|d| d.group()).collect();
    for (i, rule) in cfg.retention.iter().enumerate() {
        let key = format!("retention[{i}]");
        if !ids.contains(rule.category.as_str()) && !groups.contains(rule.category.as_str()) {
            c.fail(
                format!("{key}.category"),
                format!(
                    "`{}` is neither a category id nor a category group in data_categories",
                    rule.category
                ),
            );
        }
        match (rule.trigger, rule.after) {
            (RetentionTrigger::AdminSchedule, Some(_)) => c.fail(
                format!("{key}.after"),
                "must be left out: an admin schedule sets the periods per record type",
            ),
            (RetentionTrigger::AdminSchedule, None) => {}
            (_, None) => c.fail(format!("{key}.after"), "is required, e.g. \"2y\" or \"0d\""),
            (_, Some(_)) => {}
        }
        // Keeping the account longer is done by signing in, which restarts an inactivity
        // period (the warning before the step says so); no other rule can be put off.
        let account = rule.category == "account" || rule.category.starts_with("account.");
        if rule.user_may_extend && !(account && rule.trigger == RetentionTrigger::Inactivity) {
            c.fail(
                format!("{key}.user_may_extend"),
                "only an account rule triggered by inactivity can be put off (by signing in)",
            );
        }
    }
    for (i, cat) in cfg.data_categories.iter().enumerate() {
        let covered = cfg
            .retention
            .iter()
            .any(|r| r.category == cat.id || r.category == cat.group());
        if !covered {
            c.fail(
                format!("data_categories[{i}]"),
                format!("`{}` has no retention rule", cat.id),
            );
        }
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_category_id(s: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    matches!(s.split_once('.'), Some((g, n)) if part(g) && part(n))
}

fn is_ico_registration(s: &str) -> bool {
    s.len() == 8
        && s.starts_with('Z')
        && s[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// A deliberately loose check: one `@`, something before it, a dotted domain after it.
pub(crate) fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
                && s.len() <= 254
        }
        None => false,
    }
}

/// Parses `#rrggbb`.
pub fn parse_hex_colour(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// WCAG 2.x contrast ratio between two sRGB colours.
#[must_use]
pub fn contrast_ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    fn luminance([r, g, b]: [u8; 3]) -> f64 {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_wcag_reference_values() {
        let white = [255, 255, 255];
        assert!((contrast_ratio([0, 0, 0], white) - 21.0).abs() < 0.01);
        assert!((contrast_ratio(white, white) - 1.0).abs() < 0.01);
        // GOV.UK blue #1d70b8 is 5.17:1 on white.
        let blue = parse_hex_colour("#1d70b8").unwrap();
        assert!((contrast_ratio(blue, white) - 5.17).abs() < 0.01);
        assert_eq!(parse_hex_colour("#12345"), None);
        assert_eq!(parse_hex_colour("123456"), None);
        assert_eq!(parse_hex_colour("#gg0000"), None);
    }

    #[test]
    fn email_and_registration_checks() {
        assert!(looks_like_email("dpo@harrow.gov.uk"));
        for bad in ["", "dpo", "@x.uk", "a@b", "a@b@c.uk", "a b@c.uk", "a@.uk"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
        assert!(is_ico_registration("Z5957592"));
        assert!(is_ico_registration("ZA123456"));
        assert!(!is_ico_registration("X5957592"));
        assert!(!is_ico_registration("Z59575"));
        assert!(is_category_id("account.special_requirements"));
        assert!(!is_category_id("account"));
        assert!(!is_category_id("Account.x"));
        assert!(!is_category_id("a.b.c"));
    }
}
