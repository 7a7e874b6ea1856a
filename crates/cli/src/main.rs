//! `sdlab`: the native runner. Other tools rely on its contract (see README): `list`,
//! `run`, `explore`, `merge`, `link encode|decode`, `lincheck`, `cron`. Exit codes: 0 every check
//! holds, 1 a check failed, 2 bad input (with a one-line reason on stderr).

mod commands;
mod cron;
mod lincheck;
mod sweep;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "sdlab", version, about = "Run, sweep and share sdlab system-design simulations")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the systems in the catalog.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Run one scenario to its end and report checks.
    Run(commands::RunArgs),
    /// Sweep seeds looking for a check violation (a range, or one shard of it).
    Explore(sweep::ExploreArgs),
    /// Combine `explore --jsonl` shard files into the report one process would print.
    Merge(sweep::MergeArgs),
    /// Time the kernel benchmark workload natively (the wasm twin runs in `cargo xtask bench`).
    Bench {
        #[arg(long, default_value_t = 64)]
        nodes: u32,
        #[arg(long, default_value_t = 8)]
        window: u32,
        #[arg(long, default_value_t = 200)]
        horizon_ms: u64,
        #[arg(long, default_value_t = 10)]
        repeat: u32,
    },
    /// Check recorded histories (Jepsen logs, EDN maps) for linearizability.
    Lincheck(lincheck::LincheckArgs),
    /// List the next fire times of a cron expression (strictly after --from, UTC).
    Cron(cron::CronArgs),
    /// Encode or decode scenario links.
    Link {
        #[command(subcommand)]
        op: LinkOp,
    },
}

#[derive(Subcommand)]
enum LinkOp {
    /// Scenario JSON on stdin → link on stdout.
    Encode,
    /// Link → scenario JSON on stdout.
    Decode { link: String },
}

/// A reader that closes the pipe (`sdlab explore … | head -1`) is saying "enough": leave
/// quietly, as ripgrep does, instead of panicking with a backtrace. Rust ignores SIGPIPE,
/// so the write fails with EPIPE and `println!` panics; this hook turns exactly that
/// panic into a clean exit and leaves every other panic as it was.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg =
            payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
        if msg.is_some_and(|m| m.contains("Broken pipe")) {
            std::process::exit(0);
        }
        default(info)
    }));
}

/// clap's multi-line usage error as one line: the reason, without the usage block.
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let reason = lines.next().unwrap_or("bad arguments");
    let reason = reason.strip_prefix("error: ").unwrap_or(reason);
    // "the following required arguments were not provided:" names them on the next line.
    let reason = match (reason.strip_suffix(':'), lines.next()) {
        (Some(head), Some(what)) if !what.starts_with("Usage") => format!("{head}: {what}"),
        _ => reason.to_string(),
    };
    let tip = text.lines().map(str::trim).find(|l| l.starts_with("tip: ")).map(|t| format!(" ({t})"));
    format!("{reason}{}; see `sdlab --help`", tip.unwrap_or_default())
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and --version print as clap writes them; a usage error is one line, as the
        // contract promises for every bad input.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("sdlab: {}", one_line(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::List { json } => commands::list(json),
        Command::Run(args) => commands::run(&args),
        Command::Explore(args) => sweep::explore(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Bench { nodes, window, horizon_ms, repeat } => commands::bench(nodes, window, horizon_ms, repeat),
        Command::Lincheck(args) => lincheck::lincheck(&args),
        Command::Cron(args) => cron::cron(&args),
        Command::Link { op: LinkOp::Encode } => commands::link_encode(),
        Command::Link { op: LinkOp::Decode { link } } => commands::link_decode(&link),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(reason) => {
            eprintln!("sdlab: {}", reason.replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
