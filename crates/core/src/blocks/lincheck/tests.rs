//! Hand-built histories whose verdicts can be read off a timeline, and the parsers.

use super::*;

type ROp = Op<RegisterInput, RegisterOutput>;

fn done(client: u64, call: u64, ret: u64, input: RegisterInput, output: RegisterOutput) -> ROp {
    Op { client, key: String::new(), call_us: call, return_us: Some(ret), input, output: Some(output) }
}

fn timed_out(client: u64, call: u64, input: RegisterInput) -> ROp {
    Op { client, key: String::new(), call_us: call, return_us: None, input, output: None }
}

fn write(client: u64, call: u64, ret: u64, v: u64) -> ROp {
    done(client, call, ret, RegisterInput::Write(v), RegisterOutput::Written)
}

fn read(client: u64, call: u64, ret: u64, v: Option<u64>) -> ROp {
    done(client, call, ret, RegisterInput::Read, RegisterOutput::Value(v))
}

fn linearizable(ops: &[ROp]) -> bool {
    check(&Register, ops).unwrap().verdict.is_linearizable()
}

fn window(ops: &[ROp]) -> Window {
    shortest_failing_window(&Register, ops, u64::MAX).unwrap().expect("a failing window")
}

#[test]
fn a_stale_read_is_not_linearizable_and_the_window_shows_the_overwrite() {
    // write 1, then write 2, then (after both returned) a read that still sees 1.
    let ops = [write(0, 0, 1, 1), write(1, 2, 3, 2), read(2, 4, 5, Some(1))];
    assert_eq!(check(&Register, &ops).unwrap().verdict, Verdict::NotLinearizable { key: String::new() });
    let w = window(&ops);
    // The overwrite and the stale read contradict each other whatever came before:
    // the first write is not needed to see it.
    assert_eq!((w.from, w.to, w.from_start), (2, 5, false));
    assert_eq!(w.exact, vec![1, 2]);
    assert!(w.relaxed.is_empty() && w.proven_shortest);
    let text: Vec<String> = window_ops(&Register, &ops, &w).into_iter().map(|o| o.text).collect();
    assert_eq!(text, ["write 2", "read → 1"]);
    // Move the read to overlap the second write, and it may be ordered before it.
    let ops = [write(0, 0, 1, 1), write(1, 2, 4, 2), read(2, 3, 5, Some(1))];
    assert!(linearizable(&ops));
}

#[test]
fn the_shortest_window_wins_over_the_first() {
    // The first violation needs the whole prefix (a read of nil long after a write); a
    // later one is short (a read of 1 right after 2 was written). Many calls follow.
    let mut ops = vec![write(0, 0, 1, 1), read(1, 9, 10, None), write(0, 11, 12, 2), read(1, 13, 14, Some(1))];
    for k in 0..4 {
        ops.push(write(0, 20 + 4 * k, 21 + 4 * k, k));
        ops.push(read(1, 22 + 4 * k, 23 + 4 * k, Some(k)));
    }
    let w = window(&ops);
    assert_eq!((w.from, w.to, w.exact.clone()), (11, 14, vec![2, 3]));
    // Without the later violation, the long one is all there is (from any initial
    // value: the write is in the window).
    let w = window(&ops[..2]);
    assert_eq!((w.from, w.to, w.from_start, w.exact.clone()), (0, 10, false, vec![0, 1]));
}

#[test]
fn a_read_concurrent_with_a_write_may_see_either_value() {
    for seen in [None, Some(1)] {
        let ops = [write(0, 0, 10, 1), read(1, 2, 6, seen)];
        assert!(linearizable(&ops), "read → {seen:?}");
    }
    // But not a value nobody wrote.
    assert!(!linearizable(&[write(0, 0, 10, 1), read(1, 2, 6, Some(7))]));
    // And two sequential reads cannot see the write undone.
    assert!(!linearizable(&[write(0, 0, 10, 1), read(1, 2, 3, Some(1)), read(1, 4, 5, None)]));
}

#[test]
fn a_timed_out_write_may_take_effect_long_after_its_call() {
    // The write timed out at once; reads see nil, then (much later) its value.
    let ops = [timed_out(0, 0, RegisterInput::Write(1)), read(1, 10, 11, None), read(1, 20, 21, Some(1))];
    assert!(linearizable(&ops));
    // Had the same write been acknowledged before the first read, that read is stale.
    let acked = [write(0, 0, 1, 1), read(1, 10, 11, None), read(1, 20, 21, Some(1))];
    assert!(!linearizable(&acked));
    // A timed-out write may also never take effect.
    assert!(linearizable(&[timed_out(0, 0, RegisterInput::Write(1)), read(1, 10, 11, None)]));
}

#[test]
fn a_timed_out_write_cannot_explain_a_read_before_it_was_called() {
    let ops = [read(1, 0, 1, Some(1)), timed_out(0, 5, RegisterInput::Write(1))];
    assert!(!linearizable(&ops));
    let w = window(&ops);
    // The read alone, from the initial nil: the write came too late to matter.
    assert_eq!((w.from, w.to, w.from_start), (0, 1, true));
    assert_eq!((w.exact.clone(), w.relaxed.clone()), (vec![0], vec![]));
}

#[test]
fn compare_and_set_answers_follow_the_value() {
    let cas =
        |c, call, ret, from, to, ok| done(c, call, ret, RegisterInput::Cas { from, to }, RegisterOutput::Swapped(ok));
    assert!(linearizable(&[write(0, 0, 1, 1), cas(1, 2, 3, 1, 2, true), read(0, 4, 5, Some(2))]));
    assert!(!linearizable(&[write(0, 0, 1, 1), cas(1, 2, 3, 1, 2, false)]));
    assert!(!linearizable(&[write(0, 0, 1, 1), cas(1, 2, 3, 3, 2, true)]));
    // A cas whose answer is unknown swaps when it can: the read may see either value.
    let unknown = timed_out(1, 2, RegisterInput::Cas { from: 1, to: 2 });
    for seen in [1, 2] {
        assert!(linearizable(&[write(0, 0, 1, 1), unknown.clone(), read(0, 4, 5, Some(seen))]));
    }
}

#[test]
fn a_call_that_returned_without_an_answer_may_be_left_out_but_not_moved_later() {
    // The write returned (time 2) without a known answer, then reads see nil and 1.
    let mut w = write(0, 0, 2, 1);
    w.output = None;
    assert!(linearizable(&[w.clone(), read(1, 3, 4, None)]));
    assert!(linearizable(&[w.clone(), read(1, 3, 4, Some(1))]));
    // Taking effect after a later read saw nil would put it after its own return.
    assert!(!linearizable(&[w, read(1, 3, 4, None), read(1, 5, 6, Some(1))]));
}

#[test]
fn keys_are_independent() {
    let on = |key: &str, mut op: ROp| {
        op.key = key.to_string();
        op
    };
    // Each key alone is fine; a read on b cannot see a's write.
    let ops = [on("a", write(0, 0, 1, 1)), on("b", read(1, 2, 3, None)), on("a", read(1, 4, 5, Some(1)))];
    assert!(linearizable(&ops));
    let ops = [on("a", write(0, 0, 1, 1)), on("b", read(1, 2, 3, Some(1)))];
    let report = check(&Register, &ops).unwrap();
    assert_eq!((report.verdict, report.keys), (Verdict::NotLinearizable { key: "b".into() }, 2));
}

#[test]
fn the_budget_gives_up_instead_of_guessing() {
    let ops = [write(0, 0, 1, 1), write(1, 2, 3, 2), read(2, 4, 5, Some(1))];
    let report = check_within(&Register, &ops, 1).unwrap();
    assert_eq!(report.verdict, Verdict::GaveUp { key: String::new() });
    assert_eq!(report.steps, 1);
}

#[test]
fn malformed_histories_are_refused() {
    let mut backwards = read(0, 5, 4, None);
    let err = check(&Register, std::slice::from_ref(&backwards)).unwrap_err();
    assert!(err.reason.contains("before its call"), "{err}");
    backwards.return_us = None;
    assert!(check(&Register, &[backwards]).unwrap_err().reason.contains("never returned"));
    let wrong = done(0, 0, 1, RegisterInput::Read, RegisterOutput::Swapped(true));
    assert!(check(&Register, &[wrong]).unwrap_err().reason.contains("not an answer"));
}

#[test]
fn register_sets_stay_exact_from_an_unknown_start() {
    let r = Register;
    let cas = RegisterInput::Cas { from: 1, to: 2 };
    // From any value, a failed cas leaves "anything but 1"; a read of 1 is then impossible.
    let not_one = r.step(&r.unknown(), &cas, Some(&RegisterOutput::Swapped(false))).unwrap();
    assert_eq!(not_one, RegisterState::AnyBut(vec![Some(1)]));
    assert_eq!(r.step(&not_one, &RegisterInput::Read, Some(&RegisterOutput::Value(Some(1)))), None);
    // An unknown cas from "anything": 2 (swapped) or anything but 1 (not swapped) =
    // anything but 1, since 2 was already in.
    assert_eq!(r.step(&r.unknown(), &cas, None), Some(RegisterState::AnyBut(vec![Some(1)])));
    // From {1, 3}: {2} ∪ {3}.
    let one_or_three = RegisterState::AnyOf(vec![Some(1), Some(3)]);
    assert_eq!(r.step(&one_or_three, &cas, None), Some(RegisterState::AnyOf(vec![Some(2), Some(3)])));
}

#[test]
fn append_strings_concatenate() {
    let kv = AppendKv;
    let s = kv.step(&kv.init(), &KvInput::Append("x 0 2 y".into()), None).unwrap();
    let s = kv.step(&s, &KvInput::Append("x 0 5 y".into()), Some(&KvOutput::Done)).unwrap();
    assert!(kv.step(&s, &KvInput::Get, Some(&KvOutput::Value("x 0 2 yx 0 5 y".into()))).is_some());
    assert!(kv.step(&s, &KvInput::Get, Some(&KvOutput::Value("x 0 2 y".into()))).is_none());
    // From an unknown string, appends are a known suffix.
    let tail = kv.step(&kv.unknown(), &KvInput::Append("b".into()), None).unwrap();
    assert!(kv.step(&tail, &KvInput::Get, Some(&KvOutput::Value("ab".into()))).is_some());
    assert!(kv.step(&tail, &KvInput::Get, Some(&KvOutput::Value("ba".into()))).is_none());
}

const LOG: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t4
INFO  jepsen.util - 0\t:ok\t:write\t4
INFO  jepsen.util - 1\t:invoke\t:cas\t[4 2]
INFO  jepsen.util - 1\t:fail\t:cas\t[4 2]
INFO  jepsen.util - 2   :invoke :read   nil
INFO  jepsen.util - 2   :fail   :read   :timed-out
INFO  jepsen.util - 3\t:invoke\t:write\t1
INFO  jepsen.util - 3\t:info\t:write\t:timed-out
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:read\t1
";

#[test]
fn jepsen_log_lines_parse_with_their_completions() {
    let ParsedHistory::Register(ops) = parse_history(LOG).unwrap() else { panic!("a register history") };
    // The failed read did not happen and is gone; the timed-out write stays open.
    let summary: Vec<(u64, u64, Option<u64>, String)> = ops
        .iter()
        .map(|o| (o.client, o.call_us, o.return_us, Register.describe(&o.input, o.output.as_ref())))
        .collect();
    assert_eq!(
        summary,
        [
            (0, 1, Some(2), "write 4".to_string()),
            (1, 3, Some(4), "cas 4→2 failed".to_string()),
            (3, 7, None, "write 1 (outcome unknown)".to_string()),
            (0, 9, Some(10), "read → 1".to_string()),
        ]
    );
    // The cas failed after 4 was written and before anything else could change it: read
    // as the answer "the compare failed" that is a contradiction (read as "did not
    // happen", it would not be).
    assert!(!linearizable(&ops));
    assert!(linearizable(&[ops[0].clone(), ops[2].clone(), ops[3].clone()]));
}

#[test]
fn edn_maps_parse_into_either_model() {
    let kv = r#"{:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}
{:process 1, :type :invoke, :f :get, :key "4", :value nil}
{:process 0, :type :ok, :f :append, :key "4", :value "x 0 1 y"}
{:process 1, :type :ok, :f :get, :key "4", :value "x 0 1 y"}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 2, :type :invoke, :f :put, :key 7, :value "a\"b"}
"#;
    let ParsedHistory::Kv(ops) = parse_history(kv).unwrap() else { panic!("a kv history") };
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[1].output, Some(KvOutput::Value("x 0 1 y".into())));
    assert_eq!((ops[2].key.as_str(), &ops[2].input, ops[2].return_us), ("7", &KvInput::Put("a\"b".into()), None));
    assert!(check(&AppendKv, &ops).unwrap().verdict.is_linearizable());

    let reg = "{:process 0, :type :invoke, :f :cas, :value [1 2]}\n{:process 0, :type :fail, :f :cas, :value [1 2]}";
    let ParsedHistory::Register(ops) = parse_history(reg).unwrap() else { panic!("a register history") };
    assert_eq!(ops[0].output, Some(RegisterOutput::Swapped(false)));
}

#[test]
fn unreadable_lines_say_where_and_why() {
    let cases = [
        ("hello\n", 1, "not a Jepsen operation line"),
        ("INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:invoke\t:read\tnil", 2, "invokes again"),
        ("INFO  jepsen.util - 0\t:ok\t:read\t3", 1, "never invoked"),
        ("INFO  jepsen.util - 0\t:invoke\t:write\t[1 2]", 1, "cannot invoke"),
        ("INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:write\t3", 2, "completes a call"),
        ("{:process 0, :type :invoke, :f :get, :key \"1\"}\n{:process 0 :type", 2, "missing `}`"),
        ("{:process 0, :type :invoke, :f :frob}", 1, "unknown function"),
        (
            "{:process 0, :type :invoke, :f :get}\n{:process 1, :type :invoke, :f :read}",
            2,
            "in a get/put/append history",
        ),
    ];
    for (text, line, why) in cases {
        let err = parse_history(text).unwrap_err();
        assert_eq!(err.line, line, "{text:?}: {err}");
        assert!(err.reason.contains(why), "{text:?}: {err}");
    }
    assert!(parse_history("").unwrap().is_empty());
}
