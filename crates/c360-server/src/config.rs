//! `[server]` of `c360.toml`: where to listen, who may sign in, which API tokens are valid.
//!
//! ```toml
//! [server]
//! bind = "127.0.0.1:8360"          # default; loopback only
//! session_hours = 12               # default
//! refresh_seconds = 5              # how often table versions are re-checked (default 5)
//! header_read_timeout_seconds = 10 # a request's headers must arrive within this (default 10)
//! max_connections = 512            # open connections at most (default 512)
//! login_free_attempts = 5          # sign-ins per user before backoff (default 5; 0: off)
//! login_max_lockout_seconds = 900  # longest sign-in lockout (default 900)
//!
//! [[server.users]]
//! name = "ana"
//! role = "analyst"                 # admin | analyst | marketing
//! password_hash = "$argon2id$v=19$m=19456,t=2,p=1$..."   # `c360 serve --hash-password`
//!
//! [[server.tokens]]
//! name = "reporting-bot"
//! role = "analyst"
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # `c360 serve --new-token`
//! ```
//!
//! Passwords are stored only as argon2 PHC strings and tokens only as SHA-256 digests (a token is
//! 256 random bits, so a fast digest is safe and keeps bearer checks cheap).

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a signed-in user or token may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including pipeline internals.
    Admin,
    /// Every page, unmasked.
    Analyst,
    /// Customer-facing pages with names and emails masked; no pipeline page.
    Marketing,
}

impl Role {
    /// The role's name as written in the config.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Marketing => "marketing",
        }
    }

    /// Whether names and emails are masked for this role.
    pub fn masks_pii(self) -> bool {
        self == Role::Marketing
    }

    /// Whether the pipeline and data-quality page (run history, lineage, quarantine) is visible.
    pub fn sees_pipeline(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst)
    }
}

/// The `[server]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:8360`).
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// How long a sign-in lasts, in hours (default 12).
    #[serde(default = "default_session_hours")]
    pub session_hours: u32,
    /// How often the server re-checks table versions and reloads changed tables, in seconds
    /// (default 5).
    #[serde(default = "default_refresh")]
    pub refresh_seconds: u64,
    /// Most fact-table rows held in memory per customer for the deep dive (about 50 bytes a row;
    /// default 25,000,000; 0 turns the index off). A larger fact is scanned per request.
    #[serde(default = "default_fact_rows")]
    pub fact_index_max_rows: usize,
    /// Mark the session cookie `Secure` (set when a TLS proxy is in front; default false).
    #[serde(default)]
    pub secure_cookies: bool,
    /// Seconds a client gets to send a request's headers, idle keep-alive included; then the
    /// connection is closed (default 10).
    #[serde(default = "default_header_timeout")]
    pub header_read_timeout_seconds: u64,
    /// Most connections open at once; at the cap new ones wait to be accepted (default 512,
    /// lowered to the open-file limit minus 64 when that is smaller).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Sign-in attempts per user name before exponential backoff starts (an address gets four
    /// times as many; default 5; 0 turns throttling off).
    #[serde(default = "default_login_free")]
    pub login_free_attempts: u32,
    /// Longest sign-in lockout, in seconds (default 900, at most 3600).
    #[serde(default = "default_login_lockout")]
    pub login_max_lockout_seconds: u64,
    /// Who may sign in with a password.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// API tokens for `Authorization: Bearer <token>`.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// `[server.sharing]`: Delta Sharing shares served under `/delta-sharing/` (docs/sharing.md).
    #[serde(default)]
    pub sharing: c360_sharing::SharingConfig,
}

/// One user of `[[server.users]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Sign-in name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Argon2 PHC string of the password.
    pub password_hash: String,
}

/// One token of `[[server.tokens]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who the token belongs to (shown in logs and `/api/me`).
    pub name: String,
    /// Role.
    pub role: Role,
    /// Lower-case hex SHA-256 of the token.
    pub sha256: String,
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8360))
}
fn default_session_hours() -> u32 {
    12
}
fn default_refresh() -> u64 {
    5
}
fn default_fact_rows() -> usize {
    25_000_000
}
fn default_header_timeout() -> u64 {
    10
}
fn default_max_connections() -> usize {
    512
}
fn default_login_free() -> u32 {
    5
}
fn default_login_lockout() -> u64 {
    900
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: default_bind(),
            session_hours: default_session_hours(),
            refresh_seconds: default_refresh(),
            fact_index_max_rows: default_fact_rows(),
            secure_cookies: false,
            header_read_timeout_seconds: default_header_timeout(),
            max_connections: default_max_connections(),
            login_free_attempts: default_login_free(),
            login_max_lockout_seconds: default_login_lockout(),
            users: Vec::new(),
            tokens: Vec::new(),
            sharing: c360_sharing::SharingConfig::default(),
        }
    }
}

/// A `[server]` table that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Wrong shape or type (unknown key, bad role, bad address…).
    #[error("[server]: {0}")]
    Invalid(String),
}

impl ServerConfig {
    /// Parses the `[server]` table of `c360.toml` (strict: unknown keys are errors) and checks
    /// that every hash is well-formed and every name unique.
    pub fn from_toml(table: toml::Table) -> Result<ServerConfig, ConfigError> {
        let config: ServerConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks hashes and uniqueness (also used for configs built in code).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::BTreeSet::new();
        for user in &self.users {
            if user.name.trim().is_empty() || !names.insert(user.name.clone()) {
                return Err(ConfigError::Invalid(format!(
                    "user name '{}' is empty or used twice",
                    user.name
                )));
            }
            argon2::password_hash::phc::PasswordHash::new(&user.password_hash).map_err(|e| {
                ConfigError::Invalid(format!(
                    "user '{}': password_hash is not an argon2 PHC string ({e}); make one with `c360 serve --hash-password`",
                    user.name
                ))
            })?;
        }
        for token in &self.tokens {
            let ok = token.sha256.len() == 64
                && token
                    .sha256
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
            if !ok {
                return Err(ConfigError::Invalid(format!(
                    "token '{}': sha256 must be 64 lower-case hex digits; make one with `c360 serve --new-token`",
                    token.name
                )));
            }
        }
        self.sharing
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if self.session_hours == 0 {
            return Err(ConfigError::Invalid(
                "session_hours must be at least 1".into(),
            ));
        }
        let ranges = [
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds,
                1,
                3600,
            ),
            ("max_connections", self.max_connections as u64, 1, 1_000_000),
            (
                "login_max_lockout_seconds",
                self.login_max_lockout_seconds,
                1,
                3600,
            ),
        ];
        for (key, value, min, max) in ranges {
            if value < min || value > max {
                return Err(ConfigError::Invalid(format!(
                    "{key} must be between {min} and {max}"
                )));
            }
        }
        Ok(())
    }
}

/// The argon2id PHC string of `password` with a fresh random salt, for `password_hash`.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::PasswordHasher;
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `hash` (constant-time in the argon2 output).
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    let Ok(parsed) = argon2::password_hash::phc::PasswordHash::new(hash) else {
        return false;
    };
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A new random API token and the SHA-256 digest to put in `[[server.tokens]]`.
pub fn new_token() -> (String, String) {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("c360_{}", hex::encode(bytes));
    let digest = token_digest(&token);
    (token, digest)
}

/// Lower-case hex SHA-256 of a token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bind_to_loopback() {
        let config = ServerConfig::from_toml(toml::Table::new()).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8360");
        assert_eq!(config.session_hours, 12);
    }

    #[test]
    fn unknown_keys_and_bad_roles_are_refused() {
        let table: toml::Table = toml::from_str("bnid = \"0.0.0.0:80\"").unwrap();
        assert!(ServerConfig::from_toml(table).is_err());
        let hash = hash_password("pw").unwrap();
        let text =
            format!("[[users]]\nname = \"x\"\nrole = \"root\"\npassword_hash = \"{hash}\"\n");
        let table: toml::Table = toml::from_str(&text).unwrap();
        assert!(ServerConfig::from_toml(table).is_err());
    }

    #[test]
    fn passwords_and_tokens_round_trip() {
        let hash = hash_password("s3cret").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("s3cret", &hash));
        assert!(!verify_password("s3cret ", &hash));
        let (token, digest) = new_token();
        assert_eq!(token_digest(&token), digest);
        let text = format!(
            "[[users]]\nname = \"ana\"\nrole = \"analyst\"\npassword_hash = \"{hash}\"\n\
             [[tokens]]\nname = \"bot\"\nrole = \"marketing\"\nsha256 = \"{digest}\"\n"
        );
        let config = ServerConfig::from_toml(toml::from_str(&text).unwrap()).unwrap();
        assert_eq!(config.users[0].role, Role::Analyst);
        assert_eq!(config.tokens[0].role, Role::Marketing);
    }
}
