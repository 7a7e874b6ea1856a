//! Every strategy of every system, run twice from its default scenario, gives the same
//! trace hash; a different seed gives a different one; and replaying the run's own link
//! gives the same hash again (the link holds everything).
#![cfg(not(target_arch = "wasm32"))]

use sdlab_core::catalog::CATALOG;
use sdlab_core::system::run_validated;
use sdlab_core::system::BuildOptions;

#[test]
fn every_scenario_replays_exactly() {
    for def in CATALOG {
        for strategy in def.strategies {
            let mut spec = def.default_spec();
            spec.strategy = Some(strategy.id.to_string());
            let s = sdlab_core::run::open(&spec).unwrap();
            let a = run_validated(&s, &BuildOptions::default()).unwrap();
            let b = run_validated(&s, &BuildOptions::default()).unwrap();
            assert_eq!(a.trace_hash, b.trace_hash, "{}/{}", def.id, strategy.id);
            assert_eq!(a.events, b.events);
            let replay =
                run_validated(&sdlab_core::run::open_link(&a.link).unwrap(), &BuildOptions::default()).unwrap();
            assert_eq!(replay.trace_hash, a.trace_hash, "{}/{} replay from link", def.id, strategy.id);
            let mut other = s.clone();
            other.seed += 1;
            let c = run_validated(&other, &BuildOptions::default()).unwrap();
            assert_ne!(c.trace_hash, a.trace_hash, "{}/{}: seed had no effect", def.id, strategy.id);
            // Observing (keeping typed trace events) never changes the run.
            let kept = run_validated(&s, &BuildOptions { keep_trace: 500, ..BuildOptions::default() }).unwrap();
            assert_eq!(kept.trace_hash, a.trace_hash, "{}/{}: keep_trace changed the run", def.id, strategy.id);
        }
    }
}

#[test]
fn every_naive_default_or_sweep_fails_and_every_system_has_both_kinds() {
    for def in CATALOG {
        assert!(def.strategies.iter().any(|s| s.robust), "{} has no robust strategy", def.id);
        assert!(def.strategies.iter().any(|s| !s.robust), "{} has no naive strategy", def.id);
        assert!(!def.strategies[0].robust, "{}: the default strategy should be a naive one", def.id);
        let spec = def.default_spec();
        let r = run_validated(&sdlab_core::run::open(&spec).unwrap(), &BuildOptions::default()).unwrap();
        assert!(!r.all_ok(), "{}: the default scenario should show the naive strategy failing", def.id);
    }
}
