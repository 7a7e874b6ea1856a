//! The database behind the cache: durable, correct, and slow. It runs `workers` queries
//! at once, each taking `query` time, so its capacity is `workers / query` queries per
//! second; what arrives beyond that waits in a FIFO queue and every answer gets slower —
//! the overload a cache exists to prevent. A query's effect (a read's value, a write's
//! commit) happens when the query completes.

use super::config::Cfg;
use super::msg::{Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// Queue bound: beyond it queries are refused (a real DB's connection limit).
const QUEUE_MAX: usize = 50_000;

#[derive(Clone, Debug)]
pub struct Db {
    pub cfg: Cfg,
    /// key → write id of the committed value (durable).
    pub data: BTreeMap<u64, u64>,
    queue: VecDeque<(NodeId, Msg)>,
    running: BTreeMap<u64, (NodeId, Msg)>,
    next_tag: u64,
    pub done: u64,
    pub peak_queue: usize,
}

type Cx<'a, 'b> = &'a mut Ctx<'b, Msg, Obs>;

impl Db {
    pub fn new(cfg: Cfg) -> Db {
        Db {
            cfg,
            data: BTreeMap::new(),
            queue: VecDeque::new(),
            running: BTreeMap::new(),
            next_tag: 0,
            done: 0,
            peak_queue: 0,
        }
    }

    fn begin(&mut self, from: NodeId, msg: Msg, ctx: Cx) {
        self.next_tag += 1;
        self.running.insert(self.next_tag, (from, msg));
        ctx.set_timer(self.cfg.db_query, self.next_tag);
    }
}

impl Actor for Db {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: Cx) {
        if !matches!(msg, Msg::DbRead { .. } | Msg::DbWrite { .. }) {
            return;
        }
        ctx.observe(Obs::DbArrival);
        ctx.metrics.series.add("db_arrivals", ctx.now(), 1.0);
        if (self.running.len() as u32) < self.cfg.db_workers {
            self.begin(from, msg, ctx);
        } else if self.queue.len() < QUEUE_MAX {
            self.queue.push_back((from, msg));
            self.peak_queue = self.peak_queue.max(self.queue.len());
            ctx.metrics.series.max("db_queue", ctx.now(), self.queue.len() as f64);
        } else {
            ctx.metrics.add("db_refused", 1);
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: Cx) {
        let Some((from, msg)) = self.running.remove(&tag) else {
            return;
        };
        self.done += 1;
        match msg {
            Msg::DbRead { id, key } => {
                let val = self.data.get(&key).copied().unwrap_or(0);
                ctx.send(from, Msg::DbVal { id, key, val });
            }
            Msg::DbWrite { id, key, wid } => {
                self.data.insert(key, wid);
                ctx.send(from, Msg::DbAck { id });
            }
            _ => {}
        }
        if let Some((f, m)) = self.queue.pop_front() {
            self.begin(f, m, ctx);
        }
    }

    fn on_crash(&mut self) {
        self.queue.clear();
        self.running.clear();
    }

    fn describe(&self) -> String {
        format!("{} queries, queue {}", self.done, self.queue.len())
    }
}
