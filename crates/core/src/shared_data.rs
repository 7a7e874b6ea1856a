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
    locate(dir, std::env::var("CI").is_ok_and(|v| v == "true"))
}

fn locate(dir: PathBuf, ci: bool) -> Option<PathBuf> {
    if dir.is_dir() {
        return Some(dir.canonicalize().unwrap_or(dir));
    }
    if ci {
        panic!("../shared/data is absent, and CI must have it (looked in {})", dir.display());
    }
    println!("skipped: ../shared/data is absent (a fresh clone has no shared data)");
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_folder_is_skipped_outside_ci_and_fatal_in_ci() {
        let absent = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/no-such-shared-data"));
        assert_eq!(locate(absent.clone(), false), None);
        assert!(std::panic::catch_unwind(|| locate(absent, true)).is_err());
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(locate(here.clone(), true), Some(here.canonicalize().unwrap()));
    }
}
