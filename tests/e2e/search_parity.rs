//! The in-memory catalogue answers the public course and service lists as the database's
//! own statements do (FTS5 on SQLite, the `english` configuration on PostgreSQL): generated
//! catalogues and generated queries, compared row for row.

use catalogue::domain::query::{CourseQuery, Sort};
use catalogue::store::entity::{course, course_session, service_price_band, traded_service};
use catalogue::store::search::ServiceQuery;
use chrono::{DateTime, Duration, Timelike as _, Utc};
use e2e::spawn_app;
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::TestRunner;
use sea_orm::{ActiveModelTrait as _, IntoActiveModel as _};

use crate::crossing::exec;

const SLUG: &str = "somerset";

/// Words whose stems SQLite's Porter and PostgreSQL's Snowball agree on, none a stop word,
/// nor any of their first four letters or more (PostgreSQL drops stop words from a query,
/// even one typed as the start of a word: "his" of "history"; FTS5 and the catalogue in
/// memory keep them).
const WORDS: [&str; 16] = [
    "safeguarding",
    "phonics",
    "assessment",
    "leadership",
    "moderation",
    "writing",
    "reading",
    "mathematics",
    "science",
    "governors",
    "inclusion",
    "curriculum",
    "finance",
    "attendance",
    "computing",
    "history",
];

#[derive(Debug, Clone)]
struct Session {
    days: i64,
    capacity: i32,
    taken: i32,
    cancelled: bool,
}

#[derive(Debug, Clone)]
struct Course {
    title: Vec<usize>,
    summary: Vec<usize>,
    provider: usize,
    audience: usize,
    price: i64,
    published: bool,
    sessions: Vec<Session>,
}

#[derive(Debug, Clone)]
struct Service {
    title: Vec<usize>,
    provider: usize,
    audience: usize,
    ends_in: i64,
    published: bool,
    bands: Vec<i64>,
}

fn service() -> impl Strategy<Value = Service> {
    (
        prop::collection::vec(0..WORDS.len(), 1..4),
        0usize..8,
        0usize..8,
        -30i64..60,
        prop::bool::weighted(0.9),
        prop::collection::vec(prop::sample::select(vec![10_000i64, 25_000, 40_000]), 0..3),
    )
        .prop_map(
            |(title, provider, audience, ends_in, published, bands)| Service {
                title,
                provider,
                audience,
                ends_in,
                published,
                bands,
            },
        )
}

fn session() -> impl Strategy<Value = Session> {
    (-10i64..60, 1i32..5, 0i32..5, prop::bool::weighted(0.15)).prop_map(
        |(days, capacity, taken, cancelled)| Session {
            days,
            capacity,
            taken: taken.min(capacity),
            cancelled,
        },
    )
}

fn course() -> impl Strategy<Value = Course> {
    (
        prop::collection::vec(0..WORDS.len(), 1..4),
        prop::collection::vec(0..WORDS.len(), 0..4),
        0usize..8,
        0usize..8,
        prop::sample::select(vec![0i64, 2500, 5000, 7500]),
        prop::bool::weighted(0.9),
        prop::collection::vec(session(), 1..5),
    )
        .prop_map(
            |(title, summary, provider, audience, price, published, sessions)| Course {
                title,
                summary,
                provider,
                audience,
                price,
                published,
                sessions,
            },
        )
}

/// A query: words (the last possibly cut short, as typed), filters, order and page.
/// What a generated query is made of: words (and where the last is cut), provider,
/// audience, places filter, date range (from, length in days), order and page.
type Asked = (
    Option<(Vec<usize>, usize)>,
    Option<usize>,
    Option<usize>,
    Option<bool>,
    Option<(i64, i64)>,
    usize,
    u64,
);

fn query() -> impl Strategy<Value = Asked> {
    (
        prop::option::weighted(
            0.5,
            (prop::collection::vec(0..WORDS.len(), 1..3), 4usize..12),
        ),
        prop::option::weighted(0.2, 0usize..8),
        prop::option::weighted(0.2, 0usize..8),
        prop::option::weighted(0.3, any::<bool>()),
        prop::option::weighted(0.3, (-5i64..40, 0i64..30)),
        0usize..3,
        1u64..3,
    )
}

fn config(app: &e2e::TestApp) -> tenant_router::TenantConfig {
    app.registry
        .current()
        .get(&SLUG.parse().unwrap())
        .unwrap()
        .config
        .clone()
}

async fn load(app: &e2e::TestApp, courses: &[Course], services: &[Service], now: DateTime<Utc>) {
    let cfg = config(app);
    exec(app, SLUG, "DELETE FROM course_session", vec![]).await;
    exec(app, SLUG, "DELETE FROM course", vec![]).await;
    exec(app, SLUG, "DELETE FROM service_price_band", vec![]).await;
    exec(app, SLUG, "DELETE FROM traded_service", vec![]).await;
    let tx = app.store.tenant_tx(&SLUG.parse().unwrap()).await.unwrap();
    let text = |ws: &[usize]| ws.iter().map(|w| WORDS[*w]).collect::<Vec<_>>().join(" ");
    for (i, c) in courses.iter().enumerate() {
        let id = format!("c{i:03}");
        let provider = &cfg.providers[c.provider % cfg.providers.len()].id;
        let audience = cfg.audiences[c.audience % cfg.audiences.len()].as_str();
        course::Model {
            tenant_id: SLUG.into(),
            id: id.clone(),
            provider_id: provider.clone(),
            kind: "course".into(),
            title: text(&c.title),
            summary: text(&c.summary),
            description: String::new(),
            description_html: String::new(),
            audiences: format!(",{audience},"),
            job_categories: ",,".into(),
            phases: ",,".into(),
            cpd_minutes: 60,
            price_pence: c.price,
            sla_service_id: None,
            sla_price_pence: None,
            booking_opens_at: None,
            booking_closes_at: None,
            cancellation_notice_days: 7,
            cancellation_terms: String::new(),
            pre_course_info: String::new(),
            certificate_after_feedback: false,
            status: if c.published { "published" } else { "draft" }.into(),
            created_at: now,
            updated_at: now,
            published_at: c.published.then_some(now),
            revision: 0,
        }
        .into_active_model()
        .insert(&*tx)
        .await
        .unwrap();
        for (j, s) in c.sessions.iter().enumerate() {
            let starts =
                now + Duration::days(s.days) + Duration::minutes(i64::try_from(i * 7 + j).unwrap());
            course_session::Model {
                tenant_id: SLUG.into(),
                id: format!("{id}-s{j}"),
                course_id: id.clone(),
                starts_at: starts,
                ends_at: starts + Duration::hours(2),
                venue: Some("Taunton".into()),
                online_url: None,
                capacity: s.capacity,
                org_place_limit: None,
                places_taken: s.taken,
                status: if s.cancelled {
                    "cancelled"
                } else {
                    "scheduled"
                }
                .into(),
                created_at: now,
                updated_at: now,
                revision: 0,
            }
            .into_active_model()
            .insert(&*tx)
            .await
            .unwrap();
        }
    }
    for (i, t) in services.iter().enumerate() {
        let id = format!("t{i:03}");
        traded_service::Model {
            tenant_id: SLUG.into(),
            id: id.clone(),
            provider_id: cfg.providers[t.provider % cfg.providers.len()].id.clone(),
            title: text(&t.title),
            summary: String::new(),
            description: String::new(),
            description_html: String::new(),
            audiences: format!(
                ",{},",
                cfg.audiences[t.audience % cfg.audiences.len()].as_str()
            ),
            period_start: (now - Duration::days(300)).date_naive(),
            period_end: (now + Duration::days(t.ends_in)).date_naive(),
            term: "One year".into(),
            status: if t.published { "published" } else { "draft" }.into(),
            created_at: now,
            updated_at: now,
            published_at: t.published.then_some(now),
        }
        .into_active_model()
        .insert(&*tx)
        .await
        .unwrap();
        for (position, price) in t.bands.iter().enumerate() {
            service_price_band::Model {
                tenant_id: SLUG.into(),
                service_id: id.clone(),
                position: i32::try_from(position).unwrap(),
                label: format!("Band {position}"),
                price_pence: *price,
            }
            .into_active_model()
            .insert(&*tx)
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
    // As a catalogue write does: this process's snapshot is rebuilt at once.
    app.state.catalogue.changed(&SLUG.parse().unwrap());
}

#[tokio::test]
async fn the_in_memory_list_matches_the_database_on_generated_catalogues() {
    let app = spawn_app().await;
    let cfg = config(&app);
    let tenant: tenant_router::TenantId = SLUG.parse().unwrap();
    let mut runner = TestRunner::deterministic();
    let catalogues = (
        prop::collection::vec(course(), 5..40),
        prop::collection::vec(service(), 0..15),
    );
    let queries = prop::collection::vec(query(), 25);
    let mut compared = 0;
    let mut nonempty = 0;
    for _ in 0..16 {
        let (courses, services) = catalogues.new_tree(&mut runner).unwrap().current();
        let now = app.clock.now().with_nanosecond(0).unwrap();
        load(&app, &courses, &services, now).await;
        let snapshot = app.state.catalogue.published(&tenant).await.unwrap();
        for (words, provider, audience, has_places, dates, sort, page) in
            queries.new_tree(&mut runner).unwrap().current()
        {
            let q = CourseQuery {
                q: words.map(|(ws, cut)| {
                    let mut typed: Vec<String> = ws.iter().map(|w| WORDS[*w].to_owned()).collect();
                    if let Some(last) = typed.last_mut() {
                        last.truncate(cut.min(last.len()));
                    }
                    typed.join(" ")
                }),
                from: dates.map(|(from, _)| (now + Duration::days(from)).date_naive()),
                to: dates.map(|(from, len)| (now + Duration::days(from + len)).date_naive()),
                provider: provider.map(|p| cfg.providers[p % cfg.providers.len()].id.clone()),
                audience: audience
                    .map(|a| cfg.audiences[a % cfg.audiences.len()].as_str().to_owned()),
                job_category: None,
                has_places,
                sort: Some([Sort::Date, Sort::Title, Sort::Price][sort]),
                page: Some(page),
            };
            let tx = app.store.tenant_tx(&tenant).await.unwrap();
            let expected = catalogue::store::search::courses(&tx, &q, now)
                .await
                .unwrap();
            tx.rollback().await.unwrap();
            let got = snapshot.courses(&q, now);
            assert_eq!(got, expected, "{q:?}\n{courses:?}");
            compared += 1;
            nonempty += usize::from(!expected.is_empty());
            // The same words, provider, audience and page, of the service list.
            let q = ServiceQuery {
                q: q.q,
                provider: q.provider,
                audience: q.audience,
                page: q.page,
            };
            let today = now.date_naive();
            let tx = app.store.tenant_tx(&tenant).await.unwrap();
            let expected = catalogue::store::search::services(&tx, &q, today)
                .await
                .unwrap();
            tx.rollback().await.unwrap();
            assert_eq!(
                snapshot.services(&q, today),
                expected,
                "{q:?}\n{services:?}"
            );
        }
    }
    assert_eq!(compared, 16 * 25);
    // The generator must reach answers with rows, or the comparison says little.
    assert!(nonempty > compared / 4, "{nonempty} of {compared}");
}
