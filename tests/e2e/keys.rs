//! Replacing the master key: `portal keys rewrap` wraps every council's data key again
//! under the new key; while the old key is listed as previous, what it made still opens;
//! once it is dropped, the portal runs on the new key alone and the key store's old
//! wrappings (what a backup of it would hold) open under the old key only.

use e2e::{PASSWORD, TestDb, spawn_on, tenants_dir};
use identity::crypto::{Key, MasterKeys, tenant_key_aad};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use server::cli::keys::{KeysCommand, run};
use server::settings::Settings;

/// 32 bytes of 1, base64.
const OLD: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
/// 32 bytes of 2, base64.
const NEW: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

fn keyed(db: &TestDb, current: &str, previous: Option<&str>) -> Settings {
    let mut s = db.settings(&tenants_dir());
    s.security.master_key = Some(current.to_owned().into());
    s.security.previous_master_keys = previous.map(|p| p.to_owned().into());
    s
}

fn key(text: &str) -> Key {
    use base64::Engine as _;
    Key::from_bytes(
        &base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap(),
    )
    .unwrap()
}

/// Every council's wrapped data key as the key store holds it now, by tenant.
async fn wrapped_keys(db: &TestDb) -> Vec<(String, Vec<u8>)> {
    let store = storage::Objects::local(&db.dir.path().join("keys"));
    let conn = db.connect().await;
    let mut out = Vec::new();
    for slug in ["harrow", "havering", "segfl", "somerset", "stockport"] {
        let tenant = slug.parse().unwrap();
        let tx = conn.system_tx(&tenant).await.unwrap();
        let row = identity::store::entity::data_key::Entity::find()
            .filter(identity::store::entity::data_key::Column::TenantId.eq(slug))
            .one(&*tx)
            .await
            .unwrap()
            .expect("every council has a data key");
        tx.rollback().await.unwrap();
        let bytes = store
            .get(&tenant, &format!("data-key/{}", row.key_id))
            .await
            .unwrap()
            .expect("the key store holds it");
        out.push((slug.to_owned(), bytes));
    }
    out
}

/// Ana asks for a password reset; the link emailed.
async fn reset_link(app: &e2e::TestApp) -> String {
    let res = app
        .submit(
            "harrow",
            "/reset-password",
            "/reset-password",
            &[("email", "ana@example.org")],
        )
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    app.emailed_link("harrow", "ana@example.org", "/reset-password/")
        .await
}

#[tokio::test]
async fn a_replaced_master_key_opens_nothing_once_it_is_dropped() {
    let needs = "A hearing loop in the training room";
    let db = TestDb::new().await;
    let settings = keyed(&db, OLD, None);
    let app = spawn_on(db, settings).await;
    let ana = app.person("harrow", "ana@example.org", None).await;
    ana.set_special_requirements("harrow", needs).await;
    let old_link = reset_link(&app).await;
    let db = app.into_db();
    let before = wrapped_keys(&db).await;
    for (slug, bytes) in &before {
        assert!(key(OLD).unwrap_key(bytes, &tenant_key_aad(slug)).is_ok());
    }

    // The new key configured without the old one listed: the portal does not start (it
    // cannot open the councils' keys), so nothing is re-wrapped and nothing changes.
    let err = run(keyed(&db, NEW, None), KeysCommand::Rewrap)
        .await
        .expect_err("keys it cannot open");
    assert!(
        format!("{err:#}").contains("previous_master_keys"),
        "the message says what to set: {err:#}"
    );
    assert_eq!(wrapped_keys(&db).await, before);

    // With the old key listed as previous: every data key is wrapped again.
    run(keyed(&db, NEW, Some(OLD)), KeysCommand::Rewrap)
        .await
        .unwrap();
    let after = wrapped_keys(&db).await;
    let new_only = MasterKeys::from(key(NEW));
    for ((slug, old), (_, new)) in before.iter().zip(&after) {
        let (_, current) = new_only.unwrap_key(new, &tenant_key_aad(slug)).unwrap();
        assert!(current, "{slug}'s key opens under the new key alone");
        assert!(
            new_only.unwrap_key(old, &tenant_key_aad(slug)).is_err(),
            "{slug}'s old wrapping (as a backup of the key store holds it) needs the old key"
        );
        assert!(key(OLD).unwrap_key(new, &tenant_key_aad(slug)).is_err());
    }
    // Again: nothing left to do, nothing changes.
    run(keyed(&db, NEW, Some(OLD)), KeysCommand::Rewrap)
        .await
        .unwrap();
    assert_eq!(wrapped_keys(&db).await, after);

    // A reset link made under the old key is not sent again under the new one: it is
    // ended, and a new link sent.
    let settings = keyed(&db, NEW, Some(OLD));
    let app = spawn_on(db, settings).await;
    let new_link = reset_link(&app).await;
    assert_ne!(new_link, old_link);
    assert_eq!(
        app.get_tenant("harrow", &old_link).await.status(),
        StatusCode::GONE
    );
    assert_eq!(
        app.get_tenant("harrow", &new_link).await.status(),
        StatusCode::OK
    );
    let db = app.into_db();

    // The old key dropped: the portal serves on the new one, and what was sealed under the
    // council's data key before the change still opens.
    let settings = keyed(&db, NEW, None);
    let app = spawn_on(db, settings).await;
    let ana = app.new_browser();
    let res = ana.sign_in("harrow", "ana@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = ana.page("harrow", "/account/special-requirements").await;
    assert!(page.contains(needs), "the sealed value reads back: {page}");
}

#[tokio::test]
async fn previous_master_keys_must_be_keys_and_not_the_current_one() {
    let db = TestDb::new().await;
    for (previous, says) in [
        (
            "not a key",
            "security.previous_master_keys (key 1) must hold 32 random bytes",
        ),
        (
            &format!("{OLD}, short"),
            "security.previous_master_keys (key 2) must hold 32 random bytes",
        ),
        (
            NEW,
            "security.previous_master_keys (key 1) is the current master key",
        ),
    ] {
        let err = run(keyed(&db, NEW, Some(previous)), KeysCommand::Rewrap)
            .await
            .expect_err("a bad previous key");
        assert!(format!("{err:#}").contains(says), "{previous}: {err:#}");
        let err = server::Application::build(keyed(&db, NEW, Some(previous)))
            .await
            .err()
            .expect("start-up refuses it too");
        assert!(format!("{err:#}").contains(says), "{previous}: {err:#}");
    }
}
