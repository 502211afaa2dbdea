//! A copy of everything held about a person, for an access or portability request: every
//! table the crates declare as about a person (and the account itself), column by column
//! as declared, grouped under the tenant's data categories with what the notice says of
//! each (purposes, lawful basis, sources, recipients, retention), plus the audit events
//! about them and the emails still held for them. Sign-in credentials are named, never
//! shown; sealed values are shown in readable form.
//!
//! The copy is an archive (`data.json` for machines, one CSV per table, `summary.html` for
//! people) kept in the object store and fetched once, by the person signed in, through a
//! link that lapses after [`BUNDLE_DAYS`] days; fetched or lapsed, the archive is deleted.

use std::collections::BTreeMap;
use std::io::Write as _;

use chrono::Duration;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use storage::TenantTx;
use tenant_router::{TenantConfig, TenantId};

use crate::PrivacyError;
use crate::domain::notice;
use crate::domain::rights::{Kind, reference};
use crate::service::Privacy;
use crate::store::retention::SubjectKey;
use crate::store::rights::{self as store, BundleRow};

/// Days a bundle's link works.
pub const BUNDLE_DAYS: i64 = 7;

/// Rows of one table about the person.
#[derive(Clone, Debug)]
pub struct TableRows {
    /// Table.
    pub table: &'static str,
    /// Columns shown, in order.
    pub columns: Vec<&'static str>,
    /// Rows, column to value.
    pub rows: Vec<Map<String, Value>>,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_of(t: &TableRows) -> Result<Vec<u8>, PrivacyError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| PrivacyError::Corrupt(e.to_string());
    w.write_record(&t.columns).map_err(fail)?;
    for row in &t.rows {
        // Text a spreadsheet would run as a formula is disarmed; numbers stay numbers.
        w.write_record(t.columns.iter().map(|c| match row.get(*c) {
            Some(Value::String(s)) => storage::spreadsheet::safe_cell(s),
            Some(v) => cell(v),
            None => String::new(),
        }))
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| PrivacyError::Corrupt(e.to_string()))
}

/// What a copy holds in one field: how many values, and the first distinct ones (up to
/// one more than [`SUMMARY_VALUES`]) for the summary.
#[derive(Default)]
struct Held {
    count: usize,
    first: Vec<String>,
}

impl Held {
    fn add(&mut self, v: &Value) {
        if v.is_null() {
            return;
        }
        self.count += 1;
        if self.first.len() <= SUMMARY_VALUES {
            let text = cell(v);
            if !self.first.contains(&text) {
                self.first.push(text);
            }
        }
    }

    /// The values to show a person: the distinct ones, or the first [`SUMMARY_VALUES`] of
    /// them and how many records the CSV files hold.
    fn shown(&self) -> String {
        if self.first.len() > SUMMARY_VALUES {
            format!(
                "{}; … {} records in all (every one is in the CSV files)",
                self.first[..SUMMARY_VALUES].join("; "),
                self.count
            )
        } else {
            self.first.join("; ")
        }
    }
}

/// `data.json`.
#[derive(serde::Serialize)]
struct Data<'a> {
    service: &'a str,
    controller: &'a str,
    request: String,
    generated_at: chrono::DateTime<chrono::Utc>,
    categories: Vec<Value>,
    tables: BTreeMap<&'a str, &'a Vec<Map<String, Value>>>,
    withheld: &'a [&'a str],
    rights: &'a [(String, String)],
    complaints: &'a [String],
}

/// How many values of a field the summary shows before pointing to the CSV files.
const SUMMARY_VALUES: usize = 20;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Privacy {
    /// Everything held about account `id` (with address `email`), table by table.
    ///
    /// # Errors
    /// When the database or the account owner fails.
    pub async fn data_about(
        &self,
        tx: &TenantTx,
        id: &str,
        email: &str,
    ) -> Result<Vec<TableRows>, PrivacyError> {
        let withheld = self.accounts.withheld_columns();
        let account = crate::store::retention::SubjectTable {
            table: "account",
            key: SubjectKey::AccountId("id"),
            erase: crate::store::retention::Erase::Delete,
        };
        let mut out: Vec<TableRows> = Vec::new();
        for t in std::iter::once(&account).chain(self.tables.iter()) {
            let (key, value) = match t.key {
                SubjectKey::AccountId(c) => (c, id),
                SubjectKey::Email(c) => (c, email),
            };
            let columns: Vec<&'static str> = self
                .columns
                .iter()
                .filter(|(table, _)| *table == t.table)
                .map(|(_, c)| *c)
                .filter(|c| *c != "tenant_id")
                .filter(|c| !withheld.contains(&format!("{}.{c}", t.table).as_str()))
                .collect();
            let rows = store::rows_about(tx, t.table, key, value, &columns)
                .await?
                .into_iter()
                .filter_map(|v| match v {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .collect();
            // A table can name the person in two columns (a basket's owner, and the
            // delegate in a colleague's basket): one entry, each row once.
            match out.iter_mut().find(|o| o.table == t.table) {
                Some(o) => {
                    for row in rows {
                        if !o.rows.contains(&row) {
                            o.rows.push(row);
                        }
                    }
                }
                None => out.push(TableRows {
                    table: t.table,
                    columns,
                    rows,
                }),
            }
        }
        // Sealed values in readable form, in the place of their withheld column.
        for (column, value) in self.accounts.unsealed(tx, id).await? {
            let (table, name) = column.split_once('.').unwrap_or(("account", column));
            let value = Value::String(value);
            match out
                .iter_mut()
                .find(|t| t.table == table && !t.rows.is_empty())
            {
                Some(t) => {
                    t.columns.push(name);
                    for row in &mut t.rows {
                        row.insert(name.to_owned(), value.clone());
                    }
                }
                None => {
                    let mut row = Map::new();
                    row.insert(name.to_owned(), value);
                    out.push(TableRows {
                        table,
                        columns: vec![name],
                        rows: vec![row],
                    });
                }
            }
        }
        let events = storage::audit::about(tx, id).await?;
        out.push(TableRows {
            table: "audit_event",
            columns: vec!["occurred_at", "actor", "action", "subject", "detail"],
            rows: events
                .into_iter()
                .map(|e| {
                    let mut m = Map::new();
                    m.insert("occurred_at".into(), json!(e.occurred_at));
                    m.insert("actor".into(), json!(e.actor));
                    m.insert("action".into(), json!(e.action));
                    m.insert("subject".into(), json!(e.subject));
                    m.insert("detail".into(), json!(e.detail));
                    m
                })
                .collect(),
        });
        out.retain(|t| !t.rows.is_empty());
        Ok(out)
    }

    /// The archive of `tables` for account `id`: `data.json`, a CSV per table and
    /// `summary.html`, with what the tenant's notice says of each category.
    fn archive(
        &self,
        cfg: &TenantConfig,
        request: &str,
        tables: &[TableRows],
    ) -> Result<Vec<u8>, PrivacyError> {
        let compiled = notice::compile(cfg);
        let withheld = self.accounts.withheld_columns();
        // Which categories hold which of the person's values: per field, how many, and the
        // first few distinct ones for the summary.
        let mut held: BTreeMap<&str, Vec<(String, Held)>> = BTreeMap::new();
        for t in tables {
            for column in &t.columns {
                let Some(p) = self
                    .personal
                    .iter()
                    .find(|p| p.table == t.table && p.column == *column)
                else {
                    continue;
                };
                let mut h = Held::default();
                for v in t.rows.iter().filter_map(|r| r.get(*column)) {
                    h.add(v);
                }
                if h.count > 0 {
                    held.entry(p.category)
                        .or_default()
                        .push((format!("{}.{column}", t.table), h));
                }
            }
        }
        let categories: Vec<Value> = compiled
            .categories
            .iter()
            .filter(|c| held.contains_key(c.id.as_str()))
            .map(|c| {
                json!({
                    "category": c,
                    // Which fields hold the person's values, and how many (the values are
                    // under `tables`).
                    "held": held.get(c.id.as_str()).map(|h| {
                        h.iter().map(|(k, v)| json!({"field": k, "values": v.count})).collect::<Vec<_>>()
                    }),
                })
            })
            .collect();
        // Serialised from borrowed rows: a heavy user's thousands are not copied first.
        let data = Data {
            service: &cfg.display_name,
            controller: &compiled.controller,
            request: reference(request),
            generated_at: self.clock.now(),
            categories,
            tables: tables.iter().map(|t| (t.table, &t.rows)).collect(),
            withheld,
            rights: &compiled.rights,
            complaints: &compiled.complaints,
        };
        let mut html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Your data held by {service}</title></head><body>\
             <h1>Your data held by {service}</h1><p>Request {reference}. The controller is {controller}. \
             This archive also holds every record in <code>data.json</code> (for computers) and one CSV file per table.</p>",
            service = escape(&cfg.display_name),
            controller = escape(&compiled.controller),
            reference = reference(request),
        );
        for c in compiled
            .categories
            .iter()
            .filter(|c| held.contains_key(c.id.as_str()))
        {
            html.push_str(&format!("<h2>{}</h2><dl>", escape(&c.name)));
            for (label, values) in [
                ("Why we use it", &c.purposes),
                ("Where it comes from", &c.sources),
                ("Who receives it", &c.recipients),
                ("How long we keep it", &c.retention),
            ] {
                if !values.is_empty() {
                    html.push_str(&format!(
                        "<dt>{label}</dt><dd>{}</dd>",
                        escape(&values.join("; "))
                    ));
                }
            }
            html.push_str(&format!(
                "<dt>Lawful basis</dt><dd>{}</dd></dl><ul>",
                escape(&c.lawful_basis)
            ));
            for (field, values) in held.get(c.id.as_str()).into_iter().flatten() {
                html.push_str(&format!(
                    "<li><strong>{}</strong>: {}</li>",
                    escape(field),
                    escape(&values.shown())
                ));
            }
            html.push_str("</ul>");
        }
        html.push_str("<h2>Your rights</h2><ul>");
        for (right, meaning) in &compiled.rights {
            html.push_str(&format!(
                "<li><strong>{}</strong>: {}</li>",
                escape(right),
                escape(meaning)
            ));
        }
        html.push_str("</ul><h2>Complaints</h2><ul>");
        for c in &compiled.complaints {
            html.push_str(&format!("<li>{}</li>", escape(c)));
        }
        html.push_str("</ul><p>Sign-in credentials (password and security-code secrets) are held in a form nobody can read, and are not included.</p></body></html>");

        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        // The fastest deflate level: the copy is mostly repetitive text, which compresses
        // well at any level, and a heavy user's copy is made while the officer waits.
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        let fail = |e: zip::result::ZipError| PrivacyError::Corrupt(e.to_string());
        let mut files: Vec<(String, Vec<u8>)> = vec![
            (
                "data.json".to_owned(),
                serde_json::to_vec(&data).map_err(|e| PrivacyError::Corrupt(e.to_string()))?,
            ),
            ("summary.html".to_owned(), html.into_bytes()),
        ];
        for t in tables {
            files.push((format!("{}.csv", t.table), csv_of(t)?));
        }
        for (name, bytes) in files {
            zip.start_file(name, options).map_err(fail)?;
            zip.write_all(&bytes)
                .map_err(|e| PrivacyError::Corrupt(e.to_string()))?;
        }
        Ok(zip.finish().map_err(fail)?.into_inner())
    }

    /// Prepares the copy of the requester's data for an access or portability request
    /// linked to an account: the archive stored, a link emailed to the account's address
    /// (the verified requester), recorded in the request's history. Returns the link's path.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`]; [`PrivacyError::Refused`] when the request is not
    /// an open access or portability request with a linked account whose identity is
    /// confirmed; otherwise when storage fails (nothing is then recorded).
    pub async fn prepare_bundle(
        &self,
        cfg: &TenantConfig,
        request_id: &str,
        by: &str,
        base_url: &str,
    ) -> Result<String, PrivacyError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(&cfg.slug).await?;
        let row = store::find(&tx, request_id)
            .await?
            .ok_or(PrivacyError::NoSuchRequest)?;
        let refuse = |code, message| Err(PrivacyError::Refused { code, message });
        if !matches!(
            Kind::parse(&row.kind),
            Some(Kind::Access | Kind::Portability)
        ) {
            return refuse(
                "not_an_access_request",
                "A copy of the data answers access and portability requests only.",
            );
        }
        if row.stage != "open" {
            return refuse(
                "request_not_open",
                "Prepare the copy while the request is open and the requester's identity is confirmed.",
            );
        }
        let Some(account) = row.account_id.clone() else {
            return refuse(
                "no_account",
                "The requester has no account here, so there is no portal data to copy.",
            );
        };
        let Some(email) = self.accounts.email_of(&tx, &account).await? else {
            return refuse("no_account", "The requester's account no longer exists.");
        };
        let tables = self.data_about(&tx, &account, &email).await?;
        let archive = self.archive(cfg, &row.id, &tables)?;
        // 244 random bits (two version-4 UUIDs, from the operating system's generator).
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let bundle = BundleRow {
            id: uuid::Uuid::now_v7().to_string(),
            request_id: row.id.clone(),
            account_id: account,
            object_key: format!("rights/{}/{}.zip", row.id, uuid::Uuid::new_v4()),
            created_at: now,
            expires_at: now + Duration::days(BUNDLE_DAYS),
            used_at: None,
        };
        self.objects
            .put(&cfg.slug, &bundle.object_key, archive, "application/zip")
            .await?;
        store::insert_bundle(&tx, &bundle, &digest(&token)).await?;
        let path = format!("/account/requests/{}/copy/{token}", row.id);
        store::add_event(
            &tx,
            &row,
            now,
            by,
            "bundle_prepared",
            Some(&format!(
                "{} tables; link sent, lapses {}",
                tables.len(),
                crate::domain::calendar::long_date(bundle.expires_at.date_naive())
            )),
        )
        .await?;
        storage::audit::record(
            &tx,
            now,
            storage::audit::AuditEntry {
                actor: by,
                action: "rights.bundle_prepared",
                subject: &row.id,
                detail: json!({ "bundle": bundle.id, "tables": tables.len() }),
            },
        )
        .await?;
        let text = format!(
            "A copy of the data we hold about you is ready. Sign in and open this link within \
             {BUNDLE_DAYS} days to download it (it works once):\n\n{base_url}{path}"
        );
        let subject = format!("A copy of your data ({})", reference(&row.id));
        crate::rights::tell(&tx, now, cfg, &row, &email, &subject, &text).await?;
        tx.commit().await?;
        Ok(path)
    }

    /// The archive of bundle `token` for request `request_id`, fetched by the signed-in
    /// `account`: once, before it lapses. The archive is deleted once fetched.
    ///
    /// # Errors
    /// [`PrivacyError::NoSuchRequest`] when there is no such bundle for this account (or
    /// this tenant); [`PrivacyError::Refused`] (`link_used`, `link_expired`) when it was
    /// fetched or has lapsed.
    pub async fn fetch_bundle(
        &self,
        tenant: &TenantId,
        request_id: &str,
        token: &str,
        account: &str,
    ) -> Result<Vec<u8>, PrivacyError> {
        let now = self.clock.now();
        let tx = self.db.tenant_tx(tenant).await?;
        let bundle = store::bundle_by_token(&tx, &digest(token))
            .await?
            .filter(|b| b.request_id == request_id && b.account_id == account)
            .ok_or(PrivacyError::NoSuchRequest)?;
        if bundle.used_at.is_some() {
            return Err(PrivacyError::Refused {
                code: "link_used",
                message: "This link has been used. Ask for a new copy if you need one.",
            });
        }
        if bundle.expires_at <= now {
            return Err(PrivacyError::Refused {
                code: "link_expired",
                message: "This link has lapsed. Ask for a new copy if you need one.",
            });
        }
        let bytes = self
            .objects
            .get(tenant, &bundle.object_key)
            .await?
            .ok_or_else(|| PrivacyError::Corrupt("the copy's archive is missing".to_owned()))?;
        if !store::use_bundle(&tx, &bundle.id, now).await? {
            return Err(PrivacyError::Refused {
                code: "link_used",
                message: "This link has been used. Ask for a new copy if you need one.",
            });
        }
        tx.commit().await?;
        // Fetched: the archive goes (the row stays, as the record that it was fetched).
        if let Err(e) = self.objects.delete(tenant, &bundle.object_key).await {
            tracing::warn!(error = %e, "a fetched copy's archive could not be deleted yet");
        }
        Ok(bytes)
    }

    /// Deletes the archives of every copy of these accounts' data (their rows go with the
    /// accounts' other rows).
    ///
    /// # Errors
    /// When the database or the object store fails.
    pub(crate) async fn delete_copies_of(
        &self,
        tx: &TenantTx,
        accounts: &[String],
    ) -> Result<(), PrivacyError> {
        for b in store::spent_bundles(tx, self.clock.now(), Some(accounts)).await? {
            self.objects.delete(tx.tenant(), &b.object_key).await?;
        }
        Ok(())
    }

    /// Deletes the archives of bundles fetched or lapsed. Returns how many went.
    ///
    /// # Errors
    /// When the database or the object store fails.
    pub async fn clear_spent_bundles(&self, tenant: &TenantId) -> Result<usize, PrivacyError> {
        let tx = self.db.tenant_tx(tenant).await?;
        let spent = store::spent_bundles(&tx, self.clock.now(), None).await?;
        for b in &spent {
            self.objects.delete(tenant, &b.object_key).await?;
            store::delete_bundle(&tx, &b.id).await?;
        }
        tx.commit().await?;
        Ok(spent.len())
    }
}
