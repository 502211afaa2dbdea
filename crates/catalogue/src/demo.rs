//! Demonstration catalogue: a few dozen courses and events with sessions, and traded
//! services, for each tenant that offers them, so a first run shows a living portal. Every
//! item goes through the same validation and audit as a manager's, dated from the clock.

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Europe::London;
use tenant_router::TenantConfig;
use tenant_router::config::{Module, ProviderKind};

use crate::domain::Manager;
use crate::domain::course::{CourseFields, PHASES, SessionFields};
use crate::domain::service::{PriceBand, ServiceFields};
use crate::{Catalogue, CatalogueError};

/// (title, summary, description, CPD hours, price in pounds)
const COURSES: [(&str, &str, &str, i64, i64); 24] = [
    (
        "Designated safeguarding lead: new to role",
        "Two days for staff taking on the designated safeguarding lead role in a school or setting.",
        "## Who it is for\n\nStaff who have recently become, or are about to become, their setting's designated safeguarding lead.\n\n## What it covers\n\n- the statutory framework and local procedures\n- recognising and recording concerns\n- making referrals and working with other agencies\n- supervision and looking after yourself",
        12,
        240,
    ),
    (
        "Safeguarding refresher for designated leads",
        "A one-day update on changes to statutory guidance and local practice.",
        "Required every two years for designated safeguarding leads. Bring a recent case (anonymised) to discuss.",
        6,
        135,
    ),
    (
        "Whole-school safeguarding training",
        "Annual safeguarding training for all staff, delivered online.",
        "Covers the current statutory guidance, signs of abuse and neglect, and what to do if you are worried about a child.",
        2,
        45,
    ),
    (
        "Phonics leadership in the early years and key stage 1",
        "How to lead a consistent, systematic synthetic phonics programme across your school.",
        "For phonics and English leads. We look at assessment, keeping up rather than catching up, and coaching colleagues.",
        5,
        150,
    ),
    (
        "Early career teachers: behaviour that supports learning",
        "Practical routines for calm, purposeful classrooms in the first years of teaching.",
        "Built around the early career framework. Includes a follow-up online session half a term later.",
        4,
        95,
    ),
    (
        "Mentoring early career teachers",
        "For mentors supporting teachers through statutory induction.",
        "Instructional coaching, giving feedback that sticks, and keeping the induction record up to date.",
        5,
        120,
    ),
    (
        "Special educational needs co-ordinator network",
        "A termly meeting for SENCOs to share practice and hear local updates.",
        "Local authority updates on education, health and care plans, and a practice-sharing workshop.",
        3,
        0,
    ),
    (
        "Autism awareness in the classroom",
        "Understanding autistic pupils and adapting teaching and environment.",
        "Includes sensory audits and communication-friendly classrooms.",
        3,
        85,
    ),
    (
        "Attendance: the statutory guidance in practice",
        "What schools must do, and what works, to improve attendance.",
        "For attendance leads and senior leaders.",
        3,
        85,
    ),
    (
        "First aid at work",
        "Three-day qualification for appointed first aiders.",
        "Regulated qualification; certificates valid for three years.",
        18,
        295,
    ),
    (
        "Paediatric first aid",
        "Two-day course meeting early years foundation stage requirements.",
        "Required for early years practitioners counted in ratios.",
        12,
        170,
    ),
    (
        "Governor induction",
        "An introduction to the role of the governing board.",
        "Strategic leadership, accountability and financial oversight: the three core functions of governance.",
        3,
        0,
    ),
    (
        "Governors: understanding school data",
        "How to read and challenge your school's performance information.",
        "For governors and trustees with responsibility for standards.",
        2,
        45,
    ),
    (
        "School business managers' briefing",
        "A termly update on finance, procurement and HR for school business professionals.",
        "Budget setting, the schools financial value standard, and changes to pensions and pay.",
        3,
        0,
    ),
    (
        "Health and safety for school leaders",
        "The legal duties of headteachers and governors, and how to meet them.",
        "Risk assessment, contractor management and emergency planning.",
        6,
        140,
    ),
    (
        "Mental health first aid: youth",
        "Two-day course on supporting young people's mental health.",
        "Leads to certification as a youth mental health first aider.",
        12,
        210,
    ),
    (
        "Writing moderation: key stage 2",
        "Moderate writing against the teacher assessment framework with colleagues from other schools.",
        "Bring three pieces of writing from one pupil at each standard.",
        3,
        75,
    ),
    (
        "Maths mastery in primary schools",
        "Teaching for mastery: small steps, representations and fluency.",
        "A series of three twilight sessions with gap tasks in between.",
        5,
        120,
    ),
    (
        "Supporting children with speech, language and communication needs",
        "Identifying needs early and adapting the environment.",
        "For early years practitioners and key stage 1 staff.",
        3,
        80,
    ),
    (
        "Preparing for inspection in the early years",
        "What inspectors look for and how to show the quality of your provision.",
        "For managers of nurseries, pre-schools and childminders.",
        3,
        65,
    ),
    (
        "Childminder network meeting",
        "Meet other childminders, share practice and hear local updates.",
        "Includes an update on funding and sufficiency.",
        2,
        0,
    ),
    (
        "Data protection for schools",
        "What the UK GDPR means day to day, and handling subject access requests.",
        "For data protection leads, business managers and office staff.",
        3,
        90,
    ),
    (
        "Leading curriculum design",
        "Sequencing knowledge and skills across a subject from reception to year 6.",
        "For subject leaders in primary schools.",
        5,
        125,
    ),
    (
        "Recruiting safely",
        "Safer recruitment training meeting the statutory requirement for interview panels.",
        "Certificates valid for five years.",
        6,
        150,
    ),
];

/// A demonstration service: title, summary and three price bands as (label, pounds).
type DemoService = (&'static str, &'static str, [(&'static str, i64); 3]);

const SERVICES: [DemoService; 6] = [
    (
        "Training SLA",
        "Unlimited places on the council's core training programme for every member of staff.",
        [
            ("Up to 100 pupils", 450),
            ("101 to 300 pupils", 900),
            ("More than 300 pupils", 1500),
        ],
    ),
    (
        "Governor services SLA",
        "Clerking, governor training and advice for your governing board.",
        [
            ("Primary", 1200),
            ("Secondary", 2400),
            ("Special or alternative provision", 1200),
        ],
    ),
    (
        "Human resources advice",
        "Advice line and casework support on employment matters.",
        [
            ("Up to 100 pupils", 1800),
            ("101 to 300 pupils", 3200),
            ("More than 300 pupils", 5200),
        ],
    ),
    (
        "Health and safety support",
        "Annual audit, advice line and template policies.",
        [
            ("Up to 100 pupils", 650),
            ("101 to 300 pupils", 1100),
            ("More than 300 pupils", 1700),
        ],
    ),
    (
        "Educational visits advice",
        "Approval of visits, training for visit leaders and out-of-hours emergency support.",
        [("Primary", 350), ("Secondary", 700), ("Special", 350)],
    ),
    (
        "Data protection officer service",
        "A named data protection officer, policy templates and breach support.",
        [
            ("Up to 100 pupils", 500),
            ("101 to 300 pupils", 850),
            ("More than 300 pupils", 1200),
        ],
    ),
];

/// SEGfL's services, from its notice: SSL certificates, ICT procurement and JISC services.
const ICT_SERVICES: [DemoService; 3] = [
    (
        "SSL certificates",
        "Certificates for your school's websites and services, renewed each year.",
        [
            ("Single domain", 60),
            ("Up to five domains", 180),
            ("Wildcard", 320),
        ],
    ),
    (
        "ICT procurement",
        "Buying ICT equipment and services through framework agreements.",
        [
            ("Per school, per year", 150),
            ("Multi-academy trust, up to 5 schools", 600),
            ("Multi-academy trust, 6 or more schools", 1000),
        ],
    ),
    (
        "JISC connectivity and filtering",
        "Broadband, web filtering and network services through JISC.",
        [
            ("Primary", 2400),
            ("Secondary", 4800),
            ("All-through", 5400),
        ],
    ),
];

const VENUES: [&str; 4] = [
    "Council offices, training room 2",
    "Education development centre, main hall",
    "Teachers' centre, room 4",
    "Community hub, conference suite",
];

/// What the seed made in one tenant.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// Courses and events published.
    pub courses: usize,
    /// Sessions added.
    pub sessions: usize,
    /// Services published.
    pub services: usize,
}

fn uk(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    London
        .with_ymd_and_hms(day.year(), day.month(), day.day(), hour, minute, 0)
        .earliest()
        .map_or_else(
            || {
                day.and_hms_opt(hour, minute, 0)
                    .unwrap_or_default()
                    .and_utc()
            },
            |t| t.with_timezone(&Utc),
        )
}

/// The next weekday `days` after `from`.
fn weekday_after(from: NaiveDate, days: i64) -> NaiveDate {
    let mut d = from + Duration::days(days);
    while d.weekday().number_from_monday() > 5 {
        d += Duration::days(1);
    }
    d
}

/// The academic year (1 September to 31 August) that `today` falls in.
fn academic_year(today: NaiveDate) -> (NaiveDate, NaiveDate, String) {
    let start_year = if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    };
    let start = NaiveDate::from_ymd_opt(start_year, 9, 1).unwrap_or(today);
    let end = NaiveDate::from_ymd_opt(start_year + 1, 8, 31).unwrap_or(today);
    (
        start,
        end,
        format!("Academic year {start_year} to {}", start_year + 1),
    )
}

/// Fills the tenant's catalogue, acting as `manager` (normally [`Manager::Operator`]). Tenants without the
/// courses or traded-services modules get nothing of that kind.
///
/// # Errors
/// When an item fails validation (a bug in this data) or the database fails.
pub async fn seed(
    catalogue: &Catalogue,
    cfg: &TenantConfig,
    manager: &Manager,
) -> Result<Seeded, CatalogueError> {
    let mut seeded = Seeded::default();
    let now = catalogue.clock().now();
    let today = now.with_timezone(&London).date_naive();
    let (year_start, year_end, term) = academic_year(today);
    let sells = |k: ProviderKind| {
        matches!(
            k,
            ProviderKind::Services | ProviderKind::TrainingAndServices
        )
    };
    let trains = |k: ProviderKind| {
        matches!(
            k,
            ProviderKind::Training | ProviderKind::TrainingAndServices
        )
    };
    let sellers: Vec<_> = cfg.providers.iter().filter(|p| sells(p.kind)).collect();
    let trainers: Vec<_> = cfg.providers.iter().filter(|p| trains(p.kind)).collect();
    let audiences: Vec<String> = cfg
        .audiences
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    let mut sla_id = None;
    let services: &[DemoService] = if cfg.has_module(Module::TradedServices) {
        &SERVICES
    } else if cfg.has_module(Module::IctServices) {
        &ICT_SERVICES
    } else {
        &[]
    };
    for (i, (title, summary, bands)) in services.iter().enumerate() {
        let Some(provider) = sellers.get(i % sellers.len().max(1)) else {
            break;
        };
        let fields = ServiceFields {
            provider_id: provider.id.clone(),
            title: (*title).to_owned(),
            summary: (*summary).to_owned(),
            description: format!(
                "{summary}\n\nThe service runs for the whole academic year. Prices depend on the size or type of your school."
            ),
            audiences: audiences.iter().take(2).cloned().collect(),
            period_start: Some(year_start),
            period_end: Some(year_end),
            term: term.clone(),
            price_bands: bands
                .iter()
                .map(|(label, pounds)| PriceBand {
                    label: (*label).to_owned(),
                    price_pence: pounds * 100,
                })
                .collect(),
        };
        let id = catalogue.create_service(cfg, manager, &fields).await?;
        catalogue
            .set_service_status(&cfg.slug, manager, &id, true)
            .await?;
        if i == 0 {
            sla_id = Some(id);
        }
        seeded.services += 1;
    }
    if !cfg.has_module(Module::Courses) || trainers.is_empty() {
        return Ok(seeded);
    }
    for (i, (title, summary, description, hours, pounds)) in COURSES.iter().enumerate() {
        let provider = trainers[i % trainers.len()];
        let n = i64::try_from(i).unwrap_or(0);
        let fields = CourseFields {
            provider_id: provider.id.clone(),
            kind: if title.contains("network") || title.contains("briefing") { "event" } else { "course" }.to_owned(),
            title: (*title).to_owned(),
            summary: (*summary).to_owned(),
            description: (*description).to_owned(),
            audiences: vec![audiences[i % audiences.len()].clone()],
            job_categories: cfg.job_categories.iter().skip(i % 3).take(2).cloned().collect(),
            phases: vec![PHASES[i % PHASES.len()].0.to_owned()],
            cpd_minutes: hours * 60,
            price_pence: pounds * 100,
            sla_service_id: sla_id.clone().filter(|_| *pounds > 0 && i % 2 == 0),
            sla_price_pence: sla_id.as_ref().filter(|_| *pounds > 0 && i % 2 == 0).map(|_| 0),
            booking_opens_at: None,
            booking_closes_at: None,
            cancellation_notice_days: 10,
            cancellation_terms: "Cancel at least 10 working days before the course for a full refund. After that the full fee is charged, but you may send a colleague in your place.".to_owned(),
            pre_course_info: "Bring a laptop or tablet if you have one. Refreshments are provided.".to_owned(),
            certificate_after_feedback: false,
        };
        let id = catalogue.create_course(cfg, manager, &fields).await?;
        let sessions = 1 + i % 3;
        for s in 0..sessions {
            let s64 = i64::try_from(s).unwrap_or(0);
            let day = weekday_after(today, 7 + n * 5 + s64 * 21);
            let (start, end) = if hours >= &5 {
                ((9, 15), (16, 0))
            } else if i % 2 == 0 {
                ((9, 30), (12, 30))
            } else {
                ((15, 45), (17, 45))
            };
            let online = i % 4 == 3;
            let session = SessionFields {
                starts_at: uk(day, start.0, start.1),
                ends_at: uk(day, end.0, end.1),
                venue: (!online).then(|| VENUES[i % VENUES.len()].to_owned()),
                online_url: online.then(|| format!("https://meet.example.org/{}-{s}", cfg.slug)),
                capacity: [12, 20, 24, 30, 40][i % 5],
                org_place_limit: None,
            };
            catalogue
                .add_session(&cfg.slug, manager, &id, &session)
                .await?;
            seeded.sessions += 1;
        }
        catalogue.publish_course(&cfg.slug, manager, &id).await?;
        seeded.courses += 1;
    }
    Ok(seeded)
}
