//! The privacy engine's inventory covers everything the platform stores.

use std::collections::BTreeSet;

use e2e::tenants_dir;

#[test]
fn every_tenant_inventory_covers_the_declared_personal_data() {
    let configs = tenant_router::load::load_dir(&tenants_dir()).unwrap();
    let columns: Vec<_> = server::personal_data().copied().collect();
    for t in &configs {
        let problems = privacy_engine::coverage_problems(&t.config, &columns);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[test]
fn a_column_in_a_category_the_tenant_lacks_is_reported() {
    let configs = tenant_router::load::load_dir(&tenants_dir()).unwrap();
    let column = privacy_engine::PersonalColumn {
        table: "account",
        column: "favourite_colour",
        category: "account.favourite_colour",
        need: privacy_engine::Need::Always,
    };
    for t in &configs {
        let problems = privacy_engine::coverage_problems(&t.config, &[column]);
        assert_eq!(problems.len(), 1, "{}", t.config.slug);
        let message = problems[0].to_string();
        assert!(message.contains("account.favourite_colour"), "{message}");
    }
}

#[tokio::test]
async fn every_column_is_classified_as_personal_or_not() {
    let in_db = db_columns().await;
    let personal = server::personal_data().map(|c| format!("{}.{}", c.table, c.column));
    let declared: BTreeSet<String> = personal
        .chain(server::other_columns().map(str::to_owned))
        .collect();
    let undeclared: Vec<_> = in_db.difference(&declared).collect();
    assert!(
        undeclared.is_empty(),
        "columns neither declared as personal data (PERSONAL_DATA) nor as other (OTHER_COLUMNS): {undeclared:?}"
    );
    let stale: Vec<_> = declared.difference(&in_db).collect();
    assert!(
        stale.is_empty(),
        "declared columns that do not exist: {stale:?}"
    );
}

/// Erasure is complete: every table holding personal data, and every table naming an
/// account, says how its rows about a person are erased (deleted, or kept under a
/// pseudonym), and every such declaration names a real table and column.
#[tokio::test]
async fn every_table_about_a_person_declares_how_it_is_erased() {
    let columns = db_columns().await;
    let declared: BTreeSet<&str> = server::subject_tables().map(|t| t.table).collect();
    let about_people: BTreeSet<&str> = server::personal_data()
        .map(|c| c.table)
        .chain(columns.iter().filter_map(|c| c.strip_suffix(".account_id")))
        .filter(|t| *t != "account")
        .collect();
    let missing: Vec<_> = about_people.difference(&declared).collect();
    assert!(
        missing.is_empty(),
        "tables about a person with no erasure declaration (SUBJECT_TABLES): {missing:?}"
    );
    for t in server::subject_tables() {
        let column = match t.key {
            privacy_engine::store::retention::SubjectKey::AccountId(c)
            | privacy_engine::store::retention::SubjectKey::Email(c) => c,
        };
        assert!(
            columns.contains(&format!("{}.{column}", t.table)),
            "{}.{column} does not exist",
            t.table
        );
    }
}

/// The notice each tenant serves is compiled from its rules: every rule appears under every
/// category it governs, with its period, and nothing else is claimed.
#[tokio::test]
async fn every_tenants_notice_states_exactly_the_rules_it_enforces() {
    use privacy_engine::domain::notice::retention_sentence;
    let app = e2e::spawn_app().await;
    let db = app.store.clone();
    let registry = storage::tenants::load_registry(&db).await.unwrap();
    for t in registry.iter() {
        let cfg = &t.config;
        let slug = t.id.as_str();
        let json = app.get_json(slug, "/privacy.json").await;
        let notice = &json["notice"];
        assert_eq!(notice["controller"], cfg.controller.name.as_str(), "{slug}");
        assert_eq!(
            notice["categories"].as_array().unwrap().len(),
            cfg.data_categories.len()
        );
        for (c, section) in cfg
            .data_categories
            .iter()
            .zip(notice["categories"].as_array().unwrap())
        {
            let expected: Vec<String> = cfg
                .retention
                .iter()
                .filter(|r| r.category == c.id || r.category == c.group())
                .map(retention_sentence)
                .collect();
            let stated: Vec<String> = section["retention"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(stated, expected, "{slug} {}", c.id);
        }
        let page = app.get_tenant(slug, "/privacy").await.text().await.unwrap();
        assert!(page.contains(&cfg.dpo.name), "{slug}");
        assert!(
            page.contains("Wycliffe House"),
            "{slug}: the right to complain to the ICO"
        );
        for rule in &cfg.retention {
            if let Some(p) = rule.after.filter(|p| p.count() > 0) {
                assert!(
                    page.contains(&p.describe()),
                    "{slug}: {} missing",
                    p.describe()
                );
            }
        }
        // Version 1 where the notice meets the ICO checklist and every rule has something
        // that applies it (the crossing test checks each on its day); provisional
        // otherwise (SEGfL's DPO contact; Stockport's casework rule).
        let applied = privacy_engine::domain::executor::unapplied(&cfg.retention).is_empty();
        assert_eq!(applied, slug != "stockport", "{slug}");
        let expected_status = if slug == "segfl" || !applied {
            "provisional"
        } else {
            "published"
        };
        assert_eq!(json["status"], expected_status, "{slug}");
    }
    // Two facts from the launch brief, checked in the words people read.
    let somerset = app.get_json("somerset", "/privacy.json").await;
    let account = somerset["notice"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "account.profile")
        .unwrap()["retention"]
        .to_string();
    assert!(account.contains("Switched off 2 years after your account was last active"));
    assert!(account.contains("Deleted 4 years after your account was last active"));
    assert!(account.contains("as soon as your organisation tells us you have left it"));
    let harrow = app.get_json("harrow", "/privacy.json").await.to_string();
    assert!(harrow.contains("Deleted 7 years after the course or service was delivered."));
    assert!(
        harrow
            .contains("You can keep your account for a further period by signing in before then.")
    );
}

/// Every `table.column` of the migrated schema's ordinary tables, but the migrations'
/// own table.
async fn db_columns() -> BTreeSet<String> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    let db = e2e::TestDb::new().await;
    let store = db.connect().await;
    store.migrate().await.unwrap();
    let conn = store.platform();
    let sql = match conn.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT table_name || '.' || column_name AS c FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> 'seaql_migrations'"
        }
        _ => {
            // Ordinary tables only: the search index (an FTS5 virtual table and its shadow
            // tables) is derived from declared catalogue columns.
            "SELECT m.name || '.' || p.name AS c FROM pragma_table_list() m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.schema = 'main' AND m.name NOT LIKE 'sqlite_%' \
             AND m.name <> 'seaql_migrations'"
        }
    };
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// Harrow uses analytics: no page view is counted until the visitor agrees in the banner;
/// then each view adds one to the page's count for the day, with no cookie or id that
/// could tell visitors apart; the banner goes once they choose; the choice can be changed
/// on the cookies page (linked from every page), and saying no stops the counting.
/// Havering uses none, so it asks nothing and refuses a choice.
#[tokio::test]
async fn analytics_cookies_wait_for_consent_and_the_choice_can_be_changed() {
    let app = e2e::spawn_app().await;
    let b = app.new_browser();
    let res = b.get_tenant("harrow", "/courses").await;
    assert!(
        set_cookies(&res)
            .iter()
            .all(|c| !c.starts_with("portal_analytics="))
    );
    let page = res.text().await.unwrap();
    assert!(page.contains("Cookies on"), "no banner");
    assert!(page.contains(r#"href="/cookies""#), "no footer link");

    let res = b
        .submit(
            "harrow",
            "/courses",
            "/cookies",
            &[("analytics", "yes"), ("back", "/courses")],
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/courses");
    assert!(
        set_cookies(&res)
            .iter()
            .any(|c| c.starts_with("portal_cookies=yes"))
    );
    // Counted now, as one more view of the page that day, with no cookie or id set.
    let views = |path: &'static str| {
        crate::crossing::count(
            &app,
            "harrow",
            "SELECT COALESCE(CAST(SUM(views) AS BIGINT), 0) FROM page_view WHERE path = $1",
            vec![path.into()],
        )
    };
    let res = b.get_tenant("harrow", "/courses").await;
    assert!(
        set_cookies(&res)
            .iter()
            .all(|c| !c.starts_with("portal_analytics=")),
        "an analytics cookie was set"
    );
    assert!(!res.text().await.unwrap().contains("Cookies on"));
    assert_eq!(views("/courses").await, 1);
    b.get_tenant("harrow", "/courses").await;
    assert_eq!(views("/courses").await, 2);
    // Counted by route, never by the path asked for (a path can hold a secret token).
    b.get_tenant("harrow", "/privacy/versions/1").await;
    assert_eq!(views("/privacy/versions/{file}").await, 1);
    assert_eq!(views("/privacy/versions/1").await, 0);
    // The council reads the counts; no one else can.
    let admin = app
        .catalogue_manager("harrow", "analytics@harrow.example", None)
        .await;
    let report = admin.page("harrow", "/manage/analytics").await;
    assert!(report.contains("/courses"), "{report}");
    assert_eq!(
        b.get_tenant("harrow", "/manage/analytics").await.status(),
        reqwest::StatusCode::SEE_OTHER
    );

    let res = b
        .submit("harrow", "/cookies", "/cookies", &[("analytics", "no")])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/cookies?saved=1");
    let page = b
        .get_tenant("harrow", "/cookies?saved=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your cookie settings were saved."));
    assert!(page.contains(r#"value="no" checked"#));
    let stored = crate::crossing::count(
        &app,
        "harrow",
        "SELECT COALESCE(CAST(SUM(views) AS BIGINT), 0) FROM page_view",
        vec![],
    )
    .await;
    b.get_tenant("harrow", "/courses").await;
    assert_eq!(views("/courses").await, 2, "counted after saying no");
    assert_eq!(
        crate::crossing::count(
            &app,
            "harrow",
            "SELECT COALESCE(CAST(SUM(views) AS BIGINT), 0) FROM page_view",
            vec![]
        )
        .await,
        stored
    );

    // A choice that is neither, or a form from elsewhere, changes nothing.
    let res = b
        .submit("harrow", "/cookies", "/cookies", &[("analytics", "maybe")])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(e2e::error_code(&res), "invalid_cookie_choice");
    let res = b
        .post_form("harrow", "/cookies", &[("analytics", "yes")])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::FORBIDDEN);

    let page = b.get_tenant("havering", "/").await.text().await.unwrap();
    assert!(!page.contains("Cookies on"));
    let res = b
        .submit("havering", "/sign-in", "/cookies", &[("analytics", "yes")])
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(e2e::error_code(&res), "no_analytics");
}

#[tokio::test]
async fn a_changed_audit_event_is_found_with_its_position() {
    use sea_orm::ConnectionTrait as _;

    let app = e2e::spawn_app().await;
    let admin = app
        .catalogue_manager("harrow", "admin@harrow.example", None)
        .await;
    let res = admin.get_tenant("harrow", "/manage/privacy/audit").await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    assert!(res.text().await.unwrap().contains("The chain is intact"));
    // Someone with database access rewrites history.
    let tx = app
        .store
        .system_tx(&"harrow".parse().unwrap())
        .await
        .unwrap();
    tx.execute_unprepared("UPDATE audit_event SET action = 'forged' WHERE seq = 2")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let res = admin.get_tenant("harrow", "/manage/privacy/audit").await;
    assert_eq!(res.status(), reqwest::StatusCode::CONFLICT);
    assert_eq!(e2e::error_code(&res), "audit_chain_broken");
    assert!(res.text().await.unwrap().contains("broken at event 2"));
    assert_eq!(
        app.state
            .privacy
            .verify_audit(&"harrow".parse().unwrap())
            .await
            .unwrap(),
        privacy_engine::AuditCheck::BrokenAt(2)
    );
    // Another tenant's chain is untouched; only tenant administrators see the page.
    assert!(matches!(
        app.state
            .privacy
            .verify_audit(&"somerset".parse().unwrap())
            .await
            .unwrap(),
        privacy_engine::AuditCheck::Intact(_)
    ));
    let person = app.person("harrow", "curious@example.org", None).await;
    assert_eq!(
        person
            .get_tenant("harrow", "/manage/privacy/audit")
            .await
            .status(),
        reqwest::StatusCode::NOT_FOUND
    );
}
