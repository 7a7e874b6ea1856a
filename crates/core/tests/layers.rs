//! The module layers hold: a system imports only from below it (kernel, blocks, scenario
//! and definition types), never the catalog that lists it or the run layer that looks it
//! up; and the scenario and system-definition layers never name the catalog either. This
//! is what lets a new system be one folder plus one catalog line without a cycle.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether a line of code names one of `modules` as a path: `crate::catalog`,
/// `crate::{catalog, ..}`, `super::super::run` and the like. Comments are ignored.
fn names_module(line: &str, modules: &[&str]) -> bool {
    let code = line.split("//").next().unwrap_or("");
    modules.iter().any(|m| {
        code.contains(&format!("crate::{m}"))
            || code.contains(&format!("super::super::{m}"))
            || (code.contains("crate::{")
                && (code.contains(&format!("{{{m}"))
                    || code.contains(&format!(" {m},"))
                    || code.contains(&format!(" {m}}}"))))
    })
}

/// Lines of the files under `src/<dir>` that name one of `modules`.
fn offending(dir: &str, modules: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(!files.is_empty(), "no sources under {}", root.display());
    let mut bad = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            if names_module(line, modules) {
                bad.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    bad
}

#[test]
fn systems_import_neither_the_catalog_nor_the_run_layer() {
    let bad = offending("systems", &["catalog", "run"]);
    assert!(bad.is_empty(), "systems must import only from below them:\n{}", bad.join("\n"));
}

#[test]
fn scenario_and_definitions_do_not_need_the_catalog() {
    for dir in ["scenario", "system", "sim", "check", "blocks"] {
        let bad = offending(dir, &["catalog", "run", "systems"]);
        assert!(bad.is_empty(), "{dir} must not reach up:\n{}", bad.join("\n"));
    }
}

#[test]
fn the_scan_flags_every_shape_of_import_and_nothing_else() {
    let m = &["catalog", "run"];
    for planted in [
        "use crate::catalog::CATALOG;",
        "use crate::{catalog, sim};",
        "use crate::{sim, catalog};",
        "    let r = crate::run::open(&spec);",
        "use super::super::catalog::find;",
    ] {
        assert!(names_module(planted, m), "missed {planted:?}");
    }
    for fine in ["use crate::system::Run;", "// see crate::catalog", "use crate::sim::{runner, x};", "fn run() {}"] {
        assert!(!names_module(fine, m), "false alarm on {fine:?}");
    }
}
