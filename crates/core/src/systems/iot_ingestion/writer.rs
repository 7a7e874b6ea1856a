//! The writer: the ingest process in front of the time-series store. It polls the broker
//! for records past its position in each partition, drops the copies it has already
//! written — by (device, seq), with one anti-replay window per device
//! (`blocks::replay_window`) — and writes the rest.
//!
//! Duplicates are the price of at-least-once delivery: a device re-sends a reading whose
//! acknowledgement was lost, or that sat in a crashed gateway's worker after the broker
//! stored it, and the broker log then holds it twice. Deduplicating at the writer rather
//! than at the gateway is what makes it exact: every copy of a device's readings passes
//! through one partition, in order, to one writer.
//!
//! The writer's positions, windows and rows commit together (the store keeps the
//! consumer offsets and dedup state in the same transaction as the rows, as Kafka
//! Connect sinks that store offsets in the target do), so a crash loses nothing and
//! replays nothing: it is modelled as durable. A fetch whose reply is lost is simply
//! asked again; records not at the expected position are ignored.

use super::msg::{Fetched, Msg, Obs};
use super::store::TsStore;
use crate::blocks::replay_window::{ReplayWindow, Verdict};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;

const TAG_POLL: u64 = 1;
/// How often the writer asks the broker for new records.
pub const POLL_MS: u64 = 20;

#[derive(Clone, Debug)]
pub struct Writer {
    pub broker: NodeId,
    pub dedup: bool,
    /// Next offset to write, per partition.
    pub next: Vec<u64>,
    pub windows: Vec<ReplayWindow>,
    pub store: TsStore,
    pub duplicates: u64,
    pub too_old: u64,
}

impl Writer {
    pub fn new(broker: NodeId, partitions: u32, devices: u32, dedup: bool) -> Writer {
        Writer {
            broker,
            dedup,
            next: vec![0; partitions as usize],
            windows: if dedup { vec![ReplayWindow::default(); devices as usize] } else { Vec::new() },
            store: TsStore::new(devices),
            duplicates: 0,
            too_old: 0,
        }
    }

    fn take(&mut self, f: Fetched, ctx: &mut Ctx<'_, Msg, Obs>) {
        let p = f.partition as usize;
        if self.next.get(p) != Some(&f.offset) {
            return;
        }
        self.next[p] += 1;
        let r = f.reading;
        let verdict = match (self.dedup, self.windows.get_mut(r.device as usize)) {
            (true, Some(w)) => w.check_and_set(r.seq),
            _ => Verdict::New,
        };
        match verdict {
            Verdict::New => {
                self.store.write(r.device, r.seq, r.value);
                ctx.metrics.series.add("stored", ctx.now(), 1.0);
                ctx.observe(Obs::Stored { device: r.device, seq: r.seq, value: r.value });
            }
            Verdict::Duplicate => {
                self.duplicates += 1;
                ctx.metrics.add("duplicates_dropped", 1);
                ctx.metrics.series.add("duplicates dropped", ctx.now(), 1.0);
            }
            Verdict::TooOld => {
                self.too_old += 1;
                ctx.metrics.add("too_old_dropped", 1);
            }
        }
    }
}

impl Actor for Writer {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(POLL_MS), TAG_POLL);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::Records(records) = msg {
            for f in records {
                self.take(f, ctx);
            }
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == TAG_POLL {
            ctx.send(self.broker, Msg::Fetch { from: self.next.clone() });
            ctx.set_timer(SimDuration::from_ms(POLL_MS), TAG_POLL);
        }
    }

    fn describe(&self) -> String {
        format!("{} rows · {} duplicates dropped", self.store.rows, self.duplicates)
    }
}
