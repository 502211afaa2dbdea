//! The key-value store with expiry under sessions, sign-in flows and throttling: Redis
//! when configured, an in-process map otherwise.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use crate::IdentityError;

/// A key-value store with expiry: Redis or an in-process map.
#[derive(Clone)]
pub enum Kv {
    /// In process (the embedded default; one replica only).
    Memory(Arc<Mutex<HashMap<String, (String, Instant)>>>),
    /// Redis, connected on first use and reconnected by the manager after failures.
    Redis(redis::Client, Arc<OnceCell<ConnectionManager>>),
}

impl std::fmt::Debug for Kv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Memory(_) => "Kv::Memory",
            Self::Redis(..) => "Kv::Redis",
        })
    }
}

pub(crate) fn kv_err(e: impl std::fmt::Display) -> IdentityError {
    IdentityError::SessionStore(e.to_string())
}

impl Kv {
    /// An in-process store.
    #[must_use]
    pub fn memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// A Redis store (nothing is contacted until first use).
    #[must_use]
    pub fn redis(client: redis::Client) -> Self {
        Self::Redis(client, Arc::default())
    }

    async fn conn(&self) -> Result<Option<ConnectionManager>, IdentityError> {
        let Self::Redis(client, cell) = self else {
            return Ok(None);
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let manager = cell
            .get_or_try_init(|| ConnectionManager::new_with_config(client.clone(), config))
            .await
            .map_err(kv_err)?;
        Ok(Some(manager.clone()))
    }

    fn with_map<T>(
        map: &Mutex<HashMap<String, (String, Instant)>>,
        f: impl FnOnce(&mut HashMap<String, (String, Instant)>) -> T,
    ) -> Result<T, IdentityError> {
        let mut guard = map.lock().map_err(|_| kv_err("session map poisoned"))?;
        let now = Instant::now();
        if guard.len() > 10_000 {
            guard.retain(|_, (_, until)| *until > now);
        }
        Ok(f(&mut guard))
    }

    /// The value at `key`, if present and unexpired.
    ///
    /// # Errors
    /// [`IdentityError::SessionStore`] when Redis fails.
    pub async fn get(&self, key: &str) -> Result<Option<String>, IdentityError> {
        match self {
            Self::Memory(map) => Self::with_map(map, |m| {
                m.get(key)
                    .filter(|(_, until)| *until > Instant::now())
                    .map(|(v, _)| v.clone())
            }),
            Self::Redis(..) => {
                let Some(mut c) = self.conn().await? else {
                    return Ok(None);
                };
                c.get(key).await.map_err(kv_err)
            }
        }
    }

    /// Sets `key` to `value` for `ttl`.
    ///
    /// # Errors
    /// [`IdentityError::SessionStore`] when Redis fails.
    pub async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), IdentityError> {
        match self {
            Self::Memory(map) => Self::with_map(map, |m| {
                m.insert(key.to_owned(), (value.to_owned(), Instant::now() + ttl));
            }),
            Self::Redis(..) => {
                let Some(mut c) = self.conn().await? else {
                    return Ok(());
                };
                c.set_ex(key, value, ttl.as_secs().max(1))
                    .await
                    .map_err(kv_err)
            }
        }
    }

    /// Removes `key`.
    ///
    /// # Errors
    /// [`IdentityError::SessionStore`] when Redis fails.
    pub async fn del(&self, key: &str) -> Result<(), IdentityError> {
        match self {
            Self::Memory(map) => Self::with_map(map, |m| {
                m.remove(key);
            }),
            Self::Redis(..) => {
                let Some(mut c) = self.conn().await? else {
                    return Ok(());
                };
                c.del(key).await.map_err(kv_err)
            }
        }
    }

    /// Removes every key starting with `prefix`; returns how many there were. On Redis the
    /// keys are found with `SCAN` (never `KEYS`, which blocks the server).
    ///
    /// # Errors
    /// [`IdentityError::SessionStore`] when Redis fails.
    pub async fn del_prefix(&self, prefix: &str) -> Result<usize, IdentityError> {
        match self {
            Self::Memory(map) => Self::with_map(map, |m| {
                let before = m.len();
                m.retain(|k, _| !k.starts_with(prefix));
                before - m.len()
            }),
            Self::Redis(..) => {
                let Some(mut c) = self.conn().await? else {
                    return Ok(0);
                };
                let pattern = format!("{}*", glob_escape(prefix));
                let mut keys: Vec<String> = Vec::new();
                let mut cursor: u64 = 0;
                loop {
                    let (next, page): (u64, Vec<String>) = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(500)
                        .query_async(&mut c)
                        .await
                        .map_err(kv_err)?;
                    keys.extend(page);
                    if next == 0 {
                        break;
                    }
                    cursor = next;
                }
                keys.sort();
                keys.dedup();
                for chunk in keys.chunks(500) {
                    let _: () = c.unlink(chunk).await.map_err(kv_err)?;
                }
                Ok(keys.len())
            }
        }
    }

    /// Adds one to the counter at `key` (which expires `ttl` after its first increment) and
    /// returns the new count.
    ///
    /// # Errors
    /// [`IdentityError::SessionStore`] when Redis fails.
    pub async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, IdentityError> {
        match self {
            Self::Memory(map) => Self::with_map(map, |m| {
                let now = Instant::now();
                let entry = m
                    .entry(key.to_owned())
                    .or_insert_with(|| ("0".to_owned(), now + ttl));
                if entry.1 <= now {
                    *entry = ("0".to_owned(), now + ttl);
                }
                let n = entry.0.parse::<u64>().unwrap_or(0).saturating_add(1);
                entry.0 = n.to_string();
                n
            }),
            Self::Redis(..) => {
                let Some(mut c) = self.conn().await? else {
                    return Ok(0);
                };
                let (n,): (u64,) = redis::pipe()
                    .atomic()
                    .incr(key, 1)
                    .expire(key, i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX))
                    .arg("NX")
                    .ignore()
                    .query_async(&mut c)
                    .await
                    .map_err(kv_err)?;
                Ok(n)
            }
        }
    }
}

/// `s` with Redis's glob characters escaped, to match only itself.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}
