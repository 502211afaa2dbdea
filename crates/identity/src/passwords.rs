//! Password hashing with argon2id at OWASP's minimum (19 MiB, 2 iterations, 1 lane), on a
//! bounded pool: at most `workers` hashes run at once, each on a blocking thread, so a login
//! storm queues here instead of starving the async workers that serve everything else.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::IdentityError;

/// Memory cost in KiB (19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Iterations.
pub const ITERATIONS: u32 = 2;

/// Hashes and verifies passwords on a bounded pool.
#[derive(Clone, Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// A real hash of a random password: verifying against it when an account does not exist
    /// makes "no such account" take as long as "wrong password".
    decoy: Arc<str>,
}

fn argon2() -> Result<Argon2<'static>, IdentityError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, 1, None)
        .map_err(|e| IdentityError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_now(password: &str) -> Result<String, IdentityError> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| IdentityError::Internal(format!("argon2 hash: {e}")))?
        .to_string())
}

fn verify_now(password: &str, stored: &str) -> bool {
    // Parameters come from the stored string, so older hashes still verify after a change.
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl Hasher {
    /// A pool running at most `workers` hashes at once.
    ///
    /// # Errors
    /// When the decoy hash cannot be made.
    pub fn new(workers: usize) -> Result<Self, IdentityError> {
        let decoy = hash_now(&crate::domain::token::generate().map_err(IdentityError::random)?)?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(workers.max(1))),
            decoy: decoy.into(),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, IdentityError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| IdentityError::Internal(format!("hash pool closed: {e}")))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| IdentityError::Internal(format!("hash task failed: {e}")))
    }

    /// Hashes a new password.
    ///
    /// # Errors
    /// [`IdentityError::Internal`] when hashing fails.
    pub async fn hash(&self, password: &str) -> Result<String, IdentityError> {
        let password = password.to_owned();
        self.run(move || hash_now(&password)).await?
    }

    /// Whether `password` matches `stored`; with no stored hash, spends the same effort on a
    /// decoy and answers `false`.
    ///
    /// # Errors
    /// [`IdentityError::Internal`] when the pool fails.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<bool, IdentityError> {
        let password = password.to_owned();
        let (stored, real) = match stored {
            Some(s) => (s.to_owned(), true),
            None => (self.decoy.to_string(), false),
        };
        let matched = self.run(move || verify_now(&password, &stored)).await?;
        Ok(real && matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_at_owasp_minimum_and_verify() {
        let h = Hasher::new(2).unwrap();
        let stored = h.hash("correct horse battery").await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(
            h.verify("correct horse battery", Some(&stored))
                .await
                .unwrap()
        );
        assert!(
            !h.verify("wrong horse battery", Some(&stored))
                .await
                .unwrap()
        );
        assert!(!h.verify("correct horse battery", None).await.unwrap());
        assert!(!h.verify("x", Some("not a hash")).await.unwrap());
    }
}
