//! The link codec under hostile input: round trips for generated specs, and no panic and
//! bounded work for arbitrary strings, arbitrary bytes behind a valid prefix, valid
//! base64 of random bytes, and deflate bombs.
#![cfg(not(target_arch = "wasm32"))]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;
use sdlab_core::scenario::link::{self, LinkError, MAX_LINK_CHARS};
use sdlab_core::scenario::params::ParamValue;
use sdlab_core::scenario::ScenarioSpec;
use sdlab_core::sim::fault::{Fault, TimedFault};
use sdlab_core::sim::workload::{Arrival, Burst, WorkloadSpec};

fn arb_fault() -> impl Strategy<Value = TimedFault> {
    let name = "[a-z]{1,6}-[0-9]";
    (
        0u64..100_000,
        prop_oneof![
            name.prop_map(|node| Fault::Crash { node }),
            name.prop_map(|node| Fault::Restart { node }),
            (name, 0u64..5_000).prop_map(|(node, for_ms)| Fault::Pause { node, for_ms }),
            (name, -1_000i64..1_000, -1_000i64..1_000).prop_map(|(node, offset_ms, drift_ppm)| Fault::Skew {
                node,
                offset_ms,
                drift_ppm
            }),
            (proptest::collection::vec(name, 1..3), proptest::collection::vec(name, 1..3), any::<bool>())
                .prop_map(|(a, b, one_way)| Fault::Partition { a, b, one_way }),
            Just(Fault::Heal),
            (0.0f64..1.0).prop_map(|rate| Fault::Loss { rate }),
        ],
    )
        .prop_map(|(at_ms, fault)| TimedFault { at_ms, fault })
}

fn arb_spec() -> impl Strategy<Value = ScenarioSpec> {
    (
        "[a-z-]{1,20}",
        proptest::option::of("[a-z-]{1,12}"),
        proptest::collection::btree_map(
            "[a-z_]{1,10}",
            prop_oneof![
                any::<bool>().prop_map(ParamValue::Bool),
                any::<i64>().prop_map(ParamValue::Int),
                (-1e9f64..1e9).prop_map(ParamValue::Float),
                "[ -~]{0,12}".prop_map(ParamValue::Text),
            ],
            0..5,
        ),
        0u64..(1 << 53),
        proptest::collection::vec(arb_fault(), 0..5),
        proptest::option::of((1.0f64..10_000.0, 1u64..60_000, 1u64..100_000, 0.0f64..2.0).prop_map(
            |(rate, d, keys, s)| WorkloadSpec {
                arrival: Arrival::Open,
                rate_per_s: rate,
                think_ms: 0,
                duration_ms: d,
                keys,
                zipf_s: s,
                bursts: vec![Burst { at_ms: d / 2, for_ms: d / 4, factor: 3.0 }],
            },
        )),
        proptest::option::of(0u64..100_000),
    )
        .prop_map(|(system, strategy, params, seed, faults, workload, playhead_ms)| ScenarioSpec {
            version: 1,
            system,
            strategy,
            params,
            seed,
            faults,
            workload,
            playhead_ms,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn encode_then_decode_is_identity(spec in arb_spec()) {
        let l = link::encode(&spec);
        prop_assert!(l.len() < MAX_LINK_CHARS);
        let back = link::decode(&l).unwrap();
        // Floats survive through serde_json's shortest round-trip formatting.
        prop_assert_eq!(back, spec);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,300}") {
        let _ = link::decode(&s);
        let _ = sdlab_core::run::open_link(&s);
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_prefix_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let l = format!("v1.{}", URL_SAFE_NO_PAD.encode(&bytes));
        let _ = sdlab_core::run::open_link(&l);
        let deflated = miniz_oxide::deflate::compress_to_vec(&bytes, 6);
        let _ = sdlab_core::run::open_link(&format!("v1.{}", URL_SAFE_NO_PAD.encode(deflated)));
    }

    #[test]
    fn mutated_links_fail_cleanly(spec in arb_spec(), pos in any::<prop::sample::Index>(), ch in "[A-Za-z0-9_-]") {
        let mut l = link::encode(&spec).into_bytes();
        let i = pos.index(l.len());
        l[i] = ch.as_bytes()[0];
        let l = String::from_utf8(l).unwrap();
        let _ = sdlab_core::run::open_link(&l);
    }
}

#[test]
fn a_deflate_bomb_is_refused_before_it_expands() {
    let zeros = vec![b' '; 50 * 1024 * 1024];
    let packed = miniz_oxide::deflate::compress_to_vec(&zeros, 9);
    let l = format!("v1.{}", URL_SAFE_NO_PAD.encode(packed));
    assert!(l.len() < MAX_LINK_CHARS * 20);
    match link::decode(&l) {
        Err(LinkError::TooBig) | Err(LinkError::TooLong { .. }) => {}
        other => panic!("expected a size refusal, got {other:?}"),
    }
    let small_bomb = miniz_oxide::deflate::compress_to_vec(&vec![b' '; 1024 * 1024], 9);
    let l = format!("v1.{}", URL_SAFE_NO_PAD.encode(small_bomb));
    assert!(l.len() < MAX_LINK_CHARS, "{}", l.len());
    assert_eq!(link::decode(&l), Err(LinkError::TooBig));
}

#[test]
fn every_error_reads_well() {
    let cases = [
        ("", "the link holds no scenario"),
        ("v3.abc", "the link starts with \"v3\", which this version of sdlab does not know (expected \"v2.\" or \"v1.\"); it may come from a newer sdlab"),
        ("v2.abc", "the link is damaged: its checksum does not match (was a character changed, added or cut?)"),
        ("v1.ab$c", "the link is damaged: character 5 is not valid base64url (was it cut or edited?)"),
        ("v1.AAAA", "the link is damaged: its compressed data does not decode (was it cut short?)"),
    ];
    for (input, want) in cases {
        assert_eq!(link::decode(input).unwrap_err().to_string(), want, "{input:?}");
    }
    let long = format!("v1.{}", "A".repeat(MAX_LINK_CHARS));
    assert!(link::decode(&long).unwrap_err().to_string().contains("scenario links are at most 8192"));
    let newer = link::encode(&ScenarioSpec { version: 7, ..ScenarioSpec::for_system("x") });
    assert!(link::decode(&newer).unwrap_err().to_string().contains("version 7, newer than this sdlab"));
    let not_spec = format!(
        "v1.{}",
        URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(b"{\"version\":1,\"system\":3}", 6))
    );
    let e = link::decode(&not_spec).unwrap_err().to_string();
    assert_eq!(e, "the link's scenario is not valid: invalid type: integer `3`, expected a string");
    let e = link::parse_json("{\"version\": 1,,}").unwrap_err().to_string();
    assert!(e.starts_with("the link's scenario is not valid (line 1, column 15)"), "{e}");
    let unknown = link::encode(&ScenarioSpec::for_system("no-such-system"));
    let e = sdlab_core::run::open_link(&unknown).unwrap_err().to_string();
    assert!(e.starts_with("unknown system \"no-such-system\"; known systems:"), "{e}");
}

/// Hardening item 11: the spec has carried `version` since the first commit, so a spec
/// without it, or with 0, was never written by sdlab; it is refused with a reason that says
/// what to write, not silently taken for the current version.
#[test]
fn versionless_and_version_zero_specs_are_refused_with_a_reason() {
    let raw = |json: &[u8]| format!("v1.{}", URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(json, 6)));
    let e = link::decode(&raw(b"{\"system\":\"x\",\"seed\":4}")).unwrap_err().to_string();
    assert_eq!(e, "the scenario has no \"version\" field; sdlab scenarios start with \"version\": 1");
    for bad in [
        &b"{\"version\":0,\"system\":\"x\"}"[..],
        b"{\"version\":-1,\"system\":\"x\"}",
        b"{\"version\":1.5,\"system\":\"x\"}",
    ] {
        let e = link::decode(&raw(bad)).unwrap_err().to_string();
        assert!(e.starts_with("the scenario's \"version\" must be a whole number from 1 to 1"), "{e}");
    }
    assert_eq!(link::decode(&raw(b"{\"version\":1,\"system\":\"x\",\"seed\":4}")).unwrap().seed, 4);
}

#[test]
fn full_urls_are_accepted() {
    let l = link::encode(&ScenarioSpec::for_system("x"));
    assert_eq!(link::decode(&format!("http://127.0.0.1:8080/#/s/x?{l}")).unwrap().system, "x");
}

/// Hardening item 8: every one-character edit of a link — a change, a deletion, an
/// appended character — is refused, where a v1 link let some through as a different
/// scenario (`id_space` 2048 became 2058).
#[test]
fn every_single_character_edit_is_caught_by_the_checksum() {
    let spec = link::parse_json(
        r#"{"version":1,"system":"url-shortener","strategy":"random","params":{"id_space":2048},"seed":1}"#,
    )
    .unwrap();
    let good = link::encode(&spec);
    assert!(good.starts_with("v2."));
    assert_eq!(link::decode(&good).unwrap(), spec);
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".chars().collect();
    let mut tried = 0;
    for (i, c) in good.char_indices().skip(3) {
        for &r in alphabet.iter().filter(|&&r| r != c).step_by(7) {
            let mut edited = good.clone();
            edited.replace_range(i..i + c.len_utf8(), &r.to_string());
            tried += 1;
            if let Ok(other) = link::decode(&edited) {
                panic!("edit at {i} ({c} -> {r}) decoded silently: {other:?}");
            }
        }
        let mut cut = good.clone();
        cut.remove(i);
        assert!(link::decode(&cut).is_err(), "deleting character {i} went unnoticed");
    }
    for extra in ["A", "-", "xyz"] {
        assert!(link::decode(&format!("{good}{extra}")).is_err(), "appended {extra:?} went unnoticed");
    }
    assert!(tried > 300, "{tried}");
}

/// Hardening item 7: encoding refuses what decoding would refuse, with the same words.
#[test]
fn encoding_refuses_what_decoding_refuses() {
    let names: Vec<String> = (0..256).map(|i| format!("node-with-a-long-name-{i:03}")).collect();
    let fault = sdlab_core::sim::fault::TimedFault {
        at_ms: 10,
        fault: sdlab_core::sim::fault::Fault::Partition { a: names.clone(), b: names, one_way: false },
    };
    let mut spec = ScenarioSpec::for_system("distributed-lock");
    spec.faults = vec![fault; 64];
    let err = link::try_encode(&spec).unwrap_err();
    let forced = link::encode(&spec);
    assert_eq!(link::decode(&forced).unwrap_err().to_string(), err.to_string());
    let small = ScenarioSpec::for_system("distributed-lock");
    assert_eq!(link::decode(&link::try_encode(&small).unwrap()).unwrap(), small);
}

/// Hardening item 11: a fault after the run's end is refused, not dropped silently.
#[test]
fn a_fault_after_the_end_of_the_run_is_refused() {
    let spec = link::parse_json(
        r#"{"version":1,"system":"distributed-lock","faults":[{"at_ms":500000,"kind":"crash","node":"worker-0"}]}"#,
    )
    .unwrap();
    let e = sdlab_core::run::open(&spec).unwrap_err().to_string();
    assert!(e.contains("after the run ends (11000 ms)"), "{e}");
}
