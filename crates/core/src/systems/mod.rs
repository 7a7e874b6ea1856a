//! One module per system in the catalog.
pub mod distributed_cache;
