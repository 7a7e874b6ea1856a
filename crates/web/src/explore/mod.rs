//! The seed sweep ("find a failing seed") that runs in a Web Worker, and the panel that
//! drives it. The worker binary (`src/bin/explore_worker.rs`) is glue around [`sweep`];
//! the page side is [`client`] (the worker handle), [`state`] (what the panel shows) and
//! [`panel`]. [`diff`] holds the metric and check differences compare mode shows.

pub mod client;
pub mod diff;
pub mod panel;
pub mod protocol;
pub mod state;
pub mod sweep;
#[cfg(target_arch = "wasm32")]
pub mod worker_main;

pub use panel::{ExplorePanel, ExploreProps};
