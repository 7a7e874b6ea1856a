//! The test tiers `cargo xtask test` runs, in order, and the build/serve/bench steps.
//!
//! 1. lint — rustfmt and clippy (`-D warnings`), native and wasm32.
//! 2. native — `cargo test --workspace`: unit, property, golden-trace and CLI tests.
//! 3. sweeps — `sdlab explore` over every strategy: each naive strategy must be caught,
//!    each robust one must pass 200 seeds plain and 200 with swarm fault mixes.
//! 4. browser — `wasm-pack test --headless --chrome` for core (the golden hashes, the
//!    same constants as natively) and web (component tests).
//! 5. e2e — builds the site with trunk and drives it in Chromium with playwright-core.

use crate::sh::{self, cmd, code, run};
use crate::toolchain::*;
use std::process::Command;

const TIERS: &[&str] = &["lint", "native", "sweeps", "browser", "e2e"];

pub fn test(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    if let Some(o) = &only {
        if !TIERS.contains(&o.as_str()) {
            return Err(format!("unknown tier {o:?}; tiers: {}", TIERS.join(", ")));
        }
    }
    let mut passed = 0;
    for tier in TIERS {
        if only.as_deref().is_some_and(|o| o != *tier) || (quick && ["sweeps", "browser", "e2e"].contains(tier)) {
            continue;
        }
        eprintln!("\n=== tier: {tier} ===");
        match *tier {
            "lint" => lint()?,
            "native" => run(cmd("cargo", &["test", "--workspace", "--all-targets"]))?,
            "sweeps" => sweeps()?,
            "browser" => browser()?,
            _ => e2e()?,
        }
        passed += 1;
    }
    println!("xtask: {passed} passed, 0 failed");
    Ok(())
}

fn lint() -> Result<(), String> {
    run(cmd("cargo", &["fmt", "--all", "--", "--check"]))?;
    run(cmd("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    run(cmd(
        "cargo",
        &["clippy", "-p", "sdlab-web", "-p", "sdlab-core", "--target", WASM_TARGET, "--", "-D", "warnings"],
    ))
}

/// Runs every strategy of every system through `sdlab explore`.
fn sweeps() -> Result<(), String> {
    run(cmd("cargo", &["build", "--release", "-p", "sdlab-cli"]))?;
    let bin = sh::root().join("target/release/sdlab");
    let bin = bin.to_str().ok_or("non-UTF-8 path")?.to_string();
    let out = Command::new(&bin).args(["list", "--json"]).output().map_err(|e| e.to_string())?;
    let list: serde_like::List = serde_like::parse(&String::from_utf8_lossy(&out.stdout))?;
    let seeds = std::env::var("SDLAB_SWEEP_SEEDS").unwrap_or_else(|_| "200".into());
    let mut failures = Vec::new();
    for (system, strategies) in &list {
        for (strategy, robust) in strategies {
            let base = ["explore", "--system", system, "--strategy", strategy, "--seeds"];
            if *robust {
                for swarm in [false, true] {
                    let mut args: Vec<&str> = base.to_vec();
                    args.push(&seeds);
                    if swarm {
                        args.push("--swarm");
                    }
                    let mut c = Command::new(&bin);
                    c.args(&args);
                    if code(c)? != 0 {
                        failures.push(format!(
                            "{system}/{strategy} (robust{}) has a violation",
                            if swarm { ", swarm" } else { "" }
                        ));
                    }
                }
            } else {
                // A naive strategy must be caught: plain seeds first, then swarm mixes.
                let mut caught = false;
                for extra in [&["50"][..], &["50", "--swarm"][..]] {
                    let mut c = Command::new(&bin);
                    c.args(base).args(extra).stdout(std::process::Stdio::null());
                    if code(c)? == 1 {
                        caught = true;
                        break;
                    }
                }
                if caught {
                    eprintln!("sweeps: {system}/{strategy} (naive) is caught, as it should be");
                } else {
                    failures.push(format!("{system}/{strategy} is naive but no check caught it in 50 seeds"));
                }
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("sweeps failed:\n  {}", failures.join("\n  ")))
    }
}

fn browser() -> Result<(), String> {
    for krate in ["crates/core", "crates/web"] {
        run(cmd("wasm-pack", &["test", "--headless", "--chrome", "--mode", "no-install", krate]))?;
    }
    Ok(())
}

pub fn build_site() -> Result<(), String> {
    run(cmd("trunk", &["build", "--release=true"]))
}

fn e2e() -> Result<(), String> {
    build_site()?;
    run(cmd("node", &["--test", "--test-concurrency=1", "tests/e2e/"]))
}

pub fn serve(_args: &[String]) -> Result<(), String> {
    eprintln!("xtask: serving the playground on http://127.0.0.1:8080 (Ctrl-C stops)");
    run(cmd("trunk", &["serve", "--release=true", "--address", "127.0.0.1", "--port", "8080"]))
}

pub fn bench() -> Result<(), String> {
    run(cmd("cargo", &["bench", "-p", "sdlab-core", "--bench", "kernel"]))?;
    crate::setup::all()?;
    run(cmd("node", &["tests/bench/wasm_bench.mjs"]))
}

/// A tiny reader for `sdlab list --json`, to keep xtask free of dependencies.
mod serde_like {
    pub type List = Vec<(String, Vec<(String, bool)>)>;

    /// Extracts `id` and `strategies[{id, robust}]` from the pretty JSON `sdlab list`
    /// prints (one field per line).
    pub fn parse(text: &str) -> Result<List, String> {
        let mut out: List = Vec::new();
        let mut in_strategies = false;
        let mut pending_id: Option<String> = None;
        for line in text.lines() {
            let l = line.trim();
            if l.starts_with("\"strategies\"") {
                in_strategies = true;
            } else if l.starts_with("\"checks\"") {
                in_strategies = false;
            } else if let Some(v) = field(l, "id") {
                if in_strategies {
                    pending_id = Some(v);
                } else {
                    out.push((v, Vec::new()));
                }
            } else if let Some(v) = field(l, "robust") {
                let id = pending_id.take().ok_or("robust before id")?;
                out.last_mut().ok_or("strategy before system")?.1.push((id, v == "true"));
            }
        }
        if out.is_empty() {
            return Err("sdlab list --json returned no systems".into());
        }
        Ok(out)
    }

    fn field(line: &str, name: &str) -> Option<String> {
        let rest = line.strip_prefix(&format!("\"{name}\": "))?;
        Some(rest.trim_end_matches(',').trim_matches('"').to_string())
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn reads_list_output() {
            let text = "[\n  {\n    \"id\": \"a\",\n    \"title\": \"A\",\n    \"strategies\": [\n      {\n        \"id\": \"x\",\n        \"robust\": false\n      },\n      {\n        \"id\": \"y\",\n        \"robust\": true\n      }\n    ],\n    \"checks\": [\n      \"c\"\n    ]\n  }\n]";
            let got = super::parse(text).unwrap();
            assert_eq!(got, vec![("a".to_string(), vec![("x".to_string(), false), ("y".to_string(), true)])]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wasm-bindgen pin must agree in Cargo.toml, Trunk.toml and here, or trunk and
    /// wasm-pack try to download another version and fail offline.
    #[test]
    fn wasm_bindgen_pins_agree() {
        let root = sh::root();
        let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        assert!(cargo.contains(&format!("wasm-bindgen = \"={WASM_BINDGEN}\"")), "Cargo.toml pin");
        let trunk = std::fs::read_to_string(root.join("Trunk.toml")).unwrap();
        assert!(trunk.contains(&format!("wasm_bindgen = \"{WASM_BINDGEN}\"")), "Trunk.toml pin");
        let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
        assert!(lock.contains(&format!("name = \"wasm-bindgen\"\nversion = \"{WASM_BINDGEN}\"")), "Cargo.lock");
    }
}
