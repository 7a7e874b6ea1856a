//! The message broker: a topic of `partitions` append-only logs (`blocks::log`), each
//! reading placed by Kafka's keyed partitioner on its device id (`blocks::partitioner`),
//! so one device's readings stay in order in one partition — the order the writer's
//! replay window relies on. An append is flushed before the broker answers (one node,
//! acks=all in effect): what the gateway is told is stored survives a broker crash.
//!
//! Retention deletes whole segments the writer has fetched past (Kafka deletes only below
//! what the consumer group has committed when it is configured to); the broker learns the
//! writer's position from each fetch.

use super::msg::{Entry, Fetched, Msg, Obs, Reading, READING_BYTES};
use crate::blocks::log::{Log, LogConfig};
use crate::blocks::partitioner::partition_for_key;
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;

/// Records one fetch returns per partition.
pub const MAX_FETCH: usize = 2_000;

#[derive(Clone, Debug)]
pub struct Broker {
    pub logs: Vec<Log<Reading>>,
    pub appended: u64,
}

/// The partition of a device's readings.
pub fn partition_of(device: u32, partitions: u32) -> u32 {
    partition_for_key(device.to_string().as_bytes(), partitions)
}

impl Broker {
    pub fn new(partitions: u32) -> Broker {
        let config = LogConfig {
            segment_max_bytes: 64 * 1_024,
            segment_max_records: 1_024,
            retention_bytes: Some(128 * 1_024),
            retention_ms: None,
        };
        Broker { logs: (0..partitions).map(|_| Log::new(config)).collect(), appended: 0 }
    }

    fn append(&mut self, entries: &[Entry], now_ms: u64) {
        let n = self.logs.len() as u32;
        for e in entries {
            let p = partition_of(e.reading.device, n) as usize;
            self.logs[p].append(e.reading, READING_BYTES, 0, now_ms);
            self.appended += 1;
        }
    }

    fn fetch(&mut self, from: &[u64], now_ms: u64) -> Vec<Fetched> {
        let mut out = Vec::new();
        for (p, log) in self.logs.iter_mut().enumerate() {
            let Some(&at) = from.get(p) else { continue };
            log.apply_retention(now_ms, at);
            let Ok(records) = log.read(at, log.log_end(), MAX_FETCH) else { continue };
            out.extend(records.into_iter().map(|r| Fetched {
                partition: p as u32,
                offset: r.offset,
                reading: r.value,
            }));
        }
        out
    }
}

impl Actor for Broker {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now_ms = ctx.now().0 / 1_000;
        match msg {
            Msg::Append(entries) => {
                self.append(&entries, now_ms);
                ctx.send(from, Msg::Appended(entries));
            }
            Msg::Fetch { from: offsets } => {
                let records = self.fetch(&offsets, now_ms);
                ctx.send(from, Msg::Records(records));
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        let total: u64 = self.logs.iter().map(|l| l.log_end()).sum();
        format!("{} partitions · {total} records", self.logs.len())
    }
}
