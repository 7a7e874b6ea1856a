//! `explore` and `merge`: seed sweeps that split across processes or machines. A sweep is a
//! set of seeds (`--from/--seeds` or `--seed-range A..B`), optionally one shard of it
//! (`--shard I/N` keeps the seeds s with s mod N = I), so N processes — GNU `parallel`
//! jobs, a Kubernetes Indexed Job — each run a disjoint share with no coordinator. With
//! `--jsonl` each seed is one line, `{seed, violations: [{check, detail, link}]}`, and
//! `merge` folds any set of shard files back into exactly the report one process prints.

use clap::Args;
use sdlab_core::scenario::MAX_SEED;
use sdlab_core::system::{ExploreReport, Found};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Args)]
pub struct ExploreArgs {
    #[arg(long)]
    system: String,
    #[arg(long)]
    strategy: Option<String>,
    /// Number of seeds to run (with --from).
    #[arg(long, conflicts_with = "seed_range")]
    seeds: Option<u64>,
    /// First seed of the sweep (with --seeds).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = super::commands::parse_seed)]
    from: u64,
    /// The seeds A, A+1, …, B−1 (instead of --from/--seeds).
    #[arg(long, value_name = "A..B", value_parser = parse_range)]
    seed_range: Option<(u64, u64)>,
    /// Run only shard I of N: the seeds s with s mod N = I.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<(u64, u64)>,
    /// Each seed also draws its own fault mix (swarm testing).
    #[arg(long)]
    swarm: bool,
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[arg(long, conflicts_with = "jsonl")]
    json: bool,
    /// One line per seed, `{seed, violations}`, for `sdlab merge`.
    #[arg(long)]
    jsonl: bool,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long)]
    jobs: Option<u64>,
}

#[derive(Args)]
pub struct MergeArgs {
    /// Files written by `sdlab explore --jsonl` (one per shard).
    #[arg(required = true)]
    files: Vec<String>,
    #[arg(long)]
    json: bool,
}

/// What each seed of a sweep found, by seed.
type PerSeed = Vec<(u64, Vec<Found>)>;

/// One line of `--jsonl`: a seed and what failed on it (an empty list when all held).
#[derive(Serialize, Deserialize)]
struct SeedLine {
    seed: u64,
    violations: Vec<Violation>,
}

#[derive(Serialize, Deserialize)]
struct Violation {
    check: String,
    detail: String,
    link: String,
}

fn parse_range(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text.split_once("..").ok_or_else(|| format!("{text:?} is not a seed range: write A..B"))?;
    let (a, b) =
        (super::commands::parse_seed(a)?, b.trim().parse::<u64>().map_err(|_| format!("{b:?} is not a seed"))?);
    if a >= b || b - 1 > MAX_SEED {
        return Err(format!("{text:?} holds no seeds in 0..={MAX_SEED}: A..B runs A up to B−1, so B must exceed A"));
    }
    Ok((a, b))
}

fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let bad = || format!("{text:?} is not a shard: write I/N with 0 ≤ I < N, as in 3/8");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n) = (i.trim().parse::<u64>().map_err(|_| bad())?, n.trim().parse::<u64>().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The seeds this process runs, in increasing order.
fn seeds_of(args: &ExploreArgs) -> Result<Vec<u64>, String> {
    let (first, end) = match (args.seed_range, args.seeds) {
        (Some(range), _) => range,
        (None, Some(0)) => return Err("--seeds must be at least 1".into()),
        (None, Some(count)) => {
            let end = args.from.checked_add(count).filter(|end| end - 1 <= MAX_SEED).ok_or_else(|| {
                format!(
                    "--from {} --seeds {count} leaves the seed range 0..={MAX_SEED}; choose a range inside it",
                    args.from
                )
            })?;
            (args.from, end)
        }
        (None, None) => return Err("say which seeds: --seeds N (from --from) or --seed-range A..B".into()),
    };
    let (shard, shards) = args.shard.unwrap_or((0, 1));
    Ok(shard_seeds(first, end, shard, shards))
}

/// The seeds of `first..end` in shard `shard` of `shards`: the first that belongs to it,
/// then every `shards`-th.
fn shard_seeds(first: u64, end: u64, shard: u64, shards: u64) -> Vec<u64> {
    let start = first + (shard + shards - first % shards) % shards;
    (start..end).step_by(shards as usize).collect()
}

pub fn explore(args: &ExploreArgs) -> Result<u8, String> {
    let spec = super::commands::spec_from(Some(&args.system), None, args.strategy.as_deref(), None, &args.set)?;
    let base = sdlab_core::run::open(&spec).map_err(|e| e.to_string())?;
    let seeds = seeds_of(args)?;
    let total = seeds.len() as u64;
    let jobs =
        args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()) as u64).clamp(1, 64);
    let (done, failing) = (AtomicU64::new(0), AtomicU64::new(0));
    let chunk = seeds.len().div_ceil(jobs as usize).max(1);
    let parts: Vec<Result<PerSeed, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .chunks(chunk)
            .map(|part| {
                let (base, done, failing) = (&base, &done, &failing);
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(part.len());
                    for &seed in part {
                        let (found, _) =
                            sdlab_core::system::sweep_one(base, seed, args.swarm).map_err(|e| e.to_string())?;
                        let bad =
                            if found.is_empty() { failing.load(Relaxed) } else { failing.fetch_add(1, Relaxed) + 1 };
                        let n = done.fetch_add(1, Relaxed) + 1;
                        if n.is_multiple_of(50) || n == total {
                            eprintln!("explore {} {}: {n}/{total} seeds, {bad} failing", base.def.id, base.strategy.id);
                        }
                        out.push((seed, found));
                    }
                    Ok(out)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a sweep thread panicked".into()))).collect()
    });
    let mut per_seed = Vec::with_capacity(seeds.len());
    for part in parts {
        per_seed.extend(part?);
    }
    if args.jsonl {
        for (seed, found) in &per_seed {
            let line = SeedLine {
                seed: *seed,
                violations: found
                    .iter()
                    .map(|f| Violation { check: f.check.clone(), detail: f.detail.clone(), link: f.link.clone() })
                    .collect(),
            };
            println!("{}", serde_json::to_string(&line).map_err(|e| e.to_string())?);
        }
        return Ok(exit_code(per_seed.iter().any(|(_, f)| !f.is_empty())));
    }
    print_report(&report_of(per_seed), args.json)
}

/// The report for per-seed results, whatever order they came in: violations by seed, and
/// within a seed in the order the system declares its checks.
fn report_of(mut per_seed: PerSeed) -> ExploreReport {
    per_seed.sort_by_key(|(seed, _)| *seed);
    ExploreReport {
        seeds_run: per_seed.len() as u64,
        violations: per_seed.into_iter().flat_map(|(_, found)| found).collect(),
    }
}

fn print_report(report: &ExploreReport, json: bool) -> Result<u8, String> {
    if json {
        println!("{}", serde_json::to_string_pretty(report).map_err(|e| e.to_string())?);
    } else {
        println!("{} seeds run, {} violations", report.seeds_run, report.violations.len());
        for v in &report.violations {
            println!("  seed {} {}: {}\n    {}", v.seed, v.check, v.detail, v.link);
        }
    }
    Ok(exit_code(!report.violations.is_empty()))
}

fn exit_code(failed: bool) -> u8 {
    if failed {
        1
    } else {
        0
    }
}

pub fn merge(args: &MergeArgs) -> Result<u8, String> {
    let mut seen: BTreeMap<u64, (String, Vec<Found>)> = BTreeMap::new();
    for file in &args.files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("reading {file}: {e}"))?;
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let parsed: SeedLine = serde_json::from_str(line)
                .map_err(|e| format!("{file}:{}: not a line of `explore --jsonl` ({e})", n + 1))?;
            let seed = parsed.seed;
            let found = parsed
                .violations
                .into_iter()
                .map(|v| Found { seed, check: v.check, detail: v.detail, link: v.link })
                .collect();
            let place = format!("{file}:{}", n + 1);
            if let Some((first, _)) = seen.insert(seed, (place.clone(), found)) {
                return Err(format!("seed {seed} appears twice ({first} and {place}): shards must not overlap"));
            }
        }
    }
    print_report(&report_of(seen.into_iter().map(|(seed, (_, found))| (seed, found)).collect()), args.json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_match_a_brute_force_filter_of_the_range() {
        for (a, b) in [(0u64, 1u64), (7, 40), (5, 6), (12, 13), (100, 257)] {
            for n in 1..=6 {
                for i in 0..n {
                    let twin: Vec<u64> = (a..b).filter(|s| s % n == i).collect();
                    assert_eq!(shard_seeds(a, b, i, n), twin, "{a}..{b} shard {i}/{n}");
                }
            }
        }
    }

    #[test]
    fn ranges_and_shards_reject_what_holds_nothing() {
        assert_eq!(parse_range("3..9"), Ok((3, 9)));
        assert!(parse_range("9..3").is_err() && parse_range("4..4").is_err() && parse_range("x").is_err());
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("4/4").is_err() && parse_shard("0/0").is_err() && parse_shard("1").is_err());
    }
}
