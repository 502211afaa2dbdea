//! Test support: start the real server on a random port against a fresh database.
//!
//! SQLite by default (a file in a temporary folder per test). When `DATABASE_URL` names a
//! PostgreSQL database, each test gets its own schema in it, dropped when the test ends;
//! `REDIS_URL`, when set, is passed through so `/readyz` checks Redis too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod pdf;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sea_orm::ConnectionTrait;
use server::{Application, Settings};
use storage::{Db, DbOptions};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The repository's `tenants/` folder.
#[must_use]
pub fn tenants_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tenants")
}

/// The five launch tenants with their development hosts.
pub const LAUNCH_TENANTS: [&str; 5] = ["harrow", "havering", "segfl", "somerset", "stockport"];

/// A fresh, empty database for one test.
pub struct TestDb {
    /// Temporary folder (the SQLite file lives here; kept for PostgreSQL runs too).
    pub dir: tempfile::TempDir,
    /// PostgreSQL URL (tagged with the schema as its `application_name`) and schema, when
    /// testing PostgreSQL.
    pub pg: Option<(String, String)>,
    /// Unique per test: names the PostgreSQL schema and prefixes Redis keys.
    pub key: String,
}

impl TestDb {
    /// Creates the database (a new schema on PostgreSQL).
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = uuid::Uuid::new_v4().simple().to_string();
        let pg = match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                let schema = format!("t_{key}");
                let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
                db.platform()
                    .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
                    .await
                    .unwrap();
                db.close().await.unwrap();
                // Tag every connection of this test so the drop can end any it left open.
                let sep = if url.contains('?') { '&' } else { '?' };
                Some((format!("{url}{sep}application_name={schema}"), schema))
            }
            _ => None,
        };
        Self { dir, pg, key }
    }

    /// Whether this run tests PostgreSQL.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// Settings pointing at this database and the given tenants folder.
    pub fn settings(&self, tenants: &Path) -> Settings {
        let mut s = Settings::embedded(self.dir.path(), tenants).unwrap();
        if let Some((url, schema)) = &self.pg {
            s.database.url = Some(url.clone().into());
            s.database.schema = Some(schema.clone());
            s.database.max_connections = Some(4);
            s.security.master_key = Some(format!("{:0<43}=", self.key).into());
            s.keys.local_dir = Some(self.dir.path().join("keys"));
        }
        if let Ok(url) = std::env::var("REDIS_URL")
            && !url.is_empty()
        {
            s.redis.url = Some(url.into());
        }
        // Redis outlives test runs: a key prefix per test keeps sessions and throttling
        // counters of one test (or an earlier run) from meeting another's.
        s.redis.key_prefix = format!("test-{}", self.key);
        s
    }

    /// A direct handle on this database (as the connecting role).
    pub async fn connect(&self) -> Db {
        let s = self.settings(&tenants_dir());
        server::app::connect(&s).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((url, schema)) = self.pg.take() else {
            return;
        };
        // Drop runs outside any async context we can borrow; use a small runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(db) = Db::connect(&url, &DbOptions::default()).await {
                    // A transaction the test dropped without finishing only queues its
                    // rollback, and this thread blocks the runtime that would run it: end
                    // those sessions first so the drop cannot wait on their locks.
                    let _ = db
                        .platform()
                        .execute_unprepared(&format!(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                             WHERE application_name = '{schema}' AND pid <> pg_backend_pid()"
                        ))
                        .await;
                    let _ = db
                        .platform()
                        .execute_unprepared(&format!(
                            "SET lock_timeout = '10s'; DROP SCHEMA {schema} CASCADE"
                        ))
                        .await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

/// A running server.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A client that resolves every tenant host (and `unknown.localhost`) to the server.
    pub client: reqwest::Client,
    /// Its database.
    pub db: TestDb,
    /// The app's clock: tests move it forward.
    pub clock: storage::Clock,
    /// The app's own database handle: helpers reading or writing beside the running app
    /// use it, so on SQLite they take their turn with the app's transactions.
    pub store: storage::Db,
    /// The app's running tenant registry (publishing a notice replaces it).
    pub registry: tenant_router::LiveRegistry,
    /// The app's object store.
    pub objects: storage::Objects,
    /// The app's bookings service (tests run its background jobs when they choose).
    pub bookings: bookings::Bookings,
    /// The default browser.
    pub browser: Browser,
    /// The app's shared state (tests run its background jobs when they choose).
    pub state: server::AppState,
    hosts: Vec<String>,
    stop: Option<oneshot::Sender<()>>,
}

/// A browser: a cookie-keeping client that resolves every tenant host to the server.
#[derive(Clone)]
pub struct Browser {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The client (keeps cookies per host, follows no redirects).
    pub client: reqwest::Client,
    /// Its cookies.
    pub jar: Arc<reqwest::cookie::Jar>,
}

impl Browser {
    /// The cookies this browser holds for a tenant, as `name=value` pairs (to hand a
    /// session to another client, such as the accessibility checker's Chromium).
    #[must_use]
    pub fn cookies(&self, slug: &str) -> Vec<String> {
        use reqwest::cookie::CookieStore as _;
        let url = format!("http://{slug}.localhost:{}/", self.addr.port())
            .parse()
            .unwrap();
        self.jar
            .cookies(&url)
            .and_then(|h| h.to_str().ok().map(str::to_owned))
            .map(|h| h.split("; ").map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// `http://{host}:{port}{path}`.
    #[must_use]
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    /// GET a path on a host.
    pub async fn get(&self, host: &str, path: &str) -> reqwest::Response {
        self.client.get(self.url(host, path)).send().await.unwrap()
    }

    /// GET a path on a tenant's development host.
    pub async fn get_tenant(&self, slug: &str, path: &str) -> reqwest::Response {
        self.get(&format!("{slug}.localhost"), path).await
    }

    /// The body of a page on a tenant, whatever its status.
    pub async fn page(&self, slug: &str, path: &str) -> String {
        self.get_tenant(slug, path).await.text().await.unwrap()
    }

    /// GETs a form page on a tenant and returns its CSRF token (the client keeps the cookie).
    /// A page without a form (a dead link's, say) lends the token of the password-reset
    /// form, which everyone can open, so a test can still post to it.
    pub async fn csrf(&self, slug: &str, path: &str) -> String {
        let body = self.get_tenant(slug, path).await.text().await.unwrap();
        if let Some(token) = csrf_in(&body) {
            return token;
        }
        let body = self
            .get_tenant(slug, "/reset-password")
            .await
            .text()
            .await
            .unwrap();
        csrf_in(&body).unwrap_or_else(|| panic!("no CSRF field on {path}: {body}"))
    }

    /// POSTs a form to a tenant, adding the CSRF token from `form_path` first.
    pub async fn submit(
        &self,
        slug: &str,
        form_path: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf(slug, form_path).await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form(slug, action, &all).await
    }

    /// Signs in with email and password through the sign-in form.
    pub async fn sign_in(&self, slug: &str, email: &str, password: &str) -> reqwest::Response {
        self.submit(
            slug,
            "/sign-in",
            "/sign-in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// POSTs a form with the CSRF token of a page already fetched (for pages that change on
    /// every visit, such as the second-factor set-up).
    pub async fn submit_with_page(
        &self,
        page: &str,
        slug: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = csrf_in(page).unwrap_or_else(|| panic!("no CSRF field in: {page}"));
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form(slug, action, &all).await
    }

    /// POSTs a form as given (no CSRF token added).
    pub async fn post_form(
        &self,
        slug: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.client
            .post(self.url(&format!("{slug}.localhost"), path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

impl std::ops::Deref for TestApp {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        &self.browser
    }
}

impl TestApp {
    /// Another browser, with its own cookies (another person at another desk).
    #[must_use]
    pub fn new_browser(&self) -> Browser {
        let (client, jar) = client_for(&self.hosts, self.addr);
        Browser {
            addr: self.addr,
            client,
            jar,
        }
    }

    /// Grants a tenant-wide role, as the operator's CLI does.
    pub async fn grant_role(&self, slug: &str, email: &str, role: &str, provider: Option<&str>) {
        let identity = identity::Identity::new(
            self.store.clone(),
            identity::passwords::Hasher::new(1).unwrap(),
            identity::sessions::Sessions::new(identity::sessions::Kv::memory(), "grant"),
            self.clock.clone(),
            identity::crypto::Key::generate().unwrap(),
            self.objects.clone(),
        );
        identity
            .grant_role(
                &slug.parse().unwrap(),
                email,
                role.parse().unwrap(),
                provider,
            )
            .await
            .unwrap();
    }

    /// The account with this email in a tenant, read straight from the database.
    pub async fn account(
        &self,
        slug: &str,
        email: &str,
    ) -> Option<identity::store::entity::account::Model> {
        let db = &self.store;
        let tx = db.tenant_tx(&slug.parse().unwrap()).await.unwrap();
        let found = identity::store::find_by_email(&tx, email).await.unwrap();
        tx.rollback().await.unwrap();
        found
    }

    /// The TOTP code for a setup key at the app's clock, `offset_steps` 30-second steps on.
    #[must_use]
    pub fn totp_code(&self, setup_key: &str, offset_steps: i64) -> String {
        let secret = totp_rs::Secret::Encoded(setup_key.to_owned())
            .to_bytes()
            .unwrap();
        let t = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret);
        let now = self.clock.now().timestamp() + offset_steps * 30;
        t.generate(u64::try_from(now).unwrap())
    }

    /// Sets up the second factor for the browser's (signed-in or part-way) account; returns
    /// the setup key and the recovery codes.
    pub async fn enrol_second_factor(&self, b: &Browser, slug: &str) -> (String, Vec<String>) {
        let page = self.start_second_factor(b, slug, &[]).await;
        let at = page.find("id=\"setup-key\">").unwrap() + "id=\"setup-key\">".len();
        let key = page[at..at + page[at..].find('<').unwrap()].to_owned();
        let code = self.totp_code(&key, 0);
        let res = b
            .submit_with_page(&page, slug, "/account/two-factor", &[("code", &code)])
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(page.contains("Security codes are on"), "{page}");
        let codes: Vec<String> = page
            .split("<li><code>")
            .skip(1)
            .map(|p| p[..p.find('<').unwrap()].to_owned())
            .collect();
        (key, codes)
    }

    /// Starts setting up an authenticator app (with `proof` fields when one is in force) and
    /// returns the set-up page, which shows the new key.
    pub async fn start_second_factor(
        &self,
        b: &Browser,
        slug: &str,
        proof: &[(&str, &str)],
    ) -> String {
        let res = b
            .submit(
                slug,
                "/account/two-factor",
                "/account/two-factor/new",
                proof,
            )
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
        b.get_tenant(slug, "/account/two-factor")
            .await
            .text()
            .await
            .unwrap()
    }

    /// Emails queued for `to` in a tenant, oldest first.
    pub async fn outbox(&self, slug: &str, to: &str) -> Vec<storage::entity::outbox_email::Model> {
        let db = &self.store;
        let tx = db.tenant_tx(&slug.parse().unwrap()).await.unwrap();
        let mail = storage::outbox::for_recipient(&tx, to).await.unwrap();
        tx.rollback().await.unwrap();
        mail
    }

    /// The path of the last link in the newest email to `to` whose path starts with `prefix`.
    pub async fn emailed_link(&self, slug: &str, to: &str, prefix: &str) -> String {
        let mail = self.outbox(slug, to).await;
        let body = &mail
            .last()
            .unwrap_or_else(|| panic!("no email to {to}"))
            .body_text;
        body.split_whitespace()
            .filter_map(|w| w.split_once("://").map(|(_, rest)| rest))
            .filter_map(|rest| rest.find('/').map(|i| rest[i..].to_owned()))
            .rfind(|p| p.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} link in: {body}"))
    }
}

impl TestApp {
    /// A new browser signed in as a new account with a confirmed email address, claiming
    /// membership of `organisation_id` at sign-up when given.
    pub async fn person(&self, slug: &str, email: &str, organisation_id: Option<&str>) -> Browser {
        let b = self.new_browser();
        let mut fields = vec![
            ("first_name", "Pat"),
            ("last_name", email.split('@').next().unwrap()),
            ("email", email),
            ("job_title", "Teacher"),
            ("organisation_name", "A school"),
            ("organisation_telephone", "01632 960001"),
            // Asked for by some tenants only (Somerset's address, SEGfL's telephone).
            ("telephone", "01632 960002"),
            ("business_address", "1 School Lane, Taunton TA1 1AA"),
            // Havering asks the level of access needed.
            ("access", "member"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ];
        if let Some(org) = organisation_id {
            fields.push(("organisation_id", org));
        }
        let res = b.submit(slug, "/sign-up", "/sign-up", &fields).await;
        assert_eq!(
            res.status(),
            reqwest::StatusCode::OK,
            "{}",
            res.text().await.unwrap()
        );
        let link = self.emailed_link(slug, email, "/verify-email/").await;
        assert_eq!(
            b.submit(slug, &link, &link, &[]).await.status(),
            reqwest::StatusCode::OK
        );
        let res = b.sign_in(slug, email, PASSWORD).await;
        assert_eq!(
            res.status(),
            reqwest::StatusCode::SEE_OTHER,
            "signing in {email}"
        );
        b
    }

    /// A browser signed in as a new tenant admin (`provider` None) or provider staff member
    /// of `provider`, with the second factor set up so the role is in force.
    pub async fn catalogue_manager(
        &self,
        slug: &str,
        email: &str,
        provider: Option<&str>,
    ) -> Browser {
        let role = if provider.is_some() {
            "provider-staff"
        } else {
            "tenant-admin"
        };
        self.role_holder(slug, email, role, provider).await
    }

    /// A browser signed in as a new account holding `role` (for provider staff, of
    /// `provider`), with the second factor set up so the role is in force.
    pub async fn role_holder(
        &self,
        slug: &str,
        email: &str,
        role: &str,
        provider: Option<&str>,
    ) -> Browser {
        self.person(slug, email, None).await;
        self.grant_role(slug, email, role, provider).await;
        let b = self.new_browser();
        let res = b.sign_in(slug, email, PASSWORD).await;
        assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
        self.enrol_second_factor(&b, slug).await;
        b
    }

    /// The tenant's audit actions, oldest first.
    pub async fn audit_actions(&self, slug: &str) -> Vec<String> {
        let db = &self.store;
        let tx = db.tenant_tx(&slug.parse().unwrap()).await.unwrap();
        let events = storage::audit::list(&tx).await.unwrap();
        tx.rollback().await.unwrap();
        events.into_iter().map(|e| e.action).collect()
    }
}

impl Browser {
    /// Records the signed-in person's special requirements through their form.
    pub async fn set_special_requirements(&self, slug: &str, needs: &str) {
        let res = self
            .submit(
                slug,
                "/account/special-requirements",
                "/account/special-requirements",
                &[("special_requirements", needs)],
            )
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    }

    /// Sends JSON with a method to a tenant path.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        slug: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .request(method, self.url(&format!("{slug}.localhost"), path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// GETs a tenant path and parses the JSON answer, asserting 200.
    pub async fn get_json(&self, slug: &str, path: &str) -> serde_json::Value {
        let res = self.get_tenant(slug, path).await;
        assert_eq!(res.status(), reqwest::StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }
}

/// A password every test account uses (long, uncommon, unrelated to test names).
/// A test whose tool is missing says it is skipped; under CI (`CI` set to anything but
/// empty, `0` or `false`) it fails instead,
/// so a missing Chromium, Node.js or S3 server never passes as "skipped".
///
/// # Panics
/// Under CI.
pub fn skip_or_fail(why: &str) {
    let ci = std::env::var("CI").unwrap_or_default();
    assert!(
        matches!(ci.to_ascii_lowercase().as_str(), "" | "0" | "false"),
        "{why}; CI={ci}, so this test may not be skipped"
    );
    eprintln!("{why}: skipped");
}

pub const PASSWORD: &str = "lighthouse meadow copper";

/// The stable error code of a response (`x-error-code`), or "".
#[must_use]
pub fn error_code(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// The value of the first `csrf_token` hidden field in a page.
#[must_use]
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    let rest = &html[at..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl TestApp {
    /// Stops the server and hands back its database, to start the portal on it again
    /// (another configuration, a command of the operator's).
    pub fn into_db(mut self) -> TestDb {
        let none = TestDb {
            dir: tempfile::tempdir().unwrap(),
            pg: None,
            key: String::new(),
        };
        std::mem::replace(&mut self.db, none)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts the app with the launch tenants on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `tweak` has adjusted its settings.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::new().await;
    let mut settings = db.settings(&tenants_dir());
    tweak(&mut settings);
    spawn_on(db, settings).await
}

/// Starts the app on a given database and settings.
pub async fn spawn_on(db: TestDb, settings: Settings) -> TestApp {
    // Logs stay quiet unless TEST_LOG is set (then they go to the test's output).
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("info")
            .try_init();
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Application::build(settings).await.unwrap();
    let clock = app.state().clock.clone();
    let app_db = app.state().db.clone();
    let registry = app.state().registry.clone();
    let objects = app.state().catalogue.objects().clone();
    let bookings = app.state().bookings.clone();
    let state = app.state().clone();
    let hosts: Vec<String> = app
        .state()
        .registry
        .current()
        .iter()
        .flat_map(|t| t.config.hostnames.clone())
        .chain(["unknown.localhost".to_owned()])
        .collect();
    let (client, jar) = client_for(&hosts, addr);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.serve(listener, async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: client.clone(),
        browser: Browser { addr, client, jar },
        store: app_db,
        registry,
        objects,
        bookings,
        state,
        db,
        clock,
        hosts,
        stop: Some(stop),
    }
}

fn client_for(hosts: &[String], addr: SocketAddr) -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let mut client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone());
    for host in hosts {
        client = client.resolve(host, addr);
    }
    (client.build().unwrap(), jar)
}

/// Copies the launch tenants into a temporary folder so a test can break one file.
#[must_use]
pub fn copy_tenants() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for slug in LAUNCH_TENANTS {
        let to = dir.path().join(slug);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(tenants_dir().join(slug)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    dir
}

/// Replaces `from` with `to` in a tenant file, failing the test if `from` is absent.
pub fn edit_tenant(dir: &Path, slug: &str, from: &str, to: &str) -> PathBuf {
    let file = dir.join(slug).join("tenant.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", file.display());
    std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
    file
}

/// A real OpenID provider (npm `oidc-provider`, see `tests/oidc/op.mjs`) on loopback, killed
/// when dropped. `None` when `OIDC_OP_SCRIPT` is not set (run the suite with
/// `scripts/test.sh`, which installs and names it).
pub struct OidcProvider {
    child: std::process::Child,
    /// Its issuer URL.
    pub issuer: String,
}

impl OidcProvider {
    /// A free loopback port (for the provider, chosen before the app starts).
    #[must_use]
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// Starts the provider on `port` with one client.
    pub async fn start(
        port: u16,
        client_id: &str,
        secret: &str,
        redirect_uri: &str,
    ) -> Option<Self> {
        let script = std::env::var("OIDC_OP_SCRIPT").ok()?;
        let child = std::process::Command::new("node")
            .arg(&script)
            .env("OP_PORT", port.to_string())
            .env("OP_CLIENT_ID", client_id)
            .env("OP_CLIENT_SECRET", secret)
            .env("OP_REDIRECT_URI", redirect_uri)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let issuer = format!("http://127.0.0.1:{port}");
        let provider = Self { child, issuer };
        let discovery = format!("{}/.well-known/openid-configuration", provider.issuer);
        for _ in 0..100 {
            if reqwest::get(&discovery)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Some(provider);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the OpenID provider did not start on port {port}");
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real S3-compatible server (`s3s-fs`, installed by `scripts/test.sh`) on loopback,
/// keeping objects in a temporary folder; stopped when dropped.
pub struct S3Server {
    child: std::process::Child,
    /// The folder it stores buckets in (`<dir>/<bucket>/<key>`).
    pub dir: tempfile::TempDir,
    /// Settings that reach it.
    pub settings: storage::S3Settings,
}

impl S3Server {
    /// Starts one, or `None` when `S3S_FS_BIN` is not set (the test then says it is skipped).
    pub async fn start() -> Option<Self> {
        let bin = std::env::var("S3S_FS_BIN").ok()?;
        let port = OidcProvider::free_port();
        let dir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--access-key",
                "portal-test",
                "--secret-key",
                "portal-test-secret",
            ])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let settings = storage::S3Settings {
            bucket: "portal-test".to_owned(),
            region: "eu-west-2".to_owned(),
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            access_key_id: "portal-test".to_owned(),
            secret_access_key: "portal-test-secret".to_owned(),
            force_path_style: true,
        };
        let server = Self {
            child,
            dir,
            settings,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(server);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("s3s-fs did not start on port {port}");
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mail server for tests: speaks enough SMTP on loopback to accept messages and keeps
/// each one's raw text for assertions.
pub struct SmtpSink {
    /// Its port.
    pub port: u16,
    /// Messages received, in order (headers and body as sent).
    pub messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink on `port` (0 for any free port).
    pub async fn start(port: u16) -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = messages.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ready\r\n").await;
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 sink\r\n",
                            "DATA" => {
                                let _ = write.write_all(b"354 end with .\r\n").await;
                                let mut text = String::new();
                                while let Ok(Some(l)) = lines.next_line().await {
                                    if l == "." {
                                        break;
                                    }
                                    text.push_str(&l);
                                    text.push('\n');
                                }
                                store.lock().unwrap().push(text);
                                b"250 queued\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        if write.write_all(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self {
            port,
            messages,
            task,
        }
    }

    /// Waits up to `secs` for at least `n` messages; returns them.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<String> {
        for _ in 0..secs * 10 {
            let got = self.messages.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.messages.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}
