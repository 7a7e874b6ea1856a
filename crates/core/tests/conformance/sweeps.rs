//! Seed sweeps: every robust strategy passes every check on every seed, with the default
//! faults and with a swarm fault plan per seed. Sized from a total seed budget so the suite
//! fits CI's time with the whole catalog: `SDLAB_SEED_BUDGET` seeds (default
//! [`DEFAULT_BUDGET`]) are shared out over every (robust strategy, plain|swarm) pair, at
//! least [`MIN_SEEDS`] and at most [`FULL_SEEDS`] each; `SDLAB_SWEEP_SEEDS=N` sets N per
//! pair outright (`cargo xtask test --full` sets 200); `SDLAB_SWEEP_SYSTEM=<id>` sweeps one
//! system only (for its author). Run in release by the sweeps tier.

use super::rules::scenario;
use sdlab_core::catalog::CATALOG;
use sdlab_core::system::{run_validated, sweep_scenario, BuildOptions, StrategyDef, SystemDef};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub const DEFAULT_BUDGET: u64 = 6_000;
pub const MIN_SEEDS: u64 = 20;
pub const FULL_SEEDS: u64 = 200;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")))
}

/// Seeds per (strategy, mode) pair for `pairs` pairs.
pub fn seeds_per_pair(pairs: u64) -> u64 {
    if let Some(n) = env_u64("SDLAB_SWEEP_SEEDS") {
        return n;
    }
    let budget = env_u64("SDLAB_SEED_BUDGET").unwrap_or(DEFAULT_BUDGET);
    (budget / pairs.max(1)).clamp(MIN_SEEDS, FULL_SEEDS)
}

#[test]
#[ignore = "seed sweeps: run in release by `cargo xtask test` (tier sweeps)"]
fn robust_strategies_pass_every_seed_plain_and_with_swarm_faults() {
    let mut jobs: Vec<(&'static SystemDef, &'static StrategyDef, bool)> = Vec::new();
    let only = std::env::var("SDLAB_SWEEP_SYSTEM").ok();
    for def in CATALOG.iter().filter(|d| only.as_deref().is_none_or(|id| id == d.id)) {
        for st in def.strategies.iter().filter(|s| s.robust) {
            jobs.push((def, st, false));
            jobs.push((def, st, true));
        }
    }
    assert!(!jobs.is_empty(), "SDLAB_SWEEP_SYSTEM={only:?} names no system with a robust strategy");
    let seeds = seeds_per_pair(jobs.len() as u64);
    eprintln!(
        "sweeps: {} robust (strategy, mode) pairs × {seeds} seeds = {} runs",
        jobs.len(),
        jobs.len() as u64 * seeds
    );
    let next = AtomicUsize::new(0);
    let bad = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(def, st, swarm)) = jobs.get(i) else { break };
                let base = scenario(def, st);
                for seed in 1..=seeds {
                    let s = sweep_scenario(&base, seed, swarm);
                    let r = run_validated(&s, &BuildOptions::default()).expect("a sweep scenario runs");
                    if let Some(c) = r.checks.iter().find(|c| !c.ok) {
                        let mode = if swarm { "swarm" } else { "plain" };
                        bad.lock().unwrap().push(format!(
                            "{}/{} ({mode}) seed {seed}: `{}` failed: {}\n    {}",
                            def.id, st.id, c.name, c.detail, r.link
                        ));
                        break;
                    }
                }
            });
        }
    });
    let bad = bad.into_inner().unwrap();
    assert!(bad.is_empty(), "robust strategies with violations:\n{}", bad.join("\n"));
}

#[test]
fn the_budget_is_shared_out_within_its_bounds() {
    if std::env::var_os("SDLAB_SWEEP_SEEDS").is_some() || std::env::var_os("SDLAB_SEED_BUDGET").is_some() {
        return; // the environment sizes the sweep; the defaults are what this test pins
    }
    assert_eq!(seeds_per_pair(4), FULL_SEEDS);
    assert_eq!(seeds_per_pair(160), DEFAULT_BUDGET / 160);
    assert_eq!(seeds_per_pair(10_000), MIN_SEEDS);
}
