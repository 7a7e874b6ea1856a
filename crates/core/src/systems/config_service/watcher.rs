//! A watcher: the client SDK's cached view of a key prefix (`cfg/` for configuration,
//! `sess/` for service discovery through ephemeral keys), as a service holds it to read
//! its configuration locally instead of asking the cluster on every lookup. It subscribes
//! at one replica and applies each batch of events the replica streams to its cache; each
//! batch says which revision range it covers (`after+1 ..= upto`), so a batch that does
//! not start where the last one ended reveals that something was lost in between. After
//! every batch the cache claims to be the prefix as of the last revision covered; the
//! `sdk-cache` check holds it to that claim.
//!
//! When its replica falls silent (crashed, cut off; replicas send progress notices even
//! with no change) it moves to the next replica. How it resumes is the `watch_resume`
//! knob:
//!
//! - `revision` (etcd's `WithRev(last+1)`): ask for everything after the last revision
//!   it applied; a batch that skips ahead makes it re-subscribe from there. Its progress
//!   is kept on disk with the cache, so a restart resumes too. A revision already
//!   compacted away is answered `Compacted`; the watcher then re-reads the prefix (a range
//!   read at the replica's revision), replaces its cache with it and resumes after that
//!   revision, knowingly skipping the individual events in between (reported as a resync).
//! - `now` (naive): re-subscribe "from now" and trust every batch it gets: whatever
//!   changed while it was away, or in a lost batch, it never sees.

use super::msg::{Msg, Obs, Prefix};
use super::store::Event;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

const TAG_TICK: u64 = 1;
const TICK_MS: u64 = 50;
/// Silence after which the watcher moves to another replica (progress notices come
/// every ~120 ms).
const SILENCE_MS: u64 = 400;
/// Events kept for the view.
pub const KEPT_EVENTS: usize = 40;

#[derive(Clone, Debug)]
pub struct Watcher {
    pub prefix: Prefix,
    pub replicas: Vec<NodeId>,
    /// Resume from the last revision (robust) or from "now" (naive).
    pub resume_from_revision: bool,
    pub at: usize,
    /// The last revision applied (durable).
    pub last: u64,
    heard: SimTime,
    pub seen: VecDeque<Event>,
    /// The SDK cache: key → value as of revision `last` (durable, with `last`).
    pub cache: BTreeMap<u32, u64>,
    /// Waiting for a range read after a compaction.
    resyncing: bool,
    pub events: u64,
    pub reconnects: u64,
    pub resyncs: u64,
}

impl Watcher {
    pub fn new(prefix: Prefix, replicas: Vec<NodeId>, at: usize, resume_from_revision: bool) -> Watcher {
        Watcher {
            prefix,
            replicas,
            resume_from_revision,
            at,
            last: 0,
            heard: SimTime::ZERO,
            seen: VecDeque::new(),
            cache: BTreeMap::new(),
            resyncing: false,
            events: 0,
            reconnects: 0,
            resyncs: 0,
        }
    }

    fn subscribe(&mut self, first: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        let after = if first || self.resume_from_revision { Some(self.last) } else { None };
        self.heard = ctx.local_time();
        ctx.send(self.replicas[self.at], Msg::Watch { prefix: self.prefix, after });
    }

    fn accept(&mut self, e: Event, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.last = e.rev;
        self.events += 1;
        ctx.observe(Obs::Watched { watcher: ctx.me(), prefix: self.prefix, rev: e.rev, key: e.key, value: e.value });
        match e.value {
            Some(v) => self.cache.insert(e.key, v),
            None => self.cache.remove(&e.key),
        };
        self.seen.push_back(e);
        if self.seen.len() > KEPT_EVENTS {
            self.seen.pop_front();
        }
    }

    /// Tells the checks what the cache now claims to be.
    fn report_cache(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let items = self.cache.iter().map(|(&k, &v)| (k, v)).collect();
        ctx.observe(Obs::Cached { watcher: ctx.me(), prefix: self.prefix, rev: self.last, items });
    }

    /// A range read came back after a compaction: the cache becomes the prefix as the
    /// replica holds it, and the watch resumes after that revision.
    fn on_range(&mut self, rev: u64, items: Vec<(u32, u64)>, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.resyncing || rev < self.last {
            return;
        }
        self.resyncing = false;
        self.resyncs += 1;
        self.cache = items.into_iter().collect();
        self.last = rev;
        ctx.observe(Obs::Resynced { watcher: ctx.me(), from: rev });
        self.report_cache(ctx);
        self.subscribe(false, ctx);
    }

    fn on_events(&mut self, after: u64, upto: u64, events: Vec<Event>, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.heard = ctx.local_time();
        if self.resume_from_revision && after > self.last {
            // A batch went missing: ask again from what was applied.
            self.reconnects += 1;
            return self.subscribe(false, ctx);
        }
        let before = self.last;
        for e in events {
            if e.rev > self.last {
                self.accept(e, ctx);
            }
        }
        self.last = self.last.max(upto);
        if self.last != before {
            self.report_cache(ctx);
        }
    }
}

impl Actor for Watcher {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.subscribe(true, ctx);
        ctx.set_timer(SimDuration::from_ms(TICK_MS), TAG_TICK);
    }

    /// The subscription is gone with the process; `last` is on disk.
    fn on_crash(&mut self) {}

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(TICK_MS), TAG_TICK);
        let now = ctx.local_time();
        if now >= self.heard + SimDuration::from_ms(SILENCE_MS) || now < self.heard {
            self.at = (self.at + 1) % self.replicas.len();
            self.reconnects += 1;
            self.subscribe(false, ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if from != self.replicas[self.at] {
            return;
        }
        match msg {
            Msg::Events { after, upto, events } => self.on_events(after, upto, events, ctx),
            Msg::Compacted { .. } => {
                self.resyncing = true;
                self.heard = ctx.local_time();
                ctx.send(from, Msg::Range { prefix: self.prefix });
            }
            Msg::RangeIs { rev, items } => self.on_range(rev, items, ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} · r{} · {} cached · {} events", self.prefix.name(), self.last, self.cache.len(), self.events)
    }
}
