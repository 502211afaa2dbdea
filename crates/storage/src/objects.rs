//! Object storage for files (resources, certificates, subject-access bundles): a local
//! folder in the embedded default, S3 (or any S3-compatible store) in production. Every key
//! is prefixed with the tenant, so one tenant's code path cannot name another's object.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use tenant_router::TenantId;

use crate::StorageError;

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

fn s3_error(e: impl std::fmt::Display) -> StorageError {
    StorageError::Objects(e.to_string())
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
        let key = full_key(tenant, key)?;
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
        let key = full_key(tenant, key)?;
        match &*self.backend {
            Backend::Local(root) => match tokio::fs::read(root.join(&key)).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(s3_error(e)),
            },
            Backend::S3 { client, bucket } => {
                match client.get_object().bucket(bucket).key(key).send().await {
                    Ok(out) => Ok(Some(
                        out.body
                            .collect()
                            .await
                            .map_err(s3_error)?
                            .into_bytes()
                            .to_vec(),
                    )),
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
        let key = full_key(tenant, key)?;
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
        store.delete(&a, "resources/x/f.pdf").await.unwrap();
        assert!(store.get(&a, "resources/x/f.pdf").await.unwrap().is_none());
        assert!(
            store
                .put(&a, "../escape", Vec::new(), "text/plain")
                .await
                .is_err()
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
