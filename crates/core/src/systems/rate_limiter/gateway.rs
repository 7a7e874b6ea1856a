//! A gateway: the API front door that enforces the limit. Per strategy it either asks the
//! store (plain commands for the naive strategies, one atomic script for the robust ones),
//! decides alone from its own memory (local-only), spends quota it leased from the store
//! (local-sync), or counts locally and swaps counts with the store every sync interval
//! (local-periodic-sync). When the store does not answer within `store_timeout_ms`, or
//! answers `BUSY`, it fails open (admits, flagged as a bypass) or closed (answers 503),
//! per the `fail_mode` knob.
//!
//! The robust strategies shed a flood here, before it reaches the store's queue. With the
//! atomic scripts a gateway keeps at most one command per key at the store (requests for a
//! key that is already being asked about wait their turn here), and a key the script
//! refused is refused locally until the store's retry-after passes; so the store never
//! holds more than gateways × keys of their commands, however hard anyone floods. A spent
//! lease is refused locally, and periodic sync never asks the store per request. The
//! naive strategies send every request on, so a flood queues in front of everyone's
//! commands and fills the store's queue.

use super::msg::{Msg, Obs, Verdict};
use super::sync::{Local, LocalCount};
use super::{Cfg, Plan};
use crate::blocks::rate_limit::Limiter;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// Most requests parked per key while a lease is in flight.
const MAX_PARKED: usize = 64;
/// Ops given up on, remembered so a late reply can say why (most kept).
const MAX_GAVE_UP: usize = 256;
/// Timer tag of the periodic sync (ops, the other tags, start at 1).
const SYNC_TICK: u64 = 0;
/// Counter of requests refused at a gateway from a cached store refusal.
pub const SHED_LOCALLY: &str = "refused at the gateway (cached store refusal)";

/// A client request waiting for the store.
#[derive(Clone, Copy, Debug)]
struct Waiting {
    client: NodeId,
    id: u64,
    key: u32,
}

/// Local-sync: quota this gateway holds for one key.
#[derive(Clone, Debug, Default)]
struct Quota {
    window: u64,
    tokens: u64,
    /// The store said the window's budget is spent.
    exhausted: bool,
    inflight: Option<u64>,
    /// Leases sent and not yet answered, even if we stopped waiting: their quota is paid
    /// for out of the store's budget, so a late grant is still good inside its window.
    unanswered: Vec<u64>,
    parked: VecDeque<Waiting>,
}

/// Central scripts: one key's single flight to the store.
#[derive(Clone, Debug, Default)]
struct Line {
    inflight: Option<u64>,
    parked: VecDeque<Waiting>,
}

#[derive(Clone, Debug)]
pub struct Gateway {
    pub idx: u32,
    cfg: Cfg,
    store: NodeId,
    next_op: u64,
    /// Store commands awaiting a reply, by op id.
    pending: BTreeMap<u64, Waiting>,
    /// Local-only: this gateway's private limiter.
    pub local: Option<Limiter>,
    /// Local-sync: leased quota per key.
    quota: BTreeMap<u32, Quota>,
    /// Central scripts: keys the store refused, refused here until this local instant.
    denied_until: BTreeMap<u32, u64>,
    /// Central scripts: per key, the one op at the store and the requests waiting behind it.
    lines: BTreeMap<u32, Line>,
    /// Ops whose client got a 503 on timeout, by op: the client's node id.
    gave_up: BTreeMap<u64, NodeId>,
    /// Local-periodic-sync: this process's life (a restart is a new writer at the store),
    /// per-key counts, the window a restart happened in, and when the store last answered.
    pub boot: u32,
    counts: BTreeMap<u32, LocalCount>,
    phantom_window: Option<u64>,
    last_heard: u64,
    /// Allowed, limited, unavailable, fail-open, busy.
    pub decided: [u64; 5],
}

impl Gateway {
    pub fn new(idx: u32, cfg: Cfg, store: NodeId) -> Gateway {
        let local = match cfg.plan {
            Plan::Local(a) => Some(Limiter::new(a, cfg.policy)),
            _ => None,
        };
        Gateway {
            idx,
            cfg,
            store,
            next_op: 0,
            pending: BTreeMap::new(),
            local,
            quota: BTreeMap::new(),
            denied_until: BTreeMap::new(),
            lines: BTreeMap::new(),
            gave_up: BTreeMap::new(),
            boot: 0,
            counts: BTreeMap::new(),
            phantom_window: None,
            last_heard: 0,
            decided: [0; 5],
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
            + self.quota.values().map(|q| q.parked.len()).sum::<usize>()
            + self.lines.values().map(|l| l.parked.len()).sum::<usize>()
    }

    fn answer(&mut self, w: Waiting, verdict: Verdict, bypass: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        let (slot, series) = match (verdict, bypass) {
            (Verdict::Allowed, false) => (0, "allowed"),
            (Verdict::Allowed, true) => (3, "fail-open"),
            (Verdict::Limited, _) => (1, "limited"),
            (Verdict::Unavailable, _) => (2, "unavailable"),
            (Verdict::Busy, _) => (4, "busy"),
        };
        self.decided[slot] += 1;
        ctx.metrics.series.add(series, ctx.now(), 1.0);
        if bypass {
            ctx.observe(Obs::Admit { key: w.key, by: ctx.me(), bypass: true });
        }
        ctx.send(w.client, Msg::Resp { id: w.id, verdict });
    }

    /// The store did not answer in time (`busy`: it answered that its queue was full).
    fn give_up(&mut self, w: Waiting, busy: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.cfg.fail_open {
            self.answer(w, Verdict::Allowed, true, ctx);
        } else {
            self.answer(w, if busy { Verdict::Busy } else { Verdict::Unavailable }, false, ctx);
        }
    }

    /// A reply to an op we no longer wait for. If we had answered 503 on timeout and the
    /// command had queued in the store longer than our timeout, report that the queue, not
    /// a fault, made that client wait.
    fn late(&mut self, op: u64, queued_us: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(client) = self.gave_up.remove(&op) {
            if queued_us >= self.cfg.timeout_us {
                ctx.observe(Obs::Late { client, queued_us });
            }
        }
    }

    fn ask(&mut self, w: Waiting, msg: impl FnOnce(u64) -> Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.next_op += 1;
        let op = self.next_op;
        self.pending.insert(op, w);
        ctx.send(self.store, msg(op));
        ctx.set_timer(SimDuration(self.cfg.timeout_us), op);
    }

    fn window(&self, ctx: &Ctx<'_, Msg, Obs>) -> u64 {
        ctx.local_time().micros() / self.cfg.policy.window_us
    }

    /// The store refused command `op`: its queue was full.
    fn busy(&mut self, op: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(w) = self.pending.remove(&op) {
            self.give_up(w, true, ctx);
            return self.abandon_line(w.key, op, true, ctx);
        }
        let hit = self.quota.iter().find(|(_, q)| q.unanswered.contains(&op)).map(|(k, _)| *k);
        let Some(key) = hit else { return };
        let Some(q) = self.quota.get_mut(&key) else { return };
        // Refused, so nothing was leased: no late grant can come for it.
        q.unanswered.retain(|&o| o != op);
        if q.inflight != Some(op) {
            return;
        }
        q.inflight = None;
        let parked: Vec<Waiting> = q.parked.drain(..).collect();
        for w in parked {
            self.give_up(w, true, ctx);
        }
    }

    /// A decision this gateway makes itself (naive strategies and local modes).
    fn decide(&mut self, w: Waiting, ok: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        if ok {
            ctx.observe(Obs::Admit { key: w.key, by: ctx.me(), bypass: false });
            self.answer(w, Verdict::Allowed, false, ctx);
        } else {
            self.answer(w, Verdict::Limited, false, ctx);
        }
    }

    fn request(&mut self, w: Waiting, ctx: &mut Ctx<'_, Msg, Obs>) {
        let key = w.key;
        match self.cfg.plan {
            Plan::IncrExpire => self.ask(w, |op| Msg::Incr { op, key }, ctx),
            Plan::GetSet => {
                let window = self.window(ctx);
                self.ask(w, |op| Msg::Get { op, key, window }, ctx)
            }
            Plan::Central(_) => {
                let line = self.lines.entry(key).or_default();
                if line.inflight.is_none() {
                    self.script(w, ctx);
                } else if line.parked.len() < MAX_PARKED {
                    line.parked.push_back(w);
                } else {
                    self.answer(w, Verdict::Unavailable, false, ctx);
                }
            }
            Plan::Local(_) => {
                let now = ctx.local_time().micros();
                let Some(l) = self.local.as_mut() else { return };
                let ok = l.check(now, key);
                let level = l.level(now, key);
                if self.idx == 0 {
                    self.cfg.level(ctx, key, level);
                }
                self.decide(w, ok, ctx);
            }
            Plan::Lease => self.spend(w, ctx),
            Plan::PeriodicSync => self.count(w, ctx),
        }
    }

    /// Central scripts: refuse locally while the store's refusal holds, else ask the store
    /// (this request is then the key's one command in flight).
    fn script(&mut self, w: Waiting, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.local_time().micros();
        if self.denied_until.get(&w.key).is_some_and(|&until| now < until) {
            ctx.metrics.add(SHED_LOCALLY, 1);
            return self.decide(w, false, ctx);
        }
        let key = w.key;
        self.ask(w, |op| Msg::Eval { op, key }, ctx);
        if let Some(line) = self.lines.get_mut(&key) {
            line.inflight = Some(self.next_op);
        }
    }

    /// Central scripts: `op` for `key` was answered; the next waiting request goes (or is
    /// refused here, if the answer was a refusal that still holds).
    fn next_in_line(&mut self, key: u32, op: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        loop {
            let Some(line) = self.lines.get_mut(&key) else { return };
            if line.inflight == Some(op) {
                line.inflight = None;
            }
            if line.inflight.is_some() {
                return;
            }
            let Some(w) = line.parked.pop_front() else { return };
            self.script(w, ctx);
        }
    }

    /// Central scripts: `op` for `key` failed (timeout, or `BUSY`); the store is not
    /// answering, so the requests waiting behind it get the same answer now rather than
    /// each waiting out its own timeout.
    fn abandon_line(&mut self, key: u32, op: u64, busy: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(line) = self.lines.get_mut(&key).filter(|l| l.inflight == Some(op)) else { return };
        line.inflight = None;
        let parked: Vec<Waiting> = line.parked.drain(..).collect();
        for w in parked {
            self.give_up(w, busy, ctx);
        }
    }

    /// Local-periodic-sync: decide from the local count and the last view of the store's.
    fn count(&mut self, w: Waiting, ctx: &mut Ctx<'_, Msg, Obs>) {
        let window = self.window(ctx);
        let phantom = if self.phantom_window == Some(window) { self.cfg.allowance } else { 0 };
        let c = self.counts.entry(w.key).or_insert_with(|| LocalCount::new(window, phantom));
        if c.window != window {
            *c = LocalCount::new(window, phantom);
        }
        match c.decide(self.cfg.policy.limit, self.cfg.allowance) {
            Local::Admit => self.decide(w, true, ctx),
            Local::OverLimit => self.decide(w, false, ctx),
            Local::Unconfirmed => {
                // Ahead of the store by the whole allowance. If the store has answered
                // lately, this key is simply hot here: refuse. If it has gone quiet, we
                // cannot tell, which is what the fail mode is for.
                let quiet = ctx.local_time().micros().saturating_sub(self.last_heard);
                if quiet > self.cfg.sync_us + self.cfg.timeout_us {
                    self.give_up(w, false, ctx);
                } else {
                    self.decide(w, false, ctx);
                }
            }
        }
    }

    /// Local-periodic-sync: push this window's counts, pull the totals, and go again.
    fn sync(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let window = self.window(ctx);
        self.counts.retain(|_, c| c.window == window);
        let counts: Vec<(u32, u64)> = self.counts.iter().map(|(&k, c)| (k, c.own)).collect();
        if !counts.is_empty() {
            ctx.send(self.store, Msg::Sync { boot: self.boot, window, counts });
        }
        ctx.set_timer(SimDuration(self.cfg.sync_us), SYNC_TICK);
    }

    /// Local-sync: admit from leased quota, or park the request and lease more.
    fn spend(&mut self, w: Waiting, ctx: &mut Ctx<'_, Msg, Obs>) {
        let window = self.window(ctx);
        let q = self.quota.entry(w.key).or_default();
        if q.window != window {
            // Quota is only good inside the window it was leased for.
            q.window = window;
            q.tokens = 0;
            q.exhausted = false;
        }
        if q.tokens > 0 {
            q.tokens -= 1;
            return self.decide(w, true, ctx);
        }
        if q.exhausted {
            return self.decide(w, false, ctx);
        }
        if q.parked.len() >= MAX_PARKED {
            return self.answer(w, Verdict::Unavailable, false, ctx);
        }
        q.parked.push_back(w);
        self.lease(w.key, ctx);
    }

    fn lease(&mut self, key: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        let window = self.window(ctx);
        let want = self.cfg.lease;
        let Some(q) = self.quota.get_mut(&key) else { return };
        if q.inflight.is_some() {
            return;
        }
        self.next_op += 1;
        let op = self.next_op;
        q.inflight = Some(op);
        q.unanswered.push(op);
        q.unanswered.retain(|&o| o + 64 > op);
        ctx.send(self.store, Msg::Lease { op, key, window, want });
        ctx.set_timer(SimDuration(self.cfg.timeout_us), op);
    }

    fn leased(&mut self, op: u64, key: u32, window: u64, granted: u64, stale: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now_window = self.window(ctx);
        let Some(q) = self.quota.get_mut(&key) else { return };
        let Some(at) = q.unanswered.iter().position(|&o| o == op) else {
            return; // a duplicate, or too old to remember: never spend quota twice
        };
        q.unanswered.swap_remove(at);
        if q.inflight == Some(op) {
            q.inflight = None;
        }
        if q.window != now_window {
            q.window = now_window;
            q.tokens = 0;
            q.exhausted = false;
        }
        if window == now_window && !stale {
            q.tokens += granted;
            q.exhausted = granted < self.cfg.lease;
        } else if window == now_window {
            // The store is in another window than our clock says: we cannot be sure.
            let parked: Vec<Waiting> = q.parked.drain(..).collect();
            for w in parked {
                self.give_up(w, false, ctx);
            }
            return;
        }
        self.drain(key, ctx);
    }

    /// Serves parked requests from quota; leases again if some are still waiting.
    fn drain(&mut self, key: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        let mut out = Vec::new();
        let mut again = false;
        if let Some(q) = self.quota.get_mut(&key) {
            while let Some(w) = q.parked.front().copied() {
                if q.tokens > 0 {
                    q.tokens -= 1;
                    out.push((w, true));
                } else if q.exhausted {
                    out.push((w, false));
                } else {
                    again = true;
                    break;
                }
                q.parked.pop_front();
            }
        }
        for (w, ok) in out {
            self.decide(w, ok, ctx);
        }
        if again {
            self.lease(key, ctx);
        }
    }

    /// Rows for the per-key table when the gateway holds the state (local modes).
    pub fn rows(&self, now_us: u64) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        if let Some(l) = &self.local {
            for (k, st) in l.keys() {
                rows.push(vec![
                    format!("k{k} @gateway-{}", self.idx),
                    st.describe(&l.policy, now_us),
                    "-".into(),
                    "-".into(),
                ]);
            }
        }
        for (k, q) in &self.quota {
            let state =
                format!("window #{}: {} leased left{}", q.window, q.tokens, if q.exhausted { ", spent" } else { "" });
            rows.push(vec![format!("k{k} @gateway-{}", self.idx), state, "-".into(), "-".into()]);
        }
        for (k, c) in &self.counts {
            let state = format!(
                "window #{}: {} here ({} unconfirmed), {} elsewhere as of the last sync",
                c.window,
                c.own,
                c.own - c.acked,
                c.others()
            );
            rows.push(vec![format!("k{k} @gateway-{}", self.idx), state, "-".into(), "-".into()]);
        }
        rows
    }
}

impl Actor for Gateway {
    type Msg = Msg;
    type Obs = Obs;

    /// A crash loses everything in memory: pending requests, the local limiter, leased
    /// quota, counts not yet synced. Request ids keep counting and the boot number goes up
    /// (a real gateway tags both with its boot id), so a late reply to the old process is
    /// never taken for a new request's, and the store counts the new life separately.
    fn on_crash(&mut self) {
        let (next_op, boot) = (self.next_op, self.boot);
        *self = Gateway::new(self.idx, self.cfg, self.store);
        self.next_op = next_op;
        self.boot = boot + 1;
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.cfg.plan == Plan::PeriodicSync {
            self.last_heard = ctx.local_time().micros();
            ctx.set_timer(SimDuration(self.cfg.sync_us), SYNC_TICK);
        }
    }

    /// Back from a crash. Local-periodic-sync: whatever the previous life admitted and
    /// never pushed is lost, so this window starts with the allowance already spent (see
    /// `sync.rs`), which keeps the overshoot bound.
    fn on_restart(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.phantom_window = Some(self.window(ctx));
        self.on_start(ctx);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Req { id, key } => self.request(Waiting { client: from, id, key }, ctx),
            Msg::IncrReply { op, count, queued_us } => {
                let Some(w) = self.pending.remove(&op) else { return self.late(op, queued_us, ctx) };
                if count == 1 {
                    ctx.send(self.store, Msg::Expire { key: w.key, ttl_ms: self.cfg.policy.window_us / 1_000 });
                }
                self.decide(w, count <= self.cfg.policy.limit, ctx);
            }
            Msg::GetReply { op, value, queued_us } => {
                let Some(w) = self.pending.remove(&op) else { return self.late(op, queued_us, ctx) };
                let ok = value < self.cfg.policy.limit;
                if ok {
                    let window = self.window(ctx);
                    ctx.send(self.store, Msg::Set { key: w.key, window, value: value + 1 });
                }
                self.decide(w, ok, ctx);
            }
            Msg::EvalReply { op, allowed, retry_us, queued_us } => {
                let Some(w) = self.pending.remove(&op) else { return self.late(op, queued_us, ctx) };
                if !allowed {
                    // Refuse this key here until it could pass again: the flood stops at
                    // the gateway instead of queueing in front of everyone at the store.
                    let until = ctx.local_time().micros().saturating_add(retry_us);
                    let e = self.denied_until.entry(w.key).or_default();
                    *e = (*e).max(until);
                }
                // The store already reported the admission (it decided, atomically).
                let verdict = if allowed { Verdict::Allowed } else { Verdict::Limited };
                self.answer(w, verdict, false, ctx);
                self.next_in_line(w.key, op, ctx);
            }
            Msg::Leased { op, key, window, granted, stale } => self.leased(op, key, window, granted, stale, ctx),
            Msg::Busy { op } => self.busy(op, ctx),
            Msg::Synced { boot, window, views } => {
                if boot != self.boot {
                    return; // a reply to a previous life: it counted another writer
                }
                self.last_heard = ctx.local_time().micros();
                for (key, entry, total) in views {
                    if let Some(c) = self.counts.get_mut(&key).filter(|c| c.window == window) {
                        c.confirm(entry, total);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, op: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if op == SYNC_TICK {
            return self.sync(ctx);
        }
        if let Some(w) = self.pending.remove(&op) {
            if !self.cfg.fail_open {
                self.gave_up.insert(op, w.client);
                if self.gave_up.len() > MAX_GAVE_UP {
                    self.gave_up.pop_first();
                }
            }
            self.give_up(w, false, ctx);
            return self.abandon_line(w.key, op, false, ctx);
        }
        let hit = self.quota.iter().find(|(_, q)| q.inflight == Some(op)).map(|(k, _)| *k);
        if let Some(key) = hit {
            let parked: Vec<Waiting> = match self.quota.get_mut(&key) {
                Some(q) => {
                    q.inflight = None;
                    q.parked.drain(..).collect()
                }
                None => Vec::new(),
            };
            for w in parked {
                self.give_up(w, false, ctx);
            }
        }
    }

    fn describe(&self) -> String {
        let d = &self.decided;
        format!(
            "{} allowed, {} limited, {} busy, {} 503, {} fail-open; {} waiting",
            d[0],
            d[1],
            d[4],
            d[2],
            d[3],
            self.pending()
        )
    }
}
