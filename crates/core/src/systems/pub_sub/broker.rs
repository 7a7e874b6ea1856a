//! A broker: hosts one replica of some partitions. Each replica is a segmented
//! [`Log`](crate::blocks::log::Log) kept on disk (a crash keeps it, with the high-watermark
//! checkpoint). Whoever the controller names leads: it appends produces, serves follower
//! and consumer fetches, moves the high watermark to the lowest log end over the ISR,
//! answers acks=all produces once the high watermark passes them, and proposes ISR changes
//! to the controller (which alone decides them, so an election never picks a replica the
//! leader counted on without the controller knowing). Followers fetch from the leader; a
//! follower whose last record was written in another epoch than the leader's truncates to
//! where they agree (KIP-101/279), as `blocks::log::replication` does with a god's-eye view
//! of all replicas — here each broker only knows its own log and what fetches tell it.

use super::msg::{Msg, Obs, PartMeta, ProduceError, Rec, Wire};
use crate::blocks::log::{Acks, Log, LogConfig};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::BTreeMap;

pub const TICK: u64 = 1;
/// Records a fetch returns at most.
const MAX_FETCH: usize = 64;
/// Producer sequence numbers an idempotent leader remembers per producer (Kafka keeps 5).
const DEDUP_WINDOW: usize = 5;

#[derive(Clone, Debug)]
pub struct BrokerCfg {
    pub index: u32,
    pub controller: NodeId,
    /// Broker index → node id.
    pub brokers: Vec<NodeId>,
    /// Partition → its replicas (broker indices, assignment order).
    pub replicas: Vec<Vec<u32>>,
    pub log: LogConfig,
    pub acks: Acks,
    pub min_isr: usize,
    pub lag_ms: u64,
    pub fetch_ms: u64,
    pub idempotent: bool,
}

/// The leader's record of one follower (Kafka's `Replica` fetch state).
#[derive(Clone, Copy, Debug)]
struct Follower {
    known_end: u64,
    last_caught_up_ms: u64,
    last_fetch_ms: u64,
    leader_end_at_last_fetch: u64,
}

#[derive(Clone, Debug)]
struct Leading {
    epoch: u32,
    /// The log end when this epoch began: a follower rejoins the ISR only past it.
    epoch_start: u64,
    followers: BTreeMap<u32, Follower>,
    /// acks=all produces waiting for the high watermark: (offset, producer node, id).
    waiting: Vec<(u64, NodeId, u64)>,
    /// Producer → its last sequence numbers and their offsets (idempotence).
    seqs: BTreeMap<u32, Vec<(u32, u64)>>,
    /// The ISR change last proposed and not yet seen in metadata, and when. Until the
    /// metadata settles it, the high watermark counts the union of both sets (Kafka's
    /// "maximal ISR", KIP-497): a follower the controller may already list as in sync is
    /// never left behind the high watermark.
    proposed: Option<(u64, Vec<u32>)>,
}

#[derive(Clone, Debug)]
pub struct Broker {
    pub cfg: BrokerCfg,
    /// Durable: the replica logs and high-watermark checkpoints, by partition.
    pub logs: BTreeMap<u32, Log<Rec>>,
    pub hw: BTreeMap<u32, u64>,
    /// Volatile.
    pub meta: Vec<PartMeta>,
    leading: BTreeMap<u32, Leading>,
    pub truncated: u64,
}

impl Broker {
    pub fn new(cfg: BrokerCfg) -> Broker {
        let hosted: Vec<u32> =
            (0..cfg.replicas.len() as u32).filter(|&p| cfg.replicas[p as usize].contains(&cfg.index)).collect();
        let logs = hosted.iter().map(|&p| (p, Log::new(cfg.log))).collect();
        let hw = hosted.iter().map(|&p| (p, 0)).collect();
        Broker { cfg, logs, hw, meta: Vec::new(), leading: BTreeMap::new(), truncated: 0 }
    }

    pub fn is_leader(&self, p: u32) -> bool {
        self.leading.contains_key(&p)
    }

    fn leader_node(&self, p: u32) -> Option<NodeId> {
        let l = self.meta.get(p as usize)?.leader?;
        (l != self.cfg.index).then(|| self.cfg.brokers[l as usize])
    }

    fn isr(&self, p: u32) -> &[u32] {
        self.meta.get(p as usize).map_or(&[], |m| &m.isr)
    }

    /// Follows the controller: takes up or gives up leadership as the metadata says.
    fn on_metadata(&mut self, parts: Vec<PartMeta>, now_ms: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        for (p, m) in parts.iter().enumerate() {
            let p = p as u32;
            let Some(log) = self.logs.get(&p) else { continue };
            let mine = m.leader == Some(self.cfg.index);
            match self.leading.get_mut(&p) {
                Some(l) if mine && l.epoch == m.epoch => {
                    if l.proposed.as_ref().is_some_and(|(_, want)| *want == m.isr) {
                        l.proposed = None;
                    }
                }
                _ if mine => {
                    let followers = self.cfg.replicas[p as usize]
                        .iter()
                        .filter(|&&r| r != self.cfg.index)
                        .map(|&r| {
                            let f = Follower {
                                known_end: 0,
                                last_caught_up_ms: now_ms,
                                last_fetch_ms: now_ms,
                                leader_end_at_last_fetch: log.log_end(),
                            };
                            (r, f)
                        })
                        .collect();
                    let seqs = producer_seqs(log);
                    let start = log.log_end();
                    self.leading.insert(
                        p,
                        Leading {
                            epoch: m.epoch,
                            epoch_start: start,
                            followers,
                            waiting: Vec::new(),
                            seqs,
                            proposed: None,
                        },
                    );
                    ctx.note(format!("leads p{p} in epoch {}", m.epoch));
                }
                _ => {
                    self.leading.remove(&p);
                }
            }
        }
        self.meta = parts;
        let led: Vec<u32> = self.leading.keys().copied().collect();
        for p in led {
            self.advance_hw(p, ctx);
        }
    }

    fn on_produce(&mut self, from: NodeId, p: u32, rec: Rec, now_ms: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let err = |e| Msg::ProduceErr { p, id: rec.id, err: e };
        let Some(lead) = self.leading.get_mut(&p) else {
            ctx.send(from, err(ProduceError::NotLeader));
            return;
        };
        let isr_len = self.meta.get(p as usize).map_or(0, |m| m.isr.len());
        if self.cfg.acks == Acks::All && isr_len < self.cfg.min_isr {
            ctx.send(from, err(ProduceError::NotEnoughReplicas));
            return;
        }
        let log = self.logs.get_mut(&p).expect("hosted partition");
        let offset = if self.cfg.idempotent {
            let seen = lead.seqs.entry(rec.producer).or_default();
            match seen.last().map(|&(s, _)| s) {
                Some(last) if rec.seq <= last => match seen.iter().find(|&&(s, _)| s == rec.seq) {
                    Some(&(_, o)) => o,
                    None => return, // older than the window: the producer already has its answer
                },
                Some(last) if rec.seq > last + 1 => {
                    ctx.send(from, err(ProduceError::OutOfOrderSequence));
                    return;
                }
                _ => {
                    let o = log.append(rec, 1, lead.epoch, now_ms);
                    seen.push((rec.seq, o));
                    if seen.len() > DEDUP_WINDOW {
                        seen.remove(0);
                    }
                    o
                }
            }
        } else {
            log.append(rec, 1, lead.epoch, now_ms)
        };
        match self.cfg.acks {
            Acks::Leader => ctx.send(from, Msg::ProduceAck { p, id: rec.id, offset }),
            Acks::All => {
                lead.waiting.push((offset, from, rec.id));
                self.advance_hw(p, ctx);
            }
        }
    }

    /// The leader serves a follower's fetch (see the module doc for divergence).
    fn on_replica_fetch(
        &mut self,
        from: NodeId,
        p: u32,
        broker: u32,
        offset: u64,
        last_epoch: Option<u32>,
        ctx: &mut Ctx<'_, Msg, Obs>,
    ) {
        let now_ms = ctx.now().0 / 1_000;
        let Some(lead) = self.leading.get_mut(&p) else { return };
        let log = &self.logs[&p];
        if offset < log.log_start() {
            ctx.send(from, Msg::ReplicaReset { p, log_start: log.log_start() });
            return;
        }
        if let (Some(prev), Some(e)) = (offset.checked_sub(1), last_epoch) {
            let ours = log.get(prev).map(|r| r.epoch);
            if prev >= log.log_end() || ours.is_some_and(|o| o != e) {
                let end_of_epoch = (log.log_start()..log.log_end())
                    .find(|&o| log.get(o).is_some_and(|r| r.epoch > e))
                    .unwrap_or(log.log_end());
                let truncate_to = end_of_epoch.min(prev).min(log.log_end());
                ctx.send(from, Msg::ReplicaDiverged { p, truncate_to });
                return;
            }
        }
        let leader_end = log.log_end();
        let Some(f) = lead.followers.get_mut(&broker) else { return };
        if offset >= leader_end {
            f.last_caught_up_ms = now_ms;
        } else if offset >= f.leader_end_at_last_fetch {
            f.last_caught_up_ms = f.last_caught_up_ms.max(f.last_fetch_ms);
        }
        f.known_end = offset;
        f.last_fetch_ms = now_ms;
        f.leader_end_at_last_fetch = leader_end;
        let records: Vec<Wire> = log
            .read(offset, leader_end, MAX_FETCH)
            .map(|rs| rs.iter().map(Wire::from_record).collect())
            .unwrap_or_default();
        let epoch = lead.epoch;
        self.advance_hw(p, ctx);
        let hw = self.hw[&p];
        ctx.send(from, Msg::ReplicaData { p, epoch, records, hw });
    }

    /// High watermark = lowest log end over the ISR (never back while one leader reigns);
    /// acks=all produces below it are answered.
    fn advance_hw(&mut self, p: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        let isr = self.isr(p).to_vec();
        let Some(lead) = self.leading.get_mut(&p) else { return };
        let mut counted = isr.clone();
        if let Some((_, want)) = &lead.proposed {
            counted.extend(want.iter().copied());
        }
        let mut low = self.logs[&p].log_end();
        for r in &counted {
            if let Some(f) = lead.followers.get(r) {
                low = low.min(f.known_end);
            }
        }
        let hw = self.hw.get_mut(&p).expect("hosted partition");
        *hw = (*hw).max(low);
        let hw = *hw;
        let enough = isr.len() >= self.cfg.min_isr;
        lead.waiting.retain(|&(o, producer, id)| {
            if o >= hw {
                return true;
            }
            let msg = if enough {
                Msg::ProduceAck { p, id, offset: o }
            } else {
                Msg::ProduceErr { p, id, err: ProduceError::NotEnoughReplicas }
            };
            ctx.send(producer, msg);
            false
        });
    }

    /// A consumer's fetch: committed records only (below the high watermark).
    fn on_fetch(&mut self, from: NodeId, p: u32, offset: u64, max: u32, req: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.leading.contains_key(&p) {
            ctx.send(from, Msg::FetchNotLeader { p, req });
            return;
        }
        let log = &self.logs[&p];
        let hw = self.hw[&p];
        match log.read(offset, hw, max as usize) {
            Ok(rs) => ctx.send(from, Msg::Records { p, req, records: rs.iter().map(Wire::from_record).collect() }),
            Err(_) => ctx.send(from, Msg::FetchOutOfRange { p, req, log_start: log.log_start() }),
        }
    }

    fn tick(&mut self, now_ms: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.send(self.cfg.controller, Msg::BrokerHeartbeat { broker: self.cfg.index });
        let hosted: Vec<u32> = self.logs.keys().copied().collect();
        for p in hosted {
            if self.leading.contains_key(&p) {
                self.propose_isr(p, now_ms, ctx);
                self.advance_hw(p, ctx);
            } else if let Some(leader) = self.leader_node(p) {
                let log = &self.logs[&p];
                let offset = log.log_end();
                let last_epoch = offset.checked_sub(1).and_then(|o| log.get(o)).map(|r| r.epoch);
                ctx.send(leader, Msg::ReplicaFetch { p, broker: self.cfg.index, offset, last_epoch });
            }
            let hw = self.hw[&p];
            self.logs.get_mut(&p).expect("hosted").apply_retention(now_ms, hw);
        }
        ctx.set_timer(SimDuration::from_ms(self.cfg.fetch_ms), TICK);
    }

    /// Followers lagging longer than `lag_ms` out, caught-up ones back in: proposed to the
    /// controller, applied when its metadata says so.
    fn propose_isr(&mut self, p: u32, now_ms: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let isr = self.isr(p).to_vec();
        let hw = self.hw[&p];
        let lead = self.leading.get_mut(&p).expect("leading");
        if lead.proposed.as_ref().is_some_and(|(t, _)| now_ms < t + 4 * self.cfg.fetch_ms) {
            return;
        }
        let mut want: Vec<u32> = vec![self.cfg.index];
        for (&r, f) in &lead.followers {
            let stays = isr.contains(&r) && now_ms.saturating_sub(f.last_caught_up_ms) <= self.cfg.lag_ms;
            let joins = !isr.contains(&r)
                && f.known_end >= hw
                && f.known_end >= lead.epoch_start
                && now_ms.saturating_sub(f.last_fetch_ms) <= self.cfg.fetch_ms * 2;
            if stays || joins {
                want.push(r);
            }
        }
        want.sort();
        let mut have = isr;
        have.sort();
        if want != have {
            lead.proposed = Some((now_ms, want.clone()));
            ctx.send(self.cfg.controller, Msg::AlterIsr { p, epoch: lead.epoch, isr: want });
        }
    }

    fn follower_data(&mut self, p: u32, epoch: u32, records: Vec<Wire>, hw: u64) {
        if self.leading.contains_key(&p) || self.meta.get(p as usize).map(|m| m.epoch) != Some(epoch) {
            return;
        }
        let Some(log) = self.logs.get_mut(&p) else { return };
        for w in records {
            if w.offset < log.log_end() {
                continue;
            }
            if log.append_replicated(w.to_record()).is_err() {
                break;
            }
        }
        let h = self.hw.get_mut(&p).expect("hosted");
        *h = hw.min(log.log_end());
    }
}

/// Each producer's last few sequence numbers in a log, read back when a broker takes over
/// as leader (Kafka rebuilds its producer state from the log the same way).
fn producer_seqs(log: &Log<Rec>) -> BTreeMap<u32, Vec<(u32, u64)>> {
    let mut out: BTreeMap<u32, Vec<(u32, u64)>> = BTreeMap::new();
    if let Ok(rs) = log.read(log.log_start(), log.log_end(), usize::MAX) {
        for r in rs {
            let seen = out.entry(r.value.producer).or_default();
            seen.push((r.value.seq, r.offset));
            if seen.len() > DEDUP_WINDOW {
                seen.remove(0);
            }
        }
    }
    out
}

impl Actor for Broker {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.send(self.cfg.controller, Msg::Register { broker: self.cfg.index });
        ctx.set_timer(SimDuration::from_ms(self.cfg.fetch_ms), TICK);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now_ms = ctx.now().0 / 1_000;
        match msg {
            Msg::Metadata { parts } => self.on_metadata(parts, now_ms, ctx),
            Msg::Produce { p, rec } => self.on_produce(from, p, rec, now_ms, ctx),
            Msg::ReplicaFetch { p, broker, offset, last_epoch } => {
                self.on_replica_fetch(from, p, broker, offset, last_epoch, ctx)
            }
            Msg::ReplicaData { p, epoch, records, hw } => self.follower_data(p, epoch, records, hw),
            Msg::ReplicaDiverged { p, truncate_to } => {
                if let Some(log) = self.logs.get_mut(&p).filter(|_| !self.leading.contains_key(&p)) {
                    let lost = log.truncate_to(truncate_to);
                    self.truncated += lost;
                    if lost > 0 {
                        ctx.note(format!("p{p}: truncated {lost} records from offset {truncate_to}"));
                    }
                    let end = log.log_end();
                    let h = self.hw.get_mut(&p).expect("hosted");
                    *h = (*h).min(end);
                }
            }
            Msg::ReplicaReset { p, log_start } => {
                if let Some(log) = self.logs.get_mut(&p).filter(|_| !self.leading.contains_key(&p)) {
                    if log.log_end() < log_start || log.log_start() > log_start {
                        log.reset_to(log_start);
                        self.hw.insert(p, log_start);
                    }
                }
            }
            Msg::Fetch { p, offset, max, req } => self.on_fetch(from, p, offset, max, req, ctx),
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == TICK {
            let now_ms = ctx.now().0 / 1_000;
            self.tick(now_ms, ctx);
        }
    }

    fn on_crash(&mut self) {
        self.meta.clear();
        self.leading.clear();
    }

    fn describe(&self) -> String {
        let led: Vec<String> = self.leading.keys().map(|p| format!("p{p}")).collect();
        if led.is_empty() {
            "follower".into()
        } else {
            format!("leads {}", led.join(","))
        }
    }
}
