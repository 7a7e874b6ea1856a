//! A producer: sends keyed messages at a steady rate, each to the partition Kafka's
//! default partitioner picks for its key (murmur2), to that partition's leader, up to
//! `MAX_IN_FLIGHT` unanswered per partition (Kafka's `max.in.flight.requests.per.connection`
//! default). A message is retried until acknowledged: on an error, or when it has waited
//! `timeout_ms`. Every message carries the producer's sequence number for its partition;
//! only an idempotent broker reads it. Without idempotence a retry can land twice, or
//! land after a later message that did not need one.

use super::msg::{Msg, Obs, PartMeta, ProduceError, Rec};
use crate::blocks::partitioner::partition_for_key;
use crate::sim::node::{Actor, Ctx};
use crate::sim::rng::Prng;
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::VecDeque;

const TICK: u64 = 1;
const TICK_MS: u64 = 10;
pub const MAX_IN_FLIGHT: usize = 5;
/// Messages a producer buffers while a partition has no leader; past it, new ones are
/// refused (the application sees an error, no ack is promised).
const BUFFER: usize = 2_000;

#[derive(Clone, Debug)]
pub struct ProducerCfg {
    pub index: u32,
    pub brokers: Vec<NodeId>,
    pub partitions: u32,
    pub rate_per_s: f64,
    pub duration_ms: u64,
    pub keys: u64,
    pub timeout_ms: u64,
}

#[derive(Clone, Debug)]
struct Pending {
    rec: Rec,
    sent_ms: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Producer {
    pub cfg: ProducerCfg,
    rng: Prng,
    meta: Vec<PartMeta>,
    queues: Vec<VecDeque<Pending>>,
    next_seq: Vec<u32>,
    /// Per partition, bumped by a crash or when the broker has lost this producer's last
    /// writes (it answers "out of order" to the oldest message waiting): the producer then
    /// continues as a new producer id with sequence numbers from zero (Kafka bumps the
    /// producer epoch, KIP-360).
    incarnation: Vec<u32>,
    pub made: u64,
    pub acked: u64,
    pub refused: u64,
    pub retries: u64,
}

impl Producer {
    pub fn new(cfg: ProducerCfg, rng: Prng) -> Producer {
        let n = cfg.partitions as usize;
        Producer {
            cfg,
            rng,
            meta: Vec::new(),
            queues: vec![VecDeque::new(); n],
            next_seq: vec![0; n],
            incarnation: vec![0; n],
            made: 0,
            acked: 0,
            refused: 0,
            retries: 0,
        }
    }

    pub fn in_flight(&self) -> usize {
        self.queues.iter().map(|q| q.len()).sum()
    }

    fn generate(&mut self, now_ms: u64) {
        let until = now_ms.min(self.cfg.duration_ms);
        let due = (until as f64 * self.cfg.rate_per_s / 1_000.0) as u64;
        // More than a full buffer's worth in one tick would be refused anyway: count
        // those without drawing keys for them.
        let cap = (BUFFER as u64) * u64::from(self.cfg.partitions);
        if due.saturating_sub(self.made) > cap {
            let skip = due - self.made - cap;
            self.made += skip;
            self.refused += skip;
        }
        while self.made < due {
            self.made += 1;
            let key = self.rng.below(self.cfg.keys.max(1)) as u32;
            let p = partition_for_key(format!("key-{key}").as_bytes(), self.cfg.partitions);
            let q = &mut self.queues[p as usize];
            if q.len() >= BUFFER {
                self.refused += 1;
                continue;
            }
            let seq = self.next_seq[p as usize];
            self.next_seq[p as usize] += 1;
            let id = (u64::from(self.cfg.index) + 1) << 32 | self.made;
            q.push_back(Pending {
                rec: Rec { id, key, producer: self.cfg.index | self.incarnation[p as usize] << 8, seq },
                sent_ms: None,
            });
        }
    }

    /// Starts partition `p`'s stream over as a new producer id: everything waiting is
    /// renumbered from zero and resent.
    fn renumber(&mut self, p: usize) {
        self.incarnation[p] += 1;
        let producer = self.cfg.index | self.incarnation[p] << 8;
        for (seq, m) in self.queues[p].iter_mut().enumerate() {
            m.rec.producer = producer;
            m.rec.seq = seq as u32;
            m.sent_ms = None;
        }
        self.next_seq[p] = self.queues[p].len() as u32;
    }

    fn send_due(&mut self, now_ms: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        for (p, q) in self.queues.iter_mut().enumerate() {
            for m in q.iter_mut() {
                if m.sent_ms.is_some_and(|t| now_ms >= t + self.cfg.timeout_ms) {
                    m.sent_ms = None;
                    self.retries += 1;
                }
            }
            let Some(leader) = self.meta.get(p).and_then(|m| m.leader) else { continue };
            let mut flying = q.iter().filter(|m| m.sent_ms.is_some()).count();
            for m in q.iter_mut() {
                if flying >= MAX_IN_FLIGHT {
                    break;
                }
                if m.sent_ms.is_none() {
                    m.sent_ms = Some(now_ms);
                    flying += 1;
                    ctx.send(self.cfg.brokers[leader as usize], Msg::Produce { p: p as u32, rec: m.rec });
                }
            }
        }
    }
}

impl Actor for Producer {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(TICK_MS), TICK);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Metadata { parts } => self.meta = parts,
            Msg::ProduceAck { p, id, offset } => {
                let q = &mut self.queues[p as usize];
                if let Some(i) = q.iter().position(|m| m.rec.id == id) {
                    q.remove(i);
                    self.acked += 1;
                    ctx.observe(Obs::Acked { p, offset, id });
                }
            }
            Msg::ProduceErr { p, id, err } => {
                let q = &mut self.queues[p as usize];
                if err == ProduceError::OutOfOrderSequence && q.front().is_some_and(|m| m.rec.id == id) {
                    self.renumber(p as usize);
                    return;
                }
                if let Some(m) = self.queues[p as usize].iter_mut().find(|m| m.rec.id == id) {
                    m.sent_ms = m.sent_ms.map(|t| t.saturating_sub(self.cfg.timeout_ms) + TICK_MS);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag != TICK {
            return;
        }
        let now_ms = ctx.now().0 / 1_000;
        self.generate(now_ms);
        self.send_due(now_ms, ctx);
        ctx.set_timer(SimDuration::from_ms(TICK_MS), TICK);
    }

    fn on_crash(&mut self) {
        // A crashed producer's buffer is gone; it resumes with the next messages.
        for q in &mut self.queues {
            q.clear();
        }
        self.next_seq.iter_mut().for_each(|s| *s = 0);
        self.incarnation.iter_mut().for_each(|i| *i += 1);
        self.meta.clear();
    }

    fn describe(&self) -> String {
        format!("{} acked · {} waiting", self.acked, self.in_flight())
    }
}
