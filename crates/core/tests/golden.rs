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

/// `cargo xtask golden --bless` (SDLAB_BLESS=1): rewrites the table in `src/golden.rs`
/// between its markers with this build's hashes for every catalog strategy.
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore = "rewrites src/golden.rs; run by `cargo xtask golden --bless`"]
fn bless() {
    if std::env::var("SDLAB_BLESS").as_deref() != Ok("1") {
        eprintln!("SDLAB_BLESS is not 1: nothing written");
        return;
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/golden.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    let begin = text.find("// golden:begin").expect("begin marker");
    let begin = begin + text[begin..].find('\n').unwrap() + 1;
    let end = text.find("    // golden:end").expect("end marker");
    let rows = sdlab_core::golden::current_rows().join("\n");
    let out = format!("{}{rows}\n{}", &text[..begin], &text[end..]);
    std::fs::write(&path, out).unwrap();
    eprintln!("wrote {} rows to {}", sdlab_core::golden::current_rows().len(), path.display());
}
