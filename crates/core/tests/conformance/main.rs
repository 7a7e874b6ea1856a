//! The conformance suite: one set of rules every system in the catalog must meet, so that
//! adding a system is its folder plus one line in `CATALOG`, and it is covered.
//!
//! - `rules` holds the rules, each a function from a system's definition to findings (an
//!   empty list is a pass); they never name a system.
//! - `catalog` applies the quick rules to every catalog entry (the native tier).
//! - `sweeps` runs the seed sweeps (robust strategies clean, plain and with swarm faults)
//!   from a stated seed budget; it is `#[ignore]`d here and run in release by the sweeps
//!   tier of `cargo xtask test`.
//! - `planted` builds a deliberately broken system (a vacuous check, a non-deterministic
//!   draw, a show-me line whose claim is false, a naive design nothing catches) and shows
//!   each rule flags its flaw: a rule that cannot fail is not a rule.
#![cfg(not(target_arch = "wasm32"))]

mod catalog;
mod planted;
mod rules;
mod sweeps;
