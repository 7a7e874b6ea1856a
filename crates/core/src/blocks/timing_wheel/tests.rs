use super::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    /// Deadline `now + offset`, or `now - offset` when `past`.
    Insert {
        offset: u64,
        past: bool,
    },
    /// Cancels the n-th key handed out (modulo how many), fired or not.
    Cancel(usize),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let offset = prop_oneof![0u64..8, 0u64..600, 0u64..20_000, 0u64..3_000_000, Just(u64::MAX / 2)];
    let step = prop_oneof![0u64..3, 0u64..100, 0u64..5_000, 0u64..400_000];
    prop_oneof![
        4 => (offset, prop::bool::weighted(0.15)).prop_map(|(offset, past)| Op::Insert { offset, past }),
        1 => any::<usize>().prop_map(Op::Cancel),
        3 => step.prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    /// The wheel and the full-scan twin see the same inserts, cancels and advances and
    /// must fire the same timers, at the same calls, in the same order, and agree on what
    /// each cancel recovers.
    #[test]
    fn matches_scan_twin(tick in 1u64..5, levels in 1u32..4, ops in prop::collection::vec(op(), 0..300)) {
        let mut wheel = TimingWheel::new(tick, levels);
        let mut twin = ScanTimers::new();
        let mut keys: Vec<(TimerKey, ScanKey)> = Vec::new();
        let mut now = 0u64;
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Insert { offset, past } => {
                    let deadline = if past { now.saturating_sub(offset) } else { now.saturating_add(offset) };
                    keys.push((wheel.insert(deadline, n), twin.insert(deadline, n)));
                }
                Op::Cancel(k) if !keys.is_empty() => {
                    let (wk, tk) = keys[k % keys.len()];
                    let expect = twin.cancel(tk);
                    prop_assert_eq!(wheel.deadline(wk).is_some(), expect.is_some());
                    prop_assert_eq!(wheel.cancel(wk), expect);
                }
                Op::Cancel(_) => {}
                Op::Advance(step) => {
                    now = now.saturating_add(step);
                    prop_assert_eq!(wheel.advance(now), twin.advance(now));
                }
            }
            prop_assert_eq!(wheel.len(), twin.len());
        }
        // Drain everything, the far overflow included.
        prop_assert_eq!(wheel.advance(u64::MAX), twin.advance(u64::MAX));
        prop_assert!(wheel.is_empty());
    }
}

#[test]
fn equal_deadlines_fire_in_insertion_order_within_a_coarse_tick() {
    let mut w = TimingWheel::new(1000, 2);
    w.insert(1500, "c");
    w.insert(1200, "a");
    w.insert(1500, "d");
    w.insert(1200, "b");
    // 1200 is due, 1500 is in the same tick but not yet.
    assert_eq!(w.advance(1300), vec![(1200, "a"), (1200, "b")]);
    assert_eq!(w.advance(1500), vec![(1500, "c"), (1500, "d")]);
}

#[test]
fn past_deadline_fires_on_next_advance_and_time_never_goes_back() {
    let mut w = TimingWheel::new(10, 2);
    assert!(w.advance(500).is_empty());
    w.insert(20, 1);
    assert_eq!(w.advance(100), vec![(20, 1)]);
    assert_eq!(w.now(), 500);
}

#[test]
fn far_deadline_waits_in_overflow_and_cascades_down_to_its_exact_tick() {
    // One level of 64 one-unit ticks: 1_000 is far past the span.
    let mut w = TimingWheel::new(1, 1);
    assert_eq!(w.span_ticks(), 64);
    w.insert(1_000, 'x');
    assert_eq!(w.overflow.len(), 1);
    assert!(w.advance(999).is_empty());
    assert_eq!(w.overflow.len(), 0, "opened when the cursor entered its 64-tick block");
    assert_eq!(w.advance(1_000), vec![(1_000, 'x')]);
}

#[test]
fn coarse_timer_cascades_through_every_level() {
    // 64^2 + 64 + 1 ticks ahead sits at level 2; it must move to level 1, then level 0.
    let mut w = TimingWheel::new(1, 3);
    let d = 64 * 64 + 64 + 1;
    w.insert(d, ());
    assert_eq!(w.levels[2].occupied.count_ones(), 1);
    assert!(w.advance(64 * 64).is_empty());
    assert_eq!((w.levels[2].occupied, w.levels[1].occupied.count_ones()), (0, 1));
    assert!(w.advance(64 * 64 + 64).is_empty());
    assert_eq!((w.levels[1].occupied, w.levels[0].occupied.count_ones()), (0, 1));
    assert_eq!(w.advance(d), vec![(d, ())]);
}

#[test]
fn cancel_is_final_and_a_stale_key_never_reaches_a_reused_entry() {
    let mut w = TimingWheel::new(1, 2);
    let a = w.insert(5, "a");
    assert_eq!(w.cancel(a), Some("a"));
    assert_eq!(w.cancel(a), None);
    assert!(w.advance(5).is_empty(), "a cancelled timer never fires");
    // The tombstone's entry is free again and reused by the next insert.
    let b = w.insert(9, "b");
    assert_eq!(b.index, a.index);
    assert_eq!(w.cancel(a), None);
    assert_eq!(w.advance(9), vec![(9, "b")]);
    assert_eq!(w.cancel(b), None, "a fired timer cannot be cancelled");
}

#[test]
fn idle_stretches_are_skipped_not_stepped() {
    // With occupancy masks an advance over 2^40 empty ticks is a handful of slot visits;
    // stepping tick by tick would never finish.
    let mut w = TimingWheel::new(1, 8);
    w.insert(1 << 40, 7);
    w.insert(3, 1);
    assert_eq!(w.advance(1 << 41), vec![(3, 1), (1 << 40, 7)]);
}
