//! The first sign-in: a server whose `[server]` table lists no users gets one, `admin`, with a
//! random password that is printed once on the first start. Only its argon2id hash is kept, in
//! `<lake>/_c360/server_admin.json` (owner-only permissions); later starts read it back. Listing
//! users in `c360.toml` turns this off; deleting the file makes the next start print a new
//! password.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{hash_password, Role, ServerConfig, UserConfig};

/// The file holding the generated admin's hash, under the lake's `_c360/`.
pub const ADMIN_FILE: &str = "server_admin.json";

/// Name of the generated user.
pub const ADMIN_NAME: &str = "admin";

/// What [`first_admin`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstAdmin {
    /// `[server]` lists users: nothing generated.
    Configured,
    /// The admin generated on an earlier start was loaded.
    Loaded(PathBuf),
    /// A new admin was generated: the password (shown once) and where its hash is kept.
    Created {
        /// The password, to print once.
        password: String,
        /// The file holding its hash.
        path: PathBuf,
    },
}

/// The generated admin cannot be read or stored.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not what this module writes.
    #[error("{path}: not a generated admin ({reason}); delete it to generate a new password")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Hashing failed.
    #[error("hashing the generated password: {0}")]
    Hash(String),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    name: String,
    password_hash: String,
}

/// Adds the generated admin to `config` when it lists no users, creating it on the first start
/// under `meta_dir` (the lake's `_c360/`).
pub fn first_admin(
    config: &mut ServerConfig,
    meta_dir: &Path,
) -> Result<FirstAdmin, BootstrapError> {
    if !config.users.is_empty() {
        return Ok(FirstAdmin::Configured);
    }
    let path = meta_dir.join(ADMIN_FILE);
    let io = |source| BootstrapError::Io {
        path: path.clone(),
        source,
    };
    let outcome = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let stored: Stored =
                serde_json::from_str(&text).map_err(|e| BootstrapError::Invalid {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            push(config, stored.password_hash);
            FirstAdmin::Loaded(path.clone())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let password = new_password();
            let hash = hash_password(&password).map_err(|e| BootstrapError::Hash(e.to_string()))?;
            std::fs::create_dir_all(meta_dir).map_err(io)?;
            let text = serde_json::to_string_pretty(&Stored {
                name: ADMIN_NAME.into(),
                password_hash: hash.clone(),
            })
            .map_err(|e| BootstrapError::Hash(e.to_string()))?;
            write_private(&path, &text).map_err(io)?;
            push(config, hash);
            FirstAdmin::Created {
                password,
                path: path.clone(),
            }
        }
        Err(e) => return Err(io(e)),
    };
    config.validate().map_err(|e| BootstrapError::Invalid {
        path,
        reason: e.to_string(),
    })?;
    Ok(outcome)
}

fn push(config: &mut ServerConfig, password_hash: String) {
    config.users.push(UserConfig {
        name: ADMIN_NAME.into(),
        role: Role::Admin,
        password_hash,
    });
}

/// 20 random characters from an unambiguous alphabet (~115 bits).
fn new_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Writes `text` to a new file only its owner may read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::verify_password;

    #[test]
    fn the_first_start_creates_an_admin_and_later_starts_load_it() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("_c360");
        let mut config = ServerConfig::default();
        let FirstAdmin::Created { password, path } = first_admin(&mut config, &meta).unwrap()
        else {
            panic!("expected a new admin")
        };
        assert_eq!(password.len(), 20);
        assert_eq!(config.users.len(), 1);
        assert_eq!(config.users[0].role, Role::Admin);
        assert!(verify_password(&password, &config.users[0].password_hash));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&password), "only the hash is stored");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner-only");
        }

        let mut again = ServerConfig::default();
        assert_eq!(
            first_admin(&mut again, &meta).unwrap(),
            FirstAdmin::Loaded(path.clone())
        );
        assert!(verify_password(&password, &again.users[0].password_hash));

        std::fs::write(&path, "{\"name\": 1}").unwrap();
        assert!(first_admin(&mut ServerConfig::default(), &meta).is_err());
    }

    #[test]
    fn configured_users_turn_it_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::default();
        config.users.push(UserConfig {
            name: "ana".into(),
            role: Role::Analyst,
            password_hash: hash_password("x").unwrap(),
        });
        assert_eq!(
            first_admin(&mut config, dir.path()).unwrap(),
            FirstAdmin::Configured
        );
        assert!(!dir.path().join(ADMIN_FILE).exists());
    }
}
