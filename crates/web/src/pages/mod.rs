//! One module per route.

pub mod catalog;
pub mod system;
