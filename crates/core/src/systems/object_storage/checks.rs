//! The checks, each judged against records the design under test cannot edit: the
//! client's own account of what it put (the bytes) and what it was told (acks, read
//! answers, in true time), every storage node's report of what it wrote to its disk, and
//! the scenario's fault plan (which machines are gone at the end). None of them asks the
//! front end's metadata.
//!
//! - `no-acked-loss`: at the end, every acknowledged version can be rebuilt from bytes on
//!   machines that are still there — a replica with the right digest, or k distinct shards
//!   whose digests match the shards our own encoding of the client's bytes gives.
//! - `read-latest`: a read sent after a version was acknowledged returns that version or a
//!   newer one, and the bytes of the put that made it.
//! - `redundancy-restored`: by the end of the run (the drain outlasts detection plus
//!   repair), every acknowledged version has its full N replicas, or all k + m shards, on
//!   distinct surviving machines.

use super::msg::{digest, Key, Obs, Version};
use crate::blocks::reed_solomon::ReedSolomon;
use crate::check::{Property, RunEnd};
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::time::SimTime;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

/// Storage nodes whose last crash in the plan has no restart after it, by name.
pub fn gone_at_end(faults: &[TimedFault]) -> BTreeSet<String> {
    let mut gone = BTreeSet::new();
    for f in faults {
        match &f.fault {
            Fault::Crash { node } => {
                gone.insert(node.clone());
            }
            Fault::Restart { node } => {
                gone.remove(node);
            }
            _ => {}
        }
    }
    gone
}

/// What the checks know: the client's puts and acks, and every disk's contents.
#[derive(Clone, Debug)]
pub struct Mirror {
    /// req → (key, digest of the whole object, digest of each shard).
    pub issued: BTreeMap<u64, (Key, u64, Vec<u64>)>,
    /// (key, version) → (req, true time of the ack).
    pub acked: BTreeMap<(Key, Version), (u64, SimTime)>,
    /// (key, version, node) → (slot, digest) on that node's disk.
    pub disks: BTreeMap<(Key, Version, NodeId), (u8, u64)>,
    /// RS(k, m) for the erasure-coded design; `None` for replicas.
    pub rs: Option<ReedSolomon>,
}

impl Mirror {
    pub fn new(rs: Option<ReedSolomon>) -> Mirror {
        Mirror { issued: BTreeMap::new(), acked: BTreeMap::new(), disks: BTreeMap::new(), rs }
    }

    pub fn observe(&mut self, at: SimTime, obs: &Obs) {
        match obs {
            Obs::PutIssued { req, key, data } => {
                let shards =
                    self.rs.as_ref().map(|rs| rs.encode(data).iter().map(|s| digest(s)).collect()).unwrap_or_default();
                self.issued.insert(*req, (*key, digest(data), shards));
            }
            Obs::PutAcked { req, key, version } => {
                self.acked.insert((*key, *version), (*req, at));
            }
            Obs::Stored { node, key, version, slot, digest } => {
                self.disks.insert((*key, *version, *node), (*slot, *digest));
            }
            Obs::ReadDone { .. } => {}
        }
    }

    /// Surviving machines holding a correct copy of (key, version), and the correct
    /// shard slots they hold (replicas count as slot 0).
    pub fn survivors(&self, key: Key, version: Version, req: u64, up: &dyn Fn(NodeId) -> bool) -> (usize, usize) {
        let Some((_, whole, shards)) = self.issued.get(&req) else { return (0, 0) };
        let mut nodes = BTreeSet::new();
        let mut slots = BTreeSet::new();
        for (&(_, _, node), &(slot, d)) in self.disks.range((key, version, 0)..=(key, version, NodeId::MAX)) {
            if !up(node) {
                continue;
            }
            let ok = if self.rs.is_some() { shards.get(slot as usize) == Some(&d) } else { d == *whole };
            if ok {
                nodes.insert(node);
                slots.insert(slot);
            }
        }
        (nodes.len(), slots.len())
    }
}

/// Which node ids are gone at the end of the run.
#[derive(Clone, Debug)]
pub struct Gone(pub BTreeSet<NodeId>);

#[derive(Clone)]
pub struct NoAckedLoss {
    pub mirror: Mirror,
    pub gone: Gone,
    pub names: Vec<String>,
    samples: u64,
}

impl NoAckedLoss {
    pub fn new(mirror: Mirror, gone: Gone, names: Vec<String>) -> NoAckedLoss {
        NoAckedLoss { mirror, gone, names, samples: 0 }
    }
}

impl Property<Obs> for NoAckedLoss {
    fn name(&self) -> &'static str {
        "no-acked-loss"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        self.mirror.observe(at, obs);
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let gone = &self.gone.0;
        let up = |n: NodeId| !gone.contains(&n);
        let need = self.mirror.rs.as_ref().map_or(1, |rs| rs.k);
        let mut lost = Vec::new();
        for (&(key, version), &(req, at)) in &self.mirror.acked {
            self.samples += 1;
            let (nodes, slots) = self.mirror.survivors(key, version, req, &up);
            let have = if self.mirror.rs.is_some() { slots } else { nodes };
            if have < need {
                lost.push((key, version, at, have));
            }
        }
        let (key, version, at, have) = *lost.first()?;
        let gone: Vec<&str> = gone.iter().filter_map(|&n| self.names.get(n as usize).map(String::as_str)).collect();
        Some(format!(
            "{} acknowledged versions lost; first k{key} v{version} (acked at {:.0} ms): {have} of the {need} needed copies/shards survive on live machines (gone: {})",
            lost.len(),
            at.as_ms(),
            gone.join(", ")
        ))
    }
    fn samples(&self) -> u64 {
        self.samples
    }
}

#[derive(Clone)]
pub struct RedundancyRestored {
    pub mirror: Mirror,
    pub gone: Gone,
    /// Replicas, or k + m.
    pub n: usize,
    samples: u64,
}

impl RedundancyRestored {
    pub fn new(mirror: Mirror, gone: Gone, n: usize) -> RedundancyRestored {
        RedundancyRestored { mirror, gone, n, samples: 0 }
    }
}

impl Property<Obs> for RedundancyRestored {
    fn name(&self) -> &'static str {
        "redundancy-restored"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        self.mirror.observe(at, obs);
        None
    }
    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let gone = &self.gone.0;
        let up = |n: NodeId| !gone.contains(&n);
        let mut short = Vec::new();
        for (&(key, version), &(req, _)) in &self.mirror.acked {
            self.samples += 1;
            let (nodes, slots) = self.mirror.survivors(key, version, req, &up);
            let full = if self.mirror.rs.is_some() { slots == self.n && nodes >= self.n } else { nodes >= self.n };
            if !full {
                short.push((key, version, nodes, slots));
            }
        }
        let (key, version, nodes, slots) = *short.first()?;
        let what = if self.mirror.rs.is_some() {
            format!("{slots} of {} shards on {nodes} live machines", self.n)
        } else {
            format!("{nodes} of {} replicas on live machines", self.n)
        };
        Some(format!(
            "{} acknowledged versions below full redundancy at the end; first k{key} v{version}: {what}",
            short.len()
        ))
    }
    fn samples(&self) -> u64 {
        self.samples
    }
}

/// Reads judged against the acks the client received before sending them.
#[derive(Clone, Default)]
pub struct ReadLatest {
    /// req → (key, digest).
    issued: BTreeMap<u64, (Key, u64)>,
    /// key → acks in the order the client got them: (true time, highest version acked
    /// so far).
    acks: BTreeMap<Key, Vec<(SimTime, Version)>>,
    /// req → the version its ack named.
    acked_as: BTreeMap<u64, Version>,
    samples: u64,
}

impl Property<Obs> for ReadLatest {
    fn name(&self) -> &'static str {
        "read-latest"
    }
    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::PutIssued { req, key, data } => {
                self.issued.insert(*req, (*key, digest(data)));
                None
            }
            Obs::PutAcked { req, key, version } => {
                let list = self.acks.entry(*key).or_default();
                let top = list.last().map_or(*version, |&(_, v)| v.max(*version));
                list.push((at, top));
                self.acked_as.insert(*req, *version);
                None
            }
            Obs::ReadDone { key, sent_us, found } => {
                self.samples += 1;
                let sent = SimTime(*sent_us);
                let acks = self.acks.get(key).map(Vec::as_slice).unwrap_or_default();
                let latest = acks.get(acks.partition_point(|(t, _)| *t < sent).wrapping_sub(1));
                let Some((v, d, req)) = found else {
                    return latest.map(|(t, lv)| {
                        format!(
                            "read of k{key} sent at {:.0} ms found nothing, but v{lv} had been acknowledged by {:.0} ms",
                            sent.as_ms(),
                            t.as_ms()
                        )
                    });
                };
                if let Some((t, lv)) = latest {
                    if v < lv {
                        return Some(format!(
                            "stale read: k{key} read at {:.0} ms returned v{v}, but v{lv} had been acknowledged by {:.0} ms",
                            sent.as_ms(),
                            t.as_ms()
                        ));
                    }
                }
                let origin = req.and_then(|r| self.issued.get(&r).map(|o| (r, *o)));
                match origin {
                    Some((r, (k, digest))) if k == *key && digest == *d => match self.acked_as.get(&r) {
                        Some(av) if av != v => Some(format!(
                            "k{key} v{v} came back with the bytes of put #{r}, which was acknowledged as v{av}"
                        )),
                        _ => None,
                    },
                    _ => Some(format!("k{key} v{v}: bytes that no put of k{key} sent")),
                }
            }
            Obs::Stored { .. } => None,
        }
    }
    fn samples(&self) -> u64 {
        self.samples
    }
}
