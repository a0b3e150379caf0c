use std::process::Command;

use crate::common::BIN;

#[test]
fn every_command_has_help() {
    for cmd in [
        &[][..],
        &["generate"],
        &["simulate"],
        &["load"],
        &["tables"],
        &["run"],
        &["test"],
        &["build"],
        &["compile"],
        &["ls"],
        &["query"],
    ] {
        let out = Command::new(BIN).args(cmd).arg("--help").output().unwrap();
        assert!(out.status.success(), "{cmd:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage:"), "{cmd:?}: {text}");
    }
}

#[test]
fn bad_usage_exits_2_with_a_message() {
    let out = Command::new(BIN)
        .args(["generate", "--customers", "many"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--customers"));
}
