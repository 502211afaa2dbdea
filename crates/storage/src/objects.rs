//! Object storage for files (resources, certificates, subject-access bundles): a local
//! folder in the embedded default, S3 (or any S3-compatible store) in production. Every key
//! is prefixed with the tenant, so one tenant's code path cannot name another's object.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use tenant_router::TenantId;

use crate::StorageError;
use crate::error::s3_error;

/// Where S3 objects go.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Settings {
    /// Bucket name.
    pub bucket: String,
    /// Region (any value for most S3-compatible stores).
    #[serde(default = "default_region")]
    pub region: String,
    /// Endpoint for an S3-compatible store; AWS when absent.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need.
    #[serde(default)]
    pub force_path_style: bool,
}

fn default_region() -> String {
    "eu-west-2".to_owned()
}

#[derive(Debug)]
enum Backend {
    Local(PathBuf),
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
    },
}

/// The object store.
#[derive(Debug, Clone)]
pub struct Objects {
    backend: Arc<Backend>,
}

/// Checks a key part: lowercase letters, digits, `-`, `_`, `.` and `/` between non-empty
/// segments, never `..`, so a key cannot climb out of the tenant's prefix or folder.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        })
}

fn full_key(tenant: &TenantId, key: &str) -> Result<String, StorageError> {
    if valid_key(key) {
        Ok(format!("{}/{key}", tenant.as_str()))
    } else {
        Err(StorageError::Objects(format!("invalid object key `{key}`")))
    }
}

/// A listed key under the tenant's prefix: any name, but never one that leaves it.
fn listed_key(tenant: &TenantId, key: &str) -> Result<String, StorageError> {
    if key.is_empty() || key.starts_with('/') || key.split('/').any(|s| s == ".." || s == ".") {
        return Err(StorageError::Objects(format!("invalid object key `{key}`")));
    }
    Ok(format!("{}/{key}", tenant.as_str()))
}

/// The platform's own area, which no tenant slug can name (slugs start with a letter).
fn platform_key(key: &str) -> Result<String, StorageError> {
    if valid_key(key) {
        Ok(format!("_platform/{key}"))
    } else {
        Err(StorageError::Objects(format!("invalid object key `{key}`")))
    }
}

/// Every file under `base`, as `/`-separated paths relative to it (none when it is absent);
/// half-written files (`*.partial-…`) are left out.
fn local_files(base: &Path) -> Result<Vec<String>, StorageError> {
    let mut out = Vec::new();
    let mut dirs = vec![base.to_owned()];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(s3_error(e)),
        };
        for entry in entries {
            let entry = entry.map_err(s3_error)?;
            let path = entry.path();
            if entry.file_type().map_err(s3_error)?.is_dir() {
                dirs.push(path);
            } else if let Ok(rel) = path.strip_prefix(base) {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                if !rel.contains(".partial-") {
                    out.push(rel);
                }
            }
        }
    }
    Ok(out)
}

impl Objects {
    /// Files under `root` (made when first written).
    #[must_use]
    pub fn local(root: &Path) -> Self {
        Self {
            backend: Arc::new(Backend::Local(root.to_owned())),
        }
    }

    /// An S3 bucket.
    #[must_use]
    pub fn s3(s: &S3Settings) -> Self {
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(s.region.clone()))
            .credentials_provider(Credentials::new(
                s.access_key_id.clone(),
                s.secret_access_key.clone(),
                None,
                None,
                "portal-settings",
            ))
            .force_path_style(s.force_path_style);
        if let Some(endpoint) = &s.endpoint {
            config = config.endpoint_url(endpoint.clone());
        }
        Self {
            backend: Arc::new(Backend::S3 {
                client: aws_sdk_s3::Client::from_conf(config.build()),
                bucket: s.bucket.clone(),
            }),
        }
    }

    /// Makes the bucket if it does not exist (for development and tests; production
    /// buckets are provisioned with their policies).
    ///
    /// # Errors
    /// When the store cannot be reached or refuses.
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        if let Backend::S3 { client, bucket } = &*self.backend
            && client.head_bucket().bucket(bucket).send().await.is_err()
        {
            client
                .create_bucket()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        }
        Ok(())
    }

    /// Stores `bytes` at the tenant's `key`, replacing what was there.
    ///
    /// # Errors
    /// [`StorageError::Objects`] for an invalid key or a failed write.
    pub async fn put(
        &self,
        tenant: &TenantId,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.put_full(full_key(tenant, key)?, bytes, content_type)
            .await
    }

    /// Stores `bytes` at `key` in the platform's own area (`_platform/…`, outside every
    /// tenant's prefix): what outlives a tenant, such as the archive of an offboarded one.
    ///
    /// # Errors
    /// [`StorageError::Objects`] for an invalid key or a failed write.
    pub async fn put_platform(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.put_full(platform_key(key)?, bytes, content_type).await
    }

    /// Stores the file at `path` at `key` in the platform's own area, read from disk as it
    /// is sent, never held whole in memory: one request up to [`crate::PART_BYTES`], a multipart
    /// upload of parts that size above it (S3 takes one request only up to 5 GB).
    ///
    /// # Errors
    /// [`StorageError::Objects`] for an invalid key or a failed read or write (a multipart
    /// upload that fails is aborted).
    pub async fn put_platform_file(
        &self,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let key = platform_key(key)?;
        match &*self.backend {
            Backend::Local(root) => {
                let dest = root.join(&key);
                if let Some(dir) = dest.parent() {
                    tokio::fs::create_dir_all(dir).await.map_err(s3_error)?;
                }
                let tmp = dest.with_extension(format!("partial-{}", uuid::Uuid::new_v4()));
                tokio::fs::copy(path, &tmp).await.map_err(s3_error)?;
                tokio::fs::rename(&tmp, &dest).await.map_err(s3_error)?;
                Ok(())
            }
            Backend::S3 { client, bucket } => {
                let size = tokio::fs::metadata(path).await.map_err(s3_error)?.len();
                if size <= crate::upload::PART_BYTES {
                    let body = ByteStream::from_path(path).await.map_err(s3_error)?;
                    client
                        .put_object()
                        .bucket(bucket)
                        .key(key)
                        .content_type(content_type)
                        .body(body)
                        .send()
                        .await
                        .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
                    return Ok(());
                }
                crate::upload::in_parts(client, bucket, &key, path, size, content_type).await
            }
        }
    }

    /// The bytes at `key` in the platform's own area, if any.
    ///
    /// # Errors
    /// [`StorageError::Objects`] for an invalid key or a failed read.
    pub async fn get_platform(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.get_full(platform_key(key)?).await
    }

    /// Where the platform-area `key` is kept, for an operator: a file path for the local
    /// backend, `s3://bucket/key` for S3.
    ///
    /// # Errors
    /// [`StorageError::Objects`] for an invalid key.
    pub fn platform_location(&self, key: &str) -> Result<String, StorageError> {
        let key = platform_key(key)?;
        Ok(match &*self.backend {
            Backend::Local(root) => root.join(key).display().to_string(),
            Backend::S3 { bucket, .. } => format!("s3://{bucket}/{key}"),
        })
    }

    async fn put_full(
        &self,
        key: String,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StorageError> {
        match &*self.backend {
            Backend::Local(root) => {
                let path = root.join(&key);
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await.map_err(s3_error)?;
                }
                // Write then rename, so a reader never sees half a file.
                let tmp = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4()));
                tokio::fs::write(&tmp, &bytes).await.map_err(s3_error)?;
                tokio::fs::rename(&tmp, &path).await.map_err(s3_error)?;
            }
            Backend::S3 { client, bucket } => {
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .content_type(content_type)
                    .body(ByteStream::from(bytes))
                    .send()
                    .await
                    .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
            }
        }
        Ok(())
    }

    /// The bytes at the tenant's `key`, or `None` when there is no such object.
    ///
    /// # Errors
    /// [`StorageError::Objects`] for an invalid key or a failed read.
    pub async fn get(&self, tenant: &TenantId, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.get_full(full_key(tenant, key)?).await
    }

    async fn get_full(&self, key: String) -> Result<Option<Vec<u8>>, StorageError> {
        use tokio::io::AsyncReadExt as _;
        let Some(mut reader) = self.open_full(key).await? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await.map_err(s3_error)?;
        Ok(Some(bytes))
    }

    /// A reader of the object at the full `key`, streamed from the store, or `None` when
    /// there is none.
    async fn open_full(
        &self,
        key: String,
    ) -> Result<Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>, StorageError> {
        match &*self.backend {
            Backend::Local(root) => match tokio::fs::File::open(root.join(&key)).await {
                Ok(f) => Ok(Some(Box::new(f))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(s3_error(e)),
            },
            Backend::S3 { client, bucket } => {
                match client.get_object().bucket(bucket).key(key).send().await {
                    Ok(out) => Ok(Some(Box::new(out.body.into_async_read()))),
                    Err(e)
                        if e.as_service_error().is_some_and(
                            aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                        ) =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(s3_error(aws_sdk_s3::error::DisplayErrorContext(e))),
                }
            }
        }
    }

    /// Deletes the tenant's `key` (nothing happens if it is not there).
    ///
    /// # Errors
    /// [`StorageError::Objects`] for an invalid key or a failed delete.
    pub async fn delete(&self, tenant: &TenantId, key: &str) -> Result<(), StorageError> {
        self.delete_full(full_key(tenant, key)?).await
    }

    /// A reader of the object at a key [`Objects::list`] returned, whatever its name (a
    /// file put in the tenant's folder by other means may have a name [`Objects::get`]
    /// refuses), streamed from the store (never read whole), or `None` when it is gone.
    ///
    /// # Errors
    /// [`StorageError::Objects`] for a key that climbs out of the tenant's prefix, or a
    /// failed read.
    pub async fn read_listed(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>, StorageError> {
        self.open_full(listed_key(tenant, key)?).await
    }

    /// Every key the tenant has (relative to its prefix, as [`Objects::get`] takes them),
    /// sorted.
    ///
    /// # Errors
    /// [`StorageError::Objects`] when the store cannot be listed.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<String>, StorageError> {
        let prefix = format!("{}/", tenant.as_str());
        let mut keys = match &*self.backend {
            Backend::Local(root) => {
                let base = root.join(tenant.as_str());
                tokio::task::spawn_blocking(move || local_files(&base))
                    .await
                    .map_err(s3_error)??
            }
            Backend::S3 { client, bucket } => {
                let mut keys = Vec::new();
                let mut pages = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(&prefix)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page =
                        page.map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
                    keys.extend(
                        page.contents()
                            .iter()
                            .filter_map(|o| o.key()?.strip_prefix(&prefix).map(str::to_owned)),
                    );
                }
                keys
            }
        };
        keys.sort();
        Ok(keys)
    }

    /// Deletes every object the tenant has; returns how many there were.
    ///
    /// # Errors
    /// [`StorageError::Objects`] when listing or a delete fails (what was deleted stays
    /// deleted; running it again finishes the rest).
    pub async fn delete_all(&self, tenant: &TenantId) -> Result<usize, StorageError> {
        let keys = self.list(tenant).await?;
        for key in &keys {
            // As listed, so a file put there by other means (a name our keys never take)
            // goes too.
            self.delete_full(listed_key(tenant, key)?).await?;
        }
        if let Backend::Local(root) = &*self.backend {
            match tokio::fs::remove_dir_all(root.join(tenant.as_str())).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(s3_error(e)),
                _ => {}
            }
        }
        Ok(keys.len())
    }

    async fn delete_full(&self, key: String) -> Result<(), StorageError> {
        match &*self.backend {
            Backend::Local(root) => match tokio::fs::remove_file(root.join(&key)).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(s3_error(e)),
            },
            Backend::S3 { client, bucket } => {
                client
                    .delete_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| s3_error(aws_sdk_s3::error::DisplayErrorContext(e)))?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_tenant() {
        assert!(valid_key("resources/0192-abc/guide.pdf"));
        for bad in [
            "",
            "../x",
            "a/../../b",
            "/abs",
            "a//b",
            "A.pdf",
            "a b",
            "a/./b",
        ] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn local_round_trip_and_tenants_apart() {
        let dir = std::env::temp_dir().join(format!("objects-{}", uuid::Uuid::new_v4()));
        let store = Objects::local(&dir);
        let a: TenantId = "harrow".parse().unwrap();
        let b: TenantId = "somerset".parse().unwrap();
        store
            .put(
                &a,
                "resources/x/f.pdf",
                b"%PDF-1".to_vec(),
                "application/pdf",
            )
            .await
            .unwrap();
        assert_eq!(
            store.get(&a, "resources/x/f.pdf").await.unwrap().unwrap(),
            b"%PDF-1"
        );
        assert!(store.get(&b, "resources/x/f.pdf").await.unwrap().is_none());
        store
            .put(&a, "bundles/b.zip", b"PK".to_vec(), "application/zip")
            .await
            .unwrap();
        store
            .put(&b, "resources/y.pdf", b"%PDF-2".to_vec(), "application/pdf")
            .await
            .unwrap();
        assert_eq!(
            store.list(&a).await.unwrap(),
            ["bundles/b.zip", "resources/x/f.pdf"]
        );
        store.delete(&a, "resources/x/f.pdf").await.unwrap();
        assert!(store.get(&a, "resources/x/f.pdf").await.unwrap().is_none());
        // The platform's area is outside every tenant's listing and outlives them.
        store
            .put_platform("offboarded/a.zip", b"PK".to_vec(), "application/zip")
            .await
            .unwrap();
        assert_eq!(store.delete_all(&a).await.unwrap(), 1);
        assert!(store.list(&a).await.unwrap().is_empty());
        assert_eq!(store.list(&b).await.unwrap(), ["resources/y.pdf"]);
        assert_eq!(
            store
                .get_platform("offboarded/a.zip")
                .await
                .unwrap()
                .unwrap(),
            b"PK"
        );
        assert!(store.put_platform("../x", Vec::new(), "x").await.is_err());
        assert!(
            store
                .put(&a, "../escape", Vec::new(), "text/plain")
                .await
                .is_err()
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
