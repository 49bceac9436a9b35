//! Signing and encryption keys: from settings, else generated once into the data directory.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine;
use rand::RngCore;

use crate::config::{Config, Secret};

#[derive(Clone, Debug)]
pub struct Keys {
    pub jwt_secret: Secret,
    /// 32 bytes, base64; encrypts secrets stored in the database.
    pub encryption_key: Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    Setting,
    File,
    Generated,
}

impl Keys {
    pub fn load(config: &Config) -> anyhow::Result<(Self, [KeyOrigin; 2])> {
        let (jwt_secret, jwt_origin) =
            load_or_generate(config.jwt_secret.as_ref(), &config.data_dir, "jwt_secret")?;
        let (encryption_key, enc_origin) = load_or_generate(
            config.encryption_key.as_ref(),
            &config.data_dir,
            "encryption_key",
        )?;
        Ok((
            Self {
                jwt_secret,
                encryption_key,
            },
            [jwt_origin, enc_origin],
        ))
    }
}

impl Keys {
    /// The keys if they exist (settings or files), without generating anything.
    pub fn load_existing(config: &Config) -> Option<Self> {
        let read = |setting: Option<&Secret>, name: &str| {
            setting.cloned().or_else(|| {
                std::fs::read_to_string(config.data_dir.join(name))
                    .ok()
                    .map(|v| Secret::new(v.trim()))
            })
        };
        Some(Self {
            jwt_secret: read(config.jwt_secret.as_ref(), "jwt_secret")?,
            encryption_key: read(config.encryption_key.as_ref(), "encryption_key")?,
        })
    }
}

fn load_or_generate(
    setting: Option<&Secret>,
    data_dir: &Path,
    name: &str,
) -> anyhow::Result<(Secret, KeyOrigin)> {
    if let Some(value) = setting {
        return Ok((value.clone(), KeyOrigin::Setting));
    }
    let path = data_dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "{} is readable by other users (mode {mode:o}); chmod 600 it",
                path.display()
            );
        }
        return Ok((Secret::new(existing.trim()), KeyOrigin::File));
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let value = base64::engine::general_purpose::STANDARD.encode(bytes);
    // create_new: two processes starting together must not overwrite each other's key.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            file.write_all(value.as_bytes())?;
            file.sync_all()?;
            tracing::info!(file = %path.display(), "generated {name}");
            Ok((Secret::new(value), KeyOrigin::Generated))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((
            Secret::new(std::fs::read_to_string(&path)?.trim()),
            KeyOrigin::File,
        )),
        Err(e) => Err(anyhow::anyhow!("cannot write {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_with_private_permissions_and_reused() {
        let dir = std::env::temp_dir().join(format!("ringcast-keys-{}", uuid::Uuid::new_v4()));
        let (first, origin) = load_or_generate(None, &dir, "jwt_secret").expect("generate");
        assert_eq!(origin, KeyOrigin::Generated);
        let mode = std::fs::metadata(dir.join("jwt_secret"))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (second, origin) = load_or_generate(None, &dir, "jwt_secret").expect("reuse");
        assert_eq!(origin, KeyOrigin::File);
        assert_eq!(first, second);
        let _ = std::fs::remove_dir_all(dir);
    }
}
