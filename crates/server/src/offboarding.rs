//! Offboarding a council (`portal tenants offboard T --confirm T`). The council takes its
//! data with it; nothing of it stays readable on the platform. Three steps, each run
//! finishing what an interrupted one left:
//!
//! 1. **It stops being served.** An `offboarded_tenant` row is written; every replica drops
//!    the tenant from its registry at its next check (within five seconds) and its hosts,
//!    links and API tokens answer 404. The command then waits `grace` for them.
//! 2. **Its archive, then its rows.** One transaction reads every tenant-owned table (found
//!    in the database's catalogue, so none is missed) into a zip archive with its files,
//!    its configuration and its special requirements decrypted, every file of it encrypted
//!    (AES-256, in the zip format's WinZip AES encryption, which 7-Zip and most archive
//!    tools open) under a passphrase the operator chose ([`Passphrase`]; never stored),
//!    written as the rows stream from the database to a temporary file, never held whole
//!    in memory ([`Archive`]), stores the archive in the platform's area of the object
//!    store (in parts, read from the file as they are sent)
//!    (`offboarded/{slug}/…zip`, for the operator to hand to the council, the passphrase
//!    going by another channel) and deletes every row, foreign keys permitting, tenant row
//!    last. The names of the files in the archive (tables, file keys) are not encrypted.
//! 3. **Its keys, files and sessions.** Its data key is destroyed in the key store, so
//!    what was sealed under it stays unreadable in every backup of the database; its files
//!    are deleted from the object store and its sessions from the session store.
//!
//! Afterwards, the daily jobs delete any row a request or job still running wrote for the
//! council after step 2 ([`sweep_stragglers`]).
//!
//! Credentials (password and token hashes, second-factor secrets, wrapped keys) are left
//! out of the archive: they are of no use to the council and of use to an attacker.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use sha2::Digest as _;
use storage::entity::tenant;
use storage::{tenant_data, tenants};
use tenant_router::TenantId;
use tokio::io::AsyncReadExt as _;

use crate::http::state::AppState;

/// What an offboarding did.
#[derive(Debug)]
pub struct Offboarded {
    /// Where the archive is, for the operator (a file path or `s3://…`).
    pub archive: String,
    /// SHA-256 of the archive (hex), for the council to check what it receives.
    pub archive_sha256: String,
    /// Rows removed, by table.
    pub rows: BTreeMap<String, u64>,
    /// Files removed from the object store by this run.
    pub files: usize,
    /// Data keys destroyed in the key store by this run.
    pub keys: usize,
    /// Sessions and sign-in counters forgotten by this run.
    pub sessions: usize,
    /// Whether this run finished an earlier one.
    pub resumed: bool,
    /// Whether this run made the archive, under its passphrase (otherwise an earlier run
    /// made it, under the passphrase that run was given).
    pub archive_made: bool,
}

/// Tables left out of the archive whole: keys, and the full-text index (derived).
const SECRET_TABLES: &[&str] = &["tenant_key", "data_key"];

/// Columns left out of the archive: credentials and sealed values (special requirements
/// are in the archive decrypted, in `special-requirements.json`).
fn secret_column(column: &str) -> bool {
    column.ends_with("token_hash")
        || matches!(column, "password_hash" | "secret_hash" | "code_hash")
        || column.ends_with("_sealed")
        || matches!(column, "subject_key" | "wrapped" | "special_requirements")
}

/// The passphrase an offboarded council's archive is encrypted under: chosen by the
/// operator, given to the council by another channel than the archive, never stored or
/// logged. At least [`Passphrase::MIN_CHARS`] characters.
pub struct Passphrase(String);

impl Passphrase {
    /// The fewest characters a passphrase may have.
    pub const MIN_CHARS: usize = 16;

    /// `text` as a passphrase: the line breaks a file ends with and a byte-order mark a
    /// Windows editor starts one with are not part of it (nobody could type them).
    ///
    /// # Errors
    /// What is wrong with it, for the operator.
    pub fn new(text: &str) -> Result<Self, String> {
        let text = text
            .trim_start_matches('\u{feff}')
            .trim_end_matches(['\r', '\n']);
        if text.chars().count() < Self::MIN_CHARS {
            return Err(format!(
                "the archive's passphrase must have at least {} characters (a generated one, \
                 such as `openssl rand -base64 24` gives, is best); nothing was done",
                Self::MIN_CHARS
            ));
        }
        if text != text.trim() {
            return Err(
                "the archive's passphrase must not begin or end with a space (the council \
                 could not tell it was there); nothing was done"
                    .to_owned(),
            );
        }
        Ok(Self(text.to_owned()))
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

/// Why an offboarding did not finish.
#[derive(Debug, thiserror::Error)]
pub enum OffboardError {
    /// No tenant has (or had) this slug; nothing was done.
    #[error("{0}")]
    NoSuchTenant(String),
    /// The database or a store failed; what was done stays done, and running it again
    /// finishes the rest.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Offboards `slug` (see the module's documentation).
///
/// # Errors
/// [`OffboardError::NoSuchTenant`], or a failure of the database or a store.
pub async fn offboard(
    state: &AppState,
    slug: &str,
    passphrase: &Passphrase,
    grace: Duration,
    now: DateTime<Utc>,
) -> Result<Offboarded, OffboardError> {
    let id: TenantId = slug
        .parse()
        .map_err(|_| OffboardError::NoSuchTenant(format!("`{slug}` is not a tenant slug")))?;
    let row = tenants::row(&state.db, &id)
        .await
        .map_err(anyhow::Error::from)?;
    let left = tenants::offboarding(&state.db, &id)
        .await
        .map_err(anyhow::Error::from)?;
    if row.is_none() && left.is_none() {
        return Err(OffboardError::NoSuchTenant(format!(
            "there is no tenant `{id}` (`portal tenants list` shows them); nothing was done"
        )));
    }
    Ok(go(state, id, row, left.is_some(), passphrase, grace, now).await?)
}

/// How long after a council left its tables are still swept ([`sweep_stragglers`]): a
/// straggler comes from a request or job that began before the offboarding's wait ended,
/// so it commits within minutes; a week covers a replica that was stopped meanwhile.
const SWEPT_FOR: chrono::Duration = chrono::Duration::days(7);

/// What [`sweep_stragglers`] removed for one council.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Rows, in all its tables.
    pub rows: u64,
    /// Files in the object store.
    pub files: usize,
}

/// Deletes what was written for a council after its offboarding deleted its rows and
/// files, and returns what went, by council. Offboarding waits `grace` for every replica
/// to stop serving the council, but a request or background job that began before and ran
/// longer could still commit a row (a queued email, a log entry) or store a file (an
/// upload, a generated certificate) after its data was deleted; nothing else would ever
/// remove it. Run by the daily jobs for every council
/// whose offboarding finished in the last [`SWEPT_FOR`] (one still under way is left to
/// its own run). Their slugs never come back, and a slug with a tenant row is skipped
/// anyway, so no other council's rows are touched. A council whose sweep fails is logged
/// and the others are still swept.
///
/// # Errors
/// When the list of councils that left cannot be read.
pub async fn sweep_stragglers(
    state: &AppState,
    now: DateTime<Utc>,
) -> anyhow::Result<BTreeMap<String, Swept>> {
    let mut swept = BTreeMap::new();
    let recent = tenants::offboarded(&state.db)
        .await?
        .into_iter()
        .filter(|left| !left.archive.is_empty() && left.offboarded_at > now - SWEPT_FOR);
    for left in recent {
        let Ok(id) = left.id.parse::<TenantId>() else {
            continue;
        };
        match sweep_one(state, &id).await {
            Ok(n) if n == Swept::default() => {}
            Ok(n) => {
                swept.insert(left.id, n);
            }
            Err(e) => tracing::warn!(tenant = %id, error = %e, "offboarded council not swept"),
        }
    }
    Ok(swept)
}

/// [`sweep_stragglers`] for one council: its rows in every tenant table and its files,
/// unless it is (somehow) a live council again. The archive made for the council is the
/// platform's, outside the council's files, and stays.
async fn sweep_one(state: &AppState, id: &TenantId) -> anyhow::Result<Swept> {
    if tenants::row(&state.db, id).await?.is_some() {
        return Ok(Swept::default());
    }
    let tx = state.db.system_tx(id).await?;
    let mut rows = 0;
    for t in tenant_data::tables(&tx).await? {
        rows += tenant_data::delete_rows(&tx, &t.name)
            .await
            .with_context(|| format!("deleting {id}'s rows left in {}", t.name))?;
    }
    tx.commit().await?;
    let files = state
        .catalogue
        .objects()
        .delete_all(id)
        .await
        .with_context(|| format!("deleting {id}'s files left in the object store"))?;
    Ok(Swept { rows, files })
}

async fn go(
    state: &AppState,
    id: TenantId,
    row: Option<tenant::Model>,
    resumed: bool,
    passphrase: &Passphrase,
    grace: Duration,
    now: DateTime<Utc>,
) -> anyhow::Result<Offboarded> {
    let db = &state.db;
    let mut rows = BTreeMap::new();
    let archive_made = row.is_some();
    match (&row, resumed) {
        (Some(row), false) => {
            stop_serving(state, row, now).await?;
            tokio::time::sleep(grace).await;
            rows = archive_and_delete(state, &id, row, passphrase, now).await?;
        }
        (Some(row), true) => rows = archive_and_delete(state, &id, row, passphrase, now).await?,
        (None, _) => {}
    }
    let keys = state
        .identity
        .destroy_tenant_keys(&id)
        .await
        .context("destroying the data key in the key store")?;
    let files = state
        .catalogue
        .objects()
        .delete_all(&id)
        .await
        .context("deleting the files from the object store")?;
    let sessions = state
        .identity
        .forget_tenant_sessions(&id)
        .await
        .context("forgetting the sessions")?;
    crate::notices::reload_everywhere(state).await?;
    let done = tenants::offboarding(db, &id)
        .await?
        .context("the offboarding record went missing")?;
    if rows.is_empty() {
        rows = serde_json::from_str(&done.counts).unwrap_or_default();
    }
    Ok(Offboarded {
        archive: state.catalogue.objects().platform_location(&done.archive)?,
        archive_sha256: done.archive_sha256,
        rows,
        files,
        keys,
        sessions,
        resumed,
        archive_made,
    })
}

/// Step 1: the record that the council is leaving, which takes it off every registry.
async fn stop_serving(
    state: &AppState,
    row: &tenant::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    tenants::begin_offboarding(&state.db, row, now).await?;
    crate::notices::reload_everywhere(state).await?;
    Ok(())
}

/// Step 2: the archive, stored; then every row deleted, in one transaction.
async fn archive_and_delete(
    state: &AppState,
    id: &TenantId,
    row: &tenant::Model,
    passphrase: &Passphrase,
    now: DateTime<Utc>,
) -> anyhow::Result<BTreeMap<String, u64>> {
    let tx = state.db.system_tx(id).await?;
    // An invoice a checkout left waiting for its number goes into the archive numbered.
    bookings::invoices::number_pending(&tx).await?;
    let tables = tenant_data::tables(&tx).await?;
    let writer = Archive::start(passphrase)?;
    let written = write_archive(state, &tx, id, row, &tables, &writer, now).await;
    // The writer's own failure (a full disk, say) explains a refused piece best.
    let (file, sha) = match (written, writer.finish().await) {
        (Ok(()), Ok(done)) => done,
        (_, Err(e)) | (Err(e), Ok(_)) => return Err(e),
    };
    // One name per council: a run that stops after storing it and is run again replaces
    // it rather than leaving an archive nothing records.
    let key = format!("offboarded/{}/archive.zip", id.as_str());
    state
        .catalogue
        .objects()
        .put_platform_file(&key, file.path(), "application/zip")
        .await
        .context("storing the archive")?;
    drop(file);

    let mut removed = BTreeMap::new();
    for t in &tables {
        let n = tenant_data::delete_rows(&tx, &t.name)
            .await
            .with_context(|| format!("deleting {}'s rows of {}", id, t.name))?;
        removed.insert(t.name.clone(), n);
    }
    tenants::finish_offboarding(&tx, &key, &sha, &serde_json::to_string(&removed)?).await?;
    tx.commit().await?;
    Ok(removed)
}

/// Sends the archive's files to `writer`, one piece at a time: each table's rows as they
/// stream from the database, the special requirements, the configuration and logo, each
/// stored file, and the manifest last (it counts what went before).
async fn write_archive(
    state: &AppState,
    tx: &storage::TenantTx,
    id: &TenantId,
    row: &tenant::Model,
    tables: &[tenant_data::Table],
    writer: &Archive,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut exported: BTreeMap<String, usize> = BTreeMap::new();
    for t in tables
        .iter()
        .filter(|t| !t.derived && !SECRET_TABLES.contains(&t.name.as_str()))
    {
        let columns: Vec<&str> = t
            .columns
            .iter()
            .map(String::as_str)
            .filter(|c| !secret_column(c))
            .collect();
        writer
            .send(Piece::File(format!("tables/{}.json", t.name)))
            .await?;
        let mut rows = tenant_data::rows_json(tx, &t.name, &columns).await?;
        let mut chunk = Vec::with_capacity(CHUNK_BYTES);
        chunk.push(b'[');
        let mut n = 0;
        while let Some(one) = rows.next().await {
            let one = one.with_context(|| format!("reading {}", t.name))?;
            if n > 0 {
                chunk.push(b',');
            }
            chunk.push(b'\n');
            chunk.extend_from_slice(one.as_bytes());
            n += 1;
            if chunk.len() >= CHUNK_BYTES {
                writer
                    .send(Piece::Bytes(std::mem::take(&mut chunk)))
                    .await?;
            }
        }
        chunk.extend_from_slice(b"\n]\n");
        writer.send(Piece::Bytes(chunk)).await?;
        exported.insert(t.name.clone(), n);
    }
    let special: Vec<serde_json::Value> = state
        .identity
        .all_special_requirements(tx)
        .await?
        .into_iter()
        .map(|(account_id, text)| {
            serde_json::json!({ "account_id": account_id, "special_requirements": text })
        })
        .collect();
    let specials = special.len();
    writer
        .file(
            "special-requirements.json",
            serde_json::to_vec_pretty(&special)?,
        )
        .await?;
    writer
        .file("tenant.json", row.config.clone().into_bytes())
        .await?;
    if let (Some(logo), Some(ct)) = (&row.logo, &row.logo_content_type) {
        let ext = if ct == "image/svg+xml" { "svg" } else { "png" };
        writer.file(&format!("logo.{ext}"), logo.clone()).await?;
    }
    let objects = state.catalogue.objects();
    let keys = objects.list(id).await?;
    for key in &keys {
        // Streamed from the store in chunks: a stored file is never held whole either.
        let Some(mut from) = objects.read_listed(id, key).await? else {
            continue;
        };
        writer.send(Piece::File(format!("objects/{key}"))).await?;
        loop {
            let mut chunk = Vec::with_capacity(CHUNK_BYTES);
            let n = (&mut from)
                .take(CHUNK_BYTES as u64)
                .read_to_end(&mut chunk)
                .await
                .with_context(|| format!("reading the file {key}"))?;
            if n == 0 {
                break;
            }
            writer.send(Piece::Bytes(chunk)).await?;
        }
    }
    let manifest = serde_json::json!({
        "tenant": id.as_str(),
        "display_name": row.display_name,
        "made_at": now.to_rfc3339(),
        "rows": exported,
        "files": keys.len(),
        "special_requirements": specials,
        "left_out": "password and token hashes, second-factor secrets and data keys",
        "encryption": "AES-256 (WinZip AES) for every file, under the passphrase given separately",
    });
    writer
        .file("manifest.json", serde_json::to_vec_pretty(&manifest)?)
        .await
}

/// How many bytes of a table's rows go to the archive's writer at a time.
const CHUNK_BYTES: usize = 256 * 1024;

/// What the archive's writer is sent: a new file in the archive, or more of the current
/// one.
enum Piece {
    File(String),
    Bytes(Vec<u8>),
}

/// The archive being written: a blocking task zips and encrypts what it is sent into a
/// temporary file (in `TMPDIR`), so that neither the council's data nor the archive is
/// ever held whole in memory: every piece is at most [`CHUNK_BYTES`] (rows, and stored
/// files read in chunks; the manifest, configuration and special requirements are small)
/// and eight wait at most.
struct Archive {
    pieces: tokio::sync::mpsc::Sender<Piece>,
    done: tokio::task::JoinHandle<anyhow::Result<(tempfile::NamedTempFile, String)>>,
}

impl Archive {
    fn start(passphrase: &Passphrase) -> anyhow::Result<Self> {
        let file = tempfile::NamedTempFile::new().context("making the archive's file")?;
        let (pieces, mut rx) = tokio::sync::mpsc::channel::<Piece>(8);
        let passphrase = passphrase.0.clone();
        let done = tokio::task::spawn_blocking(move || {
            let mut zip = zip::ZipWriter::new(file.reopen()?);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(1))
                .with_aes_encryption(zip::AesMode::Aes256, &passphrase)
                // A table or file may pass 4 GiB: ZIP64 entries.
                .large_file(true);
            while let Some(piece) = rx.blocking_recv() {
                match piece {
                    Piece::File(name) => zip.start_file(name, options)?,
                    Piece::Bytes(bytes) => zip.write_all(&bytes)?,
                }
            }
            zip.finish()?.sync_all()?;
            let mut sha = sha2::Sha256::new();
            std::io::copy(&mut file.reopen()?, &mut sha)?;
            Ok((file, hex::encode(sha.finalize())))
        });
        Ok(Self { pieces, done })
    }

    async fn send(&self, piece: Piece) -> anyhow::Result<()> {
        self.pieces
            .send(piece)
            .await
            .map_err(|_| anyhow::anyhow!("the archive's writer stopped"))
    }

    async fn file(&self, name: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.send(Piece::File(name.to_owned())).await?;
        self.send(Piece::Bytes(bytes)).await
    }

    /// The archive's file and its SHA-256 (hex), once everything sent is written.
    async fn finish(self) -> anyhow::Result<(tempfile::NamedTempFile, String)> {
        drop(self.pieces);
        self.done.await.context("writing the archive")?
    }
}
