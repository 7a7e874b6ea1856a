//! The event bus: one partitioned append-only log per topic (`blocks::log::Log`, one
//! replica — replication is pub-sub's subject, not this one's), keyed by order id with
//! Kafka's default partitioner so one order's events stay in order on one partition, and
//! a committed offset per consumer group and partition. Everything here is durable: an
//! append is acknowledged once it is in the log.
//!
//! Consumers fetch from a position, or from their committed offset when they have none
//! (after a crash). With `rebalance_pct`, a fetch is answered from the committed offset
//! instead of the position asked for — what a consumer-group rebalance does to the new
//! owner of a partition — so records already processed but not yet committed come again.
//!
//! Retention keeps the bus bounded: every second, segments older than `RETENTION_MS` are
//! deleted, but only below the lowest offset any group has committed on that partition
//! (a partition no group has committed on yet is bounded by age alone).

use super::msg::{Event, Msg, Obs, Topic};
use crate::blocks::log::{Log, LogConfig};
use crate::blocks::partitioner::partition_for_key;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// Records a bus fetch returns per partition.
const MAX_READ: usize = 32;
/// Age after which consumed segments are deleted.
pub const RETENTION_MS: u64 = 30_000;
const RETAIN: u64 = 1;

#[derive(Clone, Debug)]
pub struct Bus {
    pub partitions: u32,
    pub rebalance_pct: u64,
    pub logs: BTreeMap<(Topic, u32), Log<Event>>,
    /// (group, topic, partition) → next offset the group will read.
    pub committed: BTreeMap<(NodeId, Topic, u32), u64>,
}

impl Bus {
    pub fn new(partitions: u32, rebalance_pct: u64) -> Bus {
        let mut logs = BTreeMap::new();
        for t in Topic::ALL {
            for p in 0..partitions {
                let config =
                    LogConfig { segment_max_records: 512, retention_ms: Some(RETENTION_MS), ..LogConfig::default() };
                logs.insert((t, p), Log::new(config));
            }
        }
        Bus { partitions, rebalance_pct, logs, committed: BTreeMap::new() }
    }

    pub fn partition_of(&self, order: u64) -> u32 {
        partition_for_key(&order.to_be_bytes(), self.partitions)
    }
}

impl Actor for Bus {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(1_000), RETAIN);
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now_ms = ctx.now().as_ms() as u64;
        for (&(t, p), log) in &mut self.logs {
            let upto = self
                .committed
                .iter()
                .filter(|((_, tt, pp), _)| *tt == t && *pp == p)
                .map(|(_, &o)| o)
                .min()
                .unwrap_or(log.log_end());
            log.apply_retention(now_ms, upto);
        }
        ctx.set_timer(SimDuration::from_ms(1_000), RETAIN);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Produce { batch, records } => {
                let now_ms = ctx.now().as_ms() as u64;
                for e in records {
                    let p = self.partition_of(e.order);
                    if let Some(log) = self.logs.get_mut(&(e.topic, p)) {
                        log.append(e, 64, 0, now_ms);
                        ctx.metrics.add("bus_appends", 1);
                    }
                }
                ctx.send(from, Msg::Produced { batch });
            }
            Msg::Fetch { positions } => {
                let mut parts = Vec::new();
                for (t, p, from_offset) in positions {
                    let Some(log) = self.logs.get(&(t, p)) else { continue };
                    let committed = self.committed.get(&(from, t, p)).copied().unwrap_or(0);
                    let mut start = from_offset.unwrap_or(committed);
                    if from_offset.is_some_and(|o| o > committed)
                        && self.rebalance_pct > 0
                        && ctx.rng.chance(self.rebalance_pct as f64 / 100.0)
                    {
                        ctx.metrics.add("redeliveries", 1);
                        start = committed;
                    }
                    let start = start.clamp(log.log_start(), log.log_end());
                    let Ok(records) = log.read(start, log.log_end(), MAX_READ) else { continue };
                    if !records.is_empty() {
                        parts.push((t, p, records.into_iter().map(|r| (r.offset, r.value)).collect()));
                    }
                }
                ctx.send(from, Msg::Records { parts });
            }
            Msg::CommitOffsets { offsets } => {
                for (t, p, o) in offsets {
                    self.committed.insert((from, t, p), o);
                }
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        let records: u64 = self.logs.values().map(|l| l.len()).sum();
        format!("{records} records held")
    }
}
