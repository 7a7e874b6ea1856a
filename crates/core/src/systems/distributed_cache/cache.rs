//! A cache node. Beyond get/put it does the three things that keep a cache honest:
//!
//! - **Leases** (Nishtala et al., "Scaling Memcache at Facebook", NSDI 2013): a miss hands
//!   out a token, and a fill is accepted only with the current token and within the lease
//!   window. An invalidation or a crash voids the token, so a slow reader cannot put an old
//!   value back after a write. Because every accepted value was read from the database
//!   after the lease began, no entry can be staler than lease + TTL — the bound the
//!   staleness check holds us to.
//! - **Coalescing**: while a lease is out, further misses for the key are parked and
//!   answered by the one fill, so a hot key's expiry costs the database one query.
//! - **Early expiry** (Vattani, Chierichetti & Lowenstein, "Optimal Probabilistic Cache
//!   Stampede Prevention", VLDB 2015): a hit recomputes early with probability rising as
//!   expiry nears: refresh when `now − Δ·β·ln(U) ≥ expiry`, Δ being the last load time.
//!   Early refresh cannot help a key that was *invalidated* by a write, so this mode
//!   still coalesces real misses behind a lease.
//!
//! With write-back the node also holds dirty entries and flushes them every `flush` ms;
//! what a crash takes with it is lost, which is that policy's known risk.
//!
//! **Replication.** When it is a key's first owner, the node copies every value it
//! stores — an accepted fill, a load, a write — to the key's other owners, which the client
//! names. Copies are asynchronous and unacknowledged: the writer's answer never waits for
//! them, so a replica lags by one network hop, or by as long as a clogged link holds the
//! copy. A copy bypasses the replica's leases, which is why it must carry the primary's
//! expiry: the freshness bound rests on every served value having been read from the
//! database at most TTL + lease ago, and a copy that restarted its TTL on arrival would
//! break that by however late it arrived.
use super::config::{Cfg, CopyExpiry, Policy, Stampede};
use super::msg::{Msg, Obs};
use super::store::{Entry, Store};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

pub const T_SWEEP: u64 = 1;
pub const T_FLUSH: u64 = 2;

#[derive(Clone, Debug)]
struct Lease {
    token: u64,
    granted: SimTime,
    waiters: Vec<(NodeId, u64)>,
    /// Replicas the loaded value goes to.
    copy_to: Vec<NodeId>,
}

#[derive(Clone, Debug)]
struct PendingWrite {
    key: u64,
    wid: u64,
    client: NodeId,
    req: u64,
    started: SimTime,
    copy_to: Vec<NodeId>,
}

/// A database read a read-through node issued: the key, who is waiting for it, and the
/// replicas to copy the answer to.
#[derive(Clone, Debug)]
struct Load {
    key: u64,
    asked: Vec<(NodeId, u64)>,
    copy_to: Vec<NodeId>,
}

type Cx<'a, 'b> = &'a mut Ctx<'b, Msg, Obs>;

#[derive(Clone, Debug)]
pub struct Cache {
    pub cfg: Cfg,
    pub idx: u32,
    /// Boot counter: survives crashes (a real node reads it from disk), so tokens issued
    /// before a crash never match tokens issued after it.
    incarnation: u64,
    booted: bool,
    counter: u64,
    pub store: Store,
    leases: BTreeMap<u64, Lease>,
    /// Database reads this node issued (read-through), by token.
    loads: BTreeMap<u64, Load>,
    writes: BTreeMap<u64, PendingWrite>,
    flushing: BTreeMap<u64, (u64, u64)>,
    pub dirty: BTreeSet<u64>,
    pub hits: u64,
    pub misses: u64,
    /// Entries dropped to make room.
    pub evictions: u64,
    /// Copies received from primaries.
    pub copies: u64,
}

impl Cache {
    pub fn new(cfg: Cfg, idx: u32) -> Cache {
        let store = Store::new(cfg.eviction, cfg.capacity);
        Cache {
            cfg,
            idx,
            incarnation: 0,
            booted: false,
            counter: 0,
            store,
            leases: BTreeMap::new(),
            loads: BTreeMap::new(),
            writes: BTreeMap::new(),
            flushing: BTreeMap::new(),
            dirty: BTreeSet::new(),
            hits: 0,
            misses: 0,
            evictions: 0,
            copies: 0,
        }
    }

    fn token(&mut self) -> u64 {
        self.counter += 1;
        (self.incarnation << 40) | self.counter
    }

    fn sweep_every(&self) -> SimDuration {
        SimDuration((self.cfg.lease.0 / 2).max(5_000))
    }

    /// Voids the lease on `key`. Parked readers stay coalesced: the first of them gets a
    /// fresh lease (or, read-through, the node loads again for them) and the rest wait on
    /// it, so an invalidation of a hot key costs one more query, not one per reader.
    fn drop_lease(&mut self, key: u64, ctx: Cx) {
        let Some(l) = self.leases.remove(&key) else {
            return;
        };
        let mut waiters = l.waiters.into_iter();
        let Some((c, req)) = waiters.next() else {
            return;
        };
        let token = self.token();
        let now = ctx.local_time();
        let copy_to = l.copy_to;
        self.leases.insert(key, Lease { token, granted: now, waiters: waiters.collect(), copy_to: copy_to.clone() });
        if self.cfg.policy.cache_loads() {
            self.loads.insert(token, Load { key, asked: vec![(c, req)], copy_to });
            ctx.send(self.cfg.db, Msg::DbRead { id: token, key });
        } else {
            ctx.send(c, Msg::Miss { req, key, token: Some(token) });
        }
    }

    fn lease_valid(&self, key: u64, now: SimTime) -> bool {
        self.leases.get(&key).is_some_and(|l| now.since(l.granted) <= self.cfg.lease)
    }

    fn put(&mut self, key: u64, e: Entry, ctx: Cx) {
        if let Some((k, old)) = self.store.put(key, e) {
            self.evictions += 1;
            ctx.metrics.add("evictions", 1);
            ctx.metrics.series.add("evictions", ctx.now(), 1.0);
            if old.dirty && self.dirty.remove(&k) {
                let id = self.token();
                ctx.send(self.cfg.db, Msg::DbWrite { id, key: k, wid: old.val });
            }
        }
    }

    /// Stores `e` and copies it to the key's replicas.
    fn put_and_copy(&mut self, key: u64, e: Entry, copy_to: &[NodeId], ctx: Cx) {
        self.put(key, e, ctx);
        let me = self.cfg.cache_base + self.idx;
        let sent = ctx.now();
        for &n in copy_to.iter().filter(|&&n| n != me) {
            ctx.send(n, Msg::Copy { key, val: e.val, expires: e.expires, sent });
        }
    }

    /// A primary's copy. It replaces what the replica holds (never a dirty entry, whose
    /// write the replica still owes the database) and leaves leases alone.
    fn copy(&mut self, key: u64, val: u64, expires: SimTime, sent: SimTime, ctx: Cx) {
        if self.store.peek(key).is_some_and(|e| e.dirty) {
            return;
        }
        let expires = match self.cfg.copy_expiry {
            CopyExpiry::Origin => expires,
            CopyExpiry::OnArrival => ctx.local_time() + self.cfg.ttl,
        };
        self.copies += 1;
        ctx.observe(Obs::Copied { node: self.idx, key, val, sent });
        self.put(key, Entry { val, expires, delta_us: self.cfg.db_query.0, dirty: false }, ctx);
    }

    fn get(&mut self, from: NodeId, req: u64, key: u64, copy_to: Vec<NodeId>, replica: bool, ctx: Cx) {
        let now = ctx.local_time();
        let live = self.store.get(key).filter(|e| e.dirty || now < e.expires);
        if let Some(e) = live {
            self.hits += 1;
            ctx.metrics.add("cache_hits", 1);
            ctx.metrics.series.add("cache_hits", ctx.now(), 1.0);
            let mut refresh = None;
            if self.cfg.stampede == Stampede::EarlyExpiry && !e.dirty && !self.lease_valid(key, now) {
                // XFetch: −Δ·β·ln(U) is exponential with mean Δ·β.
                let u = 1.0 - ctx.rng.unit();
                let early_us = e.delta_us as f64 * self.cfg.beta * -libm::log(u);
                if now.0 as f64 + early_us >= e.expires.0 as f64 {
                    let token = self.token();
                    let lease = Lease { token, granted: now, waiters: Vec::new(), copy_to: copy_to.clone() };
                    self.leases.insert(key, lease);
                    if self.cfg.policy.cache_loads() {
                        self.loads.insert(token, Load { key, asked: Vec::new(), copy_to });
                        ctx.send(self.cfg.db, Msg::DbRead { id: token, key });
                    } else {
                        refresh = Some(token);
                    }
                }
            }
            ctx.send(from, Msg::Hit { req, key, val: e.val, refresh });
            return;
        }
        self.misses += 1;
        ctx.metrics.add("cache_misses", 1);
        ctx.metrics.series.add("cache_misses", ctx.now(), 1.0);
        if replica {
            ctx.send(from, Msg::Miss { req, key, token: None });
            return;
        }
        if self.cfg.stampede != Stampede::None && self.lease_valid(key, now) {
            if let Some(l) = self.leases.get_mut(&key) {
                l.waiters.push((from, req));
            }
            ctx.send(from, Msg::Parked { req });
            return;
        }
        self.drop_lease(key, ctx);
        let token = self.token();
        self.leases.insert(key, Lease { token, granted: now, waiters: Vec::new(), copy_to: copy_to.clone() });
        if self.cfg.policy.cache_loads() {
            self.loads.insert(token, Load { key, asked: vec![(from, req)], copy_to });
            ctx.send(self.cfg.db, Msg::DbRead { id: token, key });
            ctx.send(from, Msg::Parked { req });
        } else {
            ctx.send(from, Msg::Miss { req, key, token: Some(token) });
        }
    }

    /// Accepts a loaded value only under the current, unexpired lease.
    fn fill(&mut self, key: u64, val: u64, token: u64, copy_to: &[NodeId], ctx: Cx) {
        let now = ctx.local_time();
        let ok = self.leases.get(&key).is_some_and(|l| l.token == token && now.since(l.granted) <= self.cfg.lease);
        if !ok {
            ctx.metrics.add("fills_rejected", 1);
            return;
        }
        let Some(l) = self.leases.remove(&key) else {
            return;
        };
        let entry = Entry { val, expires: now + self.cfg.ttl, delta_us: now.since(l.granted).0, dirty: false };
        self.put_and_copy(key, entry, copy_to, ctx);
        for (c, req) in l.waiters {
            ctx.send(c, Msg::Hit { req, key, val, refresh: None });
        }
    }

    /// Write-back stores the value dirty and answers at once; write-through writes the
    /// database first and stores the value when it acknowledges.
    fn write(&mut self, w: PendingWrite, back: bool, ctx: Cx) {
        let (key, wid) = (w.key, w.wid);
        if back {
            let entry = Entry { val: wid, expires: w.started + self.cfg.ttl, delta_us: 0, dirty: true };
            self.put_and_copy(key, entry, &w.copy_to, ctx);
            self.dirty.insert(key);
            if let Some(l) = self.leases.remove(&key) {
                for (c, r) in l.waiters {
                    ctx.send(c, Msg::Hit { req: r, key, val: wid, refresh: None });
                }
            }
            ctx.send(w.client, Msg::Written { req: w.req });
        } else {
            self.drop_lease(key, ctx);
            let id = self.token();
            self.writes.insert(id, w);
            ctx.send(self.cfg.db, Msg::DbWrite { id, key, wid });
        }
    }

    fn db_ack(&mut self, id: u64, ctx: Cx) {
        if let Some((key, wid)) = self.flushing.remove(&id) {
            if self.store.peek(key).is_some_and(|e| e.val == wid && e.dirty) {
                self.dirty.remove(&key);
                if let Some(mut e) = self.store.peek(key) {
                    e.dirty = false;
                    self.store.put(key, e);
                }
            }
            return;
        }
        let Some(w) = self.writes.remove(&id) else {
            return;
        };
        let now = ctx.local_time();
        if now.since(w.started) <= self.cfg.lease {
            let entry = Entry { val: w.wid, expires: now + self.cfg.ttl, delta_us: 0, dirty: false };
            self.put_and_copy(w.key, entry, &w.copy_to, ctx);
            if let Some(l) = self.leases.remove(&w.key) {
                for (c, r) in l.waiters {
                    ctx.send(c, Msg::Hit { req: r, key: w.key, val: w.wid, refresh: None });
                }
            }
        } else {
            self.store.remove(w.key);
            self.drop_lease(w.key, ctx);
        }
        ctx.send(w.client, Msg::Written { req: w.req });
    }
}

impl Actor for Cache {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: Cx) {
        if self.booted {
            ctx.observe(Obs::Disrupted(format!("{} came back after a crash", Cfg::cache_name(self.idx))));
        } else if self.idx >= self.cfg.initial {
            ctx.note(format!("{} joins the cluster", Cfg::cache_name(self.idx)));
        }
        self.booted = true;
        for c in 0..self.cfg.clients {
            ctx.send(c, Msg::Hello);
        }
        ctx.set_timer(self.sweep_every(), T_SWEEP);
        if self.cfg.policy == Policy::WriteBack {
            ctx.set_timer(self.cfg.flush, T_FLUSH);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: Cx) {
        match msg {
            Msg::Get { req, key, copy_to, replica } => self.get(from, req, key, copy_to, replica, ctx),
            Msg::Fill { key, val, token, copy_to } => self.fill(key, val, token, &copy_to, ctx),
            Msg::DbVal { id, key, val } => {
                let copy_to = match self.loads.remove(&id) {
                    Some(load) => {
                        for (c, req) in load.asked {
                            ctx.send(c, Msg::Hit { req, key: load.key, val, refresh: None });
                        }
                        load.copy_to
                    }
                    None => Vec::new(),
                };
                self.fill(key, val, id, &copy_to, ctx);
            }
            Msg::Copy { key, val, expires, sent } => self.copy(key, val, expires, sent, ctx),
            Msg::Invalidate { key } => {
                if let Some(e) = self.store.remove(key) {
                    if e.dirty && self.dirty.remove(&key) {
                        let id = self.token();
                        ctx.send(self.cfg.db, Msg::DbWrite { id, key, wid: e.val });
                    }
                }
                self.drop_lease(key, ctx);
            }
            Msg::Write { req, key, wid, back, copy_to } => {
                let w = PendingWrite { key, wid, client: from, req, started: ctx.local_time(), copy_to };
                self.write(w, back, ctx);
            }
            Msg::DbAck { id } => self.db_ack(id, ctx),
            Msg::Ping => ctx.send(from, Msg::Pong),
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: Cx) {
        match tag {
            T_SWEEP => {
                let now = ctx.local_time();
                let lease = self.cfg.lease;
                let expired: Vec<u64> =
                    self.leases.iter().filter(|(_, l)| now.since(l.granted) > lease).map(|(k, _)| *k).collect();
                for key in expired {
                    self.drop_lease(key, ctx);
                }
                ctx.set_timer(self.sweep_every(), T_SWEEP);
            }
            T_FLUSH => {
                let keys: Vec<u64> = self.dirty.iter().copied().collect();
                for key in keys {
                    if let Some(e) = self.store.peek(key) {
                        let id = self.token();
                        self.flushing.insert(id, (key, e.val));
                        ctx.send(self.cfg.db, Msg::DbWrite { id, key, wid: e.val });
                    }
                }
                ctx.set_timer(self.cfg.flush, T_FLUSH);
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.incarnation += 1;
        self.counter = 0;
        self.store.clear();
        self.leases.clear();
        self.loads.clear();
        self.writes.clear();
        self.flushing.clear();
        self.dirty.clear();
    }

    fn describe(&self) -> String {
        let total = self.hits + self.misses;
        let ratio = if total == 0 { 0.0 } else { 100.0 * self.hits as f64 / total as f64 };
        let dirty = if self.dirty.is_empty() { String::new() } else { format!(" ({} dirty)", self.dirty.len()) };
        format!("{} keys{dirty}, {ratio:.0}% hits, {} evicted", self.store.len(), self.evictions)
    }
}
