//! The brute-force twin: for random histories of at most 7 calls (9 for windows), try
//! every subset of the optional calls and every order of what is kept that respects
//! real time (no call placed before one that returned before it started), running each
//! on a plain sequential register written here, from every initial value that matters. The checker must agree on every verdict, and its shortest failing window
//! must be as short as the shortest found by trying every window. Nothing here uses the
//! checker's search, memo, set-valued states or window code.

use super::*;
use crate::sim::rng::Prng;
use proptest::prelude::*;
use std::collections::BTreeMap;

type ROp = Op<RegisterInput, RegisterOutput>;

/// The sequential register, one value per key: the next values, or `None` if the answer
/// is impossible.
fn apply(state: &mut BTreeMap<String, Option<u64>>, op: &ROp) -> bool {
    let v = state.entry(op.key.clone()).or_insert(None);
    match (&op.input, &op.output) {
        (RegisterInput::Read, None) => true,
        (RegisterInput::Read, Some(RegisterOutput::Value(seen))) => *v == *seen,
        (RegisterInput::Write(w), _) => {
            *v = Some(*w);
            true
        }
        (RegisterInput::Cas { from, to }, out) => {
            let swapped = *v == Some(*from);
            if swapped {
                *v = Some(*to);
            }
            match out {
                None => true,
                Some(RegisterOutput::Swapped(s)) => *s == swapped,
                Some(_) => false,
            }
        }
        (RegisterInput::Read, Some(_)) => false,
    }
}

/// `y` returned before `x` was called, so `x` may not come before `y`.
fn must_precede<I, O>(y: &Op<I, O>, x: &Op<I, O>) -> bool {
    y.return_us.is_some_and(|r| r < x.call_us)
}

/// Whether some order of `left` (a bit set of op indices) that respects real time runs
/// from `state` through `apply`: every such order is tried, extending a prefix only by
/// an op no remaining op must precede (a prefix whose answers already fail is not
/// extended: no order that starts with it can succeed).
fn any_order<I, O, S: Clone>(
    ops: &[Op<I, O>],
    left: u32,
    state: &S,
    apply: &dyn Fn(&mut S, &Op<I, O>) -> bool,
) -> bool {
    if left == 0 {
        return true;
    }
    (0..ops.len()).filter(|&x| left >> x & 1 == 1).any(|x| {
        let free = (0..ops.len()).all(|y| left >> y & 1 == 0 || !must_precede(&ops[y], &ops[x]));
        let mut next = state.clone();
        free && apply(&mut next, &ops[x]) && any_order(ops, left & !(1 << x), &next, apply)
    })
}

/// Whether some subset (every call with a known answer, any of the others) in some
/// real-time-respecting order explains every answer when run by `apply` from one of
/// `inits`.
fn brute<I, O, S: Clone>(ops: &[Op<I, O>], inits: &[S], apply: &dyn Fn(&mut S, &Op<I, O>) -> bool) -> bool {
    let optional: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].output.is_none()).collect();
    let required: u32 = (0..ops.len()).filter(|&i| ops[i].output.is_some()).map(|i| 1 << i).sum();
    (0u32..(1 << optional.len())).any(|mask| {
        let kept =
            optional.iter().enumerate().filter(|(k, _)| mask >> k & 1 == 1).fold(required, |m, (_, &i)| m | 1 << i);
        inits.iter().any(|init| any_order(ops, kept, init, apply))
    })
}

/// The register brute force, every key starting from one of `inits`.
fn brute_linearizable(ops: &[ROp], inits: &[Option<u64>]) -> bool {
    let states: Vec<BTreeMap<String, Option<u64>>> =
        inits.iter().map(|v| ops.iter().map(|op| (op.key.clone(), *v)).collect()).collect();
    brute(ops, &states, &apply)
}

/// A random history of at most `max_ops` calls: a real execution (points inside
/// intervals, run in order) whose answers are kept, or perturbed, or drawn at random.
fn random_history(seed: u64, keys: &[&str], max_ops: u64) -> Vec<ROp> {
    let mut rng = Prng::new(seed);
    let n = rng.between(1, max_ops) as usize;
    let mut ops = Vec::new();
    for client in 0..n as u64 {
        let call = rng.below(2 * max_ops);
        let ret = call + rng.below(6);
        let input = match rng.below(10) {
            0..=3 => RegisterInput::Read,
            4..=6 => RegisterInput::Write(rng.below(3)),
            _ => RegisterInput::Cas { from: rng.below(3), to: rng.below(3) },
        };
        let (return_us, open) = match rng.below(20) {
            0..=4 => (None, true),
            5..=7 => (Some(ret), true),
            _ => (Some(ret), false),
        };
        let key = keys[rng.below(keys.len() as u64) as usize].to_string();
        let point = rng.between(call, return_us.unwrap_or(call + 8));
        let takes_effect = !open || rng.chance(0.5);
        ops.push((point, takes_effect, open, Op { client, key, call_us: call, return_us, input, output: None }));
    }
    // Run the execution to get real answers.
    let mut by_point: Vec<usize> = (0..n).collect();
    by_point.sort_by_key(|&i| ops[i].0);
    let mut state: BTreeMap<String, Option<u64>> = BTreeMap::new();
    for i in by_point {
        let (_, takes_effect, open, op) = &mut ops[i];
        if !*takes_effect {
            continue;
        }
        let v = state.entry(op.key.clone()).or_insert(None);
        let out = match op.input {
            RegisterInput::Read => RegisterOutput::Value(*v),
            RegisterInput::Write(w) => {
                *v = Some(w);
                RegisterOutput::Written
            }
            RegisterInput::Cas { from, to } => {
                let hit = *v == Some(from);
                if hit {
                    *v = Some(to);
                }
                RegisterOutput::Swapped(hit)
            }
        };
        if !*open {
            op.output = Some(out);
        }
    }
    let mode = rng.below(3);
    let mut ops: Vec<ROp> = ops.into_iter().map(|(_, _, _, op)| op).collect();
    for op in &mut ops {
        let perturb = mode == 2 || (mode == 1 && rng.chance(0.3));
        if let (true, Some(out)) = (perturb, &mut op.output) {
            match out {
                RegisterOutput::Value(v) => *v = [None, Some(0), Some(1), Some(2)][rng.below(4) as usize],
                RegisterOutput::Swapped(s) => *s = rng.chance(0.5),
                RegisterOutput::Written => {}
            }
        }
    }
    ops
}

/// `W(a, b)` built from the definition in `window.rs`, with `None` for the start from
/// the initial state: (the window's ops, relaxed ones stripped of answer and late return).
fn window_of(ops: &[ROp], a: Option<u64>, b: u64) -> Vec<ROp> {
    let a_time = a.unwrap_or_else(|| ops.iter().map(|o| o.call_us).min().unwrap_or(0));
    let mut w = Vec::new();
    for op in ops {
        if op.call_us > b || op.return_us.is_some_and(|r| r < a_time) {
            continue;
        }
        let exact = op.call_us >= a_time && op.return_us.is_some_and(|r| r <= b) && op.output.is_some();
        let mut op = op.clone();
        if !exact {
            op.output = None;
            op.return_us = op.return_us.filter(|&r| r <= b);
        }
        w.push(op);
    }
    w
}

/// Whether `W(a, b)` fails, by brute force: from nil at the start, otherwise from every
/// value (0..3 occur in the history; 99 stands for every value that does not).
fn brute_window_fails(ops: &[ROp], a: Option<u64>, b: u64) -> bool {
    let inits: &[Option<u64>] = if a.is_none() { &[None] } else { &[None, Some(0), Some(1), Some(2), Some(99)] };
    !brute_linearizable(&window_of(ops, a, b), inits)
}

/// The shortest failing span by trying every window, and the earliest end with it.
fn brute_shortest(ops: &[ROp]) -> Option<(u64, u64)> {
    let first = ops.iter().map(|o| o.call_us).min()?;
    let starts: Vec<Option<u64>> = std::iter::once(None).chain(ops.iter().map(|o| Some(o.call_us))).collect();
    let mut ends: Vec<u64> = ops.iter().filter_map(|o| o.return_us).collect();
    ends.sort_unstable();
    ends.dedup();
    let mut best: Option<(u64, u64)> = None;
    for &b in &ends {
        for &a in &starts {
            let a_time = a.unwrap_or(first);
            if a_time <= b && brute_window_fails(ops, a, b) && best.is_none_or(|(span, _)| b - a_time < span) {
                best = Some((b - a_time, b));
            }
        }
    }
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn verdicts_match_brute_force_on_one_key(seed in any::<u64>()) {
        let ops = random_history(seed, &[""], 7);
        let want = brute_linearizable(&ops, &[None]);
        let got = check(&Register, &ops).unwrap().verdict.is_linearizable();
        prop_assert_eq!(got, want, "{:#?}", ops);
    }

    /// Per-key splitting against a brute force that treats the two keys as one object.
    #[test]
    fn verdicts_match_brute_force_on_two_keys(seed in any::<u64>()) {
        let ops = random_history(seed, &["a", "b"], 7);
        let want = brute_linearizable(&ops, &[None]);
        let got = check(&Register, &ops).unwrap().verdict.is_linearizable();
        prop_assert_eq!(got, want, "{:#?}", ops);
    }

}

proptest! {
    // Every window of up to 9 calls, each by brute force: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_window_is_the_shortest_and_fails(seed in any::<u64>()) {
        let ops = random_history(seed, &[""], 9);
        let window = shortest_failing_window(&Register, &ops, u64::MAX).unwrap();
        let brute = brute_shortest(&ops);
        prop_assert_eq!(window.is_some(), brute.is_some(), "{:#?}", ops);
        if let (Some(w), Some((span, end))) = (window, brute) {
            prop_assert!(w.proven_shortest);
            prop_assert_eq!((w.span(), w.to), (span, end), "{:#?}", ops);
            let a = if w.from_start { None } else { Some(w.from) };
            prop_assert!(brute_window_fails(&ops, a, w.to), "{:#?}", ops);
            // The exact ops are the window's ops with answers; the rest are relaxed.
            let mut exact: Vec<usize> = (0..ops.len())
                .filter(|&i| ops[i].call_us >= w.from && ops[i].return_us.is_some_and(|r| r <= w.to) && ops[i].output.is_some())
                .collect();
            exact.sort_by_key(|&i| (ops[i].call_us, i));
            prop_assert_eq!(&w.exact, &exact);
        }
    }
}

/// The random histories are not all of one kind: both verdicts occur often.
#[test]
fn the_generator_makes_both_verdicts() {
    let verdicts: Vec<bool> = (0..300).map(|s| brute_linearizable(&random_history(s, &[""], 7), &[None])).collect();
    let yes = verdicts.iter().filter(|v| **v).count();
    assert!((60..=240).contains(&yes), "{yes} of 300 linearizable");
}

type KOp = Op<KvInput, KvOutput>;

/// The sequential string-with-append, from its definition.
fn apply_kv(s: &mut String, op: &KOp) -> bool {
    match (&op.input, &op.output) {
        (KvInput::Get, None) => true,
        (KvInput::Get, Some(KvOutput::Value(v))) => s == v,
        (KvInput::Put(v), _) => {
            *s = v.clone();
            true
        }
        (KvInput::Append(v), _) => {
            s.push_str(v);
            true
        }
        (KvInput::Get, Some(KvOutput::Done)) => false,
    }
}

/// A random append history on one key, built like the register ones.
fn random_kv_history(seed: u64) -> Vec<KOp> {
    let mut rng = Prng::new(seed);
    let n = rng.between(1, 7) as usize;
    let mut ops: Vec<(u64, bool, KOp)> = (0..n as u64)
        .map(|client| {
            let call = rng.below(12);
            let ret = call + rng.below(6);
            let piece = ["x", "y", "xy"][rng.below(3) as usize].to_string();
            let input = match rng.below(10) {
                0..=4 => KvInput::Get,
                5 => KvInput::Put(piece),
                _ => KvInput::Append(piece),
            };
            let open = rng.below(6) == 0;
            let return_us = if open && rng.chance(0.5) { None } else { Some(ret) };
            let point = rng.between(call, return_us.unwrap_or(call + 8));
            let op = Op { client, key: String::new(), call_us: call, return_us, input, output: None };
            (point, open, op)
        })
        .collect();
    ops.sort_by_key(|o| o.0);
    let mut s = String::new();
    for (_, open, op) in &mut ops {
        if *open && rng.chance(0.5) {
            continue;
        }
        let out = match &op.input {
            KvInput::Get => KvOutput::Value(s.clone()),
            _ => KvOutput::Done,
        };
        apply_kv(&mut s, op);
        if !*open {
            op.output = Some(out);
        }
    }
    let mut ops: Vec<KOp> = ops.into_iter().map(|o| o.2).collect();
    if rng.chance(0.5) {
        // Perturb one get: a plausible wrong answer.
        if let Some(KvOutput::Value(v)) =
            ops.iter_mut().filter_map(|o| o.output.as_mut()).find(|o| matches!(o, KvOutput::Value(_)))
        {
            *v = ["", "x", "xy", "yx", "xyx"][rng.below(5) as usize].to_string();
        }
    }
    ops.sort_by_key(|o| o.call_us);
    ops
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn append_verdicts_match_brute_force(seed in any::<u64>()) {
        let ops = random_kv_history(seed);
        let want = brute(&ops, &[String::new()], &apply_kv);
        let got = check(&AppendKv, &ops).unwrap().verdict.is_linearizable();
        prop_assert_eq!(got, want, "{:#?}", ops);
        // A window, when there is one, fails from any string ending in what it knows.
        if let Some(w) = shortest_failing_window(&AppendKv, &ops, u64::MAX).unwrap() {
            prop_assert!(!want);
            let exact: Vec<KOp> = w.exact.iter().map(|&i| ops[i].clone()).collect();
            let inits: Vec<String> = if w.from_start { vec![String::new()] } else {
                ["", "x", "y", "xy", "yx", "xx", "yy", "q"].iter().map(|s| s.to_string()).collect()
            };
            prop_assert!(!brute(&exact, &inits, &apply_kv), "exact ops alone must fail: {:#?}", exact);
        } else {
            prop_assert!(want);
        }
    }
}
