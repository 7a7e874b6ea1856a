//! The shared store: one Redis-like, single-threaded node. It runs one command at a time,
//! each taking `store_us` of service, and holds the commands that arrive meanwhile in a
//! FIFO queue of at most `store_queue`. A command that finds the queue full is refused at
//! once with `BUSY` (or dropped, if nobody waits for its reply) and counted. So a flood
//! that reaches the store costs everyone: honest callers' commands wait behind the
//! abuser's, and are refused when the queue is full — unless the gateways shed the flood
//! before it gets here.
//!
//! Because one command runs at a time, every command — and every `EVAL` script — is
//! atomic, exactly as in Redis. What is *not* atomic is a sequence of commands from a
//! gateway (`INCR` then `EXPIRE`, `GET` then `SET`): other gateways' commands interleave,
//! and the longer the queue, the wider the gap.
//!
//! The store's data is modelled as durable (Redis with `appendfsync always`): a crash makes
//! it unreachable and loses the queued commands, but no counter. A store that forgot its
//! counters on restart would re-open every key's budget — a real trade-off the explainer
//! discusses, left out here so that crash faults test availability, not amnesia.

use super::msg::{Msg, Obs};
use super::sync::Tally;
use super::{Cfg, Plan};
use crate::blocks::rate_limit::Limiter;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// Series of the store chart.
pub const QUEUE_SERIES: &str = "store queue (deepest)";
pub const SHED_SERIES: &str = "refused: queue full";
/// Counter of commands refused or dropped because the queue was full.
pub const SHED: &str = "store commands refused (queue full)";

/// Evidence kept per get-then-set race: most kept.
const MAX_RACES: usize = 64;
/// Counter resets kept for fixed-window: most kept.
const MAX_RESETS: usize = 512;

/// A command waiting for the store's single thread.
#[derive(Clone, Debug)]
struct Queued {
    from: NodeId,
    msg: Msg,
    arrived: SimTime,
}

/// Get-then-set: one `key:window` cell and who read and wrote which value in it.
#[derive(Clone, Debug, Default)]
struct Cell {
    value: u64,
    /// Per value read: the gateways told it.
    readers: BTreeMap<u64, Vec<NodeId>>,
    /// Per value written: the gateways that wrote it.
    writers: BTreeMap<u64, Vec<NodeId>>,
    /// `SET`s that did not raise the value: increments overwritten.
    lost: u64,
}

/// A lost update caught in the act: gateways `first` and `second` both read `read` from
/// `key:window` and both wrote `read + 1`, so two admissions counted as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Race {
    pub key: u32,
    pub window: u64,
    pub read: u64,
    pub first: NodeId,
    pub second: NodeId,
}

#[derive(Clone, Debug)]
pub struct Store {
    cfg: Cfg,
    queue: VecDeque<Queued>,
    /// The command in service and how long it had queued.
    busy: Option<(Queued, u64)>,
    /// `INCR`/`EXPIRE` keys: count and expiry instant (µs, store clock).
    kv: BTreeMap<u32, (u64, Option<u64>)>,
    /// Fixed window: when each key's counter started afresh (key, store µs).
    pub resets: Vec<(u32, u64)>,
    /// `GET`/`SET` cells `key:window`.
    cells: BTreeMap<(u32, u64), Cell>,
    pub races: Vec<Race>,
    /// The atomic limiter the `EVAL` script runs.
    pub limiter: Option<Limiter>,
    /// Local-sync: per key, the aligned window and how much of it is leased out.
    leased: BTreeMap<u32, (u64, u64)>,
    /// Local-periodic-sync: per `(key, window)`, every writer's highest count.
    tallies: BTreeMap<(u32, u64), Tally>,
    /// Per key: admitted and denied by the script (or leased / refused for local-sync).
    pub tally: BTreeMap<u32, (u64, u64)>,
    pub commands: u64,
    pub shed: u64,
    pub deepest: usize,
}

/// Timer tag: the command in service is done.
const DONE: u64 = 0;

impl Store {
    pub fn new(cfg: Cfg) -> Store {
        let limiter = match cfg.plan {
            Plan::Central(a) => Some(Limiter::new(a, cfg.policy)),
            _ => None,
        };
        Store {
            cfg,
            queue: VecDeque::new(),
            busy: None,
            kv: BTreeMap::new(),
            resets: Vec::new(),
            cells: BTreeMap::new(),
            races: Vec::new(),
            limiter,
            leased: BTreeMap::new(),
            tallies: BTreeMap::new(),
            tally: BTreeMap::new(),
            commands: 0,
            shed: 0,
            deepest: 0,
        }
    }

    pub fn depth(&self) -> usize {
        self.queue.len()
    }

    fn count(&mut self, key: u32, ok: bool) {
        let t = self.tally.entry(key).or_default();
        if ok {
            t.0 += 1;
        } else {
            t.1 += 1;
        }
    }

    fn start(&mut self, q: Queued, ctx: &mut Ctx<'_, Msg, Obs>) {
        let queued_us = ctx.now().since(q.arrived).0;
        self.busy = Some((q, queued_us));
        ctx.set_timer(SimDuration(self.cfg.store_us), DONE);
    }

    /// Runs one command, atomically.
    fn run(&mut self, from: NodeId, msg: Msg, queued_us: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.commands += 1;
        let now = ctx.local_time().micros();
        let w = self.cfg.policy.window_us;
        match msg {
            Msg::Incr { op, key } => {
                let e = self.kv.entry(key).or_insert((0, None));
                if e.1.is_some_and(|exp| exp <= now) {
                    *e = (0, None);
                }
                e.0 += 1;
                let count = e.0;
                if count == 1 && self.resets.len() < MAX_RESETS {
                    self.resets.push((key, now));
                }
                self.cfg.level(ctx, key, count as f64);
                ctx.send(from, Msg::IncrReply { op, count, queued_us });
            }
            Msg::Expire { key, ttl_ms } => {
                if let Some(e) = self.kv.get_mut(&key) {
                    e.1 = Some(now + ttl_ms * 1_000);
                }
            }
            Msg::Get { op, key, window } => {
                let cell = self.cells.entry((key, window)).or_default();
                let value = cell.value;
                cell.readers.entry(value).or_default().push(from);
                ctx.send(from, Msg::GetReply { op, value, queued_us });
            }
            Msg::Set { key, window, value } => {
                self.set(from, key, window, value, ctx);
                // Old windows expire (what a TTL on the cell would do).
                let cutoff = (now / w).saturating_sub(2);
                self.cells.retain(|&(_, win), _| win >= cutoff);
            }
            Msg::Eval { op, key } => {
                let Some(l) = self.limiter.as_mut() else { return };
                let allowed = l.check(now, key);
                let retry_us = if allowed { 0 } else { l.retry_after(now, key) };
                let level = l.level(now, key);
                self.count(key, allowed);
                if allowed {
                    ctx.observe(Obs::Admit { key, by: from, bypass: false });
                }
                self.cfg.level(ctx, key, level);
                ctx.send(from, Msg::EvalReply { op, allowed, retry_us, queued_us });
            }
            Msg::Lease { op, key, window, want } => {
                let current = now / w;
                if window != current {
                    ctx.send(from, Msg::Leased { op, key, window, granted: 0, stale: true });
                    return;
                }
                let e = self.leased.entry(key).or_insert((current, 0));
                if e.0 != current {
                    *e = (current, 0);
                }
                let granted = want.min(self.cfg.policy.limit.saturating_sub(e.1));
                e.1 += granted;
                let used = e.1 as f64;
                self.count(key, granted > 0);
                self.cfg.level(ctx, key, used);
                ctx.send(from, Msg::Leased { op, key, window, granted, stale: false });
            }
            Msg::Sync { boot, window, counts } => {
                let mut views = Vec::with_capacity(counts.len());
                for (key, count) in counts {
                    let (entry, total) = self.tallies.entry((key, window)).or_default().push((from, boot), count);
                    if window == now / w {
                        self.cfg.level(ctx, key, total as f64);
                    }
                    views.push((key, entry, total));
                }
                let cutoff = (now / w).saturating_sub(2);
                self.tallies.retain(|&(_, win), _| win >= cutoff);
                ctx.send(from, Msg::Synced { boot, window, views });
            }
            _ => {}
        }
    }

    /// `SET key:window value`, noting a lost update when it does not raise the count.
    fn set(&mut self, from: NodeId, key: u32, window: u64, value: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let cell = self.cells.entry((key, window)).or_default();
        if value <= cell.value {
            cell.lost += 1;
            ctx.metrics.add("lost updates", 1);
        }
        let read = value.saturating_sub(1);
        let told = cell.readers.get(&read).cloned().unwrap_or_default();
        let earlier = cell.writers.entry(value).or_default();
        if let Some(&first) = earlier.iter().find(|&&g| g != from && told.contains(&g)) {
            if told.contains(&from) && self.races.len() < MAX_RACES {
                self.races.push(Race { key, window, read, first, second: from });
            }
        }
        earlier.push(from);
        cell.value = value;
        self.cfg.level(ctx, key, value as f64);
    }

    /// Rows for the per-key table: key, state, admitted, denied.
    pub fn rows(&self, now_us: u64) -> Vec<Vec<String>> {
        let mut rows = vec![vec![
            "store".to_string(),
            format!(
                "queue {}/{} ({} µs per command), deepest {}",
                self.queue.len(),
                self.cfg.store_queue,
                self.cfg.store_us,
                self.deepest
            ),
            format!("{} run", self.commands),
            format!("{} refused", self.shed),
        ]];
        let w = self.cfg.policy.window_us;
        match (&self.limiter, self.cfg.plan) {
            (Some(l), _) => {
                for (k, st) in l.keys() {
                    let (a, d) = self.tally.get(k).copied().unwrap_or_default();
                    rows.push(vec![format!("k{k}"), st.describe(&l.policy, now_us), a.to_string(), d.to_string()]);
                }
            }
            (None, Plan::IncrExpire) => {
                for (k, (count, exp)) in &self.kv {
                    let ttl = match exp {
                        Some(e) if *e > now_us => format!("expires in {:.0} ms", (*e - now_us) as f64 / 1_000.0),
                        Some(_) => "expired".to_string(),
                        None => "no TTL".to_string(),
                    };
                    rows.push(vec![format!("k{k}"), format!("INCR count {count}, {ttl}"), "-".into(), "-".into()]);
                }
            }
            (None, Plan::GetSet) => {
                for ((k, win), c) in self.cells.iter().filter(|((_, win), _)| *win == now_us / w) {
                    rows.push(vec![
                        format!("k{k}"),
                        format!("window #{win}: {}/{}, {} increments lost", c.value, self.cfg.policy.limit, c.lost),
                        "-".into(),
                        "-".into(),
                    ]);
                }
            }
            (None, Plan::PeriodicSync) => {
                for ((k, win), t) in self.tallies.iter().filter(|((_, win), _)| *win == now_us / w) {
                    rows.push(vec![
                        format!("k{k}"),
                        format!(
                            "window #{win}: {}/{} counted from {} writers",
                            t.total,
                            self.cfg.policy.limit,
                            t.entries.len()
                        ),
                        "-".into(),
                        "-".into(),
                    ]);
                }
            }
            (None, _) => {
                for (k, (win, used)) in &self.leased {
                    let (a, d) = self.tally.get(k).copied().unwrap_or_default();
                    rows.push(vec![
                        format!("k{k}"),
                        format!("window #{win}: {used}/{} leased", self.cfg.policy.limit),
                        a.to_string(),
                        d.to_string(),
                    ]);
                }
            }
        }
        rows
    }
}

impl Actor for Store {
    type Msg = Msg;
    type Obs = Obs;

    /// A crash loses the commands in the queue and the one in service; data survives.
    fn on_crash(&mut self) {
        self.queue.clear();
        self.busy = None;
    }

    /// A command arrives: start it, queue it, or refuse it.
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let q = Queued { from, msg, arrived: ctx.now() };
        if self.busy.is_none() {
            self.start(q, ctx);
        } else if self.queue.len() < self.cfg.store_queue {
            self.queue.push_back(q);
            self.deepest = self.deepest.max(self.queue.len());
            ctx.metrics.series.max(QUEUE_SERIES, ctx.now(), self.queue.len() as f64);
        } else {
            self.shed += 1;
            ctx.metrics.add(SHED, 1);
            ctx.metrics.series.add(SHED_SERIES, ctx.now(), 1.0);
            if let Some(op) = awaited(&q.msg) {
                ctx.send(from, Msg::Busy { op });
            }
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag != DONE {
            return;
        }
        if let Some((done, queued_us)) = self.busy.take() {
            self.run(done.from, done.msg, queued_us, ctx);
        }
        if let Some(next) = self.queue.pop_front() {
            ctx.metrics.series.max(QUEUE_SERIES, ctx.now(), self.queue.len() as f64);
            self.start(next, ctx);
        }
    }

    fn describe(&self) -> String {
        format!("{} commands, {} queued, {} refused", self.commands, self.depth(), self.shed)
    }
}

/// The op a gateway waits on for this command, if it waits for a reply at all.
fn awaited(msg: &Msg) -> Option<u64> {
    match msg {
        Msg::Incr { op, .. } | Msg::Get { op, .. } | Msg::Eval { op, .. } | Msg::Lease { op, .. } => Some(*op),
        // Sync needs no op: its reply names the window, and a refused one is simply
        // retried at the next interval.
        _ => None,
    }
}
