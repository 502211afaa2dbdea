//! Offboarding a council: it stops being served, takes an archive of its data with it, and
//! nothing of it stays on the platform: no row, no file, no session, and no data key, so
//! what was sealed under that key stays unreadable in any backup of the database.

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use e2e::spawn_app;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait as _, Statement};
use server::offboarding::{Passphrase, offboard};
use storage::tenant_data;

/// The passphrase the tests' archives are encrypted under.
pub(crate) const PASSPHRASE: &str = "correct horse battery staple";

pub(crate) fn passphrase() -> Passphrase {
    Passphrase::new(PASSPHRASE).unwrap()
}

/// The archive's files, opened with the passphrase; none opens without it.
fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    for i in 0..zip.len() {
        assert!(
            zip.by_index(i).is_err(),
            "file {i} opens without the passphrase"
        );
        // A wrong passphrase passes the two-byte check once in 65,536 tries: reading to the
        // end then fails on the file's authentication code.
        if let Ok(mut f) = zip.by_index_decrypt(i, b"not the passphrase at all") {
            let mut out = Vec::new();
            assert!(
                f.read_to_end(&mut out).is_err(),
                "file {i} opens with another passphrase"
            );
        }
    }
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index_decrypt(i, PASSPHRASE.as_bytes()).unwrap();
            let mut out = Vec::new();
            f.read_to_end(&mut out).unwrap();
            (f.name().to_owned(), out)
        })
        .collect()
}

/// Every tenant-owned table's rows of `slug`, as (table, JSON array).
async fn rows_of(store: &storage::Db, slug: &str) -> Vec<(String, String)> {
    use futures_util::TryStreamExt as _;
    let tx = store.system_tx(&slug.parse().unwrap()).await.unwrap();
    let mut out = Vec::new();
    for t in tenant_data::tables(&tx).await.unwrap() {
        let cols: Vec<&str> = t.columns.iter().map(String::as_str).collect();
        let rows = tenant_data::rows_json(&tx, &t.name, &cols).await.unwrap();
        let rows: Vec<String> = rows.try_collect().await.unwrap();
        out.push((t.name, format!("[{}]", rows.join(","))));
    }
    tx.rollback().await.unwrap();
    out
}

/// Offboards Harrow at once (no replica to wait for).
async fn offboard_harrow(app: &e2e::TestApp) -> server::offboarding::Offboarded {
    offboard(
        &app.state,
        "harrow",
        &passphrase(),
        Duration::ZERO,
        app.clock.now(),
    )
    .await
    .unwrap()
}

/// Harrow's archive as the offboarding record names it, checked against the SHA-256 the
/// run printed.
async fn stored_archive(app: &e2e::TestApp, done: &server::offboarding::Offboarded) -> Vec<u8> {
    let left = storage::tenants::offboarded(&app.store).await.unwrap();
    let record = left.iter().find(|l| l.id == "harrow").unwrap();
    let bytes = app
        .objects
        .get_platform(&record.archive)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        done.archive_sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))
    );
    bytes
}

#[tokio::test]
async fn a_council_leaves_with_its_data_and_nothing_of_it_stays_readable() {
    let app = spawn_app().await;
    let harrow: tenant_router::TenantId = "harrow".parse().unwrap();
    let needs = "Hearing loop and step-free access";
    let ana = app.person("harrow", "ana@school.example", None).await;
    ana.set_special_requirements("harrow", needs).await;
    app.objects
        .put(
            &harrow,
            "resources/r1/guide.pdf",
            b"%PDF-1.7 guide".to_vec(),
            "application/pdf",
        )
        .await
        .unwrap();
    let sam = app.person("somerset", "sam@school.example", None).await;

    // What a backup taken now would hold: the sealed value, and which key sealed it.
    let key_store = storage::Objects::local(&app.db.dir.path().join("keys"));
    let keys_before = key_store.list(&harrow).await.unwrap();
    assert_eq!(keys_before.len(), 1, "{keys_before:?}");
    let backup = rows_of(&app.store, "harrow").await;
    let sealed = &backup
        .iter()
        .find(|(t, _)| t == "account_secret")
        .unwrap()
        .1;
    assert!(
        sealed.len() > 20 && !sealed.contains("Hearing loop"),
        "{sealed}"
    );
    let ana_id = app
        .account("harrow", "ana@school.example")
        .await
        .unwrap()
        .id;

    let done = offboard_harrow(&app).await;
    assert!(!done.resumed);
    assert!(done.archive_made);
    assert_eq!(done.keys, 1);
    assert_eq!(done.files, 1);
    assert!(done.sessions >= 1, "Ana's session was not forgotten");
    assert!(done.rows["account"] >= 1 && done.rows["audit_event"] >= 1);

    // Its hosts answer nothing: pages, the API, sign-in, a token.
    for path in ["/", "/courses", "/api/v1/courses", "/sign-in", "/privacy"] {
        assert_eq!(
            ana.get_tenant("harrow", path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let bearer = app
        .client
        .get(app.url("harrow.localhost", "/api/v1/courses"))
        .bearer_auth("pt_anything")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::NOT_FOUND);
    // Another council carries on, its people signed in.
    assert_eq!(
        sam.get_tenant("somerset", "/account").await.status(),
        StatusCode::OK
    );
    assert!(
        app.account("somerset", "sam@school.example")
            .await
            .is_some()
    );

    // No row of it is left in any tenant-owned table; the tenant row went too.
    for (table, json) in rows_of(&app.store, "harrow").await {
        assert_eq!(json, "[]", "{table} still holds Harrow's rows");
    }
    assert!(
        storage::tenants::load_registry(&app.store)
            .await
            .unwrap()
            .iter()
            .all(|t| t.id != harrow)
    );
    let count = app
        .store
        .platform()
        .query_one_raw(Statement::from_string(
            app.store.platform().get_database_backend(),
            "SELECT COUNT(*) AS n FROM tenant WHERE id = 'harrow'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(count, 0);
    // No file, no data key: the sealed value in the backup has nothing left to open it.
    assert!(app.objects.list(&harrow).await.unwrap().is_empty());
    assert!(key_store.list(&harrow).await.unwrap().is_empty());
    assert!(
        key_store
            .get(&harrow, &keys_before[0])
            .await
            .unwrap()
            .is_none()
    );

    // The archive holds the council's data, special requirements readable, credentials not.
    assert!(done.archive.ends_with(".zip") && Path::new(&done.archive).is_file());
    let bytes = stored_archive(&app, &done).await;
    let files = unzip(&bytes);
    let accounts: serde_json::Value =
        serde_json::from_slice(&files["tables/account.json"]).unwrap();
    let ana_row = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == "ana@school.example")
        .unwrap();
    assert_eq!(ana_row["id"], ana_id.as_str());
    assert!(ana_row.get("password_hash").is_none());
    assert!(!files.contains_key("tables/data_key.json"));
    let special: serde_json::Value =
        serde_json::from_slice(&files["special-requirements.json"]).unwrap();
    assert_eq!(special[0]["account_id"], ana_id.as_str());
    assert_eq!(special[0]["special_requirements"], needs);
    assert_eq!(files["objects/resources/r1/guide.pdf"], b"%PDF-1.7 guide");
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["tenant"], "harrow");
    assert!(manifest["rows"]["account"].as_u64().unwrap() >= 1);
    assert!(files.contains_key("tenant.json") && files.contains_key("tables/audit_event.json"));
}

/// Rows of `slug` in all its tables.
async fn row_count(store: &storage::Db, slug: &str) -> usize {
    rows_of(store, slug)
        .await
        .iter()
        .map(|(_, rows)| {
            serde_json::from_str::<Vec<serde_json::Value>>(rows)
                .unwrap()
                .len()
        })
        .sum()
}

#[tokio::test]
async fn what_a_request_still_running_writes_or_stores_after_offboarding_is_swept_daily() {
    let app = spawn_app().await;
    app.person("harrow", "ana@school.example", None).await;
    app.person("somerset", "sam@school.example", None).await;
    offboard_harrow(&app).await;
    assert_eq!(row_count(&app.store, "harrow").await, 0);
    let somerset = row_count(&app.store, "somerset").await;

    // A request that began before Harrow stopped being served commits after its rows went:
    // a log entry, and (PostgreSQL, where no key ties an email to its council's row) an
    // email.
    let tx = app
        .store
        .system_tx(&"harrow".parse().unwrap())
        .await
        .unwrap();
    let backend = tx.get_database_backend();
    tx.execute_unprepared(
        "INSERT INTO transaction_log (tenant_id, id, account_id, action, subject, detail, occurred_at) \
         VALUES ('harrow', 'late-1', 'a1', 'checkout', 'o1', '{}', CURRENT_TIMESTAMP)",
    )
    .await
    .unwrap();
    if backend == sea_orm::DbBackend::Postgres {
        tx.execute_unprepared(
            "INSERT INTO outbox_email (tenant_id, id, to_address, subject, body_text, created_at, attempts) \
             VALUES ('harrow', 'late-2', 'ana@school.example', 'Booked', 'Your place.', CURRENT_TIMESTAMP, 0)",
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    assert!(row_count(&app.store, "harrow").await > 0);
    // And a file it stored (a certificate, say); Somerset has one too.
    let objects = app.state.catalogue.objects();
    let (harrow, somerset_id) = ("harrow".parse().unwrap(), "somerset".parse().unwrap());
    for t in [&harrow, &somerset_id] {
        objects
            .put(
                t,
                "certificates/late.pdf",
                b"%PDF-1.7".to_vec(),
                "application/pdf",
            )
            .await
            .unwrap();
    }

    assert!(server::jobs::daily_jobs(&app.state, "sweeper").await);
    assert_eq!(row_count(&app.store, "harrow").await, 0, "swept");
    assert!(
        objects.list(&harrow).await.unwrap().is_empty(),
        "files swept"
    );
    assert!(
        objects
            .list(&somerset_id)
            .await
            .unwrap()
            .contains(&"certificates/late.pdf".to_owned()),
        "another council's files are not touched"
    );
    assert_eq!(
        row_count(&app.store, "somerset").await,
        somerset,
        "another council's rows are not touched"
    );
}

#[tokio::test]
async fn an_offboarded_council_is_not_brought_back_and_bad_requests_change_nothing() {
    let app = spawn_app().await;
    let now = app.clock.now();
    for (slug, says) in [
        ("nowhere", "there is no tenant `nowhere`"),
        ("Not A Slug", "is not a tenant slug"),
    ] {
        let err = offboard(&app.state, slug, &passphrase(), Duration::ZERO, now)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{err}");
    }
    // A passphrase too short to protect the council's data is refused.
    for bad in [
        "",
        "   \n",
        "fifteen chars!!",
        " a leading space, sixteen and more",
        "a trailing space, sixteen and more ",
    ] {
        assert!(Passphrase::new(bad).is_err(), "{bad:?}");
    }
    assert!(Passphrase::new("sixteen chars!!!\r\n").is_ok());
    assert!(Passphrase::new("\u{feff}sixteen chars!!!\n\n").is_ok());
    assert_eq!(app.registry.current().iter().count(), 5);
    assert!(
        storage::tenants::offboarded(&app.store)
            .await
            .unwrap()
            .is_empty()
    );

    offboard(&app.state, "segfl", &passphrase(), Duration::ZERO, now)
        .await
        .unwrap();
    assert_eq!(
        app.browser.get_tenant("segfl", "/").await.status(),
        StatusCode::NOT_FOUND
    );
    // Running it again finishes nothing new and says it is a resumption.
    let again = offboard(&app.state, "segfl", &passphrase(), Duration::ZERO, now)
        .await
        .unwrap();
    assert!(again.resumed && again.keys == 0 && again.files == 0);
    // Its archive is the first run's, under the first run's passphrase.
    assert!(!again.archive_made);
    // Its folder, applied again, is refused: the slug is not reused.
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tenants/segfl");
    let err = server::onboarding::apply(&app.state, &folder, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("segfl was offboarded on"), "{err}");
    assert_eq!(
        app.browser.get_tenant("segfl", "/").await.status(),
        StatusCode::NOT_FOUND
    );
    // The others are served as before.
    for slug in ["harrow", "havering", "somerset", "stockport"] {
        assert_eq!(
            app.browser.get_tenant(slug, "/").await.status(),
            StatusCode::OK,
            "{slug}"
        );
    }
}

/// A deployment from before the key store kept each tenant's key, wrapped, in the
/// database. At start-up that key is replaced, not moved: what it sealed is sealed again
/// under a new key in the key store, and the old row goes, so a backup holding the old key
/// does not hold the one in use.
#[tokio::test]
async fn a_key_kept_in_the_database_is_replaced_by_one_in_the_key_store() {
    let app = spawn_app().await;
    let harrow: tenant_router::TenantId = "harrow".parse().unwrap();
    let needs = "A quiet room for breaks";
    let ana = app.person("harrow", "ana@school.example", None).await;
    ana.set_special_requirements("harrow", needs).await;

    // Put Harrow back as an older release left it: its key wrapped in `tenant_key`.
    let key_store = storage::Objects::local(&app.db.dir.path().join("keys"));
    let old_object = key_store.list(&harrow).await.unwrap().remove(0);
    let wrapped = key_store.get(&harrow, &old_object).await.unwrap().unwrap();
    let tx = app.store.system_tx(&harrow).await.unwrap();
    let backend = tx.get_database_backend();
    tx.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO tenant_key (tenant_id, wrapped, created_at) VALUES ($1, $2, $3)",
        [
            "harrow".into(),
            wrapped.clone().into(),
            app.clock.now().into(),
        ],
    ))
    .await
    .unwrap();
    tx.execute_raw(Statement::from_string(
        backend,
        "DELETE FROM data_key WHERE tenant_id = 'harrow'",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    key_store.delete(&harrow, &old_object).await.unwrap();

    // Start-up's step for every tenant.
    app.state.identity.ensure_tenant_key(&harrow).await.unwrap();
    let objects = key_store.list(&harrow).await.unwrap();
    assert_eq!(objects.len(), 1);
    assert_ne!(objects[0], old_object);
    assert_ne!(
        key_store.get(&harrow, &objects[0]).await.unwrap().unwrap(),
        wrapped
    );
    let rows = rows_of(&app.store, "harrow").await;
    let table = |name: &str| rows.iter().find(|(t, _)| t == name).unwrap().1.clone();
    assert_eq!(table("tenant_key"), "[]");
    assert!(table("data_key").contains(objects[0].trim_start_matches("data-key/")));
    // What the old key sealed opens under the new one.
    let page = ana.page("harrow", "/account/special-requirements").await;
    assert!(page.contains(needs), "{page}");
}

/// On a real S3-compatible store, an archive larger than one request's worth goes up in
/// parts read from its file, and comes back whole.
#[tokio::test]
async fn a_large_archive_goes_to_an_s3_store_in_parts() {
    let Some(s3) = e2e::S3Server::start().await else {
        e2e::skip_or_fail("S3S_FS_BIN is not set (scripts/test.sh installs s3s-fs)");
        return;
    };
    let settings = s3.settings.clone();
    let app = e2e::spawn_app_with(move |s| {
        s.objects.backend = server::settings::ObjectBackend::S3;
        s.objects.s3 = Some(settings);
    })
    .await;
    let harrow: tenant_router::TenantId = "harrow".parse().unwrap();
    // Bytes that do not compress, so the archive is larger than a part.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let size = usize::try_from(storage::PART_BYTES).unwrap() + 1_500_000;
    let big: Vec<u8> = (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect();
    app.objects
        .put(
            &harrow,
            "resources/r1/recordings.bin",
            big.clone(),
            "application/octet-stream",
        )
        .await
        .unwrap();

    let done = offboard_harrow(&app).await;
    assert!(done.archive_made && done.archive.starts_with("s3://"));
    let bytes = stored_archive(&app, &done).await;
    assert!(bytes.len() as u64 > storage::PART_BYTES, "{}", bytes.len());
    let files = unzip(&bytes);
    assert!(files["objects/resources/r1/recordings.bin"] == big);
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["files"], 1);
    // The file went from the bucket with the rest of the council.
    assert!(app.objects.list(&harrow).await.unwrap().is_empty());
}
