//! Brute-force twins and hand-built cases for the log and the replicated partition.

use super::replication::divergence_point;
use super::*;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// The log against a flat Vec.

/// Every record ever appended (minus those truncated away), the log start, and the
/// segments recomputed from scratch by scanning the live records with the roll rule.
struct LogTwin {
    config: LogConfig,
    records: Vec<Record<u32>>,
    start: Offset,
}

/// (base, next offset, bytes, newest time)
type TwinSegment = (Offset, Offset, u64, u64);

impl LogTwin {
    fn live(&self) -> impl Iterator<Item = &Record<u32>> {
        self.records.iter().filter(move |r| r.offset >= self.start)
    }
    fn end(&self) -> Offset {
        self.live().last().map_or(self.start, |r| r.offset + 1)
    }
    fn bytes(&self) -> u64 {
        self.live().map(|r| r.size).sum()
    }
    fn segments(&self) -> Vec<TwinSegment> {
        let mut segs: Vec<TwinSegment> = vec![(self.start, self.start, 0, 0)];
        let mut count = 0u64;
        for r in self.live() {
            let cur = segs.last().copied().unwrap();
            if count > 0 && (count >= self.config.segment_max_records || cur.2 + r.size > self.config.segment_max_bytes)
            {
                segs.push((r.offset, r.offset, 0, 0));
                count = 0;
            }
            let cur = segs.last_mut().unwrap();
            cur.1 = r.offset + 1;
            cur.2 += r.size;
            cur.3 = cur.3.max(r.time_ms);
            count += 1;
        }
        segs
    }
    fn append(&mut self, value: u32, size: u64, now: u64) -> Offset {
        let offset = self.end();
        self.records.push(Record { offset, epoch: 0, time_ms: now, size, value });
        offset
    }
    fn truncate_to(&mut self, offset: Offset) {
        if offset >= self.end() {
            return;
        }
        self.records.retain(|r| r.offset < offset);
        if offset <= self.start {
            self.start = offset;
        }
    }
    fn retention(&mut self, now: u64, upto: Offset) {
        let segs = self.segments();
        let mut i = 0;
        let deletable = |i: usize| i + 1 < segs.len() && segs[i].1 <= upto;
        if let Some(limit) = self.config.retention_ms {
            while deletable(i) && now.saturating_sub(segs[i].3) > limit {
                i += 1;
            }
        }
        if let Some(limit) = self.config.retention_bytes {
            let mut total: u64 = segs[i..].iter().map(|s| s.2).sum();
            while deletable(i) && total - segs[i].2 >= limit {
                total -= segs[i].2;
                i += 1;
            }
        }
        self.start = segs[i].0;
    }
    fn read(&self, from: Offset, upto: Offset, max: usize) -> Result<Vec<Record<u32>>, LogError> {
        if from < self.start || from > self.end() {
            return Err(LogError::OffsetOutOfRange { requested: from, log_start: self.start, log_end: self.end() });
        }
        Ok(self.live().filter(|r| r.offset >= from && r.offset < upto).take(max).cloned().collect())
    }
}

fn log_config() -> impl Strategy<Value = LogConfig> {
    (1u64..40, 1u64..6, proptest::option::of(0u64..80), proptest::option::of(0u64..40)).prop_map(
        |(segment_max_bytes, segment_max_records, retention_bytes, retention_ms)| LogConfig {
            segment_max_bytes,
            segment_max_records,
            retention_bytes,
            retention_ms,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Appends, truncations, retention passes and reads in any order: the segmented log
    /// and the flat twin agree on start, end, bytes, segment bases and every read.
    #[test]
    fn log_matches_flat_vec_twin(
        config in log_config(),
        ops in proptest::collection::vec((0u8..10, 0u64..64, 0u64..64, 0usize..6), 1..120),
    ) {
        let mut log: Log<u32> = Log::new(config);
        let mut twin = LogTwin { config, records: Vec::new(), start: 0 };
        let mut now = 0u64;
        for (step, (kind, a, b, max)) in ops.into_iter().enumerate() {
            now += a % 7;
            match kind {
                0..=4 => {
                    let size = b % 20;
                    let o = log.append(step as u32, size, 0, now);
                    prop_assert_eq!(o, twin.append(step as u32, size, now));
                }
                5 => {
                    let to = a % (log.log_end() + 3);
                    log.truncate_to(to);
                    twin.truncate_to(to);
                }
                6 | 7 => {
                    let upto = log.log_start() + b % (log.len() + 2);
                    log.apply_retention(now, upto);
                    twin.retention(now, upto);
                }
                _ => {
                    let from = a % (log.log_end() + 3);
                    let upto = b % (log.log_end() + 3);
                    prop_assert_eq!(log.read(from, upto, max), twin.read(from, upto, max));
                }
            }
            prop_assert_eq!(log.log_start(), twin.start);
            prop_assert_eq!(log.log_end(), twin.end());
            prop_assert_eq!(log.size_bytes(), twin.bytes());
            let bases: Vec<Offset> = twin.segments().iter().map(|s| s.0).collect();
            prop_assert_eq!(log.segment_bases(), bases);
            let whole = twin.read(twin.start, u64::MAX, usize::MAX).unwrap();
            prop_assert_eq!(log.read(log.log_start(), u64::MAX, usize::MAX).unwrap(), whole);
        }
    }
}

fn cfg(bytes: u64, records: u64, retention_bytes: Option<u64>, retention_ms: Option<u64>) -> LogConfig {
    LogConfig { segment_max_bytes: bytes, segment_max_records: records, retention_bytes, retention_ms }
}

#[test]
fn segments_roll_at_the_record_count_and_at_the_byte_size() {
    let mut by_count: Log<u32> = Log::new(cfg(1_000, 3, None, None));
    for i in 0..7 {
        assert_eq!(by_count.append(i, 10, 0, 0), i as u64, "offsets are consecutive");
    }
    assert_eq!(by_count.segment_bases(), vec![0, 3, 6]);

    let mut by_size: Log<u32> = Log::new(cfg(25, 100, None, None));
    for i in 0..5 {
        by_size.append(i, 10, 0, 0);
    }
    // 10 + 10 fits in 25, a third 10 would not: roll after every two records.
    assert_eq!(by_size.segment_bases(), vec![0, 2, 4]);
    // A record bigger than a whole segment still goes in, alone.
    by_size.append(9, 100, 0, 0);
    by_size.append(10, 1, 0, 0);
    assert_eq!(by_size.segment_bases(), vec![0, 2, 4, 5, 6]);
}

#[test]
fn retention_by_age_deletes_whole_old_segments_and_a_read_below_the_start_fails() {
    let mut log: Log<&str> = Log::new(cfg(1_000, 2, None, Some(100)));
    for (i, t) in [0u64, 10, 20, 150, 160].into_iter().enumerate() {
        log.append(["a", "b", "c", "d", "e"][i], 1, 0, t);
    }
    assert_eq!(log.segment_bases(), vec![0, 2, 4]);
    // At 200: segment [0,2) is newest at 10 (190 old), [2,4) newest at 150 (50 old).
    assert_eq!(log.apply_retention(200, log.log_end()), 1);
    assert_eq!(log.log_start(), 2);
    assert_eq!(log.read(1, u64::MAX, 10), Err(LogError::OffsetOutOfRange { requested: 1, log_start: 2, log_end: 5 }));
    let kept: Vec<&str> = log.read(2, u64::MAX, 10).unwrap().into_iter().map(|r| r.value).collect();
    assert_eq!(kept, vec!["c", "d", "e"]);
    // Offsets are never reused: the next append still gets 5.
    assert_eq!(log.append("f", 1, 0, 200), 5);
    // Far in the future every closed segment expires, the active one stays.
    log.apply_retention(10_000, log.log_end());
    assert_eq!(log.segment_bases(), vec![4]);
    assert_eq!(
        log.read(log.log_end() + 1, u64::MAX, 1).unwrap_err(),
        LogError::OffsetOutOfRange { requested: 7, log_start: 4, log_end: 6 }
    );
}

#[test]
fn retention_by_size_keeps_at_least_the_limit_and_stops_at_the_bound() {
    let mut log: Log<u32> = Log::new(cfg(1_000, 2, Some(35), None));
    for i in 0..8 {
        log.append(i, 10, 0, 0);
    }
    // Four segments of 20 bytes; dropping the head while 80-20 >= 35 and 60-20 >= 35,
    // then 40-20 < 35 stops: two segments go, 40 bytes stay (Kafka's rule).
    // With the bound at offset 2 (a high watermark), only the first may go.
    assert_eq!(log.apply_retention(0, 2), 1);
    assert_eq!(log.log_start(), 2);
    assert_eq!(log.apply_retention(0, 8), 1);
    assert_eq!((log.log_start(), log.size_bytes()), (4, 40));
}

#[test]
fn truncation_drops_a_suffix_and_below_the_start_restarts_the_log_there() {
    let mut log: Log<u32> = Log::new(cfg(1_000, 2, None, None));
    for i in 0..5 {
        log.append(i, 1, 0, 0);
    }
    assert_eq!(log.truncate_to(3), 2);
    assert_eq!((log.log_end(), log.segment_bases()), (3, vec![0, 2]));
    assert_eq!(log.append(99, 1, 1, 0), 3);
    assert_eq!(log.get(3).map(|r| (r.value, r.epoch)), Some((99, 1)));
    assert_eq!(log.truncate_to(0), 4);
    assert!(log.is_empty());
    log.reset_to(40);
    assert_eq!((log.log_start(), log.append(7, 1, 0, 0)), (40, 40));
    let copied = Record { offset: 42, epoch: 0, time_ms: 0, size: 1, value: 8 };
    assert_eq!(log.append_replicated(copied), Err(LogError::NotAtLogEnd { offset: 42, log_end: 41 }));
}

// ---------------------------------------------------------------------------------------
// The replicated partition.

const REPL: ReplicationConfig =
    ReplicationConfig { replica_lag_ms: 100, min_insync_replicas: 2, unclean_election: false };

fn partition(config: ReplicationConfig) -> Partition<u32> {
    Partition::new(&[1, 2, 3], LogConfig::default(), config, 0)
}

#[test]
fn a_silent_follower_leaves_the_isr_after_the_lag_and_rejoins_once_caught_up() {
    let mut p = partition(REPL);
    for v in 0..3 {
        p.produce(v, 1, Acks::Leader, 0).unwrap();
    }
    p.replicate(2, 10, 10).unwrap();
    p.replicate(2, 10, 20).unwrap(); // tells the leader 2 has all three
                                     // 3 never fetches: it holds the high watermark at 0 until it is dropped.
    assert_eq!(p.high_watermark(), 0);
    assert_eq!(p.tick(100), Vec::<ReplicaId>::new(), "exactly the lag is still in sync");
    assert_eq!(p.tick(101), vec![3]);
    assert_eq!(p.isr(), vec![1, 2]);
    assert_eq!(p.high_watermark(), 3, "without the laggard, the ISR's lowest end is 3");
    // 3 copies everything; its next fetch shows it at the high watermark: back in.
    p.replicate(3, 10, 150).unwrap();
    assert_eq!(p.log(3).log_end(), 3);
    assert_eq!(p.isr(), vec![1, 2]);
    p.replicate(3, 10, 160).unwrap();
    assert_eq!(p.isr(), vec![1, 2, 3]);
}

#[test]
fn a_follower_that_keeps_fetching_but_never_reaches_the_end_still_falls_out() {
    let mut p = partition(REPL);
    p.replicate(3, 10, 0).unwrap();
    for t in (0..400).step_by(10) {
        p.produce(t as u32, 1, Acks::Leader, t).unwrap();
        p.produce(t as u32, 1, Acks::Leader, t).unwrap();
        p.replicate(2, 10, t).unwrap(); // keeps up
        p.replicate(3, 1, t).unwrap(); // copies one of every two
        p.tick(t);
    }
    assert_eq!(p.isr(), vec![1, 2], "3 fetched every 10 ms yet lagged");
    assert!(p.log(3).log_end() < p.log(1).log_end());
}

#[test]
fn acks_all_waits_for_every_isr_member_and_honours_min_insync() {
    let mut p = partition(REPL);
    let o = p.produce(7, 1, Acks::All, 0).unwrap();
    p.replicate(2, 10, 1).unwrap();
    p.replicate(2, 10, 2).unwrap();
    assert!(p.take_acks().is_empty(), "3 has not got it yet");
    assert_eq!(p.read_committed(0, 10).unwrap(), vec![], "consumers see nothing above the HW");
    p.replicate(3, 10, 3).unwrap();
    p.replicate(3, 10, 4).unwrap();
    assert_eq!(p.take_acks(), vec![(o, AckOutcome::Committed)]);
    assert_eq!(p.read_committed(0, 10).unwrap().iter().map(|r| r.value).collect::<Vec<_>>(), vec![7]);

    // 2 and 3 go quiet: after the lag the ISR is the leader alone, below the minimum.
    let o = p.produce(8, 1, Acks::All, 10).unwrap();
    p.tick(200);
    assert_eq!(p.isr(), vec![1]);
    assert_eq!(p.take_acks(), vec![(o, AckOutcome::NotEnoughReplicasAfterAppend)]);
    assert_eq!(p.produce(9, 1, Acks::All, 200), Err(PartitionError::NotEnoughReplicas { isr: 1, required: 2 }));
    // acks=1 is still taken (and is exactly what an unclean election can lose).
    assert_eq!(p.produce(9, 1, Acks::Leader, 200), Ok(2));
}

#[test]
fn clean_election_keeps_committed_records_and_truncates_a_longer_follower() {
    let mut p = partition(REPL);
    for v in 0..2 {
        p.produce(v, 1, Acks::All, 0).unwrap();
    }
    for r in [2, 3, 2, 3] {
        p.replicate(r, 10, 1).unwrap();
    }
    assert_eq!(p.high_watermark(), 2);
    assert_eq!(p.take_acks(), vec![(0, AckOutcome::Committed), (1, AckOutcome::Committed)]);
    // Two more reach 3 but not 2; then the leader dies.
    p.produce(10, 1, Acks::All, 2).unwrap();
    p.produce(11, 1, Acks::All, 2).unwrap();
    p.replicate(3, 10, 3).unwrap();
    assert_eq!(p.log(3).log_end(), 4);
    let e = p.elect(&[2, 3], 5).unwrap();
    assert_eq!((e.leader, e.epoch, e.clean), (2, 1, true));
    assert_eq!(e.truncated, vec![(3, 2, 2)], "3 loses the two uncommitted records");
    assert_eq!(
        p.take_acks(),
        vec![(2, AckOutcome::LeaderChanged), (3, AckOutcome::LeaderChanged)],
        "their producers are told to retry"
    );
    let values: Vec<u32> = p.read_committed(0, 10).unwrap().iter().map(|r| r.value).collect();
    assert_eq!(values, vec![0, 1]);
    // The retry lands at offset 2 in epoch 1, on both followers' logs alike.
    assert_eq!(p.produce(10, 1, Acks::All, 6), Ok(2));
    p.replicate(3, 10, 7).unwrap();
    assert_eq!(p.log(3).get(2).map(|r| (r.value, r.epoch)), Some((10, 1)));
}

#[test]
fn unclean_election_loses_an_acknowledged_write_and_clean_refuses_instead() {
    let run = |unclean_election| {
        let mut p = partition(ReplicationConfig { unclean_election, min_insync_replicas: 1, ..REPL });
        p.produce(1, 1, Acks::All, 0).unwrap();
        for r in [2, 3, 2, 3] {
            p.replicate(r, 10, 0).unwrap();
        }
        assert_eq!(p.take_acks(), vec![(0, AckOutcome::Committed)]);
        // 3 stops fetching and leaves the ISR; a write is acknowledged by {1, 2}.
        p.tick(150);
        p.replicate(2, 10, 150).unwrap();
        let acked = p.produce(42, 1, Acks::All, 160).unwrap();
        p.replicate(2, 10, 161).unwrap();
        p.replicate(2, 10, 162).unwrap();
        assert_eq!(p.take_acks(), vec![(acked, AckOutcome::Committed)]);
        // 1 and 2 die; only the laggard 3 is alive.
        (p.elect(&[3], 200), p, acked)
    };
    let (refused, p, _) = run(false);
    assert_eq!(refused, Err(ElectError::NoEligibleReplica));
    assert_eq!(p.leader(), None, "offline rather than lose data");

    let (elected, mut p, acked) = run(true);
    let e = elected.unwrap();
    assert_eq!((e.leader, e.clean), (3, false));
    assert_eq!(p.log(3).log_end(), acked, "the acknowledged record is not on the new leader");
    // A new write takes its offset; when 2 comes back it truncates 42 away.
    assert_eq!(p.produce(7, 1, Acks::Leader, 201), Ok(acked));
    assert_eq!(p.rejoin(2, 210), Ok((acked, 1)));
    p.replicate(2, 10, 211).unwrap();
    assert_eq!(p.log(2).get(acked).map(|r| r.value), Some(7), "42 is gone everywhere");
}

#[test]
fn divergence_is_found_by_epoch_not_by_length() {
    let mut a: Log<u32> = Log::new(LogConfig::default());
    let mut b: Log<u32> = Log::new(LogConfig::default());
    for (ea, eb) in [(0, 0), (0, 0), (1, 2), (1, 2)] {
        a.append(0, 1, ea, 0);
        b.append(0, 1, eb, 0);
    }
    assert_eq!(divergence_point(&a, &b), 2);
    b.truncate_to(1);
    assert_eq!(divergence_point(&a, &b), 1);
}

/// One random operation on a 3-replica partition.
#[derive(Clone, Debug)]
enum Op {
    Produce(bool),
    Replicate(u32, usize),
    Tick(u64),
    Elect(Vec<u32>),
    Rejoin(u32),
    Retention,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(Op::Produce),
        5 => (1u32..4, 1usize..4).prop_map(|(r, m)| Op::Replicate(r, m)),
        2 => (0u64..80).prop_map(Op::Tick),
        1 => proptest::sample::subsequence(vec![1u32, 2, 3], 0..=3).prop_map(Op::Elect),
        1 => (1u32..4).prop_map(Op::Rejoin),
        1 => Just(Op::Retention),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Over random produces, fetches, ticks, elections and rejoins:
    /// - the high watermark equals a direct minimum over the ISR of the leader's log end
    ///   and each follower's log end as of its last fetch (recorded here, not read back);
    /// - every ISR member holds the leader's records below it, epoch for epoch;
    /// - with clean elections only, no write acknowledged as committed ever disappears
    ///   from the leader's log (retention is off for this part);
    /// - a follower in the ISR after a tick has been heard from within the lag, and one
    ///   that fetched at the leader's end within the lag is in it.
    #[test]
    fn partition_matches_direct_min_and_keeps_acknowledged_writes(
        unclean in any::<bool>(),
        retention in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..150),
    ) {
        let log_cfg = LogConfig {
            segment_max_bytes: 3,
            segment_max_records: 2,
            retention_bytes: if retention { Some(4) } else { None },
            retention_ms: None,
        };
        let config = ReplicationConfig { replica_lag_ms: 50, min_insync_replicas: 2, unclean_election: unclean };
        let mut p: Partition<u32> = Partition::new(&[1, 2, 3], log_cfg, config, 0);
        let mut fetched_at: std::collections::BTreeMap<u32, Offset> = [(2, 0), (3, 0)].into();
        let mut heard: std::collections::BTreeMap<u32, u64> = [(1, 0), (2, 0), (3, 0)].into();
        let mut at_end: std::collections::BTreeMap<u32, Option<u64>> = [(1, None), (2, None), (3, None)].into();
        let mut committed: std::collections::BTreeMap<Offset, u32> = Default::default();
        let mut now = 0u64;
        let mut value = 0u32;
        for op in ops {
            match op {
                Op::Produce(all) => {
                    value += 1;
                    let _ = p.produce(value, 1, if all { Acks::All } else { Acks::Leader }, now);
                }
                Op::Replicate(r, max) => {
                    if p.leader().is_some() && p.leader() != Some(r) {
                        let leader_end = p.log(p.leader().unwrap()).log_end();
                        if let Ok(n) = p.replicate(r, max, now) {
                            let at = p.log(r).log_end() - n as u64;
                            fetched_at.insert(r, at);
                            heard.insert(r, now);
                            if at >= leader_end {
                                at_end.insert(r, Some(now));
                            }
                        }
                    }
                }
                Op::Tick(dt) => {
                    now += dt;
                    p.tick(now);
                    if p.leader().is_none() {
                        continue;
                    }
                    for (&r, &t) in &heard {
                        if p.isr().contains(&r) && Some(r) != p.leader() {
                            prop_assert!(now - t <= 50, "{} in ISR, silent since {}", r, t);
                        }
                    }
                    for (&r, &t) in &at_end {
                        if let (Some(t), true) = (t, Some(r) != p.leader()) {
                            if now - t <= 50 {
                                prop_assert!(p.isr().contains(&r), "{} fetched at the end at {}", r, t);
                            }
                        }
                    }
                }
                Op::Elect(live) => {
                    if let Ok(e) = p.elect(&live, now) {
                        for r in [1u32, 2, 3] {
                            if r != e.leader {
                                fetched_at.insert(r, p.log(r).log_end());
                            }
                            heard.insert(r, now);
                            if !live.contains(&r) || !e.clean {
                                at_end.insert(r, None);
                            }
                        }
                    }
                }
                Op::Rejoin(r) => {
                    if p.rejoin(r, now).is_ok() {
                        fetched_at.insert(r, p.log(r).log_end());
                        at_end.insert(r, None);
                    }
                }
                Op::Retention => {
                    p.apply_retention(now);
                }
            }
            for (o, outcome) in p.take_acks() {
                if outcome == AckOutcome::Committed {
                    let leader = p.leader().unwrap();
                    committed.insert(o, p.log(leader).get(o).unwrap().value);
                }
            }
            let Some(leader) = p.leader() else { continue };
            let lead = p.log(leader);
            let direct = p
                .isr()
                .iter()
                .map(|r| if *r == leader { lead.log_end() } else { fetched_at[r] })
                .min()
                .unwrap();
            prop_assert_eq!(p.high_watermark(), direct);
            for r in p.isr() {
                let log = p.log(r);
                for o in log.log_start().max(lead.log_start())..p.high_watermark().min(log.log_end()) {
                    prop_assert_eq!(log.get(o).map(|x| (x.epoch, x.value)), lead.get(o).map(|x| (x.epoch, x.value)));
                }
            }
            if !unclean && !retention {
                for (&o, &v) in &committed {
                    prop_assert_eq!(lead.get(o).map(|r| r.value), Some(v), "acknowledged offset {} lost", o);
                }
            }
        }
    }
}
