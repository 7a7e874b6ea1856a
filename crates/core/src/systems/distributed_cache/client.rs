//! An app server: it generates the workload, routes each key to a cache node with the
//! run's placement scheme over its *own* view of the membership, and runs the read and
//! write paths of the chosen policy. Membership reaches it three ways: a node announces
//! itself when it starts (`Hello`), two timeouts in a row drop a node from the view, and a
//! dropped node is probed until it answers again. Every view change is measured against
//! the key universe and reported to the key-movement check.
//!
//! A request never waits on a dead cache: after a timeout it falls back to the database
//! (reads are served, fills skipped), so a cache failure costs hit ratio, not answers.
//!
//! With `replicas` > 1 a key has an ordered list of owners. Whatever the client sends the
//! first owner names the others, so that node can copy what it stores to them; reads go
//! to the first owner or to any owner (`replica_reads`), and every read reports which
//! node answered, so a stale answer can be traced to the replica that gave it.

use super::config::{Cfg, Policy};
use super::msg::{Msg, Obs};
use crate::blocks::hash_ring::{moved_fraction, AnyPlacement, Placement};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::KeySampler;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

pub const T_ARRIVAL: u64 = 1;
pub const T_SWEEP: u64 = 2;
pub const T_PROBE: u64 = 3;
const PROBE_MS: u64 = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Waiting on a cache node's answer to a get; `replica`: the node is not the key's
    /// first owner.
    Get {
        node: u32,
        replica: bool,
    },
    /// Parked behind another load on `node`: it is alive, the answer is coming.
    Parked {
        node: u32,
        replica: bool,
    },
    /// Reading the database; `fill` = where to store the answer, under which lease.
    DbRead {
        fill: Option<(u32, u64)>,
        user: bool,
    },
    /// Writing through / back via a cache node.
    CacheWrite {
        node: u32,
    },
    DbWrite,
}

#[derive(Clone, Debug)]
struct Pending {
    key: u64,
    start: SimTime,
    deadline: SimTime,
    stage: Stage,
    wid: u64,
}

type Cx<'a, 'b> = &'a mut Ctx<'b, Msg, Obs>;

/// Requests one app server keeps open at once, like a connection pool's limit. Beyond it a
/// new request fails at once (counted as an error and in `client_shed`) instead of waiting:
/// without a limit, a flood into a slow database grows this map without bound (200,000 req/s
/// × 100 held it at 900 MB). No default scenario comes near it.
pub const MAX_IN_FLIGHT: usize = 8_192;

#[derive(Clone, Debug)]
pub struct Client {
    pub cfg: Cfg,
    pub idx: u32,
    incarnation: u64,
    seq: u64,
    pub view: BTreeSet<u32>,
    pub placement: AnyPlacement,
    suspect: BTreeMap<u32, u32>,
    removed: BTreeSet<u32>,
    pending: BTreeMap<u64, Pending>,
    sampler: KeySampler,
}

impl Client {
    pub fn new(cfg: Cfg, idx: u32) -> Client {
        let view: BTreeSet<u32> = (0..cfg.initial).collect();
        let placement = AnyPlacement::build(cfg.scheme, &view);
        let sampler = cfg.workload.key_sampler();
        Client {
            cfg,
            idx,
            incarnation: 0,
            seq: 0,
            view,
            placement,
            suspect: BTreeMap::new(),
            removed: BTreeSet::new(),
            pending: BTreeMap::new(),
            sampler,
        }
    }

    fn next_id(&mut self) -> u64 {
        self.seq += 1;
        (u64::from(self.idx + 1) << 52) | (self.incarnation << 36) | self.seq
    }

    fn node_id(&self, member: u32) -> NodeId {
        self.cfg.cache_base + member
    }

    fn sweep_every(&self) -> SimDuration {
        SimDuration((self.cfg.timeout.0 / 2).max(1_000))
    }

    fn schedule_arrival(&mut self, ctx: Cx) {
        if let Some(at) = self.cfg.workload.next_arrival(ctx.now(), self.cfg.clients, ctx.rng) {
            ctx.set_timer(at.since(ctx.now()), T_ARRIVAL);
        }
    }

    fn in_burst(&self, now: SimTime) -> bool {
        self.cfg
            .workload
            .bursts
            .iter()
            .any(|b| now >= SimTime::from_ms(b.at_ms) && now < SimTime::from_ms(b.at_ms.saturating_add(b.for_ms)))
    }

    fn start_request(&mut self, ctx: Cx) {
        let now = ctx.now();
        if self.pending.len() >= MAX_IN_FLIGHT {
            ctx.metrics.add("client_shed", 1);
            ctx.metrics.request(now, SimDuration::ZERO, false);
            return;
        }
        let key =
            if self.in_burst(now) && ctx.rng.chance(self.cfg.hot_share) { 0 } else { self.sampler.sample(ctx.rng) };
        let id = self.next_id();
        let owners = self.placement.owners(key, self.cfg.replicas);
        if ctx.rng.chance(self.cfg.write_ratio) {
            let wid = id;
            ctx.observe(Obs::WriteStart { key, wid });
            let through = matches!(self.cfg.policy, Policy::WriteThrough | Policy::WriteBack);
            match owners.first() {
                Some(&node) if through => {
                    let back = self.cfg.policy == Policy::WriteBack;
                    let copy_to = self.copy_to(&owners, node);
                    ctx.send(self.node_id(node), Msg::Write { req: id, key, wid, back, copy_to });
                    self.track(id, key, now, Stage::CacheWrite { node }, wid, self.cfg.timeout);
                }
                _ => self.db_write(id, key, now, wid, ctx),
            }
        } else if owners.is_empty() {
            ctx.send(self.cfg.db, Msg::DbRead { id, key });
            self.track(id, key, now, Stage::DbRead { fill: None, user: true }, 0, self.cfg.db_timeout);
        } else {
            let pick = if self.cfg.reads_any_replica() { ctx.rng.below(owners.len() as u64) as usize } else { 0 };
            let node = owners[pick];
            let copy_to = self.copy_to(&owners, node);
            let replica = pick > 0;
            ctx.send(self.node_id(node), Msg::Get { req: id, key, copy_to, replica });
            self.track(id, key, now, Stage::Get { node, replica }, 0, self.cfg.timeout);
        }
    }

    /// The other owners, as node ids, when `member` is the first of `owners`: what it
    /// stores for the key is copied to them. Empty otherwise.
    fn copy_to(&self, owners: &[u32], member: u32) -> Vec<NodeId> {
        match owners.split_first() {
            Some((&first, rest)) if first == member => rest.iter().map(|&m| self.node_id(m)).collect(),
            _ => Vec::new(),
        }
    }

    fn track(&mut self, id: u64, key: u64, start: SimTime, stage: Stage, wid: u64, wait: SimDuration) {
        let deadline = start.max(SimTime::ZERO) + wait;
        self.pending.insert(id, Pending { key, start, deadline, stage, wid });
    }

    fn db_write(&mut self, id: u64, key: u64, start: SimTime, wid: u64, ctx: Cx) {
        ctx.send(self.cfg.db, Msg::DbWrite { id, key, wid });
        let deadline = ctx.now() + self.cfg.db_timeout;
        self.pending.insert(id, Pending { key, start, deadline, stage: Stage::DbWrite, wid });
    }

    fn finish_read(&mut self, id: u64, val: u64, ctx: Cx) {
        if let Some(p) = self.pending.remove(&id) {
            let (node, replica) = match p.stage {
                Stage::Get { node, replica } | Stage::Parked { node, replica } => (Some(node), replica),
                _ => (None, false),
            };
            ctx.observe(Obs::Read { key: p.key, val, started: p.start, node, replica });
            ctx.metrics.request(ctx.now(), ctx.now().since(p.start), true);
        }
    }

    fn finish_write(&mut self, id: u64, ctx: Cx) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        // Invalidate every replica this client knows of (the owner too, unless it just
        // took the write itself).
        let skip_owner = matches!(p.stage, Stage::CacheWrite { .. });
        if self.cfg.policy != Policy::WriteAround {
            let owners = self.placement.owners(p.key, self.cfg.replicas);
            for (i, m) in owners.into_iter().enumerate() {
                if !(skip_owner && i == 0) {
                    ctx.send(self.node_id(m), Msg::Invalidate { key: p.key });
                }
            }
        }
        ctx.observe(Obs::WriteAck { key: p.key, wid: p.wid });
        ctx.metrics.request(ctx.now(), ctx.now().since(p.start), true);
    }

    /// A cache node answered: it is not suspect, and it belongs in the view.
    fn alive(&mut self, m: u32, ctx: Cx) {
        self.suspect.remove(&m);
        if self.removed.remove(&m) || !self.view.contains(&m) {
            let mut next = self.view.clone();
            next.insert(m);
            self.change_view(next, format!("{} joined", Cfg::cache_name(m)), ctx);
        }
    }

    fn suspect(&mut self, m: u32, ctx: Cx) {
        let n = self.suspect.entry(m).or_insert(0);
        *n += 1;
        if *n >= 2 && self.view.contains(&m) {
            self.removed.insert(m);
            let mut next = self.view.clone();
            next.remove(&m);
            self.change_view(next, format!("{} left", Cfg::cache_name(m)), ctx);
        }
    }

    fn change_view(&mut self, next: BTreeSet<u32>, what: String, ctx: Cx) {
        let placement = AnyPlacement::build(self.cfg.scheme, &next);
        let (before, after) = (self.view.len(), next.len());
        let fraction = moved_fraction(&self.placement, &placement, &self.cfg.universe);
        let what = format!("client-{} saw {what} ({before} → {after} nodes)", self.idx);
        ctx.note(format!("{what}: {:.0}% of keys move", fraction * 100.0));
        ctx.observe(Obs::Moved { what, before, after, fraction });
        self.view = next;
        self.placement = placement;
    }

    fn sweep(&mut self, ctx: Cx) {
        let now = ctx.now();
        let late: Vec<u64> = self.pending.iter().filter(|(_, p)| p.deadline <= now).map(|(id, _)| *id).collect();
        for id in late {
            let Some(p) = self.pending.get(&id).cloned() else {
                continue;
            };
            match p.stage {
                Stage::Get { node, .. } | Stage::CacheWrite { node } => {
                    ctx.observe(Obs::Disrupted(format!(
                        "client-{} timed out on {} at {}",
                        self.idx,
                        Cfg::cache_name(node),
                        now
                    )));
                    self.suspect(node, ctx);
                    self.pending.remove(&id);
                    if let Stage::CacheWrite { .. } = p.stage {
                        self.db_write(id, p.key, p.start, p.wid, ctx);
                    } else {
                        self.read_db_directly(id, p, ctx);
                    }
                }
                Stage::Parked { .. } => {
                    self.pending.remove(&id);
                    self.read_db_directly(id, p, ctx);
                }
                Stage::DbRead { user: false, .. } => {
                    self.pending.remove(&id);
                }
                Stage::DbRead { .. } | Stage::DbWrite => {
                    ctx.observe(Obs::Disrupted(format!("client-{} timed out on the database at {now}", self.idx)));
                    self.pending.remove(&id);
                    ctx.metrics.request(now, now.since(p.start), false);
                }
            }
        }
    }

    fn read_db_directly(&mut self, id: u64, p: Pending, ctx: Cx) {
        ctx.send(self.cfg.db, Msg::DbRead { id, key: p.key });
        let deadline = ctx.now() + self.cfg.db_timeout;
        self.pending.insert(id, Pending { deadline, stage: Stage::DbRead { fill: None, user: true }, ..p });
    }
}

impl Actor for Client {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: Cx) {
        self.schedule_arrival(ctx);
        ctx.set_timer(self.sweep_every(), T_SWEEP);
        ctx.set_timer(SimDuration::from_ms(PROBE_MS), T_PROBE);
    }

    /// Back from a crash: the view is rebuilt from the initial members plus whoever
    /// answers a probe.
    fn on_restart(&mut self, ctx: Cx) {
        for m in 0..self.cfg.caches {
            ctx.send(self.node_id(m), Msg::Ping);
        }
        self.on_start(ctx);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: Cx) {
        if from >= self.cfg.cache_base && from < self.cfg.db {
            self.alive(from - self.cfg.cache_base, ctx);
        }
        match msg {
            Msg::Hit { req, key, val, refresh } => {
                if let Some(token) = refresh {
                    // Background recomputation: answer now, refresh the entry after.
                    let id = self.next_id();
                    ctx.send(self.cfg.db, Msg::DbRead { id, key });
                    let fill = Some((from - self.cfg.cache_base, token));
                    self.track(id, key, ctx.now(), Stage::DbRead { fill, user: false }, 0, self.cfg.db_timeout);
                }
                self.finish_read(req, val, ctx);
            }
            Msg::Miss { req, key, token } => {
                if let Some(Pending { stage: Stage::Get { node, replica: true }, .. }) = self.pending.get(&req) {
                    // A replica had no copy: ask the first owner, which loads and copies.
                    let owners = self.placement.owners(key, self.cfg.replicas);
                    if let Some(&first) = owners.first().filter(|&&m| m != *node) {
                        let copy_to = self.copy_to(&owners, first);
                        let msg = Msg::Get { req, key, copy_to, replica: false };
                        ctx.send(self.node_id(first), msg);
                        if let Some(p) = self.pending.get_mut(&req) {
                            p.stage = Stage::Get { node: first, replica: false };
                            p.deadline = ctx.now() + self.cfg.timeout;
                        }
                        return;
                    }
                }
                let Some(p) = self.pending.get_mut(&req) else {
                    return;
                };
                let fill = token.map(|t| (from - self.cfg.cache_base, t));
                p.stage = Stage::DbRead { fill, user: true };
                p.deadline = ctx.now() + self.cfg.db_timeout;
                ctx.send(self.cfg.db, Msg::DbRead { id: req, key });
            }
            Msg::Parked { req } => {
                if let Some(p) = self.pending.get_mut(&req) {
                    p.stage = match p.stage {
                        Stage::Get { node, replica } => Stage::Parked { node, replica },
                        _ => Stage::Parked { node: from - self.cfg.cache_base, replica: false },
                    };
                    p.deadline = ctx.now() + self.cfg.lease + self.cfg.db_timeout;
                }
            }
            Msg::DbVal { id, key, val } => {
                let Some(p) = self.pending.get(&id) else {
                    return;
                };
                if let Stage::DbRead { fill, user } = p.stage {
                    if let Some((m, token)) = fill {
                        let owners = self.placement.owners(key, self.cfg.replicas);
                        let copy_to = self.copy_to(&owners, m);
                        ctx.send(self.node_id(m), Msg::Fill { key, val, token, copy_to });
                    }
                    if user {
                        self.finish_read(id, val, ctx);
                    } else {
                        self.pending.remove(&id);
                    }
                }
            }
            Msg::DbAck { id } | Msg::Written { req: id } => self.finish_write(id, ctx),
            Msg::Hello | Msg::Pong => {}
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: Cx) {
        match tag {
            T_ARRIVAL => {
                self.start_request(ctx);
                self.schedule_arrival(ctx);
            }
            T_SWEEP => {
                self.sweep(ctx);
                ctx.set_timer(self.sweep_every(), T_SWEEP);
            }
            T_PROBE => {
                for &m in &self.removed {
                    ctx.send(self.node_id(m), Msg::Ping);
                }
                ctx.set_timer(SimDuration::from_ms(PROBE_MS), T_PROBE);
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.incarnation += 1;
        self.seq = 0;
        self.pending.clear();
        self.suspect.clear();
        self.removed.clear();
        self.view = (0..self.cfg.initial).collect();
        self.placement = AnyPlacement::build(self.cfg.scheme, &self.view);
    }

    fn describe(&self) -> String {
        format!("view {} nodes, {} in flight", self.view.len(), self.pending.len())
    }
}
