//! One partition across its replicas: leader, in-sync replica set, high watermark,
//! acknowledgements and leader election, as Kafka's `Partition` and `Replica` classes
//! keep them on the leader.
//!
//! - **Fetch.** A follower asks the leader for records from its log end; the fetch
//!   offset tells the leader how far the follower has got. A fetch at the leader's log
//!   end means the follower is caught up now; a fetch that reaches the leader's log end
//!   as of the follower's previous fetch means it was caught up then
//!   (`Replica.updateFetchState`).
//! - **ISR.** A follower whose last caught-up time is more than `replica_lag_ms` ago
//!   leaves the ISR at the next `tick` (`replica.lag.time.max.ms`); it rejoins once its
//!   log end reaches the high watermark and the start of the leader's epoch
//!   (`Partition.isFollowerInSync`).
//! - **High watermark** = the lowest log end over the ISR as the leader knows it
//!   (its own, and each follower's last fetch offset); it never moves back while one
//!   leader reigns. Consumers read only below it; retention deletes only below it.
//! - **Acks.** acks=1 completes when the leader has the record. acks=all is refused up
//!   front when the ISR is smaller than `min_insync_replicas` (`NOT_ENOUGH_REPLICAS`);
//!   once appended it completes when the high watermark passes it, and then fails if the
//!   ISR has shrunk below the minimum meanwhile (`NOT_ENOUGH_REPLICAS_AFTER_APPEND`).
//! - **Election.** A clean election takes the first live ISR member in assignment order;
//!   with `unclean_election` set and no live ISR member, the first live replica. The
//!   epoch goes up, and every other live replica truncates its log to the first offset
//!   where it disagrees with the new leader's (compared by the epoch that wrote each
//!   record, KIP-101/KIP-279). Simplification: the truncation happens at the election
//!   instead of on each follower's next `OffsetsForLeaderEpoch` request, and the leader
//!   takes the truncated log ends as its followers' positions; a replica that was down
//!   calls `rejoin` when it comes back.

use std::collections::{BTreeMap, BTreeSet};

use super::segmented::{Log, LogConfig, LogError, Offset, Record};

pub type ReplicaId = u32;

/// When the leader answers a produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acks {
    /// acks=1: once the leader has appended it.
    Leader,
    /// acks=all: once every ISR member has it.
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicationConfig {
    pub replica_lag_ms: u64,
    pub min_insync_replicas: usize,
    /// May an out-of-sync replica become leader when no ISR member is alive?
    pub unclean_election: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionError {
    /// No leader: the last election found nobody eligible.
    NoLeader,
    /// acks=all refused before appending: the ISR is too small.
    NotEnoughReplicas {
        isr: usize,
        required: usize,
    },
    /// The id is not one of this partition's followers.
    NotAFollower(ReplicaId),
    /// The follower's log disagrees with the leader's before its fetch offset (its last
    /// record was written in another epoch, or the leader has no such record): it must
    /// truncate to `truncate_to` (`truncate_follower`) and fetch again (KIP-320).
    Diverged {
        truncate_to: Offset,
    },
    Log(LogError),
}

impl From<LogError> for PartitionError {
    fn from(e: LogError) -> Self {
        PartitionError::Log(e)
    }
}

/// How a waiting acks=all produce ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckOutcome {
    /// Every ISR member has it and the ISR met the minimum.
    Committed,
    /// Replicated to the ISR, but the ISR had shrunk below `min_insync_replicas`.
    NotEnoughReplicasAfterAppend,
    /// The leader changed before it completed; the producer must retry.
    LeaderChanged,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElectError {
    /// No live replica may lead (none in the ISR, and unclean election is off).
    NoEligibleReplica,
}

/// What an election did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Election {
    pub leader: ReplicaId,
    pub epoch: u32,
    /// False when the leader came from outside the ISR.
    pub clean: bool,
    /// (replica, offset it truncated to, records it lost).
    pub truncated: Vec<(ReplicaId, Offset, u64)>,
}

/// What the leader knows of one follower.
#[derive(Clone, Copy, Debug)]
struct FollowerState {
    /// Its log end as of its last fetch.
    known_end: Offset,
    last_caught_up_ms: u64,
    last_fetch_ms: u64,
    leader_end_at_last_fetch: Offset,
}

#[derive(Clone, Debug)]
pub struct Partition<V> {
    config: ReplicationConfig,
    replicas: Vec<ReplicaId>,
    logs: BTreeMap<ReplicaId, Log<V>>,
    leader: Option<ReplicaId>,
    epoch: u32,
    /// The leader's log end when its epoch began.
    epoch_start: Offset,
    isr: BTreeSet<ReplicaId>,
    followers: BTreeMap<ReplicaId, FollowerState>,
    high_watermark: Offset,
    /// acks=all produces waiting, by offset.
    waiting: Vec<Offset>,
    finished: Vec<(Offset, AckOutcome)>,
}

impl<V: Clone> Partition<V> {
    /// A new partition on `replicas` (assignment order; the first leads), every replica
    /// in sync, every log empty.
    pub fn new(replicas: &[ReplicaId], log: LogConfig, config: ReplicationConfig, now_ms: u64) -> Partition<V> {
        assert!(!replicas.is_empty(), "a partition needs a replica");
        let distinct: BTreeSet<&ReplicaId> = replicas.iter().collect();
        assert_eq!(distinct.len(), replicas.len(), "replicas are distinct");
        let leader = replicas[0];
        let mut p = Partition {
            config,
            replicas: replicas.to_vec(),
            logs: replicas.iter().map(|&r| (r, Log::new(log))).collect(),
            leader: Some(leader),
            epoch: 0,
            epoch_start: 0,
            isr: replicas.iter().copied().collect(),
            followers: BTreeMap::new(),
            high_watermark: 0,
            waiting: Vec::new(),
            finished: Vec::new(),
        };
        p.reset_followers(now_ms);
        p
    }

    pub fn config(&self) -> ReplicationConfig {
        self.config
    }

    pub fn replicas(&self) -> &[ReplicaId] {
        &self.replicas
    }

    pub fn leader(&self) -> Option<ReplicaId> {
        self.leader
    }

    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    pub fn isr(&self) -> Vec<ReplicaId> {
        self.isr.iter().copied().collect()
    }

    pub fn high_watermark(&self) -> Offset {
        self.high_watermark
    }

    /// A replica's own log.
    pub fn log(&self, replica: ReplicaId) -> &Log<V> {
        &self.logs[&replica]
    }

    /// The leader's view of a follower's log end (its last fetch offset).
    pub fn known_end(&self, follower: ReplicaId) -> Option<Offset> {
        self.followers.get(&follower).map(|f| f.known_end)
    }

    fn leader_log(&self) -> Result<&Log<V>, PartitionError> {
        let leader = self.leader.ok_or(PartitionError::NoLeader)?;
        Ok(&self.logs[&leader])
    }

    fn reset_followers(&mut self, now_ms: u64) {
        let leader = self.leader;
        let leader_end = leader.map_or(0, |l| self.logs[&l].log_end());
        self.followers = self
            .replicas
            .iter()
            .filter(|&&r| Some(r) != leader)
            .map(|&r| {
                let state = FollowerState {
                    known_end: self.logs[&r].log_end(),
                    last_caught_up_ms: now_ms,
                    last_fetch_ms: now_ms,
                    leader_end_at_last_fetch: leader_end,
                };
                (r, state)
            })
            .collect();
    }

    /// A produce at the leader. acks=all produces report through `take_acks`.
    pub fn produce(&mut self, value: V, size: u64, acks: Acks, now_ms: u64) -> Result<Offset, PartitionError> {
        let leader = self.leader.ok_or(PartitionError::NoLeader)?;
        if acks == Acks::All && self.isr.len() < self.config.min_insync_replicas {
            return Err(PartitionError::NotEnoughReplicas {
                isr: self.isr.len(),
                required: self.config.min_insync_replicas,
            });
        }
        let epoch = self.epoch;
        let offset = self.logs.get_mut(&leader).expect("leader log").append(value, size, epoch, now_ms);
        if acks == Acks::All {
            self.waiting.push(offset);
        }
        self.advance_high_watermark();
        Ok(offset)
    }

    /// acks=all produces that finished since the last call, in offset order.
    pub fn take_acks(&mut self) -> Vec<(Offset, AckOutcome)> {
        std::mem::take(&mut self.finished)
    }

    /// The leader serves a follower's fetch from `fetch_offset` (the follower's log end):
    /// it records the follower's progress, may let it back into the ISR, moves the high
    /// watermark, and returns up to `max` records to copy.
    pub fn on_fetch(
        &mut self,
        follower: ReplicaId,
        fetch_offset: Offset,
        max: usize,
        now_ms: u64,
    ) -> Result<Vec<Record<V>>, PartitionError> {
        if let Some(truncate_to) = self.diverged(follower, fetch_offset)? {
            return Err(PartitionError::Diverged { truncate_to });
        }
        let leader_log = self.leader_log()?;
        let leader_end = leader_log.log_end();
        let records = leader_log.read(fetch_offset, leader_end, max)?;
        let state = self.followers.get_mut(&follower).ok_or(PartitionError::NotAFollower(follower))?;
        if fetch_offset >= leader_end {
            state.last_caught_up_ms = now_ms;
        } else if fetch_offset >= state.leader_end_at_last_fetch {
            state.last_caught_up_ms = state.last_caught_up_ms.max(state.last_fetch_ms);
        }
        state.known_end = fetch_offset;
        state.last_fetch_ms = now_ms;
        state.leader_end_at_last_fetch = leader_end;
        if !self.isr.contains(&follower) && fetch_offset >= self.high_watermark && fetch_offset >= self.epoch_start {
            self.isr.insert(follower);
        }
        self.advance_high_watermark();
        Ok(records)
    }

    /// The follower copies records the leader sent into its own log.
    pub fn follower_append(&mut self, follower: ReplicaId, records: Vec<Record<V>>) -> Result<(), PartitionError> {
        if Some(follower) == self.leader || !self.logs.contains_key(&follower) {
            return Err(PartitionError::NotAFollower(follower));
        }
        let log = self.logs.get_mut(&follower).expect("follower log");
        for r in records {
            log.append_replicated(r)?;
        }
        Ok(())
    }

    /// Where `follower` must truncate to before fetching from `fetch_offset`, if its
    /// record just before it disagrees with the leader's (or the leader has none there).
    fn diverged(&self, follower: ReplicaId, fetch_offset: Offset) -> Result<Option<Offset>, PartitionError> {
        let leader_log = self.leader_log()?;
        let follower_log = self.logs.get(&follower).ok_or(PartitionError::NotAFollower(follower))?;
        let Some(prev) = fetch_offset.checked_sub(1) else { return Ok(None) };
        let theirs = follower_log.get(prev).map(|r| r.epoch);
        let ours = leader_log.get(prev).map(|r| r.epoch);
        let leader_lacks = prev >= leader_log.log_end();
        if leader_lacks || (theirs.is_some() && ours.is_some() && theirs != ours) {
            return Ok(Some(divergence_point(follower_log, leader_log)));
        }
        Ok(None)
    }

    /// A follower told it diverged truncates to where it agrees with the leader.
    /// Returns (offset truncated to, records lost).
    pub fn truncate_follower(&mut self, follower: ReplicaId) -> Result<(Offset, u64), PartitionError> {
        if Some(follower) == self.leader || !self.followers.contains_key(&follower) {
            return Err(PartitionError::NotAFollower(follower));
        }
        self.leader_log()?;
        Ok(self.truncate_to_leader(follower))
    }

    /// One fetch round trip with no delay: fetch at the follower's log end, copy what
    /// came back. A diverged follower truncates first; one behind the leader's log start
    /// starts over from it. Returns how many records it copied.
    pub fn replicate(&mut self, follower: ReplicaId, max: usize, now_ms: u64) -> Result<usize, PartitionError> {
        let mut from = self.logs.get(&follower).ok_or(PartitionError::NotAFollower(follower))?.log_end();
        if self.diverged(follower, from)?.is_some() {
            from = self.truncate_follower(follower)?.0;
        }
        let records = match self.on_fetch(follower, from, max, now_ms) {
            Err(PartitionError::Log(LogError::OffsetOutOfRange { log_start, .. })) if from < log_start => {
                self.logs.get_mut(&follower).expect("follower log").reset_to(log_start);
                self.on_fetch(follower, log_start, max, now_ms)?
            }
            other => other?,
        };
        let n = records.len();
        self.follower_append(follower, records)?;
        Ok(n)
    }

    /// Drops followers that have lagged longer than `replica_lag_ms` from the ISR and
    /// moves the high watermark. Returns the replicas that left.
    pub fn tick(&mut self, now_ms: u64) -> Vec<ReplicaId> {
        let lag = self.config.replica_lag_ms;
        let out: Vec<ReplicaId> = self
            .followers
            .iter()
            .filter(|(r, f)| self.isr.contains(r) && now_ms.saturating_sub(f.last_caught_up_ms) > lag)
            .map(|(&r, _)| r)
            .collect();
        for r in &out {
            self.isr.remove(r);
        }
        self.advance_high_watermark();
        out
    }

    fn advance_high_watermark(&mut self) {
        let Some(leader) = self.leader else { return };
        let mut low = self.logs[&leader].log_end();
        for r in &self.isr {
            if let Some(f) = self.followers.get(r) {
                low = low.min(f.known_end);
            }
        }
        self.high_watermark = self.high_watermark.max(low);
        let hw = self.high_watermark;
        let enough = self.isr.len() >= self.config.min_insync_replicas;
        let finished = &mut self.finished;
        self.waiting.retain(|&o| {
            if o < hw {
                let outcome = if enough { AckOutcome::Committed } else { AckOutcome::NotEnoughReplicasAfterAppend };
                finished.push((o, outcome));
                false
            } else {
                true
            }
        });
    }

    /// Up to `max` committed records (below the high watermark) from `from`, off the
    /// leader: what a consumer may see.
    pub fn read_committed(&self, from: Offset, max: usize) -> Result<Vec<Record<V>>, PartitionError> {
        Ok(self.leader_log()?.read(from, self.high_watermark, max)?)
    }

    /// Retention on every replica's log, below the high watermark. Returns the segments
    /// the leader deleted.
    pub fn apply_retention(&mut self, now_ms: u64) -> usize {
        let hw = self.high_watermark;
        let mut leader_deleted = 0;
        for (r, log) in self.logs.iter_mut() {
            let n = log.apply_retention(now_ms, hw);
            if Some(*r) == self.leader {
                leader_deleted = n;
            }
        }
        leader_deleted
    }

    /// Elects a leader among the `live` replicas (see the module doc for the rule),
    /// truncates the other live replicas to the new leader's log, and fails the
    /// acks=all produces still waiting. On `Err` the partition is left without a leader.
    pub fn elect(&mut self, live: &[ReplicaId], now_ms: u64) -> Result<Election, ElectError> {
        let is_live = |r: &ReplicaId| live.contains(r);
        let clean = self.replicas.iter().copied().find(|r| is_live(r) && self.isr.contains(r));
        let unclean = || self.replicas.iter().copied().find(is_live);
        let (leader, was_clean) = match clean {
            Some(l) => (l, true),
            None if self.config.unclean_election => match unclean() {
                Some(l) => (l, false),
                None => return self.go_offline(),
            },
            None => return self.go_offline(),
        };
        for o in self.waiting.drain(..) {
            self.finished.push((o, AckOutcome::LeaderChanged));
        }
        self.leader = Some(leader);
        self.epoch += 1;
        let leader_end = self.logs[&leader].log_end();
        self.epoch_start = leader_end;
        if was_clean {
            self.isr.retain(|r| is_live(r));
        } else {
            self.isr = BTreeSet::from([leader]);
        }
        self.high_watermark = self.high_watermark.min(leader_end);
        let mut truncated = Vec::new();
        for &r in self.replicas.clone().iter().filter(|&&r| r != leader && is_live(&r)) {
            let (to, lost) = self.truncate_to_leader(r);
            truncated.push((r, to, lost));
        }
        self.reset_followers(now_ms);
        self.advance_high_watermark();
        Ok(Election { leader, epoch: self.epoch, clean: was_clean, truncated })
    }

    fn go_offline(&mut self) -> Result<Election, ElectError> {
        for o in self.waiting.drain(..) {
            self.finished.push((o, AckOutcome::LeaderChanged));
        }
        self.leader = None;
        Err(ElectError::NoEligibleReplica)
    }

    /// A replica that was down is back: it truncates to where it agrees with the leader
    /// and becomes an out-of-sync follower until it catches up. Returns (offset truncated
    /// to, records lost).
    pub fn rejoin(&mut self, replica: ReplicaId, now_ms: u64) -> Result<(Offset, u64), PartitionError> {
        if Some(replica) == self.leader || !self.followers.contains_key(&replica) {
            return Err(PartitionError::NotAFollower(replica));
        }
        self.leader_log()?;
        let result = self.truncate_to_leader(replica);
        self.isr.remove(&replica);
        let leader_end = self.leader_log()?.log_end();
        let state = self.followers.get_mut(&replica).expect("follower");
        state.known_end = result.0;
        state.last_fetch_ms = now_ms;
        state.leader_end_at_last_fetch = leader_end;
        self.advance_high_watermark();
        Ok(result)
    }

    fn truncate_to_leader(&mut self, replica: ReplicaId) -> (Offset, u64) {
        let leader = self.leader.expect("a leader to truncate to");
        let point = divergence_point(&self.logs[&replica], &self.logs[&leader]);
        let lost = self.logs.get_mut(&replica).expect("replica log").truncate_to(point);
        (point, lost)
    }
}

/// The first offset where `follower` stops agreeing with `leader`: the first offset
/// both hold whose records were written in different epochs, else the shorter log end.
pub fn divergence_point<V>(follower: &Log<V>, leader: &Log<V>) -> Offset {
    let lo = follower.log_start().max(leader.log_start());
    let hi = follower.log_end().min(leader.log_end());
    (lo..hi).find(|&o| follower.get(o).map(|r| r.epoch) != leader.get(o).map(|r| r.epoch)).unwrap_or(hi)
}
