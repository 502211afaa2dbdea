//! Courses and events, and their sessions: what a manager may submit and the checks on it.

use chrono::{DateTime, Utc};
use identity::domain::signup::FieldError;
use serde::Deserialize;
use tenant_router::TenantConfig;
use utoipa::ToSchema;

use super::money::MAX_PENCE;
use super::{DESCRIPTION_MAX, Manager, SHORT_MAX, SUMMARY_MAX, TITLE_MAX, choices, error, text};

/// School phases a course can be aimed at: (stored name, label).
pub const PHASES: [(&str, &str); 6] = [
    ("early_years", "Early years"),
    ("primary", "Primary"),
    ("secondary", "Secondary"),
    ("special", "Special schools"),
    ("post_16", "Post-16"),
    ("all_through", "All-through"),
];

/// Longest course in CPD minutes (100 hours).
pub const CPD_MINUTES_MAX: i64 = 6_000;
/// Largest session.
pub const CAPACITY_MAX: i64 = 10_000;
/// Longest cancellation notice, in days.
pub const NOTICE_DAYS_MAX: i64 = 365;

/// A course or an event, as a manager submits it (the JSON API's body; the HTML form is
/// read into the same shape).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CourseFields {
    /// The provider running it (an id from the tenant's providers).
    pub provider_id: String,
    /// `course` or `event`.
    #[serde(default)]
    pub kind: String,
    /// Title.
    pub title: String,
    /// One or two sentences for the list.
    pub summary: String,
    /// The full description, in markdown.
    #[serde(default)]
    pub description: String,
    /// Audiences it is for (tenant audience names).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Job categories it is for (from the tenant's list).
    #[serde(default)]
    pub job_categories: Vec<String>,
    /// School phases it is for.
    #[serde(default)]
    pub phases: Vec<String>,
    /// CPD time it earns, in minutes.
    #[serde(default)]
    pub cpd_minutes: i64,
    /// Standard price per delegate, in pence.
    #[serde(default)]
    pub price_pence: i64,
    /// The traded service (SLA) whose holders pay the SLA price instead.
    #[serde(default)]
    pub sla_service_id: Option<String>,
    /// Price per delegate for holders of that SLA, in pence (often 0).
    #[serde(default)]
    pub sla_price_pence: Option<i64>,
    /// When booking opens (open at once if absent).
    #[serde(default)]
    pub booking_opens_at: Option<DateTime<Utc>>,
    /// When booking closes (at the start of the first session if absent).
    #[serde(default)]
    pub booking_closes_at: Option<DateTime<Utc>>,
    /// Free cancellation up to this many days before the session.
    #[serde(default)]
    pub cancellation_notice_days: i64,
    /// Cancellation terms in words.
    #[serde(default)]
    pub cancellation_terms: String,
    /// What delegates need to know before the day (sent with the reminder).
    #[serde(default)]
    pub pre_course_info: String,
    /// Whether a delegate's certificate waits until they have given feedback.
    #[serde(default)]
    pub certificate_after_feedback: bool,
}

/// A course that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCourse {
    /// Provider id.
    pub provider_id: String,
    /// `course` or `event`.
    pub kind: &'static str,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Markdown description.
    pub description: String,
    /// Audiences.
    pub audiences: Vec<String>,
    /// Job categories.
    pub job_categories: Vec<String>,
    /// Phases.
    pub phases: Vec<String>,
    /// CPD minutes.
    pub cpd_minutes: i32,
    /// Price in pence.
    pub price_pence: i64,
    /// SLA service.
    pub sla_service_id: Option<String>,
    /// SLA price in pence.
    pub sla_price_pence: Option<i64>,
    /// Booking opens.
    pub booking_opens_at: Option<DateTime<Utc>>,
    /// Booking closes.
    pub booking_closes_at: Option<DateTime<Utc>>,
    /// Notice days.
    pub cancellation_notice_days: i32,
    /// Terms.
    pub cancellation_terms: String,
    /// Pre-course information.
    pub pre_course_info: String,
    /// Certificate held until feedback.
    pub certificate_after_feedback: bool,
}

fn price(errors: &mut Vec<FieldError>, field: &'static str, label: &str, pence: i64) -> i64 {
    if pence < 0 {
        error(errors, field, format!("{label} must be £0 or more"));
    } else if pence > MAX_PENCE {
        error(errors, field, format!("{label} must be £1,000,000 or less"));
    }
    pence
}

/// Checks a course. The SLA service's existence is checked by the store, which can see it.
///
/// # Errors
/// Every problem found, each tied to its field.
pub fn validate(
    cfg: &TenantConfig,
    manager: &Manager,
    f: &CourseFields,
) -> Result<ValidCourse, Vec<FieldError>> {
    let mut errors = Vec::new();
    super::provider_for(&mut errors, cfg, manager, &f.provider_id);
    let kind = match f.kind.trim() {
        "" | "course" => "course",
        "event" => "event",
        _ => {
            error(
                &mut errors,
                "kind",
                "Select whether this is a course or an event",
            );
            "course"
        }
    };
    let title = text(&mut errors, "title", "a title", &f.title, true, TITLE_MAX);
    let summary = text(
        &mut errors,
        "summary",
        "a summary",
        &f.summary,
        true,
        SUMMARY_MAX,
    );
    let description = text(
        &mut errors,
        "description",
        "a description",
        &f.description,
        false,
        DESCRIPTION_MAX,
    );
    let audiences_allowed: Vec<&str> = cfg.audiences.iter().map(|a| a.as_str()).collect();
    let audiences = choices(
        &mut errors,
        "audiences",
        "who it is for",
        &f.audiences,
        &audiences_allowed,
    );
    let jobs_allowed: Vec<&str> = cfg.job_categories.iter().map(String::as_str).collect();
    let job_categories = choices(
        &mut errors,
        "job_categories",
        "job categories",
        &f.job_categories,
        &jobs_allowed,
    );
    let phases_allowed: Vec<&str> = PHASES.iter().map(|(p, _)| *p).collect();
    let phases = choices(&mut errors, "phases", "phases", &f.phases, &phases_allowed);
    if !(0..=CPD_MINUTES_MAX).contains(&f.cpd_minutes) {
        error(
            &mut errors,
            "cpd_minutes",
            "CPD hours must be between 0 and 100",
        );
    }
    let price_pence = price(&mut errors, "price_pence", "The price", f.price_pence);
    let sla_service_id = f
        .sla_service_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let sla_price_pence = f
        .sla_price_pence
        .map(|p| price(&mut errors, "sla_price_pence", "The SLA price", p));
    if sla_service_id.is_some() != sla_price_pence.is_some() {
        error(
            &mut errors,
            "sla_price_pence",
            "Give both the SLA that covers this course and the price its holders pay, or neither",
        );
    }
    if let (Some(open), Some(close)) = (f.booking_opens_at, f.booking_closes_at)
        && close <= open
    {
        error(
            &mut errors,
            "booking_closes_at",
            "Booking must close after it opens",
        );
    }
    if !(0..=NOTICE_DAYS_MAX).contains(&f.cancellation_notice_days) {
        error(
            &mut errors,
            "cancellation_notice_days",
            "Cancellation notice must be between 0 and 365 days",
        );
    }
    let cancellation_terms = text(
        &mut errors,
        "cancellation_terms",
        "cancellation terms",
        &f.cancellation_terms,
        false,
        SHORT_MAX * 4,
    );
    let pre_course_info = text(
        &mut errors,
        "pre_course_info",
        "pre-course information",
        &f.pre_course_info,
        false,
        SHORT_MAX * 8,
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidCourse {
        provider_id: f.provider_id.trim().to_owned(),
        kind,
        title,
        summary,
        description,
        audiences,
        job_categories,
        phases,
        cpd_minutes: i32::try_from(f.cpd_minutes).unwrap_or(0),
        price_pence,
        sla_service_id,
        sla_price_pence,
        booking_opens_at: f.booking_opens_at,
        booking_closes_at: f.booking_closes_at,
        cancellation_notice_days: i32::try_from(f.cancellation_notice_days).unwrap_or(0),
        cancellation_terms,
        pre_course_info,
        certificate_after_feedback: f.certificate_after_feedback,
    })
}

/// One session of a course, as a manager submits it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionFields {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Where it happens in person.
    #[serde(default)]
    pub venue: Option<String>,
    /// Where it happens online (`https://`).
    #[serde(default)]
    pub online_url: Option<String>,
    /// Places.
    pub capacity: i64,
    /// Most places one organisation may hold (no limit when absent).
    #[serde(default)]
    pub org_place_limit: Option<i64>,
}

/// A session that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSession {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Venue.
    pub venue: Option<String>,
    /// Online link.
    pub online_url: Option<String>,
    /// Places.
    pub capacity: i32,
    /// Per-organisation limit.
    pub org_place_limit: Option<i32>,
}

/// Checks a session. `must_be_future` holds for sessions of a published course (a new
/// session there is bookable at once, so it cannot be in the past).
///
/// # Errors
/// Every problem found, each tied to its field.
pub fn validate_session(
    f: &SessionFields,
    now: DateTime<Utc>,
    must_be_future: bool,
) -> Result<ValidSession, Vec<FieldError>> {
    let mut errors = Vec::new();
    if f.ends_at <= f.starts_at {
        error(
            &mut errors,
            "ends_at",
            "The session must end after it starts",
        );
    } else if f.ends_at - f.starts_at > chrono::Duration::days(14) {
        error(
            &mut errors,
            "ends_at",
            "A session can last 14 days at most: add another session instead",
        );
    }
    if must_be_future && f.starts_at <= now {
        error(
            &mut errors,
            "starts_at",
            "The session must start in the future",
        );
    }
    if !(1..=CAPACITY_MAX).contains(&f.capacity) {
        error(
            &mut errors,
            "capacity",
            "Places must be a whole number between 1 and 10,000",
        );
    }
    if f.org_place_limit
        .is_some_and(|l| l < 1 || l > f.capacity.max(1))
    {
        error(
            &mut errors,
            "org_place_limit",
            "Places per organisation must be between 1 and the session's places",
        );
    }
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let venue = clean(&f.venue);
    let online_url = clean(&f.online_url);
    if venue
        .as_ref()
        .is_some_and(|v| v.chars().count() > SHORT_MAX)
    {
        error(
            &mut errors,
            "venue",
            "The venue must be 500 characters or fewer",
        );
    }
    match &online_url {
        Some(u)
            if !u.starts_with("https://") || u.len() > 2000 || u.contains(char::is_whitespace) =>
        {
            error(
                &mut errors,
                "online_url",
                "Enter the online link as a web address starting https://",
            );
        }
        _ => {}
    }
    if venue.is_none() && online_url.is_none() {
        error(
            &mut errors,
            "venue",
            "Enter a venue, an online link, or both",
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidSession {
        starts_at: f.starts_at,
        ends_at: f.ends_at,
        venue,
        online_url,
        capacity: i32::try_from(f.capacity).unwrap_or(1),
        org_place_limit: f.org_place_limit.and_then(|l| i32::try_from(l).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 10, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn session(start: u32, end: u32, capacity: i64) -> SessionFields {
        SessionFields {
            starts_at: at(start),
            ends_at: at(end),
            venue: Some("Taunton".into()),
            online_url: None,
            capacity,
            org_place_limit: None,
        }
    }

    #[test]
    fn session_rules() {
        let now = at(0);
        assert!(validate_session(&session(9, 12, 20), now, true).is_ok());
        let errs = validate_session(&session(12, 9, 20), now, true).unwrap_err();
        assert_eq!(errs[0].field, "ends_at");
        let errs = validate_session(&session(9, 12, -1), now, true).unwrap_err();
        assert_eq!(errs[0].field, "capacity");
        let errs = validate_session(&session(9, 12, 20), at(10), true).unwrap_err();
        assert_eq!(errs[0].field, "starts_at");
        assert!(validate_session(&session(9, 12, 20), at(10), false).is_ok());
        let mut online = session(9, 12, 20);
        online.venue = None;
        online.online_url = Some("javascript:alert(1)".into());
        assert_eq!(
            validate_session(&online, now, true).unwrap_err()[0].field,
            "online_url"
        );
    }
}
