//! Installs what the build and the tests need, skipping anything already at the pinned
//! version: the wasm32 target, wasm-bindgen-cli, trunk, wasm-pack (crates.io), Chromium and
//! ChromeDriver (Debian, when running as root), and the npm tools (binaryen's wasm-opt,
//! playwright-core, axe-core for the accessibility gate) from package-lock.json.

use crate::sh::{self, cmd, run, version_of};
use crate::toolchain::*;
use std::path::Path;

pub fn all() -> Result<(), String> {
    wasm_target()?;
    cargo_tool("wasm-bindgen-cli", "wasm-bindgen", WASM_BINDGEN, &[])?;
    cargo_tool("wasm-pack", "wasm-pack", WASM_PACK, &[])?;
    // Without `update_check`, trunk never asks crates.io for a newer trunk.
    cargo_tool("trunk", "trunk", TRUNK, &["--no-default-features", "--features", "rustls"])?;
    browser()?;
    npm_tools()
}

fn wasm_target() -> Result<(), String> {
    let out = cmd("rustup", &["target", "list", "--installed"]).output().map_err(|e| format!("rustup: {e}"))?;
    if String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    run(cmd("rustup", &["target", "add", WASM_TARGET]))
}

/// Installs a pinned tool from crates.io unless that version is already on the PATH.
///
/// The tools ship release profiles made for distribution (trunk: fat LTO, one codegen
/// unit), which cost a fresh machine minutes of linking for speed these tools never need:
/// they spend their time in cargo and the browser. A plain optimised build installs in
/// a fraction of that.
fn cargo_tool(krate: &str, bin: &str, version: &str, extra: &[&str]) -> Result<(), String> {
    if version_of(bin).is_some_and(|v| v.split_whitespace().any(|w| w.trim_start_matches('v') == version)) {
        return Ok(());
    }
    eprintln!("xtask: installing {krate} {version} from crates.io (a few minutes, once)");
    let mut c = cmd("cargo", &["install", "--locked", krate, "--version", version]);
    c.args(extra);
    for (key, value) in INSTALL_PROFILE {
        c.env(key, value);
    }
    run(c)
}

/// The release profile the tools are installed with (overrides their own).
const INSTALL_PROFILE: &[(&str, &str)] = &[
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1"),
    ("CARGO_PROFILE_RELEASE_DEBUG", "false"),
];

fn browser() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    if !sh::is_root() {
        return Err(format!(
            "Chromium is missing: install Debian's `chromium` and `chromium-driver` ({CHROMIUM}, {CHROMEDRIVER}), e.g. `sudo apt-get install -y chromium chromium-driver`"
        ));
    }
    eprintln!("xtask: installing chromium and chromium-driver from Debian");
    run(cmd("apt-get", &["update", "-qq"]))?;
    let mut c = cmd("apt-get", &["install", "-y", "-qq", "chromium", "chromium-driver"]);
    c.env("DEBIAN_FRONTEND", "noninteractive");
    run(c)
}

fn npm_tools() -> Result<(), String> {
    let root = sh::root();
    let ready = ["node_modules/.bin/wasm-opt", "node_modules/playwright-core", "node_modules/axe-core"]
        .iter()
        .all(|p| root.join(p).exists());
    if ready {
        return Ok(());
    }
    run(cmd("npm", &["ci", "--no-audit", "--no-fund"]))
}
