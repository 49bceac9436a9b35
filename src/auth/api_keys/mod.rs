//! API keys: long-lived credentials an integration sends as `Authorization: Bearer rk_…`
//! instead of a password sign-in. A key acts as its owner, never beyond its scopes.
//!
//! A key reads `rk_<key id, 32 hex>_<43 random base64url characters>`: the id makes checking a
//! key one primary-key read, the random part (32 bytes) is stored only as its SHA-256 and
//! compared in constant time. SHA-256 rather than argon2 because the secret is high-entropy
//! (nothing to brute-force) and checked on every request.

pub mod graphql;
pub mod model;
pub mod service;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// What every key starts with, so a leaked one is recognisable (secret scanners, logs).
pub const KEY_PREFIX: &str = "rk_";

/// Whether a bearer token is shaped like an API key rather than an access token (a JWT never
/// starts with `rk_`).
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

/// A new key for `id`: the full secret (shown once) and its visible prefix.
pub(crate) fn generate(id: Uuid) -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let random = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let prefix = format!("{KEY_PREFIX}{}", id.simple());
    (format!("{prefix}_{random}"), prefix)
}

/// The key id a presented secret names, if it is shaped like a key at all.
pub(crate) fn key_id(secret: &str) -> Option<Uuid> {
    let rest = secret.strip_prefix(KEY_PREFIX)?;
    let (id, random) = (rest.get(..32)?, rest.get(32..)?);
    if !random.starts_with('_') || random.len() < 2 {
        return None;
    }
    Uuid::try_parse(id).ok()
}

pub(crate) fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant time, so a response time does not tell how much of a guessed hash matched.
pub(crate) fn matches(secret: &str, stored_hash: &str) -> bool {
    hash(secret).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_id_and_match_only_themselves() {
        let id = Uuid::now_v7();
        let (secret, prefix) = generate(id);
        assert!(secret.starts_with(&prefix) && is_api_key(&secret));
        assert_eq!(key_id(&secret), Some(id));
        let stored = hash(&secret);
        assert!(matches(&secret, &stored));
        assert!(!matches(&format!("{secret}x"), &stored));
        assert_ne!(generate(id).0, secret);
        assert_eq!(key_id("rk_short"), None);
        assert_eq!(key_id(&prefix), None);
        assert_eq!(key_id("rk_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz_abc"), None);
    }
}
