//! Where tests and benchmarks find the reference data (`../shared/data` beside the
//! repository: real histories and traces nobody on the project wrote, read in place and
//! never copied in). A fresh clone has no such folder, so tests that need it skip with a
//! plain message; CI must have it, so there a missing folder is a failure.

use std::path::PathBuf;

/// The data folder, or `None` (after saying so) when it is absent outside CI.
///
/// # Panics
/// When the folder is absent and `CI=true`.
pub fn shared_data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    if dir.is_dir() {
        return Some(dir.canonicalize().unwrap_or(dir));
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("../shared/data is absent, and CI must have it (looked in {})", dir.display());
    }
    println!("skipped: ../shared/data is absent (a fresh clone has no shared data)");
    None
}
