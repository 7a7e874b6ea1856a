//! `sdlab lincheck FILE...`: judge recorded histories (Jepsen log lines or EDN maps, told
//! apart by their first line) with the linearizability checker in
//! `sdlab_core::blocks::lincheck`. One verdict line per file; for a violation, the
//! shortest failing window (the shortest stretch of the history, in lines, whose calls
//! contradict each other whatever happened outside it). Exit 0 when every history is
//! linearizable, 1 when one is not (or could not be decided within `--max-steps`), 2 with
//! a one-line reason when a file cannot be read.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // --time measures wall time

use clap::Args;
use sdlab_core::blocks::lincheck::{
    self, window_ops, AppendKv, Model, Op, ParsedHistory, Register, Report, Verdict, Window,
};
use serde::Serialize;
use std::time::Instant;

/// Steps each search of the window hunt may take: a window that needs more is counted
/// as not failing, and the report says the window found may not be the shortest.
const WINDOW_STEPS: u64 = 200_000;

#[derive(Args)]
pub struct LincheckArgs {
    /// History files: Jepsen log lines (`INFO  jepsen.util - 3 :ok :read 1`) or EDN maps
    /// (`{:process 0, :type :ok, :f :get, :key "1", :value "x"}`).
    #[arg(required = true)]
    files: Vec<String>,
    /// One JSON document (an array, one object per file) instead of text.
    #[arg(long)]
    json: bool,
    /// Report the time each verdict took (the best of `--repeat` runs), the total and the
    /// slowest file.
    #[arg(long)]
    time: bool,
    /// How many times `--time` runs each verdict.
    #[arg(long, default_value_t = 5, requires = "time")]
    repeat: u32,
    /// Give up on a history after this many search steps (its verdict is "undecided").
    #[arg(long, default_value_t = 100_000_000)]
    max_steps: u64,
    /// Skip the search for the shortest failing window.
    #[arg(long)]
    no_window: bool,
}

#[derive(Serialize)]
struct FileReport {
    file: String,
    model: &'static str,
    ops: usize,
    keys: usize,
    verdict: &'static str,
    /// The key that failed or was left undecided.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    steps: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<WindowReport>,
}

#[derive(Serialize)]
struct WindowReport {
    key: String,
    first_line: u64,
    last_line: u64,
    /// The window starts from the history's initial state rather than from any state.
    from_start: bool,
    proven_shortest: bool,
    ops: Vec<WindowOpReport>,
}

#[derive(Serialize)]
struct WindowOpReport {
    process: u64,
    call_line: u64,
    return_line: Option<u64>,
    op: String,
    /// `false`: relaxed in the window (its answer ignored, it may be left out).
    exact: bool,
}

fn model_name(h: &ParsedHistory) -> &'static str {
    match h {
        ParsedHistory::Register(_) => "register",
        ParsedHistory::Kv(_) => "append-kv",
    }
}

/// Judges one history with `model`: the verdict, its time, and the window.
fn judge<M: Model>(
    model: &M,
    ops: &[Op<M::Input, M::Output>],
    args: &LincheckArgs,
) -> Result<(Report, f64, Option<WindowReport>), String> {
    let mut seconds = f64::MAX;
    let mut report = None;
    for _ in 0..if args.time { args.repeat.max(1) } else { 1 } {
        let start = Instant::now();
        report = Some(lincheck::check_within(model, ops, args.max_steps).map_err(|e| e.to_string())?);
        seconds = seconds.min(start.elapsed().as_secs_f64());
    }
    let report = report.expect("at least one run");
    let window = if matches!(report.verdict, Verdict::NotLinearizable { .. }) && !args.no_window {
        let budget = WINDOW_STEPS.min(args.max_steps);
        lincheck::shortest_failing_window(model, ops, budget)
            .map_err(|e| e.to_string())?
            .map(|w| window_report(model, ops, &w))
    } else {
        None
    };
    Ok((report, seconds, window))
}

fn window_report<M: Model>(model: &M, ops: &[Op<M::Input, M::Output>], w: &Window) -> WindowReport {
    WindowReport {
        key: w.key.clone(),
        first_line: w.from,
        last_line: w.to,
        from_start: w.from_start,
        proven_shortest: w.proven_shortest,
        ops: window_ops(model, ops, w)
            .into_iter()
            .map(|o| WindowOpReport {
                process: o.client,
                call_line: o.call,
                return_line: o.ret,
                op: o.text,
                exact: o.exact,
            })
            .collect(),
    }
}

pub fn lincheck(args: &LincheckArgs) -> Result<u8, String> {
    // Read everything first: an unreadable file is bad input, reported before any verdict.
    let mut histories = Vec::new();
    for file in &args.files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("lincheck: {file}: {e}"))?;
        let history = lincheck::parse_history(&text).map_err(|e| format!("lincheck: {file}: {e}"))?;
        histories.push((file, history));
    }
    let mut reports = Vec::new();
    for (file, history) in &histories {
        let (report, seconds, window) = match history {
            ParsedHistory::Register(ops) => judge(&Register, ops, args),
            ParsedHistory::Kv(ops) => judge(&AppendKv, ops, args),
        }
        .map_err(|e| format!("lincheck: {file}: {e}"))?;
        let (verdict, key) = match report.verdict {
            Verdict::Linearizable => ("linearizable", None),
            Verdict::NotLinearizable { key } => ("not-linearizable", Some(key)),
            Verdict::GaveUp { key } => ("undecided", Some(key)),
        };
        reports.push(FileReport {
            file: file.to_string(),
            model: model_name(history),
            ops: history.len(),
            keys: report.keys,
            verdict,
            key,
            steps: report.steps,
            seconds: args.time.then_some(seconds),
            window,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports).map_err(|e| e.to_string())?);
    } else {
        for r in &reports {
            print_text(r);
        }
        if args.time {
            print_times(&reports);
        }
    }
    Ok(if reports.iter().all(|r| r.verdict == "linearizable") { 0 } else { 1 })
}

fn print_text(r: &FileReport) {
    let keys = if r.keys == 1 { "1 key".to_string() } else { format!("{} keys", r.keys) };
    let time = r.seconds.map(|s| format!(", {:.3} ms", s * 1e3)).unwrap_or_default();
    let key = match (&r.key, r.keys) {
        (Some(k), n) if n > 1 => format!(" on key {k:?}"),
        _ => String::new(),
    };
    let what = match r.verdict {
        "linearizable" => "linearizable".to_string(),
        "not-linearizable" => format!("NOT linearizable{key}"),
        _ => format!("undecided{key} (out of steps; raise --max-steps)"),
    };
    println!("{}: {what} ({} {} ops, {keys}, {} steps{time})", r.file, r.ops, r.model, r.steps);
    let Some(w) = &r.window else { return };
    let key = if r.keys > 1 { format!(" on key {:?}", w.key) } else { String::new() };
    let start = if w.from_start { "from the initial state" } else { "from any state" };
    let proof = if w.proven_shortest { "" } else { " (some searches ran out of steps: a shorter one may exist)" };
    println!("  shortest failing window{key}: lines {}-{}, {start}{proof}", w.first_line, w.last_line);
    let line = |o: &WindowOpReport| {
        let ret = o.return_line.map(|r| r.to_string()).unwrap_or_default();
        format!("    {:>6}-{:<6} process {:<4} {}", o.call_line, ret, o.process, o.op)
    };
    println!("  these cannot all hold:");
    w.ops.iter().filter(|o| o.exact).for_each(|o| println!("{}", line(o)));
    if w.ops.iter().any(|o| !o.exact) {
        println!("  with these in play (answers ignored, each may take effect or not):");
        w.ops.iter().filter(|o| !o.exact).for_each(|o| println!("{}", line(o)));
    }
}

fn print_times(reports: &[FileReport]) {
    let total: f64 = reports.iter().filter_map(|r| r.seconds).sum();
    let slowest = reports.iter().max_by(|a, b| a.seconds.unwrap_or(0.0).total_cmp(&b.seconds.unwrap_or(0.0)));
    println!(
        "verdicts for {} histories in {:.3} ms (search only, best of --repeat runs each; parsing and windows excluded)",
        reports.len(),
        total * 1e3
    );
    if let Some(s) = slowest {
        println!("slowest: {} in {:.3} ms", s.file, s.seconds.unwrap_or(0.0) * 1e3);
    }
}
