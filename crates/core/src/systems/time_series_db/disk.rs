//! The database's disk, as a node so faults can reach it: a clog between the database
//! and the disk is a slow disk, a pause a stalled one. It serves one I/O at a time (a
//! queue): each takes a fixed fsync cost plus its bytes over the bandwidth, then answers.
//! It keeps no data (the database's durable structures stand for what is on the
//! platter); a crash of the disk loses the I/Os queued in it, which the database retries.

use super::msg::{Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Disk {
    pub fsync_us: u64,
    /// Write bandwidth in bytes per millisecond.
    pub bytes_per_ms: u64,
    busy_until: SimTime,
    /// I/Os in the queue: op → who asked.
    queued: BTreeMap<u64, NodeId>,
    pub ios: u64,
    pub bytes: u64,
}

impl Disk {
    pub fn new(fsync_us: u64, bytes_per_ms: u64) -> Disk {
        Disk { fsync_us, bytes_per_ms, busy_until: SimTime::ZERO, queued: BTreeMap::new(), ios: 0, bytes: 0 }
    }
}

impl Actor for Disk {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::Io { op, bytes } = msg {
            if self.queued.contains_key(&op) {
                return;
            }
            let now = ctx.now();
            let start = self.busy_until.max(now);
            let cost = self.fsync_us + bytes * 1_000 / self.bytes_per_ms.max(1);
            self.busy_until = start + SimDuration(cost);
            self.queued.insert(op, from);
            self.ios += 1;
            self.bytes += bytes;
            ctx.set_timer(SimDuration(self.busy_until.0 - now.0), op);
        }
    }

    fn on_timer(&mut self, op: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(to) = self.queued.remove(&op) {
            ctx.send(to, Msg::IoDone { op });
        }
    }

    fn on_crash(&mut self) {
        self.queued.clear();
        self.busy_until = SimTime::ZERO;
    }

    fn describe(&self) -> String {
        format!("{} I/Os queued, {} KB written", self.queued.len(), self.bytes / 1_000)
    }
}
