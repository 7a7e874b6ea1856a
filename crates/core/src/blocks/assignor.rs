//! Consumer-group partition assignors, as Kafka's consumer defines them: which member
//! of a group reads which topic-partition.
//!
//! - **range** (`RangeAssignor`): per topic, partitions in numeric order and the
//!   subscribed members sorted by id; with `n` partitions and `c` members each gets
//!   `n / c` consecutive partitions and the first `n % c` one more. Members earlier in
//!   the order carry the extra partition of every topic.
//! - **round-robin** (`RoundRobinAssignor`): every topic-partition sorted by topic then
//!   partition, dealt in turn over the members sorted by id, skipping a member not
//!   subscribed to that topic.
//! - **sticky** (`StickyAssignor`): balanced — with identical subscriptions every member
//!   gets `n / c` or `n / c + 1` — and on a rebalance keeps as many of the previous
//!   assignment's (member, partition) pairs as balance allows. Each member first keeps
//!   up to `n / c` of its previous partitions that still exist, that it still subscribes
//!   to and that no member before it (by id) claimed; then, while fewer than `n % c`
//!   members hold `n / c + 1`, members keep one more; then the remaining partitions —
//!   those with the fewest eligible members first — each go to the eligible member
//!   holding the fewest. With identical subscriptions that keeps the most pairs any
//!   balanced assignment can (each member keeps at most the larger quota, at most
//!   `n % c` members reach it); with differing subscriptions it is a greedy best effort,
//!   as Kafka's general path is a heuristic too.
//!
//! Tested against the examples in the javadoc of Kafka's `RangeAssignor`,
//! `RoundRobinAssignor` and `StickyAssignor` (clients/src/main/java/org/apache/kafka/
//! clients/consumer/), and sticky against an exhaustive search over small groups.

use std::collections::{BTreeMap, BTreeSet};

/// One partition of one topic; orders by topic, then partition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: u32,
}

impl TopicPartition {
    pub fn new(topic: &str, partition: u32) -> TopicPartition {
        TopicPartition { topic: topic.to_string(), partition }
    }
}

/// Topic name → partition count.
pub type Topics = BTreeMap<String, u32>;
/// Member id → topics it subscribes to.
pub type Subscriptions = BTreeMap<String, BTreeSet<String>>;
/// Member id → its partitions, sorted. Every member appears, possibly with none.
pub type Assignment = BTreeMap<String, Vec<TopicPartition>>;

fn empty_assignment(subscriptions: &Subscriptions) -> Assignment {
    subscriptions.keys().map(|m| (m.clone(), Vec::new())).collect()
}

/// Every partition of every topic someone subscribes to (and that exists), sorted.
fn subscribed_partitions(topics: &Topics, subscriptions: &Subscriptions) -> Vec<TopicPartition> {
    let wanted: BTreeSet<&String> = subscriptions.values().flatten().collect();
    topics
        .iter()
        .filter(|(t, _)| wanted.contains(t))
        .flat_map(|(t, &n)| (0..n).map(move |p| TopicPartition::new(t, p)))
        .collect()
}

/// Kafka's range assignor.
pub fn range(topics: &Topics, subscriptions: &Subscriptions) -> Assignment {
    let mut out = empty_assignment(subscriptions);
    for (topic, &n) in topics {
        let members: Vec<&String> = subscriptions.iter().filter(|(_, s)| s.contains(topic)).map(|(m, _)| m).collect();
        if members.is_empty() {
            continue;
        }
        let c = members.len() as u32;
        let (per, extra) = (n / c, n % c);
        for (i, m) in members.into_iter().enumerate() {
            let i = i as u32;
            let start = per * i + i.min(extra);
            let len = per + u32::from(i < extra);
            let list = out.get_mut(m).expect("member");
            list.extend((start..start + len).map(|p| TopicPartition::new(topic, p)));
        }
    }
    out
}

/// Kafka's round-robin assignor.
pub fn round_robin(topics: &Topics, subscriptions: &Subscriptions) -> Assignment {
    let mut out = empty_assignment(subscriptions);
    let members: Vec<(&String, &BTreeSet<String>)> = subscriptions.iter().collect();
    let mut next = 0usize;
    for tp in subscribed_partitions(topics, subscriptions) {
        // Someone subscribes to this topic, so the search ends within one lap.
        while !members[next].1.contains(&tp.topic) {
            next = (next + 1) % members.len();
        }
        out.get_mut(members[next].0).expect("member").push(tp);
        next = (next + 1) % members.len();
    }
    out
}

/// Kafka's sticky assignor (see the module doc for the rule). `previous` may name
/// members that have left, partitions that no longer exist, or one partition twice.
pub fn sticky(topics: &Topics, subscriptions: &Subscriptions, previous: &Assignment) -> Assignment {
    let mut out = empty_assignment(subscriptions);
    let all = subscribed_partitions(topics, subscriptions);
    if out.is_empty() {
        return out;
    }
    let (min_quota, extra_slots) = (all.len() / out.len(), all.len() % out.len());
    let exists: BTreeSet<&TopicPartition> = all.iter().collect();
    let mut taken: BTreeSet<TopicPartition> = BTreeSet::new();
    // Each member's previous partitions it may still keep, in order.
    let mut keepable: BTreeMap<String, Vec<TopicPartition>> = BTreeMap::new();
    for (member, subs) in subscriptions {
        let mut mine: Vec<TopicPartition> = previous
            .get(member)
            .into_iter()
            .flatten()
            .filter(|tp| exists.contains(tp) && subs.contains(&tp.topic) && !taken.contains(*tp))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let rest = mine.split_off(min_quota.min(mine.len()));
        taken.extend(mine.iter().cloned());
        out.insert(member.clone(), mine);
        keepable.insert(member.clone(), rest);
    }
    let mut at_max = 0;
    for (member, rest) in &keepable {
        if at_max == extra_slots {
            break;
        }
        if let Some(tp) = rest.iter().find(|tp| !taken.contains(*tp)) {
            taken.insert(tp.clone());
            out.get_mut(member).expect("member").push(tp.clone());
            at_max += 1;
        }
    }
    let eligible = |tp: &TopicPartition| {
        subscriptions.iter().filter(|(_, s)| s.contains(&tp.topic)).map(|(m, _)| m.clone()).collect::<Vec<_>>()
    };
    let mut free: Vec<(usize, TopicPartition)> =
        all.iter().filter(|tp| !taken.contains(*tp)).map(|tp| (eligible(tp).len(), tp.clone())).collect();
    free.sort();
    for (_, tp) in free {
        let to = eligible(&tp).into_iter().min_by_key(|m| (out[m].len(), m.clone())).expect("a subscriber");
        out.get_mut(&to).expect("member").push(tp);
    }
    for list in out.values_mut() {
        list.sort();
    }
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn topics(list: &[(&str, u32)]) -> Topics {
        list.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    fn subs(list: &[(&str, &[&str])]) -> Subscriptions {
        list.iter().map(|(m, ts)| (m.to_string(), ts.iter().map(|t| t.to_string()).collect())).collect()
    }

    /// "C0: [t0p0, t1p1]" style, as the javadoc writes it.
    fn parse(list: &[(&str, &[&str])]) -> Assignment {
        let tp = |s: &str| {
            let (t, p) = s.split_once('p').unwrap();
            TopicPartition::new(t, p.parse().unwrap())
        };
        list.iter()
            .map(|(m, tps)| {
                let mut v: Vec<TopicPartition> = tps.iter().map(|s| tp(s)).collect();
                v.sort();
                (m.to_string(), v)
            })
            .collect()
    }

    const ALL_T0_T1: &[&str] = &["t0", "t1"];

    /// RangeAssignor javadoc: two consumers, two topics of three partitions.
    #[test]
    fn range_matches_the_kafka_javadoc_example() {
        let got = range(&topics(&[("t0", 3), ("t1", 3)]), &subs(&[("C0", ALL_T0_T1), ("C1", ALL_T0_T1)]));
        let want = parse(&[("C0", &["t0p0", "t0p1", "t1p0", "t1p1"]), ("C1", &["t0p2", "t1p2"])]);
        assert_eq!(got, want);
    }

    /// RoundRobinAssignor javadoc: the same group, then the one with differing
    /// subscriptions (C0 {t0}, C1 {t0, t1}, C2 {t0, t1, t2}; 1, 2, 3 partitions).
    #[test]
    fn round_robin_matches_the_kafka_javadoc_examples() {
        let got = round_robin(&topics(&[("t0", 3), ("t1", 3)]), &subs(&[("C0", ALL_T0_T1), ("C1", ALL_T0_T1)]));
        let want = parse(&[("C0", &["t0p0", "t0p2", "t1p1"]), ("C1", &["t0p1", "t1p0", "t1p2"])]);
        assert_eq!(got, want);

        let got = round_robin(
            &topics(&[("t0", 1), ("t1", 2), ("t2", 3)]),
            &subs(&[("C0", &["t0"]), ("C1", &["t0", "t1"]), ("C2", &["t0", "t1", "t2"])]),
        );
        let want = parse(&[("C0", &["t0p0"]), ("C1", &["t1p0"]), ("C2", &["t1p1", "t2p0", "t2p1", "t2p2"])]);
        assert_eq!(got, want);
    }

    const FOUR: &[&str] = &["t0", "t1", "t2", "t3"];

    /// StickyAssignor javadoc, example 1: after C1 leaves, round-robin reshuffles and
    /// sticky keeps every previous pair; example 2: differing subscriptions.
    #[test]
    fn sticky_matches_the_kafka_javadoc_examples() {
        let t = topics(&[("t0", 2), ("t1", 2), ("t2", 2), ("t3", 2)]);
        let three = subs(&[("C0", FOUR), ("C1", FOUR), ("C2", FOUR)]);
        let first = sticky(&t, &three, &Assignment::new());
        let want =
            parse(&[("C0", &["t0p0", "t1p1", "t3p0"]), ("C1", &["t0p1", "t2p0", "t3p1"]), ("C2", &["t1p0", "t2p1"])]);
        assert_eq!(first, want);
        assert_eq!(round_robin(&t, &three), want, "the javadoc's starting point is round-robin's");

        let two = subs(&[("C0", FOUR), ("C2", FOUR)]);
        let want_rr = parse(&[("C0", &["t0p0", "t1p0", "t2p0", "t3p0"]), ("C2", &["t0p1", "t1p1", "t2p1", "t3p1"])]);
        assert_eq!(round_robin(&t, &two), want_rr);
        let want_sticky =
            parse(&[("C0", &["t0p0", "t1p1", "t3p0", "t2p0"]), ("C2", &["t1p0", "t2p1", "t0p1", "t3p1"])]);
        assert_eq!(sticky(&t, &two, &first), want_sticky);

        let got = sticky(
            &topics(&[("t0", 1), ("t1", 2), ("t2", 3)]),
            &subs(&[("C0", &["t0"]), ("C1", &["t0", "t1"]), ("C2", &["t0", "t1", "t2"])]),
            &Assignment::new(),
        );
        let want = parse(&[("C0", &["t0p0"]), ("C1", &["t1p0", "t1p1"]), ("C2", &["t2p0", "t2p1", "t2p2"])]);
        assert_eq!(got, want);
    }

    fn uniform(members: usize, topic_sizes: &[u32]) -> (Topics, Subscriptions) {
        let t: Topics = topic_sizes.iter().enumerate().map(|(i, &n)| (format!("t{i}"), n)).collect();
        let names: BTreeSet<String> = t.keys().cloned().collect();
        let s: Subscriptions = (0..members).map(|m| (format!("m{m}"), names.clone())).collect();
        (t, s)
    }

    fn all_partitions(t: &Topics) -> Vec<TopicPartition> {
        t.iter().flat_map(|(name, &n)| (0..n).map(move |p| TopicPartition::new(name, p))).collect()
    }

    /// Every partition exactly once, and counts within one of each other.
    fn assert_complete_and_balanced(t: &Topics, a: &Assignment) -> Result<(), TestCaseError> {
        let mut seen: Vec<TopicPartition> = a.values().flatten().cloned().collect();
        seen.sort();
        prop_assert_eq!(seen, all_partitions(t));
        let counts: Vec<usize> = a.values().map(Vec::len).collect();
        let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        prop_assert!(hi - lo <= 1, "unbalanced {:?}", counts);
        Ok(())
    }

    fn kept(previous: &Assignment, now: &Assignment) -> usize {
        now.iter().map(|(m, tps)| tps.iter().filter(|tp| previous.get(m).is_some_and(|p| p.contains(tp))).count()).sum()
    }

    /// The most (member, partition) pairs of `previous` any balanced assignment keeps,
    /// by trying every assignment of the partitions to the members.
    fn best_kept_by_search(t: &Topics, members: &[String], previous: &Assignment) -> usize {
        let parts = all_partitions(t);
        let c = members.len();
        let mut best = 0;
        let total = c.pow(parts.len() as u32);
        for code in 0..total {
            let mut counts = vec![0usize; c];
            let mut keep = 0;
            let mut x = code;
            for tp in &parts {
                let m = x % c;
                x /= c;
                counts[m] += 1;
                if previous.get(&members[m]).is_some_and(|p| p.contains(tp)) {
                    keep += 1;
                }
            }
            if counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1 {
                best = best.max(keep);
            }
        }
        best
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Range and round-robin with identical subscriptions: complete; round-robin is
        /// balanced across all topics, range within each topic.
        #[test]
        fn range_and_round_robin_are_complete(members in 1usize..6, sizes in proptest::collection::vec(0u32..7, 1..4)) {
            let (t, s) = uniform(members, &sizes);
            assert_complete_and_balanced(&t, &round_robin(&t, &s))?;
            let r = range(&t, &s);
            for topic in t.keys() {
                let per_topic: Assignment = r.iter().map(|(m, v)| (m.clone(), v.iter().filter(|tp| &tp.topic == topic).cloned().collect())).collect();
                let only: Topics = [(topic.clone(), t[topic])].into();
                assert_complete_and_balanced(&only, &per_topic)?;
            }
        }

        /// Sticky from any previous assignment (members gone, duplicates, stale
        /// partitions): complete and balanced; and after a member leaves a balanced
        /// group, every remaining member keeps all it had.
        #[test]
        fn sticky_is_balanced_complete_and_keeps_the_survivors_partitions(
            members in 1usize..7,
            sizes in proptest::collection::vec(0u32..8, 1..4),
            junk in proptest::collection::vec((0usize..8, 0usize..4, 0u32..9), 0..20),
            leaver in 0usize..7,
        ) {
            let (t, s) = uniform(members, &sizes);
            let mut messy = Assignment::new();
            for (m, topic, p) in junk {
                messy.entry(format!("m{m}")).or_default().push(TopicPartition::new(&format!("t{topic}"), p));
            }
            let a = sticky(&t, &s, &messy);
            assert_complete_and_balanced(&t, &a)?;

            let gone = format!("m{}", leaver % members);
            let mut fewer = s.clone();
            fewer.remove(&gone);
            if fewer.is_empty() {
                return Ok(());
            }
            let b = sticky(&t, &fewer, &a);
            assert_complete_and_balanced(&t, &b)?;
            for (m, tps) in &a {
                if *m != gone {
                    for tp in tps {
                        prop_assert!(b[m].contains(tp), "{} lost {:?}", m, tp);
                    }
                }
            }
        }

        /// On small groups, sticky keeps exactly as many previous pairs as the best
        /// balanced assignment found by exhaustive search.
        #[test]
        fn sticky_keeps_as_many_pairs_as_exhaustive_search(
            members in 1usize..4,
            sizes in proptest::collection::vec(0u32..4, 1..3),
            owners in proptest::collection::vec(0usize..5, 0..8),
        ) {
            let (t, s) = uniform(members, &sizes);
            // A previous assignment with each partition at most once, some owners gone.
            let mut previous = Assignment::new();
            for (tp, owner) in all_partitions(&t).into_iter().zip(owners) {
                previous.entry(format!("m{owner}")).or_default().push(tp);
            }
            let got = sticky(&t, &s, &previous);
            let names: Vec<String> = s.keys().cloned().collect();
            prop_assert_eq!(kept(&previous, &got), best_kept_by_search(&t, &names, &previous));
        }
    }
}
