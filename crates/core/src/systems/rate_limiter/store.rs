//! The shared store: one Redis-like, single-threaded node. Each message is one command and
//! the kernel runs one handler at a time, so every command — and every `EVAL` script — is
//! atomic, exactly as in Redis. What is *not* atomic is a sequence of commands from a
//! gateway (`INCR` then `EXPIRE`, `GET` then `SET`): other gateways' commands interleave.
//!
//! The store is modelled as durable (Redis with `appendfsync always`): a crash makes it
//! unreachable but loses no counter. A store that forgets its counters on restart would
//! re-open every key's budget — a real trade-off the explainer discusses, left out here so
//! that crash faults test availability, not amnesia.

use super::msg::{Msg, Obs};
use super::{Cfg, Plan};
use crate::blocks::rate_limit::Limiter;
use crate::sim::node::Ctx;
use crate::sim::NodeId;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Store {
    cfg: Cfg,
    /// `INCR`/`EXPIRE` keys: count and expiry instant (µs, store clock).
    kv: BTreeMap<u32, (u64, Option<u64>)>,
    /// `GET`/`SET` keys `key:window`.
    cells: BTreeMap<(u32, u64), u64>,
    /// The atomic limiter the `EVAL` script runs.
    pub limiter: Option<Limiter>,
    /// Local-sync: per key, the aligned window and how much of it is leased out.
    leased: BTreeMap<u32, (u64, u64)>,
    /// Per key: admitted and denied by the script (or leased / refused for local-sync).
    pub tally: BTreeMap<u32, (u64, u64)>,
    pub commands: u64,
}

impl Store {
    pub fn new(cfg: Cfg) -> Store {
        let limiter = match cfg.plan {
            Plan::Central(a) => Some(Limiter::new(a, cfg.policy)),
            _ => None,
        };
        Store {
            cfg,
            kv: BTreeMap::new(),
            cells: BTreeMap::new(),
            limiter,
            leased: BTreeMap::new(),
            tally: BTreeMap::new(),
            commands: 0,
        }
    }

    fn count(&mut self, key: u32, ok: bool) {
        let t = self.tally.entry(key).or_default();
        if ok {
            t.0 += 1;
        } else {
            t.1 += 1;
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
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
                self.cfg.level(ctx, key, count as f64);
                ctx.send(from, Msg::IncrReply { op, count });
            }
            Msg::Expire { key, ttl_ms } => {
                if let Some(e) = self.kv.get_mut(&key) {
                    e.1 = Some(now + ttl_ms * 1_000);
                }
            }
            Msg::Get { op, key, window } => {
                let value = self.cells.get(&(key, window)).copied().unwrap_or(0);
                ctx.send(from, Msg::GetReply { op, value });
            }
            Msg::Set { key, window, value } => {
                self.cells.insert((key, window), value);
                self.cfg.level(ctx, key, value as f64);
                // Old windows expire (what a TTL on the cell would do).
                let cutoff = (now / w).saturating_sub(2);
                self.cells.retain(|&(_, win), _| win >= cutoff);
            }
            Msg::Eval { op, key } => {
                let Some(l) = self.limiter.as_mut() else { return };
                let allowed = l.check(now, key);
                let level = l.level(now, key);
                self.count(key, allowed);
                if allowed {
                    ctx.observe(Obs::Admit { key, bypass: false });
                }
                self.cfg.level(ctx, key, level);
                ctx.send(from, Msg::EvalReply { op, allowed });
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
            _ => {}
        }
    }

    /// Rows for the per-key table: key, state, admitted, denied.
    pub fn rows(&self, now_us: u64) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
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
                for ((k, win), v) in self.cells.iter().filter(|((_, win), _)| *win == now_us / w) {
                    rows.push(vec![
                        format!("k{k}"),
                        format!("window #{win}: {v}/{}", self.cfg.policy.limit),
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
