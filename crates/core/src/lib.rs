//! sdlab-core: a deterministic simulation kernel and the catalog of systems built on it.
//!
//! Nothing here does I/O, reads a clock or draws OS randomness: a run is a pure function
//! of its [`scenario::ScenarioSpec`], so the same link replays bit for bit natively and in
//! wasm. See `ARCHITECTURE.md` at the repository root for the map.

pub mod blocks;
pub mod catalog;
pub mod check;
pub mod golden;
pub mod metrics;
pub mod run;
pub mod scenario;
#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
pub mod shared_data;
pub mod sim;
pub mod system;
pub mod systems;
pub mod trace;
pub mod view;

pub use catalog::CATALOG;
pub use run::run_scenario;
pub use scenario::{Scenario, ScenarioError, ScenarioSpec};
pub use system::{explore, BuildOptions, RunReport, Simulation, SystemDef};
