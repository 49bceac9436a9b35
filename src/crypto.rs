//! Secrets at rest (Twilio auth tokens, gateway keys): AES-256-GCM with `ENCRYPTION_KEY`.
//!
//! Stored form: `v1:` + base64(12-byte nonce || ciphertext+tag). The version prefix leaves room
//! for key rotation.

use aes_gcm::aead::{Aead, AeadCore, OsRng};
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine;

use crate::config::Secret;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("ENCRYPTION_KEY must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("a stored secret could not be decrypted (wrong ENCRYPTION_KEY or damaged data)")]
    Undecryptable,
}

#[derive(Clone)]
pub struct Cipher(Aes256Gcm);

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher([redacted])")
    }
}

impl Cipher {
    pub fn from_key(key: &Secret) -> Result<Self, CryptoError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.expose().trim())
            .map_err(|_| CryptoError::BadKey)?;
        Aes256Gcm::new_from_slice(&bytes)
            .map(Self)
            .map_err(|_| CryptoError::BadKey)
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce cannot fail for in-memory input.
        let ciphertext = self
            .0
            .encrypt(&nonce, plaintext.as_bytes())
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    }

    pub fn open(&self, sealed: &str) -> Result<Secret, CryptoError> {
        let blob = sealed
            .strip_prefix(PREFIX)
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .filter(|blob| blob.len() > NONCE_LEN)
            .ok_or(CryptoError::Undecryptable)?;
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let plaintext = self
            .0
            .decrypt(nonce.into(), ciphertext)
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plaintext)
            .map(Secret::new)
            .map_err(|_| CryptoError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secret {
        Secret::new(base64::engine::general_purpose::STANDARD.encode([7u8; 32]))
    }

    #[test]
    fn seals_and_opens_without_leaking_the_plaintext() {
        let cipher = Cipher::from_key(&key()).expect("key");
        let sealed = cipher.seal("auth-token-1234");
        assert!(!sealed.contains("auth-token"));
        assert_ne!(
            sealed,
            cipher.seal("auth-token-1234"),
            "fresh nonce every time"
        );
        assert_eq!(
            cipher.open(&sealed).expect("open").expose(),
            "auth-token-1234"
        );
    }

    #[test]
    fn wrong_key_and_tampering_are_errors() {
        let sealed = Cipher::from_key(&key()).expect("key").seal("secret");
        let other = Cipher::from_key(&Secret::new(
            base64::engine::general_purpose::STANDARD.encode([8u8; 32]),
        ))
        .expect("key");
        assert!(other.open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push('A');
        assert!(Cipher::from_key(&key())
            .expect("key")
            .open(&tampered)
            .is_err());
        assert!(Cipher::from_key(&Secret::new("short")).is_err());
    }
}
