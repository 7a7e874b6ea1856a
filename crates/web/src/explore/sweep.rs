//! The sweep itself, as the worker runs it: seed by seed, posting progress after each run
//! and stopping at the first failing check. It is plain Rust over a `post` callback, so it
//! is tested natively and the worker binary is only the glue to `postMessage`.
//!
//! It stops at the first hit (unlike `sdlab explore`, which collects every violation)
//! because the playground only needs one seed to open, and stopping early keeps a sweep of
//! a naive strategy short.

use super::protocol::FromWorker;
use sdlab_core::scenario::{ScenarioSpec, MAX_SEED};
use sdlab_core::system::BuildOptions;
use sdlab_core::system::{run_validated, sweep_scenario};

/// The most seeds one sweep runs; the panel's input is bounded by the same number.
pub const MAX_SEEDS: u64 = 10_000;

/// Runs up to `count` seeds from `from`, posting `progress` after each, then `hit` (first
/// failing check) and `done`, or `error`.
pub fn sweep(spec: &ScenarioSpec, from: u64, count: u64, swarm: bool, post: &mut dyn FnMut(FromWorker)) {
    let base = match sdlab_core::run::open(spec) {
        Ok(s) => s,
        Err(e) => return post(FromWorker::Error { message: e.to_string() }),
    };
    let from = from.min(MAX_SEED);
    let total = count.clamp(1, MAX_SEEDS).min(MAX_SEED - from + 1);
    for i in 0..total {
        let seed = from + i;
        let scenario = sweep_scenario(&base, seed, swarm);
        let report = match run_validated(&scenario, &BuildOptions::default()) {
            Ok(r) => r,
            Err(e) => return post(FromWorker::Error { message: format!("seed {seed}: {e}") }),
        };
        post(FromWorker::Progress { done: i + 1, total });
        if let Some(c) = report.checks.iter().find(|c| !c.ok) {
            post(FromWorker::Hit { seed, check: c.name.clone(), detail: c.detail.clone(), link: report.link.clone() });
            break;
        }
    }
    post(FromWorker::Done);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdlab_core::catalog::CATALOG;

    fn collect(spec: &ScenarioSpec, from: u64, count: u64, swarm: bool) -> Vec<FromWorker> {
        let mut out = Vec::new();
        sweep(spec, from, count, swarm, &mut |m| out.push(m));
        out
    }

    #[test]
    fn a_naive_strategy_fails_on_some_seed_and_the_link_replays_it() {
        // Every system's naive strategy must be caught by a check on some seed (DESIGN.md),
        // with its default faults or, failing that, with swarm faults — the rule the
        // conformance suite applies.
        for def in CATALOG {
            let mut spec = def.default_spec();
            let naive = def.strategies.iter().find(|s| !s.robust).expect("a naive strategy");
            spec.strategy = Some(naive.id.to_string());
            let hit = [false, true].into_iter().find_map(|swarm| {
                let out = collect(&spec, 1, 50, swarm);
                assert_eq!(out.last(), Some(&FromWorker::Done), "{}", def.id);
                out.iter().find_map(|m| match m {
                    FromWorker::Hit { seed, check, link, .. } => Some((*seed, check.clone(), link.clone())),
                    _ => None,
                })
            });
            let Some((seed, check, link)) = hit else { panic!("{}: no failing seed in 50", def.id) };
            let replay = run_validated(&sdlab_core::run::open_link(&link).unwrap(), &BuildOptions::default()).unwrap();
            assert_eq!(replay.seed, seed);
            assert!(replay.checks.iter().any(|c| c.name == check && !c.ok), "{}: {check} passes on replay", def.id);
        }
    }

    #[test]
    fn progress_counts_every_seed_and_the_count_is_bounded() {
        let def = &CATALOG[0];
        let mut spec = def.default_spec();
        let robust = def.strategies.iter().find(|s| s.robust).expect("a robust strategy");
        spec.strategy = Some(robust.id.to_string());
        let out = collect(&spec, 1, 3, false);
        assert_eq!(
            out,
            vec![
                FromWorker::Progress { done: 1, total: 3 },
                FromWorker::Progress { done: 2, total: 3 },
                FromWorker::Progress { done: 3, total: 3 },
                FromWorker::Done
            ]
        );
        let near_end = collect(&spec, MAX_SEED, 5, false);
        assert_eq!(near_end[0], FromWorker::Progress { done: 1, total: 1 });
    }

    #[test]
    fn an_invalid_spec_is_an_error() {
        let out = collect(&ScenarioSpec::for_system("no-such-system"), 1, 3, false);
        assert!(matches!(&out[..], [FromWorker::Error { message }] if message.contains("unknown system")), "{out:?}");
    }
}
