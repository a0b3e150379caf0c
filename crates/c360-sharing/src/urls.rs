//! Pre-signed file URLs: `/delta-sharing/files/{snapshot}/{file}?r=…&exp=…&sig=…`, where `sig` is
//! an HMAC-SHA256, under a key kept in `<lake>/_c360/sharing/url_key` (owner-only), of the
//! snapshot, file, recipient and expiry. A URL works without the bearer token (clients hand it
//! to their HTTP or object-store reader), only until it expires, and only while its recipient
//! is active; any change to it is a 403.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Result, SharingError};

/// The parts of a file URL as a client sent them.
#[derive(Debug, Clone, Copy)]
pub struct SignedUrl<'a> {
    /// Snapshot folder (32 hex digits).
    pub snapshot: &'a str,
    /// File name (`part-NNNNN.parquet`).
    pub file: &'a str,
    /// Recipient the URL was issued to.
    pub recipient: &'a str,
    /// Expiry, Unix seconds.
    pub expires: i64,
    /// Hex HMAC.
    pub signature: &'a str,
}

/// Signs and checks file URLs.
#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

impl UrlSigner {
    /// The signer of the lake whose c360 folder is `meta_dir`, creating its key on first use.
    pub fn open(meta_dir: &Path) -> Result<UrlSigner> {
        let path = meta_dir.join("sharing").join("url_key");
        let err = |e: std::io::Error| SharingError::Store {
            path: path.clone(),
            message: e.to_string(),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .ok()
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| SharingError::Store {
                        path: path.clone(),
                        message: "not a 32-byte hex key; delete it to make a new one".into(),
                    })?;
                let mut key = [0u8; 32];
                key.copy_from_slice(&bytes);
                Ok(UrlSigner { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use rand::RngCore;
                use std::io::Write;
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                std::fs::create_dir_all(path.parent().expect("parent")).map_err(err)?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                match options.open(&path) {
                    Ok(mut f) => {
                        f.write_all(hex::encode(key).as_bytes()).map_err(err)?;
                        Ok(UrlSigner { key })
                    }
                    // Created by another process in between: read theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        UrlSigner::open(meta_dir)
                    }
                    Err(e) => Err(err(e)),
                }
            }
            Err(e) => Err(err(e)),
        }
    }

    fn signature(&self, snapshot: &str, file: &str, recipient: &str, expires: i64) -> String {
        let message = format!("{snapshot}\n{file}\n{recipient}\n{expires}");
        hex::encode(hmac_sha256(&self.key, message.as_bytes()))
    }

    /// The path and query of `file` of `snapshot` for `recipient`, valid until `expires`
    /// (Unix seconds).
    pub fn sign(&self, snapshot: &str, file: &str, recipient: &str, expires: i64) -> String {
        format!(
            "/delta-sharing/files/{snapshot}/{file}?r={recipient}&exp={expires}&sig={}",
            self.signature(snapshot, file, recipient, expires)
        )
    }

    /// Checks a signed URL's parts at `now` (Unix seconds); returns the file's path under
    /// `snapshots_dir` when it is genuine and unexpired.
    pub fn verify(&self, snapshots_dir: &Path, url: &SignedUrl<'_>, now: i64) -> Result<PathBuf> {
        let SignedUrl {
            snapshot,
            file,
            recipient,
            expires,
            signature,
        } = *url;
        let denied = |why: &str| Err(SharingError::PermissionDenied(why.to_string()));
        let snapshot_ok = snapshot.len() == 32 && snapshot.chars().all(|c| c.is_ascii_hexdigit());
        let file_ok = file.len() == 18
            && file.starts_with("part-")
            && file.ends_with(".parquet")
            && file[5..10].chars().all(|c| c.is_ascii_digit());
        if !snapshot_ok || !file_ok {
            return denied("not a shared file");
        }
        let expected = self.signature(snapshot, file, recipient, expires);
        let same = expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return denied("the file URL's signature does not match");
        }
        if now >= expires {
            return denied("the file URL has expired; query the table again");
        }
        Ok(snapshots_dir.join(snapshot).join(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_python_hmac_and_urls_verify() {
        let dir = tempfile::tempdir().unwrap();
        let s = UrlSigner::open(dir.path()).unwrap();
        let again = UrlSigner::open(dir.path()).unwrap();
        assert_eq!(s.key, again.key, "the key persists");
        let snap = "0123456789abcdef0123456789abcdef";
        let url = s.sign(snap, "part-00000.parquet", "acme", 2_000);
        let sig = url.rsplit("sig=").next().unwrap();
        let root = Path::new("/x");
        let check = |snapshot: &str, file: &str, recipient: &str, expires: i64, now: i64| {
            let url = SignedUrl {
                snapshot,
                file,
                recipient,
                expires,
                signature: sig,
            };
            s.verify(root, &url, now).is_ok()
        };
        assert!(check(snap, "part-00000.parquet", "acme", 2_000, 1_000));
        assert!(
            !check(snap, "part-00000.parquet", "acme", 2_000, 2_000),
            "expired"
        );
        assert!(
            !check(snap, "part-00001.parquet", "acme", 2_000, 1_000),
            "other file"
        );
        assert!(
            !check(snap, "part-00000.parquet", "beta", 2_000, 1_000),
            "other recipient"
        );
        assert!(
            !check(snap, "part-00000.parquet", "acme", 3_000, 1_000),
            "later expiry"
        );
        let traversal = "../../sharing/xxxxxxxxxxxxxxxxxx";
        assert!(!check(
            traversal,
            "part-00000.parquet",
            "acme",
            2_000,
            1_000
        ));
        // Computed independently with Python's hmac module: key = 32 × 0x0b, "Hi There".
        let key = [0x0bu8; 32];
        assert_eq!(
            hex::encode(hmac_sha256(&key, b"Hi There")),
            "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"
        );
    }
}
