//! Recipients and their bearer tokens, kept in `<lake>/_c360/sharing/recipients.json` (owner-only
//! permissions). A token is 256 random bits (`dss_…`), shown once when it is issued; only its
//! SHA-256 is stored. A recipient may expire and may be revoked; either makes every request with
//! its token a 401 at once (the store is re-read when the file changes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::is_name;
use crate::error::{Result, SharingError};

/// One recipient as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    /// Name (as listed in shares and row filters).
    pub name: String,
    /// SHA-256 (lower-case hex) of the current token.
    pub token_sha256: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the current token was issued.
    pub token_issued_at: DateTime<Utc>,
    /// After this instant the token is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// Since this instant the token is refused.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Recipient {
    /// Whether the token may be used at `now`.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// The recipients file of a lake.
#[derive(Debug, Clone)]
pub struct RecipientStore {
    path: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    recipients: BTreeMap<String, Recipient>,
}

/// Lower-case hex SHA-256 of a token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("dss_{}", hex::encode(bytes))
}

impl RecipientStore {
    /// The store of the lake whose c360 folder is `meta_dir` (`<lake>/_c360`).
    pub fn new(meta_dir: &Path) -> RecipientStore {
        RecipientStore {
            path: meta_dir.join("sharing").join("recipients.json"),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, message: impl ToString) -> SharingError {
        SharingError::Store {
            path: self.path.clone(),
            message: message.to_string(),
        }
    }

    fn load(&self) -> Result<File> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| self.err(e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File::default()),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Writes atomically (temporary file, then rename), readable by the owner only.
    fn save(&self, file: &File) -> Result<()> {
        use std::io::Write;
        let dir = self.path.parent().expect("store path has a parent");
        std::fs::create_dir_all(dir).map_err(|e| self.err(e))?;
        let tmp = dir.join(format!(".recipients.{}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let text = serde_json::to_string_pretty(file).map_err(|e| self.err(e))?;
        let mut f = options.open(&tmp).map_err(|e| self.err(e))?;
        f.write_all(text.as_bytes()).map_err(|e| self.err(e))?;
        f.sync_all().map_err(|e| self.err(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.err(e))
    }

    /// Every recipient, by name.
    pub fn list(&self) -> Result<Vec<Recipient>> {
        Ok(self.load()?.recipients.into_values().collect())
    }

    /// Adds recipient `name`, expiring at `expires_at`; returns its token (shown once).
    pub fn add(
        &self,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        if !is_name(name) {
            return Err(SharingError::InvalidParameter(format!(
                "recipient name '{name}' may hold only letters, digits, '_' and '-'"
            )));
        }
        let mut file = self.load()?;
        if file.recipients.contains_key(name) {
            return Err(SharingError::InvalidParameter(format!(
                "recipient '{name}' exists (revoke it, or issue a new token with `c360 share profile`)"
            )));
        }
        let token = new_token();
        file.recipients.insert(
            name.to_string(),
            Recipient {
                name: name.to_string(),
                token_sha256: token_digest(&token),
                created_at: now,
                token_issued_at: now,
                expires_at,
                revoked_at: None,
            },
        );
        self.save(&file)?;
        Ok(token)
    }

    /// Issues a new token for active recipient `name` (the old one stops working); returns it.
    pub fn rotate(&self, name: &str, now: DateTime<Utc>) -> Result<String> {
        let mut file = self.load()?;
        let r = file
            .recipients
            .get_mut(name)
            .ok_or_else(|| SharingError::NotFound(format!("no recipient '{name}'")))?;
        if !r.active(now) {
            return Err(SharingError::InvalidParameter(format!(
                "recipient '{name}' is revoked or expired; add a new recipient"
            )));
        }
        let token = new_token();
        r.token_sha256 = token_digest(&token);
        r.token_issued_at = now;
        self.save(&file)?;
        Ok(token)
    }

    /// Revokes recipient `name` at `now`.
    pub fn revoke(&self, name: &str, now: DateTime<Utc>) -> Result<()> {
        let mut file = self.load()?;
        let r = file
            .recipients
            .get_mut(name)
            .ok_or_else(|| SharingError::NotFound(format!("no recipient '{name}'")))?;
        r.revoked_at.get_or_insert(now);
        self.save(&file)
    }

    /// The active recipient holding `token` at `now`.
    pub fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Result<Recipient> {
        let digest = token_digest(token);
        let file = self.load()?;
        let found = file
            .recipients
            .into_values()
            .find(|r| constant_time_eq(r.token_sha256.as_bytes(), digest.as_bytes()));
        match found {
            Some(r) if r.active(now) => Ok(r),
            Some(r) if r.revoked_at.is_some() => Err(SharingError::Unauthenticated(
                "the bearer token was revoked".into(),
            )),
            Some(_) => Err(SharingError::Unauthenticated(
                "the bearer token has expired".into(),
            )),
            None => Err(SharingError::Unauthenticated(
                "the bearer token is not valid".into(),
            )),
        }
    }

    /// Recipient `name`, if any.
    pub fn get(&self, name: &str) -> Result<Option<Recipient>> {
        Ok(self.load()?.recipients.remove(name))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The profile file a Delta Sharing client loads (`shareCredentialsVersion` 1).
pub fn profile_json(endpoint: &str, token: &str, expires_at: Option<DateTime<Utc>>) -> String {
    let mut profile = serde_json::json!({
        "shareCredentialsVersion": 1,
        "endpoint": endpoint,
        "bearerToken": token,
    });
    if let Some(e) = expires_at {
        profile["expirationTime"] =
            serde_json::Value::String(e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    serde_json::to_string_pretty(&profile).expect("JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_expire_rotate_and_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let store = RecipientStore::new(dir.path());
        let now = Utc::now();
        let token = store
            .add("acme", Some(now + chrono::Duration::days(1)), now)
            .unwrap();
        assert!(!std::fs::read_to_string(store.path())
            .unwrap()
            .contains(&token));
        assert_eq!(store.authenticate(&token, now).unwrap().name, "acme");
        assert!(store
            .authenticate(&token, now + chrono::Duration::days(2))
            .is_err());
        assert!(store.authenticate("dss_wrong", now).is_err());
        assert!(store.add("acme", None, now).is_err());
        assert!(store.add("../x", None, now).is_err());
        let new = store.rotate("acme", now).unwrap();
        assert!(store.authenticate(&token, now).is_err());
        assert!(store.authenticate(&new, now).is_ok());
        store.revoke("acme", now).unwrap();
        let e = store.authenticate(&new, now).unwrap_err();
        assert!(e.to_string().contains("revoked"));
    }
}
