//! Pinned tool versions (see ../shared/TOOLCHAIN.md when working on the build).
//! `WASM_BINDGEN` must equal the `=` pin in Cargo.toml and `[tools]` in Trunk.toml; a test
//! in `tiers.rs` checks all three agree.

pub const WASM_BINDGEN: &str = "0.2.129";
pub const TRUNK: &str = "0.21.14";
pub const WASM_PACK: &str = "0.15.1";
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
