//! The published catalogue in memory: one snapshot per tenant of its published courses with
//! their sessions (places taken included), its published services with their price bands,
//! and a search index, so the public lists and the course and service pages are answered
//! without a query, for every visitor alike.
//!
//! A snapshot is built on first use and rebuilt when it may be out of date:
//! - at once after this process commits a change the lists show (the tenant's change
//!   counter, which catalogue writes and bookings bump), so a replica never shows a page
//!   older than its own last write;
//! - when another replica changed something: at most once a second one request compares
//!   what the snapshot was built from (row counts, revision sums and latest changes of the
//!   tenant's catalogue tables, and every session's places taken) with the database, and a
//!   difference rebuilds the snapshot.
//!
//! Search follows the database's: words of the title, summary and description, lower-cased
//! and stemmed (Snowball English, as PostgreSQL's `english` configuration; SQLite's FTS5
//! `porter` tokenizer agrees on the words a catalogue uses), every word of the query
//! required and the last matched as a prefix (search as you type). Unlike PostgreSQL it
//! keeps stop words, as FTS5 does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use rust_stemmers::{Algorithm, Stemmer};
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, FromQueryResult, QueryFilter as _, QueryOrder as _,
};
use storage::sql::Sql;
use storage::{Db, StorageError, TenantTx};
use tenant_router::TenantId;

use crate::CatalogueError;
use crate::domain::query::{CourseQuery, PER_PAGE, Sort};
use crate::store::entity::{course, course_session, service_price_band, traded_service};
use crate::store::rows::{CourseDetail, ServiceDetail};
use crate::store::search::{CourseRow, ServiceQuery, ServiceRow, uk_midnight};

/// How long a snapshot is trusted before the database is asked whether another replica
/// changed the catalogue.
pub const RECHECK: Duration = Duration::from_secs(1);

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// The words of `text` as search compares them: split at anything not a letter or digit,
/// lower-cased, stemmed.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| STEMMER.stem(&w.to_lowercase()).into_owned())
}

/// A search, ready to match: every word required, the last as a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    whole: Vec<String>,
    prefix: String,
}

impl Search {
    /// The search for what a visitor typed (at most 12 words); `None` when nothing
    /// searchable is left, which matches nothing.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let mut whole: Vec<String> = words(text).take(12).collect();
        let prefix = whole.pop()?;
        Some(Self { whole, prefix })
    }

    /// Whether a document with these distinct words, sorted, matches.
    fn matches(&self, doc: &[String]) -> bool {
        self.whole.iter().all(|w| doc.binary_search(w).is_ok()) && {
            let at = doc.partition_point(|w| w.as_str() < self.prefix.as_str());
            doc.get(at).is_some_and(|w| w.starts_with(&self.prefix))
        }
    }
}

/// The distinct words of a document, sorted for [`Search::matches`].
fn index(parts: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = parts.iter().flat_map(|p| words(p)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// One published course, as the lists and its page show it.
struct Entry {
    detail: CourseDetail,
    words: Vec<String>,
}

/// One published service, as the list and its page show it.
struct ServiceEntry {
    detail: ServiceDetail,
    words: Vec<String>,
}

/// One tenant's published courses and services.
#[derive(Default)]
pub struct Snapshot {
    courses: Vec<Entry>,
    by_id: HashMap<String, usize>,
    services: Vec<ServiceEntry>,
    service_ids: HashMap<String, usize>,
}

/// Whether a `,a,b,` list holds `v` (or no value is asked for).
fn listed(list: &str, v: Option<&String>) -> bool {
    v.map(String::as_str)
        .filter(|v| !v.is_empty())
        .is_none_or(|v| list.contains(&format!(",{v},")))
}

/// The search for `text`: `Ok(None)` when there is none, `Err` when nothing searchable is
/// left (which matches nothing).
fn search_of(text: Option<String>) -> Result<Option<Search>, ()> {
    match text {
        Some(text) => Search::parse(&text).map(Some).ok_or(()),
        None => Ok(None),
    }
}

/// Page `page` (from 1) of `hits`, each row told the total across pages.
fn page_of<T>(hits: Vec<T>, page: u64, with_total: impl Fn(T, i64) -> T) -> Vec<T> {
    let total = i64::try_from(hits.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from((page - 1) * PER_PAGE).unwrap_or(usize::MAX);
    let take = usize::try_from(PER_PAGE).unwrap_or(20);
    hits.into_iter()
        .skip(skip)
        .take(take)
        .map(|r| with_total(r, total))
        .collect()
}

impl Snapshot {
    /// A snapshot of the published services given (their bands in order), beside the
    /// courses.
    #[must_use]
    pub fn with_services(mut self, details: Vec<ServiceDetail>) -> Self {
        self.services = details
            .into_iter()
            .map(|detail| {
                let s = &detail.service;
                let words = index(&[&s.title, &s.summary, &s.description]);
                ServiceEntry { detail, words }
            })
            .collect();
        self.service_ids = self
            .services
            .iter()
            .enumerate()
            .map(|(i, e)| (e.detail.service.id.clone(), i))
            .collect();
        self
    }

    /// A published service and its bands.
    #[must_use]
    pub fn service(&self, id: &str) -> Option<&ServiceDetail> {
        self.service_ids.get(id).map(|i| &self.services[*i].detail)
    }

    /// The published services still running on `today` matching `query`, one page, in
    /// title order, each row carrying the total across pages.
    #[must_use]
    pub fn services(&self, query: &ServiceQuery, today: NaiveDate) -> Vec<ServiceRow> {
        let text = query
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| q.chars().take(crate::domain::query::SEARCH_MAX).collect());
        let Ok(search) = search_of(text) else {
            return Vec::new();
        };
        let provider = query.provider.as_deref().filter(|p| !p.is_empty());
        let mut hits: Vec<ServiceRow> = self
            .services
            .iter()
            .filter(|e| {
                let s = &e.detail.service;
                s.period_end >= today
                    && provider.is_none_or(|p| s.provider_id == p)
                    && listed(&s.audiences, query.audience.as_ref())
                    && search.as_ref().is_none_or(|q| q.matches(&e.words))
            })
            .map(|e| {
                let s = &e.detail.service;
                ServiceRow {
                    id: s.id.clone(),
                    provider_id: s.provider_id.clone(),
                    title: s.title.clone(),
                    summary: s.summary.clone(),
                    term: s.term.clone(),
                    from_pence: e.detail.bands.iter().map(|b| b.price_pence).min(),
                    total: 0,
                }
            })
            .collect();
        hits.sort_by(|a, b| (&a.title, &a.id).cmp(&(&b.title, &b.id)));
        let page = query
            .page
            .unwrap_or(1)
            .clamp(1, crate::domain::query::MAX_PAGE);
        page_of(hits, page, |r, total| ServiceRow { total, ..r })
    }

    /// A snapshot of the courses given (published ones; their sessions in start order).
    #[must_use]
    pub fn new(details: Vec<CourseDetail>) -> Self {
        let courses: Vec<Entry> = details
            .into_iter()
            .map(|detail| {
                let c = &detail.course;
                let words = index(&[&c.title, &c.summary, &c.description]);
                Entry { detail, words }
            })
            .collect();
        let by_id = courses
            .iter()
            .enumerate()
            .map(|(i, e)| (e.detail.course.id.clone(), i))
            .collect();
        Self {
            courses,
            by_id,
            ..Self::default()
        }
    }

    /// A published course and its sessions.
    #[must_use]
    pub fn course(&self, id: &str) -> Option<&CourseDetail> {
        self.by_id.get(id).map(|i| &self.courses[*i].detail)
    }

    /// The published courses matching `query` with a scheduled session from `now` on, one
    /// page, each row carrying the total across pages (as the database's list does).
    #[must_use]
    pub fn courses(&self, query: &CourseQuery, now: DateTime<Utc>) -> Vec<CourseRow> {
        let Ok(search) = search_of(query.text()) else {
            return Vec::new();
        };
        // The date range and the places filter apply to the same session.
        let lower = query
            .from
            .map(uk_midnight)
            .filter(|f| *f > now)
            .unwrap_or(now);
        let upper = query.to.and_then(|d| d.succ_opt()).map(uk_midnight);
        let with_places = query.has_places == Some(true);
        let provider = query.provider.as_deref().filter(|p| !p.is_empty());
        let mut hits: Vec<CourseRow> = self
            .courses
            .iter()
            .filter(|e| {
                let c = &e.detail.course;
                provider.is_none_or(|p| c.provider_id == p)
                    && listed(&c.audiences, query.audience.as_ref())
                    && listed(&c.job_categories, query.job_category.as_ref())
                    && e.detail.sessions.iter().any(|s| {
                        s.status == "scheduled"
                            && s.starts_at >= lower
                            && upper.is_none_or(|u| s.starts_at < u)
                            && (!with_places || s.places_taken < s.capacity)
                    })
                    && search.as_ref().is_none_or(|s| s.matches(&e.words))
            })
            .map(|e| row(&e.detail, now))
            .collect();
        match query.sort.unwrap_or_default() {
            Sort::Date => hits.sort_by(|a, b| {
                (a.next_start.is_none(), a.next_start, &a.title, &a.id).cmp(&(
                    b.next_start.is_none(),
                    b.next_start,
                    &b.title,
                    &b.id,
                ))
            }),
            Sort::Title => hits.sort_by(|a, b| (&a.title, &a.id).cmp(&(&b.title, &b.id))),
            Sort::Price => hits.sort_by(|a, b| {
                (a.price_pence, &a.title, &a.id).cmp(&(b.price_pence, &b.title, &b.id))
            }),
        }
        page_of(hits, query.page(), |r, total| CourseRow { total, ..r })
    }
}

/// A course's row of the list: its future scheduled sessions counted from `now`.
fn row(d: &CourseDetail, now: DateTime<Utc>) -> CourseRow {
    let future: Vec<&course_session::Model> = d
        .sessions
        .iter()
        .filter(|s| s.status == "scheduled" && s.starts_at >= now)
        .collect();
    let c = &d.course;
    CourseRow {
        id: c.id.clone(),
        provider_id: c.provider_id.clone(),
        kind: c.kind.clone(),
        title: c.title.clone(),
        summary: c.summary.clone(),
        cpd_minutes: c.cpd_minutes,
        price_pence: c.price_pence,
        next_start: future.iter().map(|s| s.starts_at).min(),
        sessions: i64::try_from(future.len()).unwrap_or(i64::MAX),
        places_left: (!future.is_empty()).then(|| {
            future
                .iter()
                .map(|s| i64::from(s.capacity) - i64::from(s.places_taken))
                .sum()
        }),
        total: 0,
    }
}

/// What tells one version of a tenant's catalogue tables from another.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
struct Fingerprint {
    courses: i64,
    course_revisions: i64,
    course_changed: Option<String>,
    course_last: Option<String>,
    sessions: i64,
    session_revisions: i64,
    session_changed: Option<String>,
    places: i64,
    services: i64,
    service_changed: Option<String>,
    bands: i64,
    band_prices: i64,
}

async fn fingerprint(tx: &TenantTx) -> Result<Fingerprint, StorageError> {
    let mut sql = Sql::default();
    let t = sql.bind(tx.tenant().as_str());
    sql.text = format!(
        "SELECT \
         (SELECT COUNT(*) FROM course WHERE tenant_id = {t}) AS courses, \
         (SELECT CAST(COALESCE(SUM(revision), 0) AS BIGINT) FROM course WHERE tenant_id = {t}) \
           AS course_revisions, \
         (SELECT CAST(MAX(updated_at) AS TEXT) FROM course WHERE tenant_id = {t}) AS course_changed, \
         (SELECT MAX(id) FROM course WHERE tenant_id = {t}) AS course_last, \
         (SELECT COUNT(*) FROM course_session WHERE tenant_id = {t}) AS sessions, \
         (SELECT CAST(COALESCE(SUM(revision), 0) AS BIGINT) FROM course_session \
           WHERE tenant_id = {t}) AS session_revisions, \
         (SELECT CAST(MAX(updated_at) AS TEXT) FROM course_session WHERE tenant_id = {t}) \
           AS session_changed, \
         (SELECT CAST(COALESCE(SUM(places_taken), 0) AS BIGINT) FROM course_session \
           WHERE tenant_id = {t}) AS places, \
         (SELECT COUNT(*) FROM traded_service WHERE tenant_id = {t}) AS services, \
         (SELECT CAST(MAX(updated_at) AS TEXT) FROM traded_service WHERE tenant_id = {t}) \
           AS service_changed, \
         (SELECT COUNT(*) FROM service_price_band WHERE tenant_id = {t}) AS bands, \
         (SELECT CAST(COALESCE(SUM(price_pence), 0) AS BIGINT) FROM service_price_band \
           WHERE tenant_id = {t}) AS band_prices"
    );
    let backend = sea_orm::ConnectionTrait::get_database_backend(&**tx);
    Fingerprint::find_by_statement(sql.statement(backend))
        .one(&**tx)
        .await?
        .ok_or_else(|| StorageError::Db(sea_orm::DbErr::RecordNotFound("fingerprint".into())))
}

/// What a snapshot was built from: the tables' fingerprint and every session's places taken
/// (compared in full, since a place taken on one session and given back on another leave
/// every total as it was).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    tables: Fingerprint,
    places: Vec<(String, i32)>,
}

async fn version(tx: &TenantTx) -> Result<Version, StorageError> {
    use sea_orm::QuerySelect as _;
    let tables = fingerprint(tx).await?;
    let places = course_session::Entity::find()
        .select_only()
        .column(course_session::Column::Id)
        .column(course_session::Column::PlacesTaken)
        .filter(course_session::Column::TenantId.eq(tx.tenant().as_str()))
        .order_by_asc(course_session::Column::Id)
        .into_tuple::<(String, i32)>()
        .all(&**tx)
        .await?;
    Ok(Version { tables, places })
}

/// Every published course of the transaction's tenant with its sessions and SLA, and every
/// published service with its bands.
async fn load(tx: &TenantTx) -> Result<Snapshot, StorageError> {
    let t = tx.tenant().as_str();
    let courses = course::Entity::find()
        .filter(course::Column::TenantId.eq(t))
        .filter(course::Column::Status.eq("published"))
        .all(&**tx)
        .await?;
    let mut sessions: HashMap<String, Vec<course_session::Model>> = HashMap::new();
    for s in course_session::Entity::find()
        .filter(course_session::Column::TenantId.eq(t))
        .order_by_asc(course_session::Column::StartsAt)
        .all(&**tx)
        .await?
    {
        sessions.entry(s.course_id.clone()).or_default().push(s);
    }
    let all_services = traded_service::Entity::find()
        .filter(traded_service::Column::TenantId.eq(t))
        .all(&**tx)
        .await?;
    let services: HashMap<String, String> = all_services
        .iter()
        .map(|s| (s.id.clone(), s.title.clone()))
        .collect();
    let mut bands: HashMap<String, Vec<service_price_band::Model>> = HashMap::new();
    for b in service_price_band::Entity::find()
        .filter(service_price_band::Column::TenantId.eq(t))
        .order_by_asc(service_price_band::Column::Position)
        .all(&**tx)
        .await?
    {
        bands.entry(b.service_id.clone()).or_default().push(b);
    }
    let published_services = all_services
        .into_iter()
        .filter(|s| s.status == "published")
        .map(|s| ServiceDetail {
            bands: bands.remove(&s.id).unwrap_or_default(),
            service: s,
        })
        .collect();
    Ok(Snapshot::new(
        courses
            .into_iter()
            .map(|c| CourseDetail {
                sessions: sessions.remove(&c.id).unwrap_or_default(),
                sla: c
                    .sla_service_id
                    .as_ref()
                    .and_then(|id| services.get(id).map(|t| (id.clone(), t.clone()))),
                course: c,
            })
            .collect(),
    )
    .with_services(published_services))
}

/// A tenant's snapshot and what it was built from.
struct Slot {
    snapshot: Arc<Snapshot>,
    generation: u64,
    version: Version,
    /// Milliseconds (since [`Models::epoch`]) when it was built.
    built: u64,
    /// Milliseconds (since [`Models::epoch`]) of the last check against the database.
    checked: AtomicU64,
}

/// Every tenant's snapshot.
pub(crate) struct Models {
    slots: RwLock<HashMap<String, Arc<Slot>>>,
    building: tokio::sync::Mutex<()>,
    epoch: Instant,
}

impl Default for Models {
    fn default() -> Self {
        Self {
            slots: RwLock::default(),
            building: tokio::sync::Mutex::default(),
            epoch: Instant::now(),
        }
    }
}

impl Models {
    fn ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn slot(&self, tenant: &TenantId) -> Option<Arc<Slot>> {
        self.slots
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(tenant.as_str())
            .cloned()
    }

    /// The tenant's snapshot as of `generation` (the catalogue's change counter now) or
    /// later, checked against the database at most once per [`RECHECK`].
    pub(crate) async fn get(
        &self,
        db: &Db,
        tenant: &TenantId,
        generation: u64,
    ) -> Result<Arc<Snapshot>, CatalogueError> {
        let asked = self.ms();
        // A snapshot built at this generation or a later one has every change this process
        // committed before the request began (the counter moves after each commit).
        if let Some(slot) = self.slot(tenant)
            && slot.generation >= generation
        {
            let last = slot.checked.load(Ordering::Acquire);
            let due =
                asked.saturating_sub(last) >= u64::try_from(RECHECK.as_millis()).unwrap_or(1000);
            // One request checks; the rest keep the snapshot meanwhile.
            if !due
                || slot
                    .checked
                    .compare_exchange(last, asked, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
            {
                return Ok(Arc::clone(&slot.snapshot));
            }
            let tx = db.tenant_read(tenant).await?;
            let now = version(&tx).await?;
            tx.rollback().await?;
            if now == slot.version {
                return Ok(Arc::clone(&slot.snapshot));
            }
        }
        let _one_at_a_time = self.building.lock().await;
        // Built by another request while this one waited?
        if let Some(slot) = self.slot(tenant)
            && slot.generation >= generation
            && slot.built > asked
        {
            return Ok(Arc::clone(&slot.snapshot));
        }
        let tx = db.tenant_read(tenant).await?;
        // What it is built from first: a change committed while loading shows at the next
        // check.
        let version = version(&tx).await?;
        let snapshot = Arc::new(load(&tx).await?);
        tx.rollback().await?;
        let built = self.ms().max(asked + 1);
        let slot = Arc::new(Slot {
            snapshot: Arc::clone(&snapshot),
            generation,
            version,
            built,
            checked: AtomicU64::new(built),
        });
        let mut slots = self
            .slots
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Never over a snapshot of a later generation.
        if slots
            .get(tenant.as_str())
            .is_none_or(|s| s.generation <= generation)
        {
            slots.insert(tenant.as_str().to_owned(), slot);
        }
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Vec<String> {
        index(&[text])
    }

    #[test]
    fn stems_and_prefixes_match_as_the_database_does() {
        let d = doc("Safeguarding children: level 2 (refresher)");
        for (q, hit) in [
            ("safeguard", true),
            ("safeguarding", true),
            ("Safeguarding level", true),
            ("safeg", true),
            ("level 2", true),
            ("children safeguarding", true),
            ("child", true),
            ("phonics", false),
            ("safeguarding phonics", false),
            ("refresh", true),
            ("lev 2", false),
        ] {
            let s = Search::parse(q).unwrap();
            assert_eq!(s.matches(&d), hit, "{q}");
        }
        assert_eq!(Search::parse(" ;;; "), None);
    }
}
