//! What a system is to the rest of sdlab, below every system and above the kernel: its
//! definition ([`def`]: strategies, parameters, checks, how to build it), the face of a
//! running world ([`simulation`]), the batch outcome of a run and of a seed sweep
//! ([`outcome`]), and the macro that turns a role enum into one actor ([`roles`]).
//!
//! Layering: `sim`, `check`, `metrics`, `trace`, `view`, `blocks` < `scenario` + `system`
//! < `systems::*` < `catalog` < `run`. A system imports only from below it, so the list of
//! systems (`catalog`) and the entry points that look a system up (`run`) can name every
//! system without a cycle; `tests/layers.rs` enforces it.

pub mod def;
pub mod outcome;
pub mod roles;
pub mod simulation;
#[cfg(test)]
pub mod testing;

pub use def::{assemble, world, world_config, BuildFn, BuildOptions, CheckDef, StrategyDef, SystemDef};
pub use outcome::{explore, hash_hex, run_validated, sweep_one, sweep_scenario, ExploreReport, Found, RunReport};
pub use simulation::{topology_of, Run, Simulation};
