//! argon2id hashing on the blocking pool: a hash takes tens of milliseconds of CPU.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::error::{AppError, AppResult};

pub const MIN_LENGTH: usize = 8;
/// Long inputs would make hashing a denial-of-service lever.
pub const MAX_LENGTH: usize = 128;

pub fn validate(field: &'static str, password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(AppError::bad_input(
            field,
            format!("password must have at least {MIN_LENGTH} characters"),
        ));
    }
    if chars > MAX_LENGTH {
        return Err(AppError::bad_input(
            field,
            format!("password must have at most {MAX_LENGTH} characters"),
        ));
    }
    Ok(())
}

pub async fn hash(password: &str) -> AppResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(anyhow::anyhow!("hashing password: {e}")))
    })
    .await
    .map_err(AppError::internal)?
}

/// `None` as the hash still spends the time of a real check, so response timing does not
/// reveal whether an email has an account.
pub async fn verify(password: &str, hash: Option<&str>) -> AppResult<bool> {
    let password = password.to_owned();
    let hash = hash.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let stored = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&stored).map_err(|e| {
            AppError::internal(anyhow::anyhow!("stored password hash is malformed: {e}"))
        })?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known)
    })
    .await
    .map_err(AppError::internal)?
}

/// argon2id of a random password nobody knows, with the crate's default parameters.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$kvWJ3QmhVn3D1WBwdz1pTBvaFhr7OTeHZ5YtRRd9T9A";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let h = hash("correct horse").await.expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", Some(&h)).await.expect("verify"));
        assert!(!verify("wrong horse", Some(&h)).await.expect("verify"));
        assert!(!verify("correct horse", None).await.expect("dummy verify"));
    }

    #[test]
    fn length_limits() {
        assert!(validate("password", "short").is_err());
        assert!(validate("password", &"x".repeat(129)).is_err());
        assert!(validate("password", "long enough").is_ok());
    }
}
