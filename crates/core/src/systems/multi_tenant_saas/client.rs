//! One tenant's users, as one node: open-loop arrivals at the tenant's own rate (the big
//! tenant's rate follows the scenario's bursts: the spike), each a read or a write of one
//! of the tenant's resources, all carrying the tenant's token. It reports every rows
//! answer (for the cross-tenant check) and every request's true-time latency.

use super::auth::Token;
use super::msg::{Msg, Obs, Op, Outcome, TenantId};
use super::Ctx;
use crate::sim::node::Actor;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;
use std::collections::BTreeMap;

const TAG_ARRIVAL: u64 = 0;
/// Requests in flight at once per tenant client; arrivals beyond it fail at once.
pub const MAX_IN_FLIGHT: usize = 8_192;
/// Acknowledged writes a client remembers (for tests of the move; the oldest are kept).
pub const MAX_ACKED: usize = 4_096;

#[derive(Clone, Debug)]
pub struct ClientCfg {
    pub tenant: TenantId,
    pub token: Token,
    pub router: NodeId,
    /// This tenant's arrivals (rate is the tenant's own).
    pub workload: WorkloadSpec,
    pub resources: u32,
    pub write_pct: u64,
    pub timeout_ms: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub sent: u64,
    pub ok: u64,
    pub throttled: u64,
    pub failed: u64,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub cfg: ClientCfg,
    pending: BTreeMap<u64, (SimTime, Op)>,
    /// Writes the platform acknowledged: (resource, row id).
    pub acked_writes: Vec<(u32, u64)>,
    next_req: u64,
    pub tally: Tally,
}

impl Client {
    pub fn new(cfg: ClientCfg) -> Client {
        Client { cfg, pending: BTreeMap::new(), acked_writes: Vec::new(), next_req: 1, tally: Tally::default() }
    }

    fn schedule(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(at) = self.cfg.workload.next_arrival(ctx.now(), 1, ctx.rng) {
            ctx.set_timer(at.since(ctx.now()), TAG_ARRIVAL);
        }
    }

    fn finish(&mut self, sent: SimTime, ok: bool, ctx: &mut Ctx<'_>) {
        let latency = ctx.now().since(sent);
        ctx.metrics.request(ctx.now(), latency, ok);
        ctx.observe(Obs::Done { tenant: self.cfg.tenant, sent, latency, ok });
    }
}

impl Actor for Client {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        self.schedule(ctx);
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_>) {
        if tag != TAG_ARRIVAL {
            if let Some((sent, _)) = self.pending.remove(&tag) {
                self.tally.failed += 1;
                self.finish(sent, false, ctx);
            }
            return;
        }
        self.schedule(ctx);
        self.tally.sent += 1;
        if self.pending.len() >= MAX_IN_FLIGHT {
            self.tally.failed += 1;
            return;
        }
        let req = self.next_req;
        self.next_req += 1;
        let resource = ctx.rng.below(u64::from(self.cfg.resources.max(1))) as u32;
        let op = if ctx.rng.below(100) < self.cfg.write_pct { Op::Write { resource } } else { Op::Read { resource } };
        ctx.send(self.cfg.router, Msg::Req { req, token: self.cfg.token, op });
        self.pending.insert(req, (ctx.now(), op));
        ctx.set_timer(SimDuration::from_ms(self.cfg.timeout_ms), req);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_>) {
        let Msg::Resp { req, outcome } = msg else { return };
        let Some((sent, op)) = self.pending.remove(&req) else { return };
        let ok = matches!(outcome, Outcome::Rows(_) | Outcome::Written(_));
        match outcome {
            Outcome::Rows(rows) => {
                ctx.observe(Obs::Read { reader: self.cfg.tenant, rows: rows.iter().map(|r| r.id).collect() });
                self.tally.ok += 1;
            }
            Outcome::Written(id) => {
                self.tally.ok += 1;
                if let (Op::Write { resource }, true) = (op, self.acked_writes.len() < MAX_ACKED) {
                    self.acked_writes.push((resource, id));
                }
            }
            Outcome::Throttled => self.tally.throttled += 1,
            Outcome::Unavailable | Outcome::Denied => self.tally.failed += 1,
        }
        self.finish(sent, ok, ctx);
    }

    fn describe(&self) -> String {
        let t = &self.tally;
        format!("sent {}, ok {}, throttled {}, failed {}", t.sent, t.ok, t.throttled, t.failed)
    }
}
