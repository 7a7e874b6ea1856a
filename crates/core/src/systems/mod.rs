//! One module per system in the catalog.
pub mod rate_limiter;
