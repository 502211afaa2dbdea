//! Tenants become rows on first start; start-up never overwrites them afterwards (a changed
//! folder becomes a notice draft instead); the audit log records each import in a
//! verifiable chain.

use e2e::{LAUNCH_TENANTS, TestDb, copy_tenants, edit_tenant, spawn_on, tenants_dir};
use server::Application;
use tenant_router::TenantId;

#[tokio::test]
async fn first_start_imports_every_tenant_and_audits_it() {
    let db = TestDb::new().await;
    let app = Application::build(db.settings(&tenants_dir()))
        .await
        .unwrap();
    let registry = app.state().registry.current();
    let ids: Vec<&str> = registry.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, LAUNCH_TENANTS);

    let store = &app.state().db;
    for slug in LAUNCH_TENANTS {
        let id: TenantId = slug.parse().unwrap();
        let tx = store.tenant_tx(&id).await.unwrap();
        let events = storage::audit::list(&tx).await.unwrap();
        assert_eq!(events.len(), 1, "{slug}");
        assert_eq!(events[0].action, "tenant.imported");
        assert_eq!(events[0].subject, slug);
        assert_eq!(storage::audit::verify(&tx).await.unwrap(), 1);
        tx.rollback().await.unwrap();
    }
}

#[tokio::test]
async fn restart_never_overwrites_a_tenant_from_a_changed_file() {
    let tenants = copy_tenants();
    let db = TestDb::new().await;
    let first = Application::build(db.settings(tenants.path()))
        .await
        .unwrap();
    drop(first);

    edit_tenant(
        tenants.path(),
        "somerset",
        "display_name = \"Support Services for Education\"",
        "display_name = \"Renamed In The File\"",
    );
    // Two starts: the second, with the first's draft still open, drafts nothing more.
    for _ in 0..2 {
        drop(
            Application::build(db.settings(tenants.path()))
                .await
                .unwrap(),
        );
    }
    let settings = db.settings(tenants.path());
    let app = spawn_on(db, settings).await;
    let body = app.get_tenant("somerset", "/").await.text().await.unwrap();
    assert!(body.contains("Support Services for Education"));
    assert!(!body.contains("Renamed In The File"));

    let store = app.store.clone();
    let report = storage::tenants::import_new(
        &store,
        &tenant_router::load::load_dir(tenants.path()).unwrap(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        report.changed,
        vec!["somerset".parse::<TenantId>().unwrap()]
    );
    assert!(report.imported.is_empty());
    // The file's change became a draft of the notice, to be published by the council's
    // administrators; it is audited, and nothing is imported a second time.
    let tx = store.tenant_tx(&"somerset".parse().unwrap()).await.unwrap();
    let draft = privacy_engine::store::notice::draft(&tx)
        .await
        .unwrap()
        .expect("a draft");
    assert_eq!(
        draft.config.display_name, "Renamed In The File",
        "{draft:?}"
    );
    assert_eq!(
        draft.changes,
        ["Changed in the tenant folder: display_name"]
    );
    let actions: Vec<String> = storage::audit::list(&tx)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["tenant.imported", "notice.draft_changed"]);
    assert_eq!(storage::audit::verify(&tx).await.unwrap(), 2);
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn a_new_tenant_folder_is_imported_beside_existing_ones() {
    let tenants = copy_tenants();
    let db = TestDb::new().await;
    drop(
        Application::build(db.settings(tenants.path()))
            .await
            .unwrap(),
    );

    let extra = tenants.path().join("anytown");
    std::fs::create_dir_all(&extra).unwrap();
    let text = std::fs::read_to_string(tenants_dir().join("stockport/tenant.toml"))
        .unwrap()
        .replace("slug = \"stockport\"", "slug = \"anytown\"")
        .replace("stockport.localhost", "anytown.localhost");
    std::fs::write(extra.join("tenant.toml"), text).unwrap();

    let app = Application::build(db.settings(tenants.path()))
        .await
        .unwrap();
    assert_eq!(
        app.state().registry.current().len(),
        LAUNCH_TENANTS.len() + 1
    );
    assert!(
        app.state()
            .registry
            .current()
            .by_host("anytown.localhost")
            .is_some()
    );
}
