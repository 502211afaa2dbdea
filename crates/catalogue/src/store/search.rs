//! The public lists: filter, full-text search, sort and page in one statement per list.
//! Search uses FTS5 on SQLite and the `english` text-search configuration on PostgreSQL
//! (expression indexes made by the catalogue migration; the expression here must match).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Europe::London;
use sea_orm::{DbBackend, FromQueryResult, Statement};
use storage::sql::Sql;
use storage::{StorageError, TenantTx};

use crate::domain::query::{CourseQuery, PER_PAGE, Sort, fts5_query};

/// One row of the course list.
#[derive(Debug, Clone, FromQueryResult, PartialEq, Eq)]
pub struct CourseRow {
    /// Id.
    pub id: String,
    /// Provider id.
    pub provider_id: String,
    /// `course` or `event`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// CPD minutes.
    pub cpd_minutes: i32,
    /// Standard price.
    pub price_pence: i64,
    /// Start of the next scheduled session.
    pub next_start: Option<DateTime<Utc>>,
    /// Number of future scheduled sessions.
    pub sessions: i64,
    /// Places left across future scheduled sessions.
    pub places_left: Option<i64>,
    /// Rows matching the filters, across every page.
    pub total: i64,
}

/// One row of the service list.
#[derive(Debug, Clone, FromQueryResult, PartialEq, Eq)]
pub struct ServiceRow {
    /// Id.
    pub id: String,
    /// Provider id.
    pub provider_id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Term in words.
    pub term: String,
    /// Lowest band price.
    pub from_pence: Option<i64>,
    /// Rows matching, across every page.
    pub total: i64,
}

/// Midnight at the start of `day` in the UK, as UTC.
#[must_use]
pub fn uk_midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN)
        .and_local_timezone(London)
        .earliest()
        .map_or_else(
            || day.and_time(NaiveTime::MIN).and_utc(),
            |t| t.with_timezone(&Utc),
        )
}

/// Words of a search, for PostgreSQL: `a & b & c:*`, alphanumerics only so nothing typed
/// can be an operator.
fn tsquery(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .collect();
    if words.is_empty() {
        None
    } else {
        Some(format!("{}:*", words.join(" & ")))
    }
}

/// Adds the text-search condition for items of `kind` aliased `alias`, or nothing when the
/// text has no searchable words (the caller then returns no rows: nothing matched).
fn text_condition(sql: &mut Sql, backend: DbBackend, kind: &str, alias: &str, text: &str) -> bool {
    match backend {
        DbBackend::Postgres => {
            let Some(q) = tsquery(text) else { return false };
            let p = sql.bind(q);
            sql.push(&format!(
                " AND to_tsvector('english', {alias}.title || ' ' || {alias}.summary || ' ' || {alias}.description) \
                 @@ to_tsquery('english', {p})"
            ));
        }
        _ => {
            let Some(q) = fts5_query(text) else {
                return false;
            };
            let p = sql.bind(q);
            sql.push(&format!(
                " AND {alias}.id IN (SELECT item_id FROM catalogue_fts WHERE catalogue_fts MATCH {p} \
                 AND tenant_id = $1 AND kind = '{kind}')"
            ));
        }
    }
    true
}

fn backend(tx: &TenantTx) -> DbBackend {
    use sea_orm::ConnectionTrait as _;
    (**tx).get_database_backend()
}

/// The published courses matching `query` with a scheduled session from now on, one page.
///
/// # Errors
/// When the query fails.
pub async fn courses(
    tx: &TenantTx,
    query: &CourseQuery,
    now: DateTime<Utc>,
) -> Result<Vec<CourseRow>, StorageError> {
    let backend = backend(tx);
    let mut sql = Sql::default();
    let tenant = sql.bind(tx.tenant().as_str());
    let now_p = sql.bind(now);
    let future = format!(
        "FROM course_session s WHERE s.tenant_id = c.tenant_id AND s.course_id = c.id \
         AND s.status = 'scheduled' AND s.starts_at >= {now_p}"
    );
    sql.push(&format!(
        "SELECT c.id, c.provider_id, c.kind, c.title, c.summary, c.cpd_minutes, c.price_pence, \
         (SELECT MIN(s.starts_at) {future}) AS next_start, \
         (SELECT COUNT(*) {future}) AS sessions, \
         (SELECT SUM(s.capacity - s.places_taken) {future}) AS places_left, \
         COUNT(*) OVER () AS total \
         FROM course c WHERE c.tenant_id = {tenant} AND c.status = 'published'"
    ));
    // One EXISTS carries the date range and the places filter, so they apply to the same
    // session ("a session in March with places"), not to two different ones.
    let lower = query
        .from
        .map(uk_midnight)
        .filter(|f| *f > now)
        .unwrap_or(now);
    let lower_p = sql.bind(lower);
    sql.push(&format!(
        " AND EXISTS (SELECT 1 FROM course_session s WHERE s.tenant_id = c.tenant_id \
         AND s.course_id = c.id AND s.status = 'scheduled' AND s.starts_at >= {lower_p}"
    ));
    if let Some(to) = query.to.and_then(|d| d.succ_opt()) {
        let p = sql.bind(uk_midnight(to));
        sql.push(&format!(" AND s.starts_at < {p}"));
    }
    if query.has_places == Some(true) {
        sql.push(" AND s.places_taken < s.capacity");
    }
    sql.push(")");
    if let Some(provider) = query.provider.as_deref().filter(|p| !p.is_empty()) {
        let p = sql.bind(provider);
        sql.push(&format!(" AND c.provider_id = {p}"));
    }
    for (column, value) in [
        ("audiences", &query.audience),
        ("job_categories", &query.job_category),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            let p = sql.bind(list_pattern(v));
            sql.push(&format!(" AND c.{column} LIKE {p} ESCAPE '\\'"));
        }
    }
    if let Some(text) = query.text()
        && !text_condition(&mut sql, backend, "course", "c", &text)
    {
        return Ok(Vec::new());
    }
    sql.push(match query.sort.unwrap_or_default() {
        Sort::Date => " ORDER BY next_start NULLS LAST, c.title, c.id",
        Sort::Title => " ORDER BY c.title, c.id",
        Sort::Price => " ORDER BY c.price_pence, c.title, c.id",
    });
    let limit = sql.bind(i64::try_from(PER_PAGE).unwrap_or(20));
    let offset = sql.bind(i64::try_from((query.page() - 1) * PER_PAGE).unwrap_or(0));
    sql.push(&format!(" LIMIT {limit} OFFSET {offset}"));
    Ok(CourseRow::find_by_statement(Statement::from_sql_and_values(
        backend, sql.text, sql.values,
    ))
    .all(&**tx)
    .await?)
}

/// Filters for the service list.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceQuery {
    /// Words to search for.
    #[serde(default)]
    pub q: Option<String>,
    /// Only this provider's services.
    #[serde(default)]
    pub provider: Option<String>,
    /// Only services for this audience.
    #[serde(default)]
    pub audience: Option<String>,
    /// Page number, from 1.
    #[serde(default)]
    #[param(minimum = 0, maximum = 10_000)]
    pub page: Option<u64>,
}

/// The published services still running on `today`, matching `query`, one page.
///
/// # Errors
/// When the query fails.
pub async fn services(
    tx: &TenantTx,
    query: &ServiceQuery,
    today: NaiveDate,
) -> Result<Vec<ServiceRow>, StorageError> {
    let backend = backend(tx);
    let mut sql = Sql::default();
    let tenant = sql.bind(tx.tenant().as_str());
    let today = sql.bind(today);
    sql.push(&format!(
        "SELECT t.id, t.provider_id, t.title, t.summary, t.term, \
         (SELECT MIN(b.price_pence) FROM service_price_band b WHERE b.tenant_id = t.tenant_id \
          AND b.service_id = t.id) AS from_pence, COUNT(*) OVER () AS total \
         FROM traded_service t WHERE t.tenant_id = {tenant} AND t.status = 'published' \
         AND t.period_end >= {today}"
    ));
    if let Some(provider) = query.provider.as_deref().filter(|p| !p.is_empty()) {
        let p = sql.bind(provider);
        sql.push(&format!(" AND t.provider_id = {p}"));
    }
    if let Some(v) = query.audience.as_deref().filter(|v| !v.is_empty()) {
        let p = sql.bind(list_pattern(v));
        sql.push(&format!(" AND t.audiences LIKE {p} ESCAPE '\\'"));
    }
    let text = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| {
            q.chars()
                .take(crate::domain::query::SEARCH_MAX)
                .collect::<String>()
        });
    if let Some(text) = text
        && !text_condition(&mut sql, backend, "service", "t", &text)
    {
        return Ok(Vec::new());
    }
    let page = query
        .page
        .unwrap_or(1)
        .clamp(1, crate::domain::query::MAX_PAGE);
    let limit = sql.bind(i64::try_from(PER_PAGE).unwrap_or(20));
    let offset = sql.bind(i64::try_from((page - 1) * PER_PAGE).unwrap_or(0));
    sql.push(&format!(
        " ORDER BY t.title, t.id LIMIT {limit} OFFSET {offset}"
    ));
    Ok(
        ServiceRow::find_by_statement(Statement::from_sql_and_values(
            backend, sql.text, sql.values,
        ))
        .all(&**tx)
        .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsquery_is_inert() {
        assert_eq!(
            tsquery("phonics & (year 1)").as_deref(),
            Some("phonics & year & 1:*")
        );
        assert_eq!(tsquery("!!!"), None);
    }

    #[test]
    fn uk_midnight_follows_summer_time() {
        let summer = NaiveDate::from_ymd_opt(2027, 7, 1).unwrap();
        assert_eq!(
            uk_midnight(summer).to_rfc3339(),
            "2027-06-30T23:00:00+00:00"
        );
        let winter = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(
            uk_midnight(winter).to_rfc3339(),
            "2027-01-01T00:00:00+00:00"
        );
    }
}

/// The `LIKE` pattern matching `value` as one item of a `,a,b,` list: `%` and `_` in what
/// was typed match only themselves (escaped with `\`).
fn list_pattern(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 4);
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    format!("%,{escaped},%")
}

#[cfg(test)]
mod like_tests {
    #[test]
    fn typed_wildcards_match_only_themselves() {
        assert_eq!(super::list_pattern("early-years"), "%,early-years,%");
        assert_eq!(super::list_pattern("%"), "%,\\%,%");
        assert_eq!(super::list_pattern("a_b\\"), "%,a\\_b\\\\,%");
    }
}
