//! Access tokens (HS256 JWT) and opaque refresh tokens (stored only as SHA-256).

use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::AuthError;
use crate::users::{Role, User};

const ACCESS: &str = "access";

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub role: Role,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
    /// The user's token version when issued; a password change bumps it.
    pub ver: i32,
    /// The refresh-token family (sign-in) this token belongs to: logout or reuse detection
    /// revokes the family, and with it this token.
    pub sid: Uuid,
    pub typ: String,
}

pub fn issue_access_token(
    secret: &str,
    user: &User,
    sid: Uuid,
    ttl_secs: i64,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    let claims = AccessClaims {
        sub: user.id,
        role: user.role,
        iat: now.timestamp(),
        exp: now.timestamp() + ttl_secs,
        jti: Uuid::new_v4(),
        ver: user.token_version,
        sid,
        typ: ACCESS.into(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|_| AuthError::InvalidToken)
}

/// Checks signature (HS256 only, so `alg: none` and key confusion fail), expiry and type.
pub fn decode_access_token(secret: &str, token: &str) -> Result<AccessClaims, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub", "iat"]);
    let data = jsonwebtoken::decode::<AccessClaims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|_| AuthError::InvalidToken)?;
    if data.claims.typ != ACCESS {
        return Err(AuthError::InvalidToken);
    }
    Ok(data.claims)
}

/// A new refresh token: 32 random bytes, URL-safe base64.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: Uuid::now_v7(),
            email: "a@example.com".into(),
            name: String::new(),
            password_hash: String::new(),
            role: Role::User,
            status: crate::users::UserStatus::Active,
            token_version: 3,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn round_trip() {
        let u = user();
        let sid = Uuid::now_v7();
        let token = issue_access_token("s3cret", &u, sid, 900, Utc::now()).expect("issue");
        let claims = decode_access_token("s3cret", &token).expect("decode");
        assert_eq!(claims.sub, u.id);
        assert_eq!(claims.ver, 3);
        assert_eq!(claims.role, Role::User);
        assert_eq!(claims.sid, sid);
    }

    #[test]
    fn wrong_secret_expired_and_tampered_fail() {
        let u = user();
        let token =
            issue_access_token("s3cret", &u, Uuid::now_v7(), 900, Utc::now()).expect("issue");
        assert!(decode_access_token("other", &token).is_err());
        let old = issue_access_token(
            "s3cret",
            &u,
            Uuid::now_v7(),
            900,
            Utc::now() - chrono::Duration::hours(1),
        )
        .expect("issue");
        assert!(decode_access_token("s3cret", &old).is_err());
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"00000000-0000-0000-0000-000000000000","role":"ADMIN"}"#);
        parts[1] = &forged_payload;
        assert!(decode_access_token("s3cret", &parts.join(".")).is_err());
    }

    #[test]
    fn alg_none_is_rejected() {
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"alg":"none","typ":"JWT"}"#);
        let u = user();
        let body = serde_json::json!({"sub": u.id, "role": "ADMIN", "exp": Utc::now().timestamp() + 600,
            "iat": Utc::now().timestamp(), "jti": Uuid::new_v4(), "ver": 3, "sid": Uuid::new_v4(),
            "typ": "access"});
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body.to_string());
        assert!(decode_access_token("s3cret", &format!("{header}.{payload}.")).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        assert_ne!(a, new_refresh_token());
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_ne!(hash_refresh_token(&a), a);
    }
}
