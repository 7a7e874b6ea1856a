//! The quick rules over every catalog entry. Each test names every system and finding at
//! once, so one run shows everything a new system still lacks.

use super::rules::{self, assert_clean};
use sdlab_core::catalog::CATALOG;

#[test]
fn every_system_is_deterministic_well_shaped_and_exercises_every_check() {
    let findings = CATALOG
        .iter()
        .map(|def| {
            let (mut bad, reports) = rules::determinism(def);
            bad.extend(rules::shape(def, &reports));
            (def.id, bad)
        })
        .collect();
    assert_clean("determinism and shape", findings);
}

#[test]
fn show_me_lines_tell_the_truth_and_every_check_can_fail() {
    let findings = CATALOG
        .iter()
        .map(|def| {
            let (mut bad, shown) = rules::show_me(def);
            bad.extend(rules::failability(def, &shown));
            (def.id, bad)
        })
        .collect();
    assert_clean("show-me and failability", findings);
}

#[test]
fn every_parameter_holds_its_bounds_and_each_bound_runs() {
    assert_clean("bounds", CATALOG.iter().map(|def| (def.id, rules::bounds(def))).collect());
}

#[test]
fn every_page_walks_the_interview_path_with_live_estimates() {
    assert_clean("page", CATALOG.iter().map(|def| (def.id, rules::page(def))).collect());
}

#[test]
fn every_system_has_a_naive_default_and_a_robust_alternative() {
    let findings = CATALOG
        .iter()
        .map(|def| {
            let mut bad = Vec::new();
            if !def.strategies.iter().any(|s| s.robust) {
                bad.push("no robust strategy".to_string());
            }
            if def.strategies.first().is_none_or(|s| s.robust) {
                bad.push("the default (first) strategy should be a naive one, so the page opens on a failure".into());
            }
            (def.id, bad)
        })
        .collect();
    assert_clean("strategies", findings);
}

#[test]
fn the_golden_table_holds_every_strategy_of_every_system() {
    let findings = CATALOG
        .iter()
        .map(|def| {
            let bad = def
                .strategies
                .iter()
                .filter(|st| !sdlab_core::golden::SCENARIOS.iter().any(|r| r.0 == def.id && r.1 == st.id))
                .map(|st| format!("{}: no golden row (run `cargo xtask golden --bless`)", st.id))
                .collect();
            (def.id, bad)
        })
        .collect();
    assert_clean("golden", findings);
}
