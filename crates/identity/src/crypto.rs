//! Envelope encryption for special-category data.
//!
//! Three layers: the **master key** comes from configuration and never touches the
//! database; each tenant has a **tenant key**, stored only wrapped (encrypted) under the
//! master key; each person has a **subject key**, stored only wrapped under their tenant's
//! key; their special-category values are encrypted under the subject key. Every
//! ciphertext is bound by its associated data to where it belongs (tenant, account, field),
//! so a value copied to another row or tenant does not decrypt. Destroying a subject key
//! makes every copy of that person's values unreadable, backups included.
//!
//! The cipher is XChaCha20-Poly1305 (random 192-bit nonces, so random nonces are safe).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox};

use crate::IdentityError;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// A 256-bit key, zeroised on drop and never printed.
pub struct Key(SecretBox<[u8; KEY_LEN]>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key([REDACTED])")
    }
}

fn random<const N: usize>() -> Result<[u8; N], IdentityError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(IdentityError::random)?;
    Ok(bytes)
}

impl Key {
    /// A new random key.
    ///
    /// # Errors
    /// When the operating system's random source fails.
    pub fn generate() -> Result<Self, IdentityError> {
        Ok(Self(SecretBox::new(Box::new(random::<KEY_LEN>()?))))
    }

    /// A key from exactly 32 bytes.
    ///
    /// # Errors
    /// [`IdentityError::Internal`] for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdentityError> {
        let array: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| IdentityError::Internal("a key must be 32 bytes".to_owned()))?;
        Ok(Self(SecretBox::new(Box::new(array))))
    }

    /// HMAC-SHA256 of `message` under this key, for values the server hands out and must
    /// recognise again (signed CSRF cookies, derived link tokens). Callers put a purpose
    /// first in `message`, so one key serves several uses without their MACs mixing.
    #[must_use]
    pub fn mac(&self, message: &str) -> [u8; 32] {
        use hmac::Mac as _;
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(self.0.expose_secret())
                .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(message.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.expose_secret().into())
    }

    /// Encrypts `plain`, bound to `aad`; returns nonce ‖ ciphertext.
    ///
    /// # Errors
    /// When randomness or encryption fails.
    pub fn seal(&self, plain: &[u8], aad: &str) -> Result<Vec<u8>, IdentityError> {
        let nonce = random::<NONCE_LEN>()?;
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| IdentityError::Internal("encryption failed".to_owned()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`Key::seal`] made with the same `aad`.
    ///
    /// # Errors
    /// [`IdentityError::Undecryptable`] when the key, the data or the binding is wrong.
    pub fn open(&self, sealed: &[u8], aad: &str) -> Result<Vec<u8>, IdentityError> {
        if sealed.len() < NONCE_LEN {
            return Err(IdentityError::Undecryptable);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| IdentityError::Undecryptable)?;
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| IdentityError::Undecryptable)
    }

    /// Wraps `inner` (a key) under this key, bound to `aad`.
    ///
    /// # Errors
    /// When encryption fails.
    pub fn wrap(&self, inner: &Key, aad: &str) -> Result<Vec<u8>, IdentityError> {
        self.seal(inner.0.expose_secret(), aad)
    }

    /// Unwraps a key wrapped by [`Key::wrap`].
    ///
    /// # Errors
    /// [`IdentityError::Undecryptable`] when the wrapping does not open.
    pub fn unwrap_key(&self, wrapped: &[u8], aad: &str) -> Result<Key, IdentityError> {
        let bytes = self.open(wrapped, aad)?;
        Key::from_bytes(&bytes)
    }
}

/// The master key and, while it is being replaced, the keys it replaces.
///
/// Everything new is sealed, wrapped and signed under the **current** key only. What an
/// earlier master key made (a wrapped data key in the key store, an unsubscribe link in an
/// old email, a pre-sign-in form token) still opens or verifies under a **previous** key,
/// so a replacement needs no downtime: configure the new key as current and the old one as
/// previous, re-wrap the key store (`portal keys rewrap`), then drop the old key from the
/// configuration and destroy every copy of it. Database backups from before the key store
/// existed hold tenant keys wrapped under the old master key; once it is destroyed, they
/// open no more.
pub struct MasterKeys {
    current: Key,
    previous: Vec<Key>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeys")
            .field("previous", &self.previous.len())
            .finish_non_exhaustive()
    }
}

impl From<Key> for MasterKeys {
    fn from(current: Key) -> Self {
        Self::new(current, Vec::new())
    }
}

impl MasterKeys {
    /// `current`, accepting what `previous` keys made.
    #[must_use]
    pub fn new(current: Key, previous: Vec<Key>) -> Self {
        Self { current, previous }
    }

    /// How many previous keys are still accepted.
    #[must_use]
    pub fn previous_count(&self) -> usize {
        self.previous.len()
    }

    fn all(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// HMAC-SHA256 under the current key (see [`Key::mac`]).
    #[must_use]
    pub fn mac(&self, message: &str) -> [u8; 32] {
        self.current.mac(message)
    }

    /// The MAC of `message` under each key, the current one first: a value signed before
    /// the replacement verifies against one of them.
    pub fn macs<'a>(&'a self, message: &'a str) -> impl Iterator<Item = [u8; 32]> + 'a {
        self.all().map(move |k| k.mac(message))
    }

    /// Seals under the current key (see [`Key::seal`]).
    ///
    /// # Errors
    /// When randomness or encryption fails.
    pub fn seal(&self, plain: &[u8], aad: &str) -> Result<Vec<u8>, IdentityError> {
        self.current.seal(plain, aad)
    }

    /// Opens what the current or a previous key sealed.
    ///
    /// # Errors
    /// [`IdentityError::Undecryptable`] when no key opens it.
    pub fn open(&self, sealed: &[u8], aad: &str) -> Result<Vec<u8>, IdentityError> {
        self.all()
            .find_map(|k| k.open(sealed, aad).ok())
            .ok_or(IdentityError::Undecryptable)
    }

    /// Wraps `inner` under the current key.
    ///
    /// # Errors
    /// When encryption fails.
    pub fn wrap(&self, inner: &Key, aad: &str) -> Result<Vec<u8>, IdentityError> {
        self.current.wrap(inner, aad)
    }

    /// Unwraps a key the current or a previous key wrapped, saying whether it was the
    /// current one (when not, it should be wrapped again).
    ///
    /// # Errors
    /// [`IdentityError::Undecryptable`] when no key opens it.
    pub fn unwrap_key(&self, wrapped: &[u8], aad: &str) -> Result<(Key, bool), IdentityError> {
        if let Ok(key) = self.current.unwrap_key(wrapped, aad) {
            return Ok((key, true));
        }
        self.previous
            .iter()
            .find_map(|k| k.unwrap_key(wrapped, aad).ok())
            .map(|key| (key, false))
            .ok_or(IdentityError::Undecryptable)
    }
}

/// Associated data for a tenant key.
#[must_use]
pub fn tenant_key_aad(tenant: &str) -> String {
    format!("tenant-key:{tenant}")
}

/// Associated data for a subject key.
#[must_use]
pub fn subject_key_aad(tenant: &str, account: &str) -> String {
    format!("subject-key:{tenant}:{account}")
}

/// The field a second-factor secret is bound to.
pub const TOTP_FIELD: &str = "totp_secret";

/// Associated data for one field of one account.
#[must_use]
pub fn field_aad(tenant: &str, account: &str, field: &str) -> String {
    format!("field:{tenant}:{account}:{field}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_binding() {
        let k = Key::generate().unwrap();
        let sealed = k.seal(b"wheelchair access", "field:harrow:a1:sr").unwrap();
        assert_eq!(
            k.open(&sealed, "field:harrow:a1:sr").unwrap(),
            b"wheelchair access"
        );
        assert!(matches!(
            k.open(&sealed, "field:harrow:a2:sr"),
            Err(IdentityError::Undecryptable)
        ));
        let other = Key::generate().unwrap();
        assert!(other.open(&sealed, "field:harrow:a1:sr").is_err());
        assert!(k.open(&sealed[..10], "x").is_err());
        // Two seals of one value differ (random nonces).
        assert_ne!(
            sealed,
            k.seal(b"wheelchair access", "field:harrow:a1:sr").unwrap()
        );
    }

    #[test]
    fn keys_wrap_and_unwrap() {
        let master = Key::generate().unwrap();
        let tenant = Key::generate().unwrap();
        let wrapped = master.wrap(&tenant, "tenant-key:harrow").unwrap();
        let back = master.unwrap_key(&wrapped, "tenant-key:harrow").unwrap();
        let sealed = tenant.seal(b"x", "a").unwrap();
        assert_eq!(back.open(&sealed, "a").unwrap(), b"x");
        assert!(master.unwrap_key(&wrapped, "tenant-key:havering").is_err());
        assert_eq!(format!("{tenant:?}"), "Key([REDACTED])");
    }

    #[test]
    fn a_replaced_master_key_opens_until_it_is_dropped() {
        let old = Key::from_bytes(&[1; 32]).unwrap();
        let tenant = Key::generate().unwrap();
        let wrapped = old.wrap(&tenant, "tenant-key:harrow").unwrap();
        let link = old.seal(b"a1\nnewsletter", "unsubscribe:harrow").unwrap();
        let signed = old.mac("csrf|harrow|r");

        let rotating = MasterKeys::new(
            Key::generate().unwrap(),
            vec![Key::from_bytes(&[1; 32]).unwrap()],
        );
        let (back, current) = rotating.unwrap_key(&wrapped, "tenant-key:harrow").unwrap();
        assert!(!current, "the old key's wrapping is not the current one");
        let sealed = tenant.seal(b"x", "a").unwrap();
        assert_eq!(back.open(&sealed, "a").unwrap(), b"x");
        assert_eq!(
            rotating.open(&link, "unsubscribe:harrow").unwrap(),
            b"a1\nnewsletter"
        );
        assert!(rotating.macs("csrf|harrow|r").any(|m| m == signed));
        assert_ne!(
            rotating.mac("csrf|harrow|r"),
            signed,
            "new values use the new key"
        );
        // Wrapped again, it opens under the new key alone.
        let rewrapped = rotating.wrap(&back, "tenant-key:harrow").unwrap();
        let (current_key, previous) = (rotating.current, rotating.previous);
        let done = MasterKeys::from(current_key);
        assert!(done.unwrap_key(&rewrapped, "tenant-key:harrow").unwrap().1);
        // What only the dropped key opened is gone.
        assert!(done.unwrap_key(&wrapped, "tenant-key:harrow").is_err());
        assert!(done.open(&link, "unsubscribe:harrow").is_err());
        assert!(!done.macs("csrf|harrow|r").any(|m| m == signed));
        assert_eq!(previous.len(), 1);
    }
}
