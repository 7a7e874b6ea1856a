//! The test tiers `cargo xtask test` runs, in order, and the build/serve/bench steps.
//!
//! 1. lint — rustfmt and clippy (`-D warnings`), native and wasm32.
//! 2. native — `cargo test --workspace`: unit, property, golden-trace and CLI tests.
//! 3. sweeps — the conformance suite's seed sweeps in release: each robust strategy passes
//!    its share of a total seed budget (`SDLAB_SEED_BUDGET`), plain and with swarm fault
//!    mixes; `--full` runs 200 + 200 per robust strategy. The heaviest scenario the bounds
//!    allow stays under 256 MB of heap (`tests/memory.rs`, measured by a counting allocator).
//! 4. browser — `wasm-pack test --headless --chrome` for core (the golden hashes, the
//!    same constants as natively) and web (component tests).
//! 5. e2e — builds the site with trunk and drives it in Chromium with playwright-core.

use crate::sh::{cmd, run};
use crate::toolchain::*;

const TIERS: &[&str] = &["lint", "native", "sweeps", "browser", "e2e"];

pub fn test(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let full = args.iter().any(|a| a == "--full");
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
            "sweeps" => sweeps(full)?,
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

/// The conformance suite's seed sweeps, in release: every robust strategy of every system
/// passes its share of the seed budget plain and with swarm faults (`--full`: 200 each).
/// Naive strategies being caught is a quick rule of the same suite, run in the native tier.
fn sweeps(full: bool) -> Result<(), String> {
    let mut c = cmd(
        "cargo",
        &["test", "--release", "-p", "sdlab-core", "--test", "conformance", "--test", "memory", "--", "--ignored"],
    );
    if full {
        c.env("SDLAB_SWEEP_SEEDS", "200");
    }
    run(c)
}

/// `cargo xtask golden [--bless]`: checks the golden trace table, or rewrites it from this
/// build (then review the diff: every changed row is a changed trace).
pub fn golden(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--bless") {
        let mut c =
            cmd("cargo", &["test", "-p", "sdlab-core", "--test", "golden", "bless", "--", "--ignored", "--exact"]);
        c.env("SDLAB_BLESS", "1");
        run(c)?;
    }
    run(cmd("cargo", &["test", "-p", "sdlab-core", "--test", "golden"]))
}

/// Seconds a headless test binary may run (see [`browser`]).
const BROWSER_TEST_TIMEOUT_S: &str = "300";

fn browser() -> Result<(), String> {
    for krate in ["crates/core", "crates/web"] {
        let mut c = cmd("wasm-pack", &["test", "--headless", "--chrome", "--mode", "no-install", krate]);
        // The runner's default is 20 s for a whole test binary; the golden table replays
        // every catalog strategy in an unoptimised wasm build (about 13 s for 24 systems),
        // so the default would fail as systems are added, not because anything broke.
        c.env("WASM_BINDGEN_TEST_TIMEOUT", BROWSER_TEST_TIMEOUT_S);
        run(c)?;
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
    // No live-reload script: trunk injects it inline, and the page's CSP (no inline
    // script) would block it and log a violation on every load.
    run(cmd("trunk", &["serve", "--release=true", "--no-autoreload=true", "--address", "127.0.0.1", "--port", "8080"]))
}

pub fn bench() -> Result<(), String> {
    run(cmd("cargo", &["bench", "-p", "sdlab-core", "--bench", "kernel"]))?;
    crate::setup::all()?;
    // The wasm twin compares against the CLI built the way the browser build is optimised.
    run(cmd("cargo", &["build", "--profile", "bench-native", "-p", "sdlab-cli"]))?;
    run(cmd("node", &["tests/bench/wasm_bench.mjs"]))?;
    run(cmd("node", &["tests/bench/lincheck_bench.mjs"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wasm-bindgen pin must agree in Cargo.toml, Trunk.toml and here, or trunk and
    /// wasm-pack try to download another version and fail offline.
    #[test]
    fn wasm_bindgen_pins_agree() {
        let root = crate::sh::root();
        let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        assert!(cargo.contains(&format!("wasm-bindgen = \"={WASM_BINDGEN}\"")), "Cargo.toml pin");
        let trunk = std::fs::read_to_string(root.join("Trunk.toml")).unwrap();
        assert!(trunk.contains(&format!("wasm_bindgen = \"{WASM_BINDGEN}\"")), "Trunk.toml pin");
        let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
        assert!(lock.contains(&format!("name = \"wasm-bindgen\"\nversion = \"{WASM_BINDGEN}\"")), "Cargo.lock");
    }
}
