//! A CDN cache: an edge (players ask it for segments) or the origin shield (edges ask it
//! for their misses). Both keep objects in an LRU (`blocks::lru`) with a TTL judged on the
//! node's own clock, and both *coalesce* misses: while a fetch for a URL is in flight, more
//! requests for it wait on that one fetch instead of sending their own (request
//! collapsing). A fetch that times out is retried with capped exponential backoff and full
//! jitter (`blocks::backoff`).
//!
//! An edge's cache is memory: a crash empties it. The shield's is on disk and survives a
//! restart (its in-flight fetches do not). A purge drops every cached object of a video —
//! but not a fetch already in flight, whose answer is cached when it lands: the race that
//! makes purge-based invalidation leak stale bytes.

use super::msg::{Msg, Obs, Url, VideoId};
use crate::blocks::backoff::Backoff;
use crate::blocks::lru::Lru;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// Distinct URLs a cache fetches at once; more misses are dropped (the asker retries).
pub const MAX_PENDING: usize = 4_096;
/// Requests waiting on one fetch.
pub const MAX_WAITERS: usize = 512;
/// Tries of one upstream fetch before the waiters are let go.
pub const MAX_TRIES: u32 = 8;
const FETCH_TIMEOUT_MS: u64 = 500;

const TIMEOUT: u64 = 1;
const RETRY: u64 = 2;

#[derive(Clone, Copy, Debug)]
pub struct CacheCfg {
    pub index: u32,
    pub upstream: NodeId,
    pub capacity: usize,
    pub ttl_ms: u64,
    /// The cache survives a crash (the shield's disk).
    pub durable: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub digest: u64,
    pub kbits: u64,
    pub expires: SimTime,
}

/// Who waits for a fetch: a player (answered with `Segment`) or a downstream cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiter {
    Player { node: NodeId, req: u64 },
    Cache { node: NodeId },
}

#[derive(Clone, Debug)]
struct Pending {
    id: u64,
    waiters: Vec<Waiter>,
    tries: u32,
}

#[derive(Clone, Debug)]
pub struct Cache {
    pub cfg: CacheCfg,
    pub store: Lru<Url, Entry>,
    pending: BTreeMap<Url, Pending>,
    by_id: BTreeMap<u64, Url>,
    next_id: u64,
    backoff: Backoff,
    pub hits: u64,
    pub misses: u64,
    pub coalesced: u64,
    pub purged: u64,
}

impl Cache {
    pub fn new(cfg: CacheCfg) -> Cache {
        Cache {
            cfg,
            store: Lru::new(cfg.capacity),
            pending: BTreeMap::new(),
            by_id: BTreeMap::new(),
            next_id: 0,
            backoff: Backoff::from_ms(50, 1_000),
            hits: 0,
            misses: 0,
            coalesced: 0,
            purged: 0,
        }
    }

    /// Hit ratio so far (0 before any request).
    pub fn hit_ratio(&self) -> f64 {
        let all = self.hits + self.misses;
        if all == 0 {
            0.0
        } else {
            self.hits as f64 / all as f64
        }
    }

    /// The prefix of this cache's hit and miss series (`edge2.hit`, `shield.miss`).
    pub fn series_name(&self) -> String {
        if self.cfg.durable {
            "shield".into()
        } else {
            format!("edge{}", self.cfg.index)
        }
    }

    fn answer(w: Waiter, url: Url, e: Entry, ctx: &mut Ctx<'_, Msg, Obs>) {
        match w {
            Waiter::Player { node, req } => ctx.send(node, Msg::Segment { req, url, digest: e.digest, kbits: e.kbits }),
            Waiter::Cache { node } => ctx.send(node, Msg::Object { url, digest: e.digest, kbits: e.kbits }),
        }
    }

    fn request(&mut self, w: Waiter, url: Url, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.local_time();
        let series = self.series_name();
        if let Some(e) = self.store.get(&url).copied() {
            if e.expires > now {
                self.hits += 1;
                ctx.metrics.series.add(&format!("{series}.hit"), ctx.now(), 1.0);
                return Self::answer(w, url, e, ctx);
            }
            self.store.remove(&url);
        }
        self.misses += 1;
        ctx.metrics.series.add(&format!("{series}.miss"), ctx.now(), 1.0);
        if let Some(p) = self.pending.get_mut(&url) {
            if p.waiters.len() < MAX_WAITERS && !p.waiters.contains(&w) {
                p.waiters.push(w);
            }
            self.coalesced += 1;
            return;
        }
        if self.pending.len() >= MAX_PENDING {
            ctx.metrics.add("cdn.dropped", 1);
            return;
        }
        self.next_id += 1;
        let id = self.next_id;
        self.pending.insert(url, Pending { id, waiters: vec![w], tries: 0 });
        self.by_id.insert(id, url);
        self.fetch(id, url, ctx);
    }

    fn fetch(&mut self, id: u64, url: Url, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.send(self.cfg.upstream, Msg::Fetch { url });
        ctx.set_timer(SimDuration::from_ms(FETCH_TIMEOUT_MS), id << 2 | TIMEOUT);
    }

    fn fill(&mut self, url: Url, digest: u64, kbits: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let e = Entry { digest, kbits, expires: ctx.local_time() + SimDuration::from_ms(self.cfg.ttl_ms) };
        self.store.put(url, e);
        if let Some(p) = self.pending.remove(&url) {
            self.by_id.remove(&p.id);
            for w in p.waiters {
                Self::answer(w, url, e, ctx);
            }
        }
    }

    fn purge(&mut self, video: VideoId) {
        let doomed: Vec<Url> = self.store.keys_by_recency().into_iter().filter(|u| u.video == video).collect();
        for u in doomed {
            self.store.remove(&u);
            self.purged += 1;
        }
    }
}

impl Actor for Cache {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::GetSegment { req, url } => self.request(Waiter::Player { node: from, req }, url, ctx),
            Msg::Fetch { url } => self.request(Waiter::Cache { node: from }, url, ctx),
            Msg::Object { url, digest, kbits } => self.fill(url, digest, kbits, ctx),
            Msg::NotFound { url } => {
                if let Some(p) = self.pending.remove(&url) {
                    self.by_id.remove(&p.id);
                    for w in p.waiters {
                        if let Waiter::Cache { node } = w {
                            ctx.send(node, Msg::NotFound { url });
                        }
                    }
                }
            }
            Msg::Purge { video } => self.purge(video),
            _ => {}
        }
    }

    fn on_timer(&mut self, t: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let (kind, id) = (t & 3, t >> 2);
        let Some(&url) = self.by_id.get(&id) else { return };
        let Some(p) = self.pending.get_mut(&url) else { return };
        match kind {
            TIMEOUT => {
                if p.tries + 1 >= MAX_TRIES {
                    self.pending.remove(&url);
                    self.by_id.remove(&id);
                    ctx.metrics.add("cdn.gave_up", 1);
                    return;
                }
                let wait = self.backoff.full_jitter(p.tries, ctx.rng);
                p.tries += 1;
                ctx.metrics.add("cdn.retries", 1);
                ctx.set_timer(wait, id << 2 | RETRY);
            }
            RETRY => self.fetch(id, url, ctx),
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.pending.clear();
        self.by_id.clear();
        if !self.cfg.durable {
            self.store.clear();
        }
    }

    fn describe(&self) -> String {
        format!("{} objects, hit {:.0}%", self.store.len(), 100.0 * self.hit_ratio())
    }
}
