//! One module per route.

pub mod catalog;
pub mod compare;
pub mod system;
