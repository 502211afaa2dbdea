//! Tenant isolation in the database.
//!
//! On every backend: every tenant-owned table (one with a `tenant_id` column) has
//! `tenant_id` leading its primary key. On PostgreSQL, additionally: every such table has
//! row-level security enabled and forced with the tenant policy; foreign keys between
//! tenant-owned tables include `tenant_id`; the request-path role is no superuser, cannot
//! bypass RLS and owns nothing; and queries that forget their tenant filter see only their
//! own tenant's rows, or nothing at all when no tenant is set.

use e2e::{TestDb, tenants_dir};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use server::Application;
use storage::audit::{self, AuditEntry};
use storage::{APP_ROLE, Backend, Db};
use tenant_router::TenantId;

async fn started() -> (TestDb, Application) {
    let db = TestDb::new().await;
    let app = Application::build(db.settings(&tenants_dir()))
        .await
        .unwrap();
    (db, app)
}

fn id(s: &str) -> TenantId {
    s.parse().unwrap()
}

async fn strings(conn: &impl ConnectionTrait, sql: &str) -> Vec<String> {
    let backend = conn.get_database_backend();
    conn.query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// Tables with a `tenant_id` column, from the catalogue (not from a hand-kept list).
async fn tenant_owned_tables(db: &Db) -> Vec<String> {
    let conn = db.platform();
    let sql = match db.backend() {
        Backend::Postgres => {
            "SELECT c.table_name::text FROM information_schema.columns c \
             JOIN information_schema.tables t USING (table_schema, table_name) \
             WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' \
             AND t.table_type = 'BASE TABLE' ORDER BY 1"
        }
        Backend::Sqlite => {
            // Ordinary tables: the FTS5 search index (a virtual table and its shadow
            // tables) is derived from the catalogue tables and filtered by tenant in every
            // query that reads it.
            "SELECT m.name FROM pragma_table_list() m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.schema = 'main' AND p.name = 'tenant_id' ORDER BY 1"
        }
    };
    strings(conn, sql).await
}

#[tokio::test]
async fn tenant_id_leads_the_primary_key_of_every_tenant_owned_table() {
    let (testdb, _app) = started().await;
    let db = testdb.connect().await;
    let tables = tenant_owned_tables(&db).await;
    assert!(tables.contains(&"audit_event".to_owned()), "{tables:?}");
    for table in &tables {
        let first_pk = match db.backend() {
            Backend::Postgres => {
                strings(
                    db.platform(),
                    &format!(
                        "SELECT a.attname::text FROM pg_index i \
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                         WHERE i.indrelid = '{table}'::regclass AND i.indisprimary"
                    ),
                )
                .await
            }
            Backend::Sqlite => {
                strings(
                    db.platform(),
                    &format!("SELECT name FROM pragma_table_info('{table}') WHERE pk = 1"),
                )
                .await
            }
        };
        assert_eq!(first_pk, vec!["tenant_id"], "{table}");
    }
}

#[tokio::test]
async fn every_tenant_owned_table_has_forced_rls_and_the_tenant_policy() {
    let (testdb, _app) = started().await;
    let db = testdb.connect().await;
    if db.backend() != Backend::Postgres {
        eprintln!("skipped: row-level security exists only on PostgreSQL (set DATABASE_URL)");
        return;
    }
    let tables = tenant_owned_tables(&db).await;
    assert!(!tables.is_empty());
    for table in &tables {
        let flags = strings(
            db.platform(),
            &format!(
                "SELECT relrowsecurity::text || ',' || relforcerowsecurity::text \
                 FROM pg_class WHERE oid = '{table}'::regclass"
            ),
        )
        .await;
        assert_eq!(
            flags,
            vec!["true,true"],
            "{table}: RLS not enabled and forced"
        );
        let policies = strings(
            db.platform(),
            &format!(
                "SELECT qual || ' / ' || with_check FROM pg_policies \
                 WHERE schemaname = current_schema() AND tablename = '{table}' \
                 AND policyname = 'tenant_isolation'"
            ),
        )
        .await;
        assert_eq!(policies.len(), 1, "{table}: no tenant_isolation policy");
        assert!(
            policies[0]
                .matches("current_setting('app.tenant_id'")
                .count()
                == 2,
            "{table}: policy does not key on app.tenant_id: {}",
            policies[0]
        );
    }
    // Foreign keys between tenant-owned tables must carry tenant_id.
    let bad_fks = strings(
        db.platform(),
        "SELECT con.conname::text FROM pg_constraint con \
         JOIN pg_class src ON src.oid = con.conrelid \
         JOIN pg_class dst ON dst.oid = con.confrelid \
         WHERE con.contype = 'f' \
         AND src.relnamespace = current_schema()::regnamespace \
         AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = dst.oid AND attname = 'tenant_id') \
         AND NOT EXISTS (SELECT 1 FROM unnest(con.conkey) k \
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k \
             WHERE a.attname = 'tenant_id')",
    )
    .await;
    assert!(
        bad_fks.is_empty(),
        "foreign keys without tenant_id: {bad_fks:?}"
    );
    // The request-path role cannot get round any of it.
    let role = strings(
        db.platform(),
        &format!(
            "SELECT rolsuper::text || ',' || rolbypassrls::text FROM pg_roles WHERE rolname = '{APP_ROLE}'"
        ),
    )
    .await;
    assert_eq!(role, vec!["false,false"]);
    let owned = strings(
        db.platform(),
        &format!(
            "SELECT c.relname::text FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner \
             WHERE r.rolname = '{APP_ROLE}'"
        ),
    )
    .await;
    assert!(owned.is_empty(), "{APP_ROLE} owns {owned:?}");
}

/// Links every tenant's waiting audit events into its chain (the server's job does this
/// every second; these tests read the chain's table directly).
async fn seal_all(db: &storage::Db) {
    for slug in e2e::LAUNCH_TENANTS {
        let tx = db.tenant_tx(&id(slug)).await.unwrap();
        audit::seal(&tx).await.unwrap();
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn unfiltered_queries_see_only_the_scoped_tenant() {
    let (_testdb, app) = started().await;
    let db = &app.state().db;
    if db.backend() != Backend::Postgres {
        eprintln!("skipped: row-level security exists only on PostgreSQL (set DATABASE_URL)");
        return;
    }
    // Give two tenants a few more rows each.
    for slug in ["harrow", "somerset"] {
        let tx = db.tenant_tx(&id(slug)).await.unwrap();
        for n in 0..3 {
            audit::record(
                &tx,
                chrono::Utc::now(),
                AuditEntry {
                    actor: "test",
                    action: "test.event",
                    subject: &format!("{slug}-{n}"),
                    detail: serde_json::json!({}),
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    seal_all(db).await;
    // No tenant filter in the SQL: RLS alone decides.
    let tx = db.tenant_tx(&id("harrow")).await.unwrap();
    let seen = strings(&*tx, "SELECT tenant_id FROM audit_event").await;
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen.iter().all(|t| t == "harrow"), "{seen:?}");
    // Writing another tenant's row from harrow's scope is refused.
    let forged = tx
        .execute_unprepared(
            "INSERT INTO audit_event (tenant_id, seq, occurred_at, actor, action, subject, detail, prev_hash, hash) \
             VALUES ('somerset', 99, now(), 'x', 'x', 'x', '{}', 'x', 'x')",
        )
        .await;
    assert!(forged.is_err(), "wrote a row into another tenant");
    tx.rollback().await.unwrap();
    // The audit log is insert-only for the request path.
    let tx = db.tenant_tx(&id("harrow")).await.unwrap();
    assert!(
        tx.execute_unprepared("DELETE FROM audit_event")
            .await
            .is_err()
    );
    tx.rollback().await.unwrap();
    let tx = db.tenant_tx(&id("harrow")).await.unwrap();
    assert!(
        tx.execute_unprepared("UPDATE audit_event SET actor = 'someone else'")
            .await
            .is_err()
    );
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn without_a_tenant_setting_reads_return_nothing_and_writes_fail() {
    let (_testdb, app) = started().await;
    let db = &app.state().db;
    if db.backend() != Backend::Postgres {
        eprintln!("skipped: row-level security exists only on PostgreSQL (set DATABASE_URL)");
        return;
    }
    seal_all(db).await;
    let conn = db.platform();
    // Sanity: the rows exist (the connecting role is a superuser in CI and sees them all).
    let all = strings(conn, "SELECT tenant_id FROM audit_event").await;
    assert_eq!(all.len(), 5, "{all:?}");

    for setup in [
        format!("SET LOCAL ROLE {APP_ROLE}"),
        format!("SET LOCAL ROLE {APP_ROLE}; SELECT set_config('app.tenant_id', '', true)"),
    ] {
        let tx = conn.begin().await.unwrap();
        tx.execute_unprepared(&setup).await.unwrap();
        let seen = strings(&tx, "SELECT tenant_id FROM audit_event").await;
        assert!(seen.is_empty(), "{setup}: saw {seen:?}");
        let write = tx
            .execute_raw(Statement::from_string(
                DbBackend::Postgres,
                "INSERT INTO audit_event (tenant_id, seq, occurred_at, actor, action, subject, detail, prev_hash, hash) \
                 VALUES ('harrow', 99, now(), 'x', 'x', 'x', '{}', 'x', 'x')",
            ))
            .await;
        assert!(write.is_err(), "{setup}: an unscoped write succeeded");
        tx.rollback().await.unwrap();
    }
    // A tenant scope set on one transaction does not leak into the next on the same pool.
    let scoped = db.tenant_tx(&id("segfl")).await.unwrap();
    scoped.commit().await.unwrap();
    let tx = conn.begin().await.unwrap();
    let setting = strings(
        &tx,
        "SELECT coalesce(current_setting('app.tenant_id', true), '')",
    )
    .await;
    assert_eq!(setting, vec![String::new()]);
    tx.rollback().await.unwrap();
}

/// The batch a checkout ends with (`storage::Writes`: one statement on PostgreSQL) is all
/// or nothing and stays in its tenant. On every backend a row the database refuses takes
/// the whole batch with it; on PostgreSQL a row for another tenant inside the batch is
/// refused by row-level security like any other statement.
#[tokio::test]
async fn a_write_batch_is_all_or_nothing_and_stays_in_its_tenant() {
    use storage::entity::audit_pending;
    use storage::{Writes, outbox};

    let (_testdb, app) = started().await;
    let db = &app.state().db;
    let harrow = id("harrow");
    let now = chrono::Utc::now();
    let email = |to| outbox::Email {
        to,
        subject: "Batch",
        body: "A message in a batch.",
    };
    let event = |tenant: &str, id: &str| audit_pending::ActiveModel {
        tenant_id: sea_orm::Set(tenant.to_owned()),
        id: sea_orm::Set(id.to_owned()),
        occurred_at: sea_orm::Set(now),
        actor: sea_orm::Set("test".to_owned()),
        action: sea_orm::Set("test.batch".to_owned()),
        subject: sea_orm::Set("batch".to_owned()),
        detail: sea_orm::Set("{}".to_owned()),
    };
    let scope = &harrow;
    let queued = |to: &'static str| async move {
        let tx = db.tenant_tx(scope).await.unwrap();
        let n = outbox::for_recipient(&tx, to).await.unwrap().len();
        tx.rollback().await.unwrap();
        n
    };

    // Two emails, then an event whose key repeats one already in the batch: nothing kept.
    let tx = db.tenant_tx(&harrow).await.unwrap();
    let mut writes = Writes::new();
    outbox::add(&mut writes, &harrow, now, email("one@batch.example"), None);
    outbox::add(&mut writes, &harrow, now, email("two@batch.example"), None);
    writes.insert(event("harrow", "batch-event"));
    writes.insert(event("harrow", "batch-event"));
    assert_eq!(writes.len(), 4);
    assert!(
        writes.run(&tx).await.is_err(),
        "a repeated key was accepted"
    );
    tx.rollback().await.unwrap();
    assert_eq!(queued("one@batch.example").await, 0);
    assert_eq!(queued("two@batch.example").await, 0);

    // The same batch without the repeat is kept whole.
    let tx = db.tenant_tx(&harrow).await.unwrap();
    let mut writes = Writes::new();
    outbox::add(&mut writes, &harrow, now, email("one@batch.example"), None);
    outbox::add(&mut writes, &harrow, now, email("two@batch.example"), None);
    writes.insert(event("harrow", "batch-event"));
    writes.run(&tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(queued("one@batch.example").await, 1);
    assert_eq!(queued("two@batch.example").await, 1);

    if db.backend() == Backend::Postgres {
        // Another tenant's row, slipped into harrow's batch.
        let tx = db.tenant_tx(&harrow).await.unwrap();
        let mut writes = Writes::new();
        outbox::add(
            &mut writes,
            &harrow,
            now,
            email("three@batch.example"),
            None,
        );
        writes.insert(event("somerset", "forged-event"));
        assert!(
            writes.run(&tx).await.is_err(),
            "a batch wrote a row into another tenant"
        );
        tx.rollback().await.unwrap();
        assert_eq!(queued("three@batch.example").await, 0);
    }
}

/// A batch with a required update (`Writes::require`, how a checkout without a transaction
/// takes its places) is written only if that update changes a row, on statements that are
/// each their own transaction on PostgreSQL (`Db::tenant_statements`) as on SQLite.
#[tokio::test]
async fn a_batch_whose_required_update_changes_nothing_writes_nothing() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryTrait as _};
    use storage::entity::outbox_email::{Column, Entity as OutboxEmail};
    use storage::{TenantStatements, Writes, outbox};

    let (_testdb, app) = started().await;
    let db = &app.state().db;
    let harrow = id("harrow");
    let scope = &harrow;
    let now = chrono::Utc::now();
    let email = |to| outbox::Email {
        to,
        subject: "Required",
        body: "Kept only if the batch's required update changed a row.",
    };
    // An update that changes the email `id` (if it can see it) without altering it.
    let touch = |id: &str| {
        OutboxEmail::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts))
            .filter(Column::Id.eq(id))
            .into_query()
    };
    let batch = |id: &str, to: &'static str| {
        let mut writes = Writes::new();
        writes.require(touch(id));
        outbox::add(&mut writes, scope, now, email(to), None);
        writes
    };
    let run = |writes: Writes| async move {
        let statements = db.tenant_statements(scope).await.unwrap();
        let done = match &statements {
            TenantStatements::Alone { pool, .. } => writes.run_on(pool).await,
            TenantStatements::Together(tx) => writes.run_on(&**tx).await,
        };
        match done {
            Ok(()) => statements.finish().await.unwrap(),
            Err(_) => statements.abandon().await.unwrap(),
        }
        done
    };
    let queued = |to: &'static str| async move {
        let tx = db.tenant_tx(scope).await.unwrap();
        let n = outbox::for_recipient(&tx, to).await.unwrap().len();
        tx.rollback().await.unwrap();
        n
    };
    let marker = |tenant: TenantId| async move {
        let tx = db.tenant_tx(&tenant).await.unwrap();
        let id = outbox::enqueue(&tx, now, email("marker@required.example"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    };

    // No such email: the required update changes nothing, so nothing is kept.
    let refused = run(batch("no-such-email", "nothing@required.example"))
        .await
        .unwrap_err();
    assert!(storage::writes::is_unmet(&refused), "{refused}");
    assert_eq!(queued("nothing@required.example").await, 0);

    // With a row to change, the same batch is kept whole.
    let mine = marker(harrow.clone()).await;
    run(batch(&mine, "kept@required.example")).await.unwrap();
    assert_eq!(queued("kept@required.example").await, 1);

    if db.backend() == Backend::Postgres {
        // Somerset's row, which row-level security hides from harrow's statements even
        // though the update names it by id alone: nothing is kept.
        let theirs = marker(id("somerset")).await;
        let refused = run(batch(&theirs, "forged@required.example"))
            .await
            .unwrap_err();
        assert!(storage::writes::is_unmet(&refused), "{refused}");
        assert_eq!(queued("forged@required.example").await, 0);
    }
}

#[tokio::test]
async fn one_councils_commits_leave_anothers_caches_alone_and_the_platforms_move_all() {
    let app = e2e::spawn_app().await;
    let (harrow, somerset): (tenant_router::TenantId, tenant_router::TenantId) =
        ("harrow".parse().unwrap(), "somerset".parse().unwrap());
    let (h0, s0) = (app.store.commits(&harrow), app.store.commits(&somerset));
    let tx = app.store.tenant_tx(&harrow).await.unwrap();
    tx.commit().await.unwrap();
    assert_ne!(app.store.commits(&harrow), h0, "Harrow's own commit counts");
    assert_eq!(
        app.store.commits(&somerset),
        s0,
        "Somerset's signed-in people stay cached"
    );
    let tx = app.store.platform_tx().await.unwrap();
    tx.commit().await.unwrap();
    assert_ne!(
        app.store.commits(&somerset),
        s0,
        "a platform write counts for all"
    );
}
