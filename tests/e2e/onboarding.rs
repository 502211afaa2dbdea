//! Onboarding a council without a deploy: one tenant folder, validated whole and against
//! every other tenant, serves at once with its own data key and first privacy notice; a
//! folder with problems or another tenant's hostname changes nothing; re-applying a changed
//! folder drafts the notice and leaves the configuration in force alone.

use std::path::{Path, PathBuf};

use e2e::{TestApp, spawn_app};
use reqwest::StatusCode;
use server::onboarding::{Applied, apply};

/// A copy of Harrow's folder as a new council, `newtown`, with `edit` applied to its file.
pub(crate) fn newtown(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("newtown");
    std::fs::create_dir_all(&folder).unwrap();
    let harrow = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tenants/harrow/tenant.toml");
    let text = std::fs::read_to_string(harrow)
        .unwrap()
        .replacen("slug = \"harrow\"", "slug = \"newtown\"", 1)
        .replacen(
            "display_name = \"Support Services for Education Harrow\"",
            "display_name = \"Newtown Education Services\"",
            1,
        )
        .replacen(
            "hostnames = [\"harrow.localhost\", \"www.ss4eharrow.uk\"]",
            "hostnames = [\"newtown.localhost\"]",
            1,
        );
    std::fs::write(folder.join("tenant.toml"), edit(text)).unwrap();
    (root, folder)
}

/// GET on a host the test's client was not built for.
async fn get(app: &TestApp, host: &str, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .resolve(host, app.addr)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(host, path))
        .send()
        .await
        .unwrap()
}

fn tenants(app: &TestApp) -> Vec<String> {
    app.registry
        .current()
        .iter()
        .map(|t| t.id.to_string())
        .collect()
}

#[tokio::test]
async fn an_operator_onboards_a_sixth_council_and_it_serves_at_once() {
    let app = spawn_app().await;
    assert_eq!(
        get(&app, "newtown.localhost", "/").await.status(),
        StatusCode::NOT_FOUND
    );
    let (_keep, folder) = newtown(|t| t);
    let now = app.clock.now();
    assert_eq!(
        apply(&app.state, &folder, now).await.unwrap(),
        Applied::Imported {
            notice: server::onboarding::NoticeState::Published
        }
    );

    let home = get(&app, "newtown.localhost", "/").await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(
        home.text()
            .await
            .unwrap()
            .contains("Newtown Education Services")
    );
    // Its first privacy notice, compiled from its folder, is published.
    let notice = get(&app, "newtown.localhost", "/privacy").await;
    assert_eq!(notice.status(), StatusCode::OK);
    assert!(
        notice
            .text()
            .await
            .unwrap()
            .contains("Newtown Education Services")
    );
    // Its own data key exists, in the key store, named by its row.
    let db = &app.store;
    let slug: tenant_router::TenantId = "newtown".parse().unwrap();
    let tx = db.tenant_tx(&slug).await.unwrap();
    let keys = <identity::store::entity::data_key::Entity as sea_orm::EntityTrait>::find()
        .all(&*tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    // (SQLite has no row-level security: every tenant's row is listed.)
    let keys: Vec<_> = keys
        .into_iter()
        .filter(|k| k.tenant_id == "newtown")
        .collect();
    assert_eq!(keys.len(), 1);
    let key_store = storage::Objects::local(&app.db.dir.path().join("keys"));
    assert_eq!(
        key_store.list(&slug).await.unwrap(),
        [format!("data-key/{}", keys[0].key_id)]
    );
    // Applying the same folder again: nothing to do.
    assert_eq!(
        apply(&app.state, &folder, now).await.unwrap(),
        Applied::Unchanged
    );

    // A changed folder becomes a notice draft; the configuration in force stays.
    let (_keep2, changed) = newtown(|t| {
        t.replacen(
            "display_name = \"Newtown Education Services\"",
            "display_name = \"Newtown Schools Services\"",
            1,
        )
    });
    match apply(&app.state, &changed, now).await.unwrap() {
        Applied::Drafted(sections) => assert!(
            sections.contains(&"display_name".to_owned()),
            "{sections:?}"
        ),
        other => panic!("expected a draft, got {other:?}"),
    }
    let home = get(&app, "newtown.localhost", "/")
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("Newtown Education Services") && !home.contains("Newtown Schools"));
    // A second change while that draft is open is refused, not lost.
    let err = apply(&app.state, &changed, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("draft is already open"), "{err}");
}

#[tokio::test]
async fn a_folder_with_problems_or_another_councils_hostname_changes_nothing() {
    let app = spawn_app().await;
    let before = tenants(&app);
    let now = app.clock.now();
    // Problems: every one is named, nothing is stored.
    let (_keep, broken) = newtown(|t| t.replacen("display_name =", "dispaly_name =", 1));
    let err = apply(&app.state, &broken, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nothing was applied") && err.contains("dispaly_name"),
        "{err}"
    );
    // A hostname Somerset already answers to.
    let (_keep2, taken) = newtown(|t| {
        t.replacen(
            "hostnames = [\"newtown.localhost\"]",
            "hostnames = [\"newtown.localhost\", \"somerset.localhost\"]",
            1,
        )
    });
    let err = apply(&app.state, &taken, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("somerset.localhost") && err.contains("somerset"),
        "{err}"
    );
    // A folder whose name is not its slug.
    let root = tempfile::tempdir().unwrap();
    let wrong = root.path().join("elsewhere");
    std::fs::create_dir_all(&wrong).unwrap();
    let (_keep3, good) = newtown(|t| t);
    std::fs::copy(good.join("tenant.toml"), wrong.join("tenant.toml")).unwrap();
    let err = apply(&app.state, &wrong, now)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("slug"), "{err}");

    assert_eq!(tenants(&app), before);
    assert_eq!(
        storage::tenants::load_registry(&app.store)
            .await
            .unwrap()
            .iter()
            .count(),
        before.len()
    );
    assert_eq!(
        get(&app, "newtown.localhost", "/").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "somerset.localhost", "/").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_logo_must_be_a_drawing_of_a_sensible_size_and_every_tenant_has_an_icon() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let with_logo = |svg: &'static [u8]| {
        let (keep, folder) = newtown(|t| {
            t.replacen(
                "[branding]\n",
                "[branding]\nlogo = \"logo.svg\"\nlogo_alt = \"Newtown\"\n",
                1,
            )
        });
        std::fs::write(folder.join("logo.svg"), svg).unwrap();
        (keep, folder)
    };
    for (svg, why) in [
        (
            &br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#[..],
            "<script>",
        ),
        (&br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#[..], "onload"),
        (&[b' '; 300 * 1024][..], "at most 200 KB"),
    ] {
        let (_keep, folder) = with_logo(svg);
        let err = apply(&app.state, &folder, now).await.unwrap_err().to_string();
        assert!(err.contains("branding.logo") && err.contains(why), "{err}");
        assert_eq!(get(&app, "newtown.localhost", "/").await.status(), StatusCode::NOT_FOUND);
    }
    let drawing = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#003a69"/></svg>"##;
    let (_keep, folder) = with_logo(drawing);
    assert_eq!(
        apply(&app.state, &folder, now).await.unwrap(),
        Applied::Imported {
            notice: server::onboarding::NoticeState::Published
        }
    );
    let logo = get(&app, "newtown.localhost", "/assets/logo").await;
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");
    assert_eq!(logo.bytes().await.unwrap().as_ref(), &drawing[..]);
    // The header shows it with its text alternative.
    let home = get(&app, "newtown.localhost", "/")
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains(r#"class="app-header__logo""#) && home.contains(r#"alt="Newtown">"#));
    // A new logo in the folder, applied again, replaces it at once (checked as before;
    // a hostile one is refused and the old one stays).
    let (_keep, folder) =
        with_logo(br#"<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>"#);
    assert!(apply(&app.state, &folder, now).await.is_err());
    let redrawn = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="5" fill="#003a69"/></svg>"##;
    let (_keep, folder) = with_logo(redrawn);
    assert_eq!(
        apply(&app.state, &folder, now).await.unwrap(),
        Applied::LogoReplaced
    );
    let logo = get(&app, "newtown.localhost", "/assets/logo").await;
    assert_eq!(logo.bytes().await.unwrap().as_ref(), &redrawn[..]);
    assert_eq!(
        apply(&app.state, &folder, now).await.unwrap(),
        Applied::Unchanged
    );
    // Every tenant's pages name an icon in its own colour.
    let home = app.get_tenant("somerset", "/").await.text().await.unwrap();
    assert!(home.contains(r#"rel="icon" href="/assets/favicon.svg"#));
    let icon = app.get_tenant("somerset", "/assets/favicon.svg").await;
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    let colour = app
        .registry
        .current()
        .iter()
        .find(|t| t.id.as_str() == "somerset")
        .unwrap()
        .config
        .branding
        .colour
        .clone();
    assert!(icon.text().await.unwrap().contains(&colour));
}

/// The database holds each hostname for one council: a claim that every check before it
/// missed (two folders of one import naming one host; a notice published after another
/// council took the host its draft names) is refused, and nothing of it is written.
#[tokio::test]
async fn the_database_holds_each_hostname_for_one_council() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let (_keep, first) = newtown(|t| t);
    let (_keep2, second) = newtown(|t| {
        t.replacen("slug = \"newtown\"", "slug = \"oldtown\"", 1)
            .replacen(
                "hostnames = [\"newtown.localhost\"]",
                "hostnames = [\"oldtown.localhost\", \"newtown.localhost\"]",
                1,
            )
    });
    // A folder is named after its slug.
    let second_folder = second.with_file_name("oldtown");
    std::fs::rename(&second, &second_folder).unwrap();
    let loaded = [
        tenant_router::load::load_one(&first).unwrap(),
        tenant_router::load::load_one(&second_folder).unwrap(),
    ];
    let report = storage::tenants::import_new(&app.store, &loaded, now)
        .await
        .unwrap();
    assert_eq!(report.imported, vec!["newtown".parse().unwrap()]);
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(report.refused[0].0.as_str(), "oldtown");
    assert!(
        report.refused[0].1.contains("newtown.localhost"),
        "{report:?}"
    );
    let oldtown: tenant_router::TenantId = "oldtown".parse().unwrap();
    assert!(
        storage::tenants::row(&app.store, &oldtown)
            .await
            .unwrap()
            .is_none(),
        "nothing of the refused council was written"
    );

    // Newtown's notice draft names Harrow's host, which no check stopped: publishing it is
    // refused, and Newtown's configuration in force is left as it was.
    let newtown: tenant_router::TenantId = "newtown".parse().unwrap();
    let mut claims = loaded[0].config.clone();
    claims.hostnames.push("harrow.localhost".to_owned());
    let tx = app.store.tenant_tx(&newtown).await.unwrap();
    privacy_engine::store::notice::save_draft(
        &tx,
        now,
        "test",
        &claims,
        &privacy_engine::domain::notice::Prose::default(),
        "Another hostname",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let refused = app
        .state
        .privacy
        .publish(
            &newtown,
            privacy_engine::store::notice::Publication {
                by: "test",
                significant: false,
                summary: "Another hostname",
            },
            "http://newtown.localhost",
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(privacy_engine::store::notice::PublishError::HostnameTaken(ref h))
                if h == "`harrow.localhost`"
        ),
        "{refused:?}"
    );
    let row = storage::tenants::row(&app.store, &newtown)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.config.contains("harrow.localhost"), "{}", row.config);
    let tx = app.store.tenant_read(&newtown).await.unwrap();
    assert_eq!(
        privacy_engine::store::notice::current(&tx)
            .await
            .unwrap()
            .map(|v| v.version),
        None,
        "no version was published (imported directly, it had none)"
    );
    assert!(
        privacy_engine::store::notice::draft(&tx)
            .await
            .unwrap()
            .is_some(),
        "the draft stays, to be corrected or discarded"
    );
    tx.rollback().await.unwrap();
}
