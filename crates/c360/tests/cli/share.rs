//! `c360 share`: recipients are added with a profile file holding a token that is stored only
//! as its SHA-256, listed with their state, given new tokens, and revoked.

use crate::common::*;

#[test]
fn share_recipients_and_profiles() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let profile = tmp.path().join("acme.share");
    let out = ok(c360(&lake)
        .args([
            "share",
            "recipient",
            "add",
            "acme",
            "--expires-in-days",
            "30",
            "--endpoint",
            "https://c360.example.com/delta-sharing/",
            "-o",
        ])
        .arg(&profile));
    assert!(stdout(&out).contains("recipient 'acme' added"));
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    assert_eq!(p["shareCredentialsVersion"], 1);
    assert_eq!(p["endpoint"], "https://c360.example.com/delta-sharing");
    let token = p["bearerToken"].as_str().unwrap().to_string();
    assert!(token.starts_with("dss_") && token.len() == 68);
    assert!(p["expirationTime"].is_string());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&profile).unwrap().permissions().mode() & 0o077,
            0
        );
    }
    let store = std::fs::read_to_string(lake.join("_c360/sharing/recipients.json")).unwrap();
    assert!(!store.contains(&token), "only the digest is stored");

    // Without --endpoint the profile points at [server] bind (the default 127.0.0.1:8360).
    let again = tmp.path().join("again.share");
    ok(c360(&lake)
        .args(["share", "profile", "acme", "-o"])
        .arg(&again));
    let q: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
    assert_eq!(q["endpoint"], "http://127.0.0.1:8360/delta-sharing");
    assert_ne!(q["bearerToken"], p["bearerToken"], "a new token");

    let list = stdout(&ok(c360(&lake).args(["share", "recipient", "list"])));
    assert!(
        list.lines()
            .any(|l| l.starts_with("acme") && l.contains("active")),
        "{list}"
    );
    ok(c360(&lake).args(["share", "recipient", "revoke", "acme"]));
    let list = stdout(&ok(c360(&lake).args(["share", "recipient", "list"])));
    assert!(
        list.lines()
            .any(|l| l.starts_with("acme") && l.contains("revoked")),
        "{list}"
    );

    for args in [
        vec!["share", "profile", "acme"],
        vec!["share", "recipient", "add", "acme"],
        vec!["share", "recipient", "add", "../evil"],
        vec!["share", "recipient", "revoke", "nobody"],
    ] {
        let out = c360(&lake)
            .current_dir(tmp.path())
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
    }
}
