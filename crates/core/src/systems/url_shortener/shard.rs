//! A KV shard: a durable map from id to URL behind a single-server FIFO queue. Each
//! operation holds the server for `op_us`, so a shard serves at most 10⁶/op_us ops per
//! second; past that the queue (and redirect latency) grows — the reason a hot link needs
//! a cache. A crash drops the queue (in memory) but never the map (on disk); while down
//! the shard answers nothing. The queue is bounded: when full, the shard answers `Busy`.

use super::msg::{Msg, Obs};
use super::Ctx;
use crate::sim::node::Actor;
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

pub const MAX_QUEUE: usize = 2_000;

#[derive(Clone, Debug)]
pub struct Shard {
    pub op_us: u64,
    /// Durable.
    pub map: BTreeMap<u64, u64>,
    queue: VecDeque<(NodeId, Msg)>,
    busy: bool,
    pub served: u64,
    pub max_queue: usize,
    /// Puts that replaced a different URL (only naive strategies cause them).
    pub overwrites: u64,
}

impl Shard {
    pub fn new(op_us: u64) -> Shard {
        Shard {
            op_us,
            map: BTreeMap::new(),
            queue: VecDeque::new(),
            busy: false,
            served: 0,
            max_queue: 0,
            overwrites: 0,
        }
    }

    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }
}

impl Actor for Shard {
    type Msg = Msg;
    type Obs = Obs;

    /// The map is durable; the queue of requests in memory is lost.
    fn on_crash(&mut self) {
        self.queue.clear();
        self.busy = false;
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_>) {
        if self.queue.len() >= MAX_QUEUE {
            if let Msg::Get { op, .. } | Msg::Put { op, .. } = msg {
                ctx.send(from, Msg::Busy { op });
            }
            return;
        }
        self.queue.push_back((from, msg));
        self.max_queue = self.max_queue.max(self.queue.len());
        if !self.busy {
            self.busy = true;
            ctx.set_timer(SimDuration(self.op_us), 0);
        }
    }

    /// The operation at the head of the queue finishes.
    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_>) {
        if let Some((from, msg)) = self.queue.pop_front() {
            self.served += 1;
            match msg {
                Msg::Get { op, id } => ctx.send(from, Msg::GetReply { op, url: self.map.get(&id).copied() }),
                Msg::Put { op, id, url } => {
                    if self.map.insert(id, url).is_some_and(|old| old != url) {
                        self.overwrites += 1;
                    }
                    ctx.send(from, Msg::PutAck { op });
                }
                _ => {}
            }
        }
        self.busy = !self.queue.is_empty();
        if self.busy {
            ctx.set_timer(SimDuration(self.op_us), 0);
        }
    }

    fn describe(&self) -> String {
        format!("{} keys, queue {}", self.map.len(), self.queue_len())
    }
}
