//! One module per route.

pub mod bench;
pub mod catalog;
pub mod compare;
pub mod method;
pub mod system;
