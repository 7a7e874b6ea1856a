//! The golden table asserted natively and, through wasm-bindgen-test, in headless
//! Chromium: same constants, so native and wasm provably agree.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn golden_trace_hashes_hold() {
    let bad = sdlab_core::golden::mismatches();
    assert!(bad.is_empty(), "golden hashes changed:\n{}", bad.join("\n"));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn stable_hash_is_platform_independent() {
    #[derive(Hash)]
    enum Msg {
        Put(String, Vec<u32>, usize),
    }
    let h = sdlab_core::trace::hash::stable_hash(&Msg::Put("abc".into(), vec![1, 2], 7));
    assert_eq!(format!("{h:016x}"), "2d195102f2ab17b4");
}
