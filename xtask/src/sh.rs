//! Running commands: print them, fail loudly, and put the project's npm tools first on
//! PATH (wasm-opt from npm binaryen must win over any other wasm-opt).

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// PATH with `node_modules/.bin` and `~/.cargo/bin` first.
pub fn path_env() -> String {
    let mut parts = vec![root().join("node_modules/.bin").display().to_string()];
    if let Some(home) = std::env::var_os("HOME") {
        parts.push(PathBuf::from(home).join(".cargo/bin").display().to_string());
    }
    if let Some(p) = std::env::var_os("PATH") {
        parts.push(p.to_string_lossy().into_owned());
    }
    parts.join(":")
}

pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args).current_dir(root()).env("PATH", path_env());
    c
}

/// Runs a command, echoing it; an error names the command.
pub fn run(mut c: Command) -> Result<(), String> {
    let shown = format!("{c:?}").replace('"', "");
    eprintln!("+ {shown}");
    let status = c.status().map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// First line of `program --version`, if it runs.
pub fn version_of(program: &str) -> Option<String> {
    let out = Command::new(program).arg("--version").env("PATH", path_env()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok().map(|s| s.lines().next().unwrap_or("").to_string())
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .is_some_and(|s| s.trim() == "0")
}
