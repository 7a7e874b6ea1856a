//! Bounded memory (hardening item 4): the heaviest scenario the bounds allow — the highest
//! request rate, every burst at the highest factor over the whole longest run, and every
//! numeric parameter at its maximum — must stay under [`LIMIT`] bytes of heap, for every
//! strategy of every system, and say so when a limit cut it short.
//!
//! Measured, not estimated: this test binary's global allocator (`peak_alloc`) counts live
//! bytes and keeps the peak, so anything a run holds (the event queue, a node's maps, a check's
//! history, metrics) is seen. It runs the full event budget, so it lives in the release
//! sweeps tier (`#[ignore]`); `cargo xtask test` runs it there.

#![cfg(not(target_arch = "wasm32"))]

use peak_alloc::PeakAlloc;
use sdlab_core::catalog::CATALOG;
use sdlab_core::scenario::params::{ParamKind, ParamValue};
use sdlab_core::scenario::Scenario;
use sdlab_core::sim::workload::{Burst, MAX_BURSTS, MAX_BURST_FACTOR, MAX_DURATION_MS, MAX_RATE_PER_S};
use sdlab_core::system::{run_validated, BuildOptions, SystemDef};
use std::collections::BTreeMap;

/// The most heap one run may take (the aim: under 256 MB in the worst case).
const LIMIT: usize = 256 << 20;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// Every numeric parameter at its maximum (choices and flags keep their defaults).
fn maxed_params(def: &SystemDef) -> BTreeMap<String, ParamValue> {
    def.params
        .iter()
        .filter_map(|p| match p.kind {
            ParamKind::Int { max, .. } => Some((p.key.to_string(), ParamValue::Int(max))),
            ParamKind::Float { max, .. } => Some((p.key.to_string(), ParamValue::Float(max))),
            _ => None,
        })
        .collect()
}

/// The heaviest scenarios the bounds allow for one strategy: default and maxed parameters,
/// each under the heaviest workload.
fn worst(def: &'static SystemDef, strategy: &str) -> Vec<(&'static str, Scenario)> {
    let mut out = Vec::new();
    for (label, params) in [("default params", BTreeMap::new()), ("params at max", maxed_params(def))] {
        let mut spec = def.spec_with(params).unwrap_or_else(|e| panic!("{}: {e}", def.id));
        spec.strategy = Some(strategy.to_string());
        let base = Scenario::validate(def, &spec).unwrap_or_else(|e| panic!("{}: {e}", def.id));
        let mut w = base.workload.clone();
        w.rate_per_s = MAX_RATE_PER_S;
        w.think_ms = 0;
        w.duration_ms = MAX_DURATION_MS;
        w.bursts = vec![Burst { at_ms: 0, for_ms: MAX_DURATION_MS, factor: MAX_BURST_FACTOR }; MAX_BURSTS];
        spec.workload = Some(w);
        out.push((label, Scenario::validate(def, &spec).unwrap_or_else(|e| panic!("{}: {e}", def.id))));
    }
    out
}

/// This test's name, for the child processes it starts (`--exact`).
const TEST_NAME: &str = "the_heaviest_scenarios_the_bounds_allow_stay_under_256_mb";

// The wall clock only reports how long each run took; nothing in a run reads it.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
#[test]
#[ignore = "runs whole event budgets: release sweeps tier (`cargo xtask test`)"]
fn the_heaviest_scenarios_the_bounds_allow_stay_under_256_mb() {
    match std::env::var("SDLAB_SWEEP_SYSTEM") {
        Ok(id) => measure(&id),
        Err(_) => measure_each_system_in_its_own_process(),
    }
}

/// The whole catalog, one child process per system (this same test binary, narrowed with
/// `SDLAB_SWEEP_SYSTEM`), as many at once as there are cores: each process has its own
/// counting allocator, so one system's peak never includes another's, and the tier's time
/// shrinks by the core count.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
fn measure_each_system_in_its_own_process() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(def) = CATALOG.get(i) else { break };
                let out = std::process::Command::new(&exe)
                    .args(["--ignored", "--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
                    .env("SDLAB_SWEEP_SYSTEM", def.id)
                    .output()
                    .expect("the test binary starts");
                // One block per system, so two systems' lines never interleave.
                eprint!("{}", String::from_utf8_lossy(&out.stderr));
                if !out.status.success() {
                    failed.lock().unwrap().push(def.id);
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(failed.is_empty(), "systems over the limit or failing (their runs are printed above): {failed:?}");
}

/// Every strategy of one system, in this process.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
fn measure(id: &str) {
    let mut over = Vec::new();
    let def =
        CATALOG.iter().find(|d| d.id == id).unwrap_or_else(|| panic!("SDLAB_SWEEP_SYSTEM={id:?} names no system"));
    for (i, st) in def.strategies.iter().enumerate() {
        // Every strategy with its parameters at their maxima; the default parameters
        // for the first strategy only (the variants differ in sizes, not in kind, and
        // each run is a whole event budget: this keeps the tier within CI's time).
        for (label, s) in worst(def, st.id).into_iter().filter(|(l, _)| i == 0 || *l == "params at max") {
            let t0 = std::time::Instant::now();
            HEAP.reset_peak_usage();
            let before = HEAP.current_usage();
            let r = run_validated(&s, &BuildOptions::default()).expect("the worst scenario builds");
            let peak = HEAP.peak_usage() - before;
            let cut = r.checks.iter().find(|c| c.name == "event-budget");
            eprintln!(
                "{}/{} ({label}): {} events in {:.1} s, peak {:.1} MB{}",
                def.id,
                st.id,
                r.events,
                t0.elapsed().as_secs_f64(),
                peak as f64 / 1e6,
                cut.map_or(String::new(), |c| format!(" — {}", c.detail))
            );
            if peak > LIMIT {
                over.push(format!("{}/{} ({label}): {:.1} MB", def.id, st.id, peak as f64 / 1e6));
            }
        }
    }
    assert!(over.is_empty(), "runs over {} MB:\n{}", LIMIT >> 20, over.join("\n"));
}
