//! The ticket service for the counter strategy (Flickr's "ticket servers", 2010): one
//! counter, handed out in blocks so API servers ask once per block instead of once per
//! id. The high-water mark is written to disk *before* a block is granted (a write takes
//! `fsync_us`), so after a crash and restart it resumes from the durable mark and never
//! grants a block twice; blocks granted but unused are simply skipped.

use super::msg::{Msg, Obs};
use super::Ctx;
use crate::sim::node::Actor;
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::VecDeque;

#[derive(Clone, Debug)]
pub struct Ticket {
    pub range: u64,
    pub fsync_us: u64,
    /// Durable high-water mark: every id below it may have been granted.
    pub durable: u64,
    /// In memory: the next id to allocate (≥ `durable` after a restart).
    next: u64,
    /// Grants waiting for their write, in write order: (to, op, start, end).
    writes: VecDeque<(NodeId, u64, u64, u64)>,
    pub granted: u64,
}

impl Ticket {
    pub fn new(range: u64, fsync_us: u64) -> Ticket {
        Ticket { range, fsync_us, durable: 0, next: 0, writes: VecDeque::new(), granted: 0 }
    }

    /// Back from a crash (or starting): only the durable mark survives.
    fn reset(&mut self) {
        self.next = self.durable;
        self.writes.clear();
    }
}

impl Actor for Ticket {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {
        self.reset();
    }

    fn on_crash(&mut self) {
        self.reset();
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_>) {
        if let Msg::RangeReq { op } = msg {
            if self.writes.len() >= 1_000 {
                return;
            }
            let start = self.next;
            self.next += self.range;
            self.writes.push_back((from, op, start, self.next));
            // Writes are serial; each completes `fsync_us` after the previous one.
            ctx.set_timer(SimDuration(self.fsync_us * self.writes.len() as u64), 0);
        }
    }

    /// A write finished: the mark is durable, the block may go out.
    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_>) {
        if let Some((to, op, start, end)) = self.writes.pop_front() {
            self.durable = self.durable.max(end);
            self.granted += 1;
            ctx.send(to, Msg::RangeGrant { op, start, len: end - start });
        }
    }

    fn describe(&self) -> String {
        format!("mark {} on disk, {} blocks", self.durable, self.granted)
    }
}
