//! One module per route.

pub mod catalog;
pub mod method;
pub mod system;
