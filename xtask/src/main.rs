//! `cargo xtask`: the README's two commands and the steps behind them.
//!
//! - `cargo xtask serve` — installs what is missing, builds the playground, serves it on
//!   http://127.0.0.1:8080.
//! - `cargo xtask test` — installs what is missing, then runs every test tier: lint,
//!   native tests, seed sweeps, browser tests of core and web, end-to-end tests.
//!
//! Only package registries are used (crates.io, npm, Debian apt): pinned versions live in
//! `toolchain.rs` and must agree with `Cargo.toml` and `Trunk.toml`.

mod setup;
mod sh;
mod tiers;
mod toolchain;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    let result = match cmd {
        "setup" => setup::all(),
        "serve" => setup::all().and_then(|_| tiers::serve(rest)),
        "build" => setup::all().and_then(|_| tiers::build_site()),
        "test" | "ci" => setup::all().and_then(|_| tiers::test(rest)),
        "bench" => tiers::bench(),
        "golden" => tiers::golden(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  serve   set up, build and serve the playground on 127.0.0.1:8080\n  test    set up and run every test tier (options: --quick skips sweeps and browser tiers; --only TIER;\n          --full sweeps 200 plain + 200 swarm seeds per robust strategy)\n  golden  check the golden trace table (--bless rewrites it from this build)\n  setup   install the toolchain pieces that are missing\n  build   build the site into dist/\n  bench   run the kernel benchmark natively and in headless Chromium"
            );
            return ExitCode::from(if cmd == "help" || cmd == "--help" { 0 } else { 2 });
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
