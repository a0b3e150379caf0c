//! Faults and abuse: the c360 binary probed as an adversarial tester would — processes killed
//! at commit points, Delta logs and data files corrupted or rolled back, hostile input files,
//! hostile HTTP. Real processes, real Delta tables in temp dirs, a real server on loopback.
//! docs/reliability.md lists what each module guarantees and how many cases it checks.

#[path = "../cli/common.rs"]
#[allow(dead_code)]
mod common;

mod corrupt;
mod http;
mod kill;
mod loads;
mod rollback;
