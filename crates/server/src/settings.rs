//! Process settings, layered with the `config` crate: built-in defaults → `config/base.toml`
//! → `config/{APP_ENV}.toml` → an explicit `--config` file → `APP__SECTION__KEY`
//! environment variables → the conventional `DATABASE_URL` and `REDIS_URL`.
//!
//! Settings are a value passed in, never a global, so a test can build a second app with
//! other settings. Unknown keys are errors: a typo never silently falls back to a default.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Everything the process is configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The HTTP listener.
    pub http: HttpSettings,
    /// The database.
    pub database: DatabaseSettings,
    /// Redis, when used.
    pub redis: RedisSettings,
    /// Where tenant folders are.
    pub tenants: TenantSettings,
    /// Logging.
    pub telemetry: TelemetrySettings,
    /// Security tuning.
    pub security: SecuritySettings,
    /// Where files (resources, certificates) are kept.
    pub objects: ObjectSettings,
    /// The key store: where tenants' data keys are kept, wrapped under the master key,
    /// apart from the database and the files (`keys.local_dir`, `data_dir/keys` when
    /// absent; or `keys.s3`, a bucket of its own). Every replica must share it.
    pub keys: ObjectSettings,
    /// Outgoing mail.
    pub smtp: SmtpSettings,
    /// The platform operator's API (`/operator/v1/…`).
    #[serde(default)]
    pub operator: OperatorSettings,
    /// OpenID client secrets by tenant, then provider id (`oidc_secrets.harrow.staff`,
    /// or `APP__OIDC_SECRETS__HARROW__STAFF`).
    #[serde(default)]
    pub oidc_secrets:
        std::collections::HashMap<String, std::collections::HashMap<String, SecretString>>,
}

/// Which object store holds files.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ObjectBackend {
    /// A folder on this machine (the embedded default).
    Local,
    /// S3 or an S3-compatible store (`objects.s3.*`).
    S3,
}

/// Object storage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSettings {
    /// `local` or `s3`.
    pub backend: ObjectBackend,
    /// The folder for `local`; `data_dir/objects` when absent.
    #[serde(default)]
    pub local_dir: Option<PathBuf>,
    /// The bucket for `s3`.
    #[serde(default)]
    pub s3: Option<storage::S3Settings>,
}

/// The platform operator's API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorSettings {
    /// SHA-256 (hex) of the operator's bearer token (`printf %s "$TOKEN" | sha256sum`).
    /// Unset: there is no operator API.
    #[serde(default)]
    pub token_sha256: Option<String>,
    /// `host:port` of a listener of its own for the operator's API (say `127.0.0.1:8081`,
    /// or a port only the cluster reaches). Set, the API answers there only and the public
    /// listener answers 404 under `/operator/`; unset, it answers on the public listener
    /// (a single-machine install).
    #[serde(default)]
    pub listen: Option<String>,
}

impl OperatorSettings {
    /// The configured digest as bytes, if any.
    #[must_use]
    pub fn digest(&self) -> Option<[u8; 32]> {
        let text = self.token_sha256.as_deref()?.trim();
        let bytes = hex::decode(text).ok()?;
        bytes.try_into().ok()
    }
}

/// Security tuning.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Password hashes computed at once (each takes 19 MiB and one core for a moment);
    /// more sign-ins queue rather than starve other requests.
    pub hash_workers: usize,
    /// The master key that wraps every tenant's data key: 32 random bytes, base64
    /// (`openssl rand -base64 32`). Required with PostgreSQL; the embedded default keeps
    /// one in `data_dir/master.key`, made on first start.
    #[serde(default)]
    pub master_key: Option<SecretString>,
    /// Master keys being replaced, base64, separated by commas: what they wrapped or
    /// signed still opens, nothing new uses them. Set while replacing the master key
    /// (`portal keys rewrap`, `deploy/RUNBOOK.md`), then remove and destroy them.
    #[serde(default)]
    pub previous_master_keys: Option<SecretString>,
}

/// The HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to bind.
    pub host: String,
    /// Port to bind.
    pub port: u16,
    /// Honour `X-Forwarded-Host`. Only behind a proxy that always overwrites it.
    pub trust_forwarded_host: bool,
    /// Seconds a request may take before it is answered 408.
    pub request_timeout_secs: u64,
    /// Mark cookies `Secure`; set it wherever the portal is served over HTTPS.
    pub secure_cookies: bool,
    /// Seconds an anonymous visitor's catalogue page may be served from this replica's
    /// cache; another replica's changes show within this time. 0 turns the cache off.
    pub public_cache_secs: u64,
}

impl HttpSettings {
    /// `host:port`.
    #[must_use]
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` for PostgreSQL; absent for the embedded SQLite file.
    #[serde(default)]
    pub url: Option<SecretString>,
    /// Folder for the embedded database (and, later, local files).
    pub data_dir: PathBuf,
    /// PostgreSQL schema to use instead of the default.
    #[serde(default)]
    pub schema: Option<String>,
    /// Pool size.
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// Apply pending migrations when `serve` starts. Production runs `migrate` as a
    /// separate step and may turn this off.
    pub migrate_on_start: bool,
}

impl DatabaseSettings {
    /// The URL to connect to: the configured one, else the SQLite file in `data_dir`.
    #[must_use]
    pub fn connect_url(&self) -> SecretString {
        match &self.url {
            Some(u) if !u.expose_secret().is_empty() => u.clone(),
            _ => SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("portal.sqlite").display()
            )),
        }
    }
}

/// Redis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://…`; absent means in-process caches and sessions.
    #[serde(default)]
    pub url: Option<SecretString>,
    /// First part of every key, so deployments (or test runs) can share one Redis.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
}

fn default_key_prefix() -> String {
    "portal".to_owned()
}

/// Outgoing mail. Without a URL, mail stays in the database outbox (where development
/// and tests read it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// `smtp://host:25` (plain, for a relay on a private network), `smtp://host:587?tls=required`
    /// (STARTTLS) or `smtps://user:password@host:465`.
    #[serde(default)]
    pub url: Option<SecretString>,
    /// The sender address; the display name is the tenant's.
    pub from: String,
    /// Seconds between looks at the outbox.
    pub poll_secs: u64,
}

/// Tenant folders.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// The folder holding one sub-folder per tenant.
    pub dir: PathBuf,
    /// How often each replica checks the tenant rows for changes another replica made
    /// (seconds). With Redis, replicas are also told at once (pub/sub).
    #[serde(default = "default_poll_secs")]
    pub poll_secs: u64,
}

fn default_poll_secs() -> u64 {
    5
}

/// Log output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// `pretty` for people, `json` for log collectors.
    pub format: LogFormat,
    /// Default filter, e.g. `info` or `server=debug,info`; `RUST_LOG` overrides it.
    pub filter: String,
}

/// Log format.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Pretty,
    /// One JSON object per line.
    Json,
}

const DEFAULTS: &str = r#"
[http]
host = "127.0.0.1"
port = 8080
trust_forwarded_host = false
request_timeout_secs = 30
secure_cookies = false
public_cache_secs = 5

[database]
data_dir = "data"
migrate_on_start = true

[redis]
key_prefix = "portal"

[tenants]
dir = "tenants"

[telemetry]
format = "pretty"
filter = "info"

[security]
hash_workers = 2

[objects]
backend = "local"

[keys]
backend = "local"

[smtp]
from = "no-reply@portal.localhost"
poll_secs = 5
"#;

/// Loads settings from every layer.
///
/// # Errors
/// When a file does not parse, a key is unknown, or a value has the wrong type; the message
/// names the key.
pub fn load(explicit_file: Option<&Path>) -> anyhow::Result<Settings> {
    let env = std::env::var("APP_ENV").unwrap_or_else(|_| "local".into());
    let mut builder = config::Config::builder()
        .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
        .add_source(config::File::with_name("config/base").required(false))
        .add_source(config::File::with_name(&format!("config/{env}")).required(false));
    if let Some(file) = explicit_file {
        builder = builder.add_source(config::File::from(file).required(true));
    }
    // `APP__SECTION__KEY_FILE=/path` supplies a secret from a file (container secrets).
    for (var, value) in std::env::vars() {
        let Some(path) = var
            .strip_prefix("APP__")
            .and_then(|v| v.strip_suffix("_FILE"))
        else {
            continue;
        };
        let key = path.to_lowercase().replace("__", ".");
        let secret = std::fs::read_to_string(&value)
            .with_context(|| format!("{var}: cannot read {value}"))?;
        builder = builder.set_override(key, secret.trim().to_owned())?;
    }
    // The `_FILE` variables were read above; the rest are settings as they stand.
    let plain: config::Map<String, String> = std::env::vars()
        .filter(|(k, _)| !k.ends_with("_FILE"))
        .collect();
    builder = builder.add_source(
        config::Environment::with_prefix("APP")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .source(Some(plain)),
    );
    for (var, key) in [("DATABASE_URL", "database.url"), ("REDIS_URL", "redis.url")] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            builder = builder.set_override(key, v)?;
        }
    }
    let settings: Settings = builder
        .build()
        .context("cannot read the configuration")?
        .try_deserialize()
        .context("invalid configuration")?;
    settings.validate()?;
    Ok(settings)
}

impl Settings {
    /// Checks values the types cannot.
    ///
    /// # Errors
    /// Names the setting and what is wrong with it.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.database.url {
            let u = url.expose_secret();
            let ok = u.is_empty()
                || u.starts_with("postgres://")
                || u.starts_with("postgresql://")
                || u.starts_with("sqlite:");
            anyhow::ensure!(
                ok,
                "database.url must start with postgres://, postgresql:// or sqlite:"
            );
        }
        if let Some(url) = &self.redis.url {
            let u = url.expose_secret();
            anyhow::ensure!(
                u.is_empty() || u.starts_with("redis://") || u.starts_with("rediss://"),
                "redis.url must start with redis:// or rediss://"
            );
        }
        if let Some(schema) = &self.database.schema {
            let ok = !schema.is_empty()
                && schema.len() <= 63
                && schema
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            anyhow::ensure!(
                ok,
                "database.schema must be lowercase letters, digits and _"
            );
        }
        anyhow::ensure!(
            self.objects.backend != ObjectBackend::S3 || self.objects.s3.is_some(),
            "objects.backend is s3 but objects.s3 (bucket, access_key_id, secret_access_key) is not set"
        );
        anyhow::ensure!(
            self.keys.backend != ObjectBackend::S3 || self.keys.s3.is_some(),
            "keys.backend is s3 but keys.s3 (bucket, access_key_id, secret_access_key) is not set"
        );
        if let (ObjectBackend::S3, Some(k), ObjectBackend::S3, Some(o)) = (
            self.keys.backend,
            &self.keys.s3,
            self.objects.backend,
            &self.objects.s3,
        ) {
            anyhow::ensure!(
                k.bucket != o.bucket,
                "keys.s3.bucket must not be objects.s3.bucket: data keys are kept apart from \
                 the data, so that destroying one (offboarding) leaves no copy behind"
            );
        }
        if self.keys.backend == ObjectBackend::Local && self.objects.backend == ObjectBackend::Local
        {
            let dir = |s: &ObjectSettings, name: &str| {
                s.local_dir
                    .clone()
                    .unwrap_or_else(|| self.database.data_dir.join(name))
            };
            anyhow::ensure!(
                dir(&self.keys, "keys") != dir(&self.objects, "objects"),
                "keys.local_dir must not be objects.local_dir: data keys are kept apart from \
                 the data"
            );
        }
        // On PostgreSQL several replicas share the database: each must read the same keys,
        // so the key store is named, never a folder each machine makes for itself.
        let postgres = self
            .database
            .url
            .as_ref()
            .is_some_and(|u| u.expose_secret().starts_with("postgres"));
        anyhow::ensure!(
            !postgres || self.keys.backend == ObjectBackend::S3 || self.keys.local_dir.is_some(),
            "with PostgreSQL, say where tenants' data keys are kept, shared by every replica \
             and apart from the database: keys.backend = \"s3\" with keys.s3 (a bucket of \
             its own), or keys.local_dir (a volume every replica mounts)"
        );
        anyhow::ensure!(
            self.operator.token_sha256.is_none() || self.operator.digest().is_some(),
            "operator.token_sha256 must be the SHA-256 of the operator's token, 64 hex digits"
        );
        anyhow::ensure!(
            self.operator
                .listen
                .as_deref()
                .is_none_or(|a| a.parse::<std::net::SocketAddr>().is_ok()),
            "operator.listen must be an address and port, such as 127.0.0.1:8081"
        );
        anyhow::ensure!(
            self.tenants.poll_secs > 0,
            "tenants.poll_secs must be at least 1"
        );
        anyhow::ensure!(
            self.http.request_timeout_secs > 0,
            "http.request_timeout_secs must be at least 1"
        );
        Ok(())
    }

    /// Settings for a test or embedded run: defaults with the given data folder and tenants.
    ///
    /// # Errors
    /// Never in practice; the defaults are valid.
    pub fn embedded(data_dir: &Path, tenants_dir: &Path) -> anyhow::Result<Self> {
        let mut s: Self = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()?
            .try_deserialize()?;
        s.database.data_dir = data_dir.to_owned();
        s.tenants.dir = tenants_dir.to_owned();
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_embedded() {
        let s = Settings::embedded(Path::new("/tmp/x"), Path::new("tenants")).unwrap();
        assert_eq!(s.http.port, 8080);
        assert!(s.database.url.is_none());
        assert_eq!(
            s.database.connect_url().expose_secret(),
            "sqlite:///tmp/x/portal.sqlite?mode=rwc"
        );
        assert_eq!(s.telemetry.format, LogFormat::Pretty);
    }

    #[test]
    fn rejects_bad_urls_and_schemas() {
        let mut s = Settings::embedded(Path::new("d"), Path::new("t")).unwrap();
        s.database.url = Some("mysql://x".to_owned().into());
        assert!(s.validate().is_err());
        s.database.url = None;
        s.database.schema = Some("Robert'); DROP".to_owned());
        assert!(s.validate().is_err());
        s.database.schema = None;
        s.redis.url = Some("http://x".to_owned().into());
        assert!(s.validate().is_err());
    }

    #[test]
    fn the_key_store_is_named_with_postgres_and_kept_apart_from_the_files() {
        let mut s = Settings::embedded(Path::new("d"), Path::new("t")).unwrap();
        assert!(s.validate().is_ok());
        s.database.url = Some("postgres://u@h/db".to_owned().into());
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("keys.local_dir"), "{err}");
        s.keys.local_dir = Some(PathBuf::from("/srv/keys"));
        assert!(s.validate().is_ok());
        s.objects.local_dir = Some(PathBuf::from("/srv/keys"));
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("must not be objects.local_dir"), "{err}");
        let bucket = |name: &str| storage::S3Settings {
            bucket: name.to_owned(),
            region: "eu-west-2".to_owned(),
            endpoint: None,
            access_key_id: "a".to_owned(),
            secret_access_key: "b".to_owned(),
            force_path_style: false,
        };
        s.objects.backend = ObjectBackend::S3;
        s.objects.s3 = Some(bucket("files"));
        s.keys.backend = ObjectBackend::S3;
        s.keys.s3 = Some(bucket("files"));
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("keys.s3.bucket must not be"), "{err}");
        s.keys.s3 = Some(bucket("keys"));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn secrets_are_not_printed() {
        let mut s = Settings::embedded(Path::new("d"), Path::new("t")).unwrap();
        s.database.url = Some("postgres://u:hunter2@h/db".to_owned().into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
