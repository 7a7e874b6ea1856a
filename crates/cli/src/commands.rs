//! The subcommands. Each returns an exit code, or `Err(reason)` for bad input (exit 2).

use clap::Args;
use sdlab_core::catalog::{self, CATALOG};
use sdlab_core::run;
use sdlab_core::scenario::{link, ScenarioSpec, MAX_SEED};
use sdlab_core::system::RunReport;
use serde::Serialize;
use std::io::Read;

/// A seed as typed: a whole number a link can carry, or a message that says so.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|s| *s <= MAX_SEED)
        .ok_or_else(|| format!("{text:?} is not a seed: seeds are whole numbers from 0 to {MAX_SEED}"))
}

#[derive(Args)]
pub struct RunArgs {
    /// System id (see `sdlab list`).
    #[arg(long)]
    system: Option<String>,
    #[arg(long)]
    strategy: Option<String>,
    #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Parameter override, repeatable: --set key=value.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Start from a scenario link instead of the system's default scenario.
    #[arg(long)]
    link: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ListEntry {
    id: &'static str,
    title: &'static str,
    strategies: Vec<ListStrategy>,
    checks: Vec<&'static str>,
}

#[derive(Serialize)]
struct ListStrategy {
    id: &'static str,
    robust: bool,
}

pub fn list(json: bool) -> Result<u8, String> {
    let entries: Vec<ListEntry> = CATALOG
        .iter()
        .map(|d| ListEntry {
            id: d.id,
            title: d.title,
            strategies: d.strategies.iter().map(|s| ListStrategy { id: s.id, robust: s.robust }).collect(),
            checks: d.checks.iter().map(|c| c.name).collect(),
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&entries).map_err(|e| e.to_string())?);
    } else {
        for e in &entries {
            let strategies: Vec<String> =
                e.strategies.iter().map(|s| if s.robust { s.id.to_string() } else { format!("{}*", s.id) }).collect();
            println!("{:<22} {}\n{:<22} strategies: {} (* naive)\n", e.id, e.title, "", strategies.join(", "));
        }
    }
    Ok(0)
}

/// Builds the spec a `run`/`explore` asks for: a link or the system's default, then
/// overrides.
pub fn spec_from(
    system: Option<&str>,
    link_text: Option<&str>,
    strategy: Option<&str>,
    seed: Option<u64>,
    set: &[String],
) -> Result<ScenarioSpec, String> {
    let mut spec = match (link_text, system) {
        (Some(l), _) => link::decode(l).map_err(|e| e.to_string())?,
        (None, Some(id)) => catalog::find(id)
            .ok_or_else(|| {
                let known: Vec<&str> = CATALOG.iter().map(|d| d.id).collect();
                format!("unknown system {id:?}; known systems: {}", known.join(", "))
            })?
            .default_spec(),
        (None, None) => return Err("give --system ID or --link LINK".into()),
    };
    if let (Some(_), Some(id)) = (link_text, system) {
        if spec.system != id {
            return Err(format!("--system {id} contradicts the link, which is for {}", spec.system));
        }
    }
    if let Some(s) = strategy {
        spec.strategy = Some(s.to_string());
    }
    if let Some(s) = seed {
        spec.seed = s;
    }
    let def = catalog::find(&spec.system).ok_or_else(|| format!("unknown system {:?}", spec.system))?;
    let mut params = spec.params.clone();
    for kv in set {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("--set expects key=value, got {kv:?}"))?;
        let p = def.params.iter().find(|p| p.key == k).ok_or_else(|| {
            let known: Vec<&str> = def.params.iter().map(|p| p.key).collect();
            format!("unknown parameter `{k}`; {} has: {}", def.id, known.join(", "))
        })?;
        params.insert(k.to_string(), p.parse(v)?);
    }
    // Default faults follow the parameters (a link's own, edited faults stay as they are).
    def.refit(&spec, params)
}

pub fn run(args: &RunArgs) -> Result<u8, String> {
    let spec = spec_from(args.system.as_deref(), args.link.as_deref(), args.strategy.as_deref(), args.seed, &args.set)?;
    let report = run::run_scenario(&spec).map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print_report(&report);
    }
    // A check that observed nothing is not a pass: exit 1 as for a failure.
    Ok(if report.all_judged_ok() { 0 } else { 1 })
}

fn print_report(r: &RunReport) {
    println!("{} / {} / seed {}", r.system, r.strategy, r.seed);
    println!("  {} events, {:.1} ms simulated, trace {}", r.events, r.sim_time_ms, r.trace_hash);
    for c in &r.checks {
        let (mark, detail) = match (c.ok, c.samples) {
            (false, _) => ("FAIL", c.detail.clone()),
            (true, 0) => ("----", format!("not exercised: observed nothing in this run ({})", c.detail)),
            (true, _) => ("ok", c.detail.clone()),
        };
        println!("  [{mark}] {:<22} {detail}", c.name);
    }
    println!("  link: {}", r.link);
}

pub fn link_encode() -> Result<u8, String> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| format!("reading stdin: {e}"))?;
    // The input is a scenario, not yet a link: say so in the messages.
    let spec = link::parse_json(&text).map_err(|e| e.to_string().replace("the link's scenario", "the scenario"))?;
    sdlab_core::run::open(&spec).map_err(|e| e.to_string())?;
    // Refuse what `link decode` and the page would refuse, in the same words.
    println!("{}", link::try_encode(&spec).map_err(|e| e.to_string())?);
    Ok(0)
}

pub fn link_decode(text: &str) -> Result<u8, String> {
    let spec = link::decode(text).map_err(|e| e.to_string())?;
    sdlab_core::run::open(&spec).map_err(|e| e.to_string())?;
    println!("{}", spec.to_json_pretty());
    Ok(0)
}

/// Times the pingpong world natively: best of `repeat` runs, as JSON.
#[allow(clippy::disallowed_types, clippy::disallowed_methods)] // a benchmark measures wall time
pub fn bench(nodes: u32, window: u32, horizon_ms: u64, repeat: u32) -> Result<u8, String> {
    let bad = if !(2..=512).contains(&nodes) {
        Some(format!("--nodes {nodes} is out of range 2..=512"))
    } else if !(1..=64).contains(&window) {
        Some(format!("--window {window} is out of range 1..=64"))
    } else if horizon_ms > 10_000 {
        Some(format!("--horizon-ms {horizon_ms} is out of range 0..=10000"))
    } else {
        None
    };
    if let Some(why) = bad {
        return Err(format!("bench: {why}"));
    }
    let mut best = f64::MAX;
    let mut events = 0;
    for _ in 0..repeat.max(1) {
        let start = std::time::Instant::now();
        events = sdlab_core::sim::pingpong::run(1, nodes, window, horizon_ms);
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!("{{\"events\": {events}, \"seconds\": {best:.6}, \"events_per_s\": {:.0}}}", events as f64 / best);
    Ok(0)
}
