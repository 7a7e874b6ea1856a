//! The front end: the S3-like API and the metadata service behind it. For every key the
//! metadata holds its placement (which storage node holds replica or shard `i`, chosen on
//! a consistent-hash ring) and, per version, its length, who has acknowledged storing it
//! and whether the client was told it is durable. A put writes the replicas or shards
//! and answers once the design's rule is met (one copy, W copies, all k + m shards); it
//! keeps pushing to the slots that have not answered until every slot holds its bytes.
//! A read asks the replicas for their newest version (R answers, read repair for the
//! quorum design) or, for erasure coding, fetches the shards of the newest acknowledged
//! version and decodes from the first k. Failure detection and repair are in `repair.rs`.

use super::msg::{Key, Msg, Obs, Version};
use super::Strategy;
use crate::blocks::hash_ring::{Placement, Ring};
use crate::blocks::reed_solomon::ReedSolomon;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub(super) const TICK: u64 = 1;
pub(super) const READ_TIMEOUT: u64 = 2 << 56;
pub(super) const REBUILD_TIMEOUT: u64 = 3 << 56;
const OP_MASK: u64 = (1 << 56) - 1;
/// Events kept for the log view.
const EVENTS: usize = 40;

#[derive(Clone, Debug)]
pub struct FrontendCfg {
    pub strategy: Strategy,
    pub storage: Vec<NodeId>,
    /// Replicas, or k + m shards.
    pub n: usize,
    pub w: usize,
    pub r: usize,
    pub k: usize,
    pub m: usize,
    pub tick_ms: u64,
    pub read_timeout_ms: u64,
    pub dead_after_ms: u64,
    pub repair_per_s: u64,
    pub max_pending: usize,
}

#[derive(Clone, Debug, Default)]
pub struct VerMeta {
    pub len: usize,
    pub acked: bool,
    /// (node, slot) pairs that acknowledged storing this version (slot 0 for replicas).
    pub holders: BTreeSet<(NodeId, u8)>,
}

#[derive(Clone, Debug, Default)]
pub struct KeyMeta {
    pub placement: Vec<NodeId>,
    pub versions: BTreeMap<Version, VerMeta>,
    pub next: Version,
}

/// A put whose bytes the front end still holds: not yet acknowledged, or not yet on every
/// slot of the placement.
#[derive(Clone, Debug)]
pub struct Pending {
    pub req: u64,
    pub client: NodeId,
    /// One payload for replicas, k + m shards for erasure coding.
    pub shards: Vec<Vec<u8>>,
    pub acked: bool,
}

/// One replica's answer to a read: who, and its newest version with the bytes.
pub type Reply = (NodeId, Option<(Version, Vec<u8>)>);

#[derive(Clone, Debug)]
pub enum Op {
    /// A replica read: answers so far (from, newest version and bytes).
    Replica { req: u64, client: NodeId, key: Key, need: usize, replies: Vec<Reply> },
    /// An erasure-coded read of `version`.
    Shards { req: u64, client: NodeId, key: Key, version: Version, len: usize, shards: Vec<Option<Vec<u8>>> },
    /// Repair rebuilding shard `slot` of (key, version) for `target`.
    Rebuild { key: Key, version: Version, slot: u8, target: NodeId, shards: Vec<Option<Vec<u8>>> },
}

/// The first shard rebuilt in a run, kept for the byte-by-byte view.
#[derive(Clone, Debug)]
pub struct RebuildDemo {
    pub key: Key,
    pub version: Version,
    pub slot: u8,
    pub lost: NodeId,
    pub target: NodeId,
    /// What the rebuild fetched (the erased slot and any slow or dead one `None`).
    pub fetched: Vec<Option<Vec<u8>>>,
    pub rebuilt: Vec<u8>,
}

/// A repair in progress: slot `slot` of a key, whose node is declared dead.
#[derive(Clone, Debug, Default)]
pub struct Job {
    pub target: Option<NodeId>,
}

#[derive(Clone, Debug)]
pub struct Frontend {
    pub cfg: FrontendCfg,
    pub ring: Ring,
    pub rs: Option<ReedSolomon>,
    /// The metadata service (durable: a crash keeps it).
    pub meta: BTreeMap<Key, KeyMeta>,
    /// Puts whose bytes are still held (durable with the metadata).
    pub pending: BTreeMap<(Key, Version), Pending>,
    /// Reads and rebuilds in flight (volatile).
    pub ops: BTreeMap<u64, Op>,
    pub rebuilding: BTreeSet<(Key, Version, u8)>,
    pub next_op: u64,
    pub last_seen: BTreeMap<NodeId, SimTime>,
    pub dead: BTreeSet<NodeId>,
    pub jobs: BTreeMap<(Key, u8), Job>,
    /// Repair budget in thousandths of a version copy.
    pub budget: u64,
    pub repaired: u64,
    pub demo: Option<RebuildDemo>,
    pub events: VecDeque<(f64, String)>,
    pub acks: u64,
    pub reads: u64,
    pub read_fails: u64,
}

impl Frontend {
    pub fn new(cfg: FrontendCfg) -> Frontend {
        let members: BTreeSet<u32> = cfg.storage.iter().copied().collect();
        let rs = (cfg.strategy == Strategy::ReedSolomon).then(|| ReedSolomon::new(cfg.k, cfg.m).ok()).flatten();
        Frontend {
            ring: Ring::new(&members, 16),
            rs,
            cfg,
            meta: BTreeMap::new(),
            pending: BTreeMap::new(),
            ops: BTreeMap::new(),
            rebuilding: BTreeSet::new(),
            next_op: 0,
            last_seen: BTreeMap::new(),
            dead: BTreeSet::new(),
            jobs: BTreeMap::new(),
            budget: 0,
            repaired: 0,
            demo: None,
            events: VecDeque::new(),
            acks: 0,
            reads: 0,
            read_fails: 0,
        }
    }

    pub(super) fn event(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, text: String) {
        if self.events.len() == EVENTS {
            self.events.pop_front();
        }
        self.events.push_back((ctx.now().as_ms(), text.clone()));
        ctx.note(text);
    }

    pub(super) fn is_rs(&self) -> bool {
        self.rs.is_some()
    }

    /// The holder entry a store of `slot` on `node` counts as (replicas are interchangeable).
    pub(super) fn hkey(&self, node: NodeId, slot: u8) -> (NodeId, u8) {
        if self.is_rs() {
            (node, slot)
        } else {
            (node, 0)
        }
    }

    /// Copies a version needs before the client hears "durable".
    fn need(&self) -> usize {
        match self.cfg.strategy {
            Strategy::SingleCopy | Strategy::ReplicasW1 => 1,
            Strategy::Quorum => self.cfg.w,
            Strategy::ReedSolomon => self.cfg.n,
        }
    }

    /// The first `n` live nodes clockwise from the key on the ring.
    pub(super) fn walk(&self, key: Key) -> Vec<NodeId> {
        self.ring.owners(key, self.cfg.storage.len()).into_iter().filter(|s| !self.dead.contains(s)).collect()
    }

    /// Slots of the current placement that hold (key, version).
    pub(super) fn held(&self, key: Key, version: Version) -> usize {
        let Some(km) = self.meta.get(&key) else { return 0 };
        let Some(vm) = km.versions.get(&version) else { return 0 };
        (0..km.placement.len()).filter(|&s| vm.holders.contains(&self.hkey(km.placement[s], s as u8))).count()
    }

    fn payload<'a>(&self, p: &'a Pending, slot: usize) -> &'a [u8] {
        if self.is_rs() {
            &p.shards[slot]
        } else {
            &p.shards[0]
        }
    }

    fn put(&mut self, client: NodeId, req: u64, key: Key, data: Vec<u8>, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.pending.len() >= self.cfg.max_pending {
            ctx.send(client, Msg::PutFail { req });
            return;
        }
        if !self.meta.contains_key(&key) {
            let placement: Vec<NodeId> = self.walk(key).into_iter().take(self.cfg.n).collect();
            if placement.len() < self.cfg.n {
                ctx.send(client, Msg::PutFail { req });
                return;
            }
            self.meta.insert(key, KeyMeta { placement, ..KeyMeta::default() });
        }
        let km = self.meta.get_mut(&key).expect("inserted above");
        km.next += 1;
        let version = km.next;
        km.versions.insert(version, VerMeta { len: data.len(), ..VerMeta::default() });
        let placement = km.placement.clone();
        let shards = match &self.rs {
            Some(rs) => rs.encode(&data),
            None => vec![data],
        };
        let p = Pending { req, client, shards, acked: false };
        if self.cfg.strategy == Strategy::ReplicasW1 {
            // Lazy replication: the primary alone, told to copy to the others later.
            let data = p.shards[0].clone();
            ctx.send(placement[0], Msg::Store { key, version, slot: 0, data, forward: placement[1..].to_vec() });
        } else {
            for (s, &node) in placement.iter().enumerate() {
                let data = self.payload(&p, s).to_vec();
                ctx.send(node, Msg::Store { key, version, slot: s as u8, data, forward: Vec::new() });
            }
        }
        self.pending.insert((key, version), p);
    }

    fn stored(&mut self, from: NodeId, key: Key, version: Version, slot: u8, ctx: &mut Ctx<'_, Msg, Obs>) {
        let h = self.hkey(from, slot);
        let Some(vm) = self.meta.get_mut(&key).and_then(|k| k.versions.get_mut(&version)) else { return };
        vm.holders.insert(h);
        let held = self.held(key, version);
        let need = self.need();
        let Some(p) = self.pending.get_mut(&(key, version)) else { return };
        if !p.acked && held >= need {
            p.acked = true;
            let (client, req) = (p.client, p.req);
            if let Some(vm) = self.meta.get_mut(&key).and_then(|k| k.versions.get_mut(&version)) {
                vm.acked = true;
            }
            self.acks += 1;
            ctx.send(client, Msg::PutAck { req, key, version });
        }
        // The lazy design forgets a put once acknowledged: the primary owes the copies.
        if self.cfg.strategy == Strategy::ReplicasW1 && self.pending[&(key, version)].acked || held >= self.cfg.n {
            self.pending.remove(&(key, version));
        }
    }

    /// Pushes every held put to the live slots that have not stored it.
    pub(super) fn complete_pending(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.cfg.strategy == Strategy::ReplicasW1 {
            return;
        }
        for (&(key, version), p) in &self.pending {
            let km = &self.meta[&key];
            let vm = &km.versions[&version];
            for (s, &node) in km.placement.iter().enumerate() {
                if !self.dead.contains(&node) && !vm.holders.contains(&self.hkey(node, s as u8)) {
                    let data = self.payload(p, s).to_vec();
                    ctx.send(node, Msg::Store { key, version, slot: s as u8, data, forward: Vec::new() });
                }
            }
        }
    }

    pub(super) fn new_op(&mut self, op: Op, timeout: u64, after_ms: u64, ctx: &mut Ctx<'_, Msg, Obs>) -> u64 {
        self.next_op += 1;
        let id = self.next_op;
        self.ops.insert(id, op);
        ctx.set_timer(SimDuration::from_ms(after_ms), timeout | id);
        id
    }

    fn get(&mut self, client: NodeId, req: u64, key: Key, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.reads += 1;
        let Some(km) = self.meta.get(&key) else {
            ctx.send(client, Msg::GetReply { req, key, found: None });
            return;
        };
        let placement = km.placement.clone();
        let timeout = self.cfg.read_timeout_ms;
        if self.is_rs() {
            let Some((&version, vm)) = km.versions.iter().rev().find(|(_, v)| v.acked) else {
                ctx.send(client, Msg::GetReply { req, key, found: None });
                return;
            };
            let (len, n) = (vm.len, self.cfg.n);
            let op = self.new_op(
                Op::Shards { req, client, key, version, len, shards: vec![None; n] },
                READ_TIMEOUT,
                timeout,
                ctx,
            );
            for node in placement {
                ctx.send(node, Msg::Fetch { op, key, version: Some(version) });
            }
            return;
        }
        let (targets, need) = match self.cfg.strategy {
            Strategy::Quorum => (placement, self.cfg.r),
            Strategy::ReplicasW1 => {
                let i = ctx.rng.below(placement.len() as u64) as usize;
                (vec![placement[i]], 1)
            }
            _ => (vec![placement[0]], 1),
        };
        let op = self.new_op(Op::Replica { req, client, key, need, replies: Vec::new() }, READ_TIMEOUT, timeout, ctx);
        for node in targets {
            ctx.send(node, Msg::Fetch { op, key, version: None });
        }
    }

    fn fetched(&mut self, from: NodeId, op: u64, found: Option<(Version, u8, Vec<u8>)>, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(o) = self.ops.get_mut(&op) else { return };
        match o {
            Op::Replica { replies, need, .. } => {
                replies.push((from, found.map(|(v, _, b)| (v, b))));
                if replies.len() >= *need {
                    if let Some(Op::Replica { req, client, key, replies, .. }) = self.ops.remove(&op) {
                        self.answer_replica(req, client, key, replies, ctx);
                    }
                }
            }
            Op::Shards { version, shards, .. } | Op::Rebuild { version, shards, .. } => {
                let Some((v, slot, bytes)) = found else { return };
                if v != *version || slot as usize >= shards.len() {
                    return;
                }
                shards[slot as usize] = Some(bytes);
                if shards.iter().flatten().count() >= self.cfg.k {
                    match self.ops.remove(&op) {
                        Some(Op::Shards { req, client, key, version, len, mut shards }) => {
                            let rs = self.rs.as_ref().expect("an erasure-coded read has a code");
                            let found = rs.reconstruct(&mut shards).ok().map(|_| (version, rs.join(&shards, len)));
                            ctx.send(client, Msg::GetReply { req, key, found });
                        }
                        Some(Op::Rebuild { key, version, slot, target, shards }) => {
                            self.rebuilt(key, version, slot, target, shards, ctx);
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// The newest version among R replica answers; the quorum design repairs the stale
    /// answerers on the way out.
    fn answer_replica(&mut self, req: u64, client: NodeId, key: Key, replies: Vec<Reply>, ctx: &mut Ctx<'_, Msg, Obs>) {
        let best = replies.iter().filter_map(|(_, f)| f.as_ref()).max_by_key(|(v, _)| *v).cloned();
        if self.cfg.strategy == Strategy::Quorum {
            if let Some((bv, bytes)) = &best {
                let placement = self.meta.get(&key).map(|k| k.placement.clone()).unwrap_or_default();
                for (node, f) in &replies {
                    if f.as_ref().is_none_or(|(v, _)| v < bv) {
                        let slot = placement.iter().position(|p| p == node).unwrap_or(0) as u8;
                        let data = bytes.clone();
                        ctx.send(*node, Msg::Store { key, version: *bv, slot, data, forward: Vec::new() });
                    }
                }
            }
        }
        ctx.send(client, Msg::GetReply { req, key, found: best });
    }
}

impl Actor for Frontend {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        for &s in &self.cfg.storage {
            self.last_seen.entry(s).or_insert(now);
        }
        ctx.set_timer(SimDuration::from_ms(self.cfg.tick_ms), TICK);
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        // Give every node a fresh grace period: silence while we were down is not theirs.
        let now = ctx.now();
        for &s in &self.cfg.storage {
            self.last_seen.insert(s, now);
        }
        ctx.set_timer(SimDuration::from_ms(self.cfg.tick_ms), TICK);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Put { req, key, data } => self.put(from, req, key, data, ctx),
            Msg::Get { req, key } => self.get(from, req, key, ctx),
            Msg::Stored { key, version, slot } => self.stored(from, key, version, slot, ctx),
            Msg::FetchReply { op, found, .. } => self.fetched(from, op, found, ctx),
            Msg::Heartbeat => self.heartbeat(from, ctx),
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match tag & !OP_MASK {
            0 if tag == TICK => self.tick(ctx),
            READ_TIMEOUT => {
                let op = tag & OP_MASK;
                let client_req = match self.ops.get(&op) {
                    Some(Op::Replica { req, client, .. }) | Some(Op::Shards { req, client, .. }) => {
                        Some((*client, *req))
                    }
                    _ => None,
                };
                if let Some((client, req)) = client_req {
                    self.ops.remove(&op);
                    self.read_fails += 1;
                    ctx.send(client, Msg::GetFail { req });
                }
            }
            REBUILD_TIMEOUT => {
                let op = tag & OP_MASK;
                if let Some(Op::Rebuild { key, version, slot, .. }) = self.ops.remove(&op) {
                    self.rebuilding.remove(&(key, version, slot));
                }
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.ops.clear();
        self.rebuilding.clear();
    }

    fn describe(&self) -> String {
        format!("{} keys, {} dead, {} repairs", self.meta.len(), self.dead.len(), self.jobs.len())
    }
}
