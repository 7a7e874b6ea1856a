//! The router: the API tier and the control plane in one node. It verifies each token
//! (the tenant comes from the token only), applies the tenant's quota, looks the tenant up
//! in the placement map and sends the query to that shard in a session bound to the
//! tenant. It also moves the hot tenant: copy, catch up behind a write freeze, cut over
//! (a placement change), release the source. Each step is retried on a timer until the
//! shard confirms it, and each is idempotent at the shard.
//!
//! Durable: placement and the move's progress (the control plane's config store).
//! Volatile: the quota buckets and the queries in flight.

use super::auth::Issuer;
use super::msg::{Answer, Msg, Obs, Op, Outcome, TenantId};
use super::Ctx;
use crate::blocks::rate_limit::{Algorithm, Limiter, Policy};
use crate::sim::node::Actor;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

const TAG_MOVE: u64 = 1;
const TIMEOUT: u64 = 1 << 62;
const RETRY: u64 = 1 << 61;
const MOVE_TICK_MS: u64 = 200;
/// Queries in flight at once; more are refused as unavailable.
pub const MAX_PENDING: usize = 20_000;
/// A query re-sent after a "not here" (the tenant moved) waits this long, at most this
/// many times.
const RETRY_MS: u64 = 20;
const MAX_TRIES: u32 = 25;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Copying,
    CatchingUp { from: u64 },
    Releasing,
    Done,
}

#[derive(Clone, Copy, Debug)]
pub struct Move {
    pub tenant: TenantId,
    pub src: u32,
    pub dst: u32,
    pub step: Step,
}

#[derive(Clone, Debug)]
pub struct RouterCfg {
    pub issuer: Issuer,
    pub shards: Vec<NodeId>,
    /// Per-tenant quota (`None`: no quota).
    pub quota: Option<Policy>,
    pub query_timeout_ms: u64,
    /// When the hot tenant moves, and which tenant (`None`: no move).
    pub move_at: Option<(SimTime, TenantId)>,
}

#[derive(Clone, Debug)]
struct Pending {
    client: NodeId,
    req: u64,
    tenant: TenantId,
    op: Op,
    tries: u32,
}

#[derive(Clone, Debug)]
pub struct Router {
    pub cfg: RouterCfg,
    pub placement: Vec<u32>,
    pub mv: Option<Move>,
    limiter: Option<Limiter>,
    pending: BTreeMap<u64, Pending>,
    next_qid: u64,
    pub throttled: BTreeMap<TenantId, u64>,
    pub denied: u64,
    pub moved_at: Option<SimTime>,
}

impl Router {
    pub fn new(cfg: RouterCfg, placement: Vec<u32>) -> Router {
        let limiter = cfg.quota.map(|p| Limiter::new(Algorithm::TokenBucket, p));
        Router {
            cfg,
            placement,
            mv: None,
            limiter,
            pending: BTreeMap::new(),
            next_qid: 1,
            throttled: BTreeMap::new(),
            denied: 0,
            moved_at: None,
        }
    }

    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    fn send_query(&mut self, qid: u64, ctx: &mut Ctx<'_>) {
        let Some(p) = self.pending.get(&qid) else { return };
        let shard = self.placement.get(p.tenant as usize).copied().unwrap_or(0);
        let to = self.cfg.shards[shard as usize % self.cfg.shards.len()];
        ctx.send(to, Msg::Query { qid, tenant: p.tenant, op: p.op });
    }

    fn reply(&mut self, qid: u64, outcome: Outcome, ctx: &mut Ctx<'_>) {
        if let Some(p) = self.pending.remove(&qid) {
            ctx.send(p.client, Msg::Resp { req: p.req, outcome });
        }
    }

    /// The move's next instruction (sent again on every tick until confirmed).
    fn drive_move(&mut self, ctx: &mut Ctx<'_>) {
        let Some(m) = self.mv else { return };
        let (src, dst) = (self.cfg.shards[m.src as usize], m.dst);
        match m.step {
            Step::Copying => ctx.send(src, Msg::Snapshot { tenant: m.tenant, dst }),
            Step::CatchingUp { from } => ctx.send(src, Msg::Freeze { tenant: m.tenant, dst, from }),
            Step::Releasing => ctx.send(src, Msg::Release { tenant: m.tenant }),
            Step::Done => return,
        }
        ctx.set_timer(SimDuration::from_ms(MOVE_TICK_MS), TAG_MOVE);
    }

    /// Starts the planned move: to the shard with the fewest tenants (the last on a tie).
    fn start_move(&mut self, tenant: TenantId, ctx: &mut Ctx<'_>) {
        let src = self.placement[tenant as usize];
        let n = self.cfg.shards.len() as u32;
        let count = |s: u32| self.placement.iter().filter(|&&p| p == s).count();
        let Some(dst) = (0..n).rev().filter(|&s| s != src).min_by_key(|&s| count(s)) else {
            return;
        };
        ctx.note(format!("moving t{tenant} from shard-{src} to shard-{dst}"));
        self.mv = Some(Move { tenant, src, dst, step: Step::Copying });
        self.drive_move(ctx);
    }

    fn advance(&mut self, tenant: TenantId, from_step: fn(Step) -> bool, to: Step, ctx: &mut Ctx<'_>) {
        if let Some(m) = self.mv.as_mut().filter(|m| m.tenant == tenant && from_step(m.step)) {
            m.step = to;
            if to == Step::Releasing {
                // The cut-over: from now on the tenant's queries go to the destination.
                self.placement[tenant as usize] = m.dst;
                self.moved_at = Some(ctx.now());
                ctx.note(format!("cut over t{tenant} to shard-{}", m.dst));
            }
            self.drive_move(ctx);
        }
    }
}

impl Actor for Router {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        match (self.mv, self.cfg.move_at) {
            (Some(_), _) => self.drive_move(ctx),
            (None, Some((at, _))) => ctx.set_timer(at.since(ctx.now()), TAG_MOVE),
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.pending.clear();
        self.limiter = self.cfg.quota.map(|p| Limiter::new(Algorithm::TokenBucket, p));
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_>) {
        if tag == TAG_MOVE {
            match (self.mv, self.cfg.move_at) {
                (None, Some((_, tenant))) if self.cfg.shards.len() > 1 => self.start_move(tenant, ctx),
                (Some(_), _) => self.drive_move(ctx),
                _ => {}
            }
        } else if tag & TIMEOUT != 0 {
            self.reply(tag & !TIMEOUT, Outcome::Unavailable, ctx);
        } else if tag & RETRY != 0 {
            self.send_query(tag & !RETRY, ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_>) {
        match msg {
            Msg::Req { req, token, op } => {
                let Some(tenant) = self.cfg.issuer.verify(&token) else {
                    self.denied += 1;
                    ctx.send(from, Msg::Resp { req, outcome: Outcome::Denied });
                    return;
                };
                let now_us = ctx.local_time().0;
                if let Some(l) = self.limiter.as_mut() {
                    if !l.check(now_us, tenant) {
                        *self.throttled.entry(tenant).or_default() += 1;
                        ctx.send(from, Msg::Resp { req, outcome: Outcome::Throttled });
                        return;
                    }
                }
                if self.pending.len() >= MAX_PENDING {
                    ctx.send(from, Msg::Resp { req, outcome: Outcome::Unavailable });
                    return;
                }
                let qid = self.next_qid;
                self.next_qid += 1;
                self.pending.insert(qid, Pending { client: from, req, tenant, op, tries: 1 });
                self.send_query(qid, ctx);
                ctx.set_timer(SimDuration::from_ms(self.cfg.query_timeout_ms), qid | TIMEOUT);
            }
            Msg::Answered { qid, answer } => match answer {
                Answer::Rows(rows) => self.reply(qid, Outcome::Rows(rows), ctx),
                Answer::Written(id) => self.reply(qid, Outcome::Written(id), ctx),
                Answer::Busy => self.reply(qid, Outcome::Unavailable, ctx),
                Answer::NotHere => {
                    let Some(p) = self.pending.get_mut(&qid) else { return };
                    if p.tries >= MAX_TRIES {
                        self.reply(qid, Outcome::Unavailable, ctx);
                    } else {
                        p.tries += 1;
                        ctx.set_timer(SimDuration::from_ms(RETRY_MS), qid | RETRY);
                    }
                }
            },
            Msg::Copied { tenant, upto } => {
                self.advance(tenant, |s| s == Step::Copying, Step::CatchingUp { from: upto }, ctx)
            }
            Msg::CaughtUp { tenant } => {
                self.advance(tenant, |s| matches!(s, Step::CatchingUp { .. }), Step::Releasing, ctx)
            }
            Msg::Released { tenant } => self.advance(tenant, |s| s == Step::Releasing, Step::Done, ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        let mv = match self.mv {
            Some(m) => format!(", move t{} shard-{}→shard-{} {:?}", m.tenant, m.src, m.dst, m.step),
            None => String::new(),
        };
        format!("{} in flight{mv}", self.pending.len())
    }
}
