//! An index shard: owns the entities in its run of cells, applies the fleets' batches and
//! answers the router's searches. It is one single-threaded server with a FIFO queue: each
//! job costs a fixed overhead plus `step_ns` per index step, so a design whose searches
//! read more entries keeps the shard busier — at the offered rate a linear scan saturates
//! it, the queue fills, and latency follows. A job runs when it reaches the head of the
//! queue (its result is the index at that instant); its reply leaves when its service time
//! is over.
//!
//! The index lives in memory: a crash loses it, and the restarted shard reports that
//! (`Obs::Wiped`) and fills again from the next fixes, within one update interval.

use super::index::Index;
use super::msg::{Area, Msg, Obs, Op, Pos};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::VecDeque;

/// Jobs that may wait; a search arriving to a full queue is answered `Busy`.
pub const QUEUE_CAP: usize = 256;
/// Update batches that may wait; one more is dropped (its fleet resends it).
pub const BATCH_CAP: usize = 8;
/// Fixed cost of a job, µs (parsing, the reply).
pub const JOB_US: u64 = 20;

#[derive(Clone, Debug)]
enum Job {
    Batch { from: NodeId, ops: Vec<(u32, Op)> },
    Search { from: NodeId, qid: u64, round: u32, at: Pos, r_km: f64, limit: Option<u32>, area: Area },
}

#[derive(Clone, Debug)]
pub struct Shard {
    pub idx: u16,
    pub index: Index,
    step_ns: u64,
    queue: VecDeque<Job>,
    batches_queued: usize,
    /// The reply of the job in service, sent when it ends.
    serving: Option<(NodeId, Msg)>,
    pub searches: u64,
    pub search_steps: u64,
    pub updates: u64,
    pub update_steps: u64,
    pub busy: u64,
}

impl Shard {
    pub fn new(idx: u16, index: Index, step_ns: u64) -> Shard {
        Shard {
            idx,
            index,
            step_ns,
            queue: VecDeque::new(),
            batches_queued: 0,
            serving: None,
            searches: 0,
            search_steps: 0,
            updates: 0,
            update_steps: 0,
            busy: 0,
        }
    }

    fn service(&self, steps: u64) -> SimDuration {
        SimDuration::from_us(JOB_US + steps.saturating_mul(self.step_ns) / 1_000)
    }

    /// Starts the next job if idle: runs it now, replies when its service time is over.
    fn next(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.serving.is_some() {
            return;
        }
        let Some(job) = self.queue.pop_front() else { return };
        let (to, reply, steps) = match job {
            Job::Batch { from, ops } => {
                self.batches_queued -= 1;
                let mut steps = 0;
                let mut applied = Vec::with_capacity(ops.len());
                for &(id, op) in &ops {
                    let (changed, s) = self.index.apply(id, op);
                    steps += s;
                    if changed {
                        let i = id as usize;
                        let live = self.index.pos[i].is_some();
                        ctx.observe(Obs::Held { shard: self.idx, id, version: self.index.version[i], live });
                    }
                    applied.push((id, op.version()));
                }
                self.updates += ops.len() as u64;
                self.update_steps += steps;
                ctx.observe(Obs::UpdateCost { shard: self.idx, ops: ops.len() as u64, steps });
                (from, Msg::BatchAck { applied }, steps)
            }
            Job::Search { from, qid, round, at, r_km, limit, area } => {
                let (hits, steps) = self.index.search(at.0, r_km, limit.map(|k| k as usize), &area);
                self.searches += 1;
                self.search_steps += steps;
                ctx.metrics.observe("search_steps", steps);
                (from, Msg::Hits { qid, round, hits }, steps)
            }
        };
        self.serving = Some((to, reply));
        ctx.set_timer(self.service(steps), 0);
    }
}

impl Actor for Shard {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Batch { ops } => {
                if self.batches_queued >= BATCH_CAP || self.queue.len() >= QUEUE_CAP {
                    return;
                }
                self.batches_queued += 1;
                self.queue.push_back(Job::Batch { from, ops });
            }
            Msg::Search { qid, round, at, radius_km_bits, limit, area } => {
                if self.queue.len() >= QUEUE_CAP {
                    self.busy += 1;
                    ctx.send(from, Msg::Busy { qid, round });
                    return;
                }
                let r_km = f64::from_bits(radius_km_bits);
                self.queue.push_back(Job::Search { from, qid, round, at, r_km, limit, area });
            }
            _ => return,
        }
        self.next(ctx);
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some((to, reply)) = self.serving.take() {
            ctx.send(to, reply);
        }
        self.next(ctx);
    }

    fn on_crash(&mut self) {
        self.index = self.index.emptied();
        self.queue.clear();
        self.batches_queued = 0;
        self.serving = None;
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.observe(Obs::Wiped { shard: self.idx });
    }

    fn describe(&self) -> String {
        format!("{} entities · queue {}", self.index.len, self.queue.len())
    }
}
