//! A client population behind a load balancer (modelled in the client: each request goes
//! to a random API server). Open-loop arrivals from the scenario's workload; each is a
//! create (a fresh URL) or a redirect of a link this client created, chosen by Zipf
//! popularity over its links in creation order, so its first link is the viral one. A
//! refused create (that server's clock went back) is retried on the next server.

use super::msg::{Created, Msg, Obs, Resolution};
use super::Ctx;
use crate::sim::node::Actor;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::{KeySampler, WorkloadSpec};
use crate::sim::NodeId;
use std::collections::BTreeMap;

pub const REDIRECT_LATENCY: &str = "redirect_latency_us";
const TAG_ARRIVAL: u64 = 0;
const MAX_LINKS: usize = 20_000;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Create { url: u64, tries: u32, api: usize },
    Redirect { id: u64, url: u64 },
}

#[derive(Clone, Debug)]
pub struct Client {
    index: u64,
    clients: u32,
    apis: Vec<NodeId>,
    workload: WorkloadSpec,
    keys: KeySampler,
    create_pct: u64,
    timeout_ms: u64,
    /// Links this client created: (id, url), oldest first.
    pub links: Vec<(u64, u64)>,
    next_url: u64,
    next_req: u64,
    pending: BTreeMap<u64, (SimTime, Kind)>,
    pub failed: u64,
}

impl Client {
    pub fn new(
        index: u64,
        clients: u32,
        apis: Vec<NodeId>,
        workload: WorkloadSpec,
        create_pct: u64,
        timeout_ms: u64,
    ) -> Client {
        let keys = workload.key_sampler();
        Client {
            index,
            clients,
            apis,
            workload,
            keys,
            create_pct,
            timeout_ms,
            links: Vec::new(),
            next_url: 0,
            next_req: 1,
            pending: BTreeMap::new(),
            failed: 0,
        }
    }

    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    fn schedule(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(at) = self.workload.next_arrival(ctx.now(), self.clients, ctx.rng) {
            ctx.set_timer(at - ctx.now(), TAG_ARRIVAL);
        }
    }

    fn arrival(&mut self, ctx: &mut Ctx<'_>) {
        let req = self.next_req;
        self.next_req += 1;
        let api = ctx.rng.below(self.apis.len() as u64) as usize;
        let create = self.links.is_empty() || ctx.rng.below(100) < self.create_pct;
        let kind = if create {
            let url = self.index << 32 | self.next_url;
            self.next_url += 1;
            ctx.send(self.apis[api], Msg::Shorten { req, url });
            Kind::Create { url, tries: 1, api }
        } else {
            let rank = self.keys.sample(ctx.rng) as usize;
            let (id, url) = self.links[rank % self.links.len()];
            ctx.send(self.apis[api], Msg::Resolve { req, id });
            Kind::Redirect { id, url }
        };
        self.pending.insert(req, (ctx.now(), kind));
        ctx.set_timer(SimDuration::from_ms(self.timeout_ms), req);
    }

    fn finish(&mut self, sent: SimTime, kind: Kind, ok: bool, ctx: &mut Ctx<'_>) {
        let latency = ctx.now() - sent;
        ctx.metrics.request(ctx.now(), latency, ok);
        if !ok {
            self.failed += 1;
        }
        if let Kind::Redirect { .. } = kind {
            ctx.metrics.observe(REDIRECT_LATENCY, latency.0);
            ctx.observe(Obs::RedirectTimed { sent, latency });
        }
    }
}

impl Actor for Client {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        self.schedule(ctx);
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_>) {
        if tag == TAG_ARRIVAL {
            self.arrival(ctx);
            self.schedule(ctx);
        } else if let Some((sent, kind)) = self.pending.remove(&tag) {
            self.finish(sent, kind, false, ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_>) {
        match msg {
            Msg::Shortened { req, result } => {
                let Some((sent, kind)) = self.pending.remove(&req) else {
                    return;
                };
                let Kind::Create { url, tries, api } = kind else {
                    return;
                };
                match result {
                    Created::Id(id) => {
                        if self.links.len() < MAX_LINKS {
                            self.links.push((id, url));
                        }
                        ctx.observe(Obs::Issued { id, url, api: from });
                        self.finish(sent, kind, true, ctx);
                    }
                    Created::Refused if (tries as usize) < self.apis.len() => {
                        let next = (api + 1) % self.apis.len();
                        ctx.send(self.apis[next], Msg::Shorten { req, url });
                        self.pending.insert(req, (sent, Kind::Create { url, tries: tries + 1, api: next }));
                    }
                    Created::Refused | Created::Failed => self.finish(sent, kind, false, ctx),
                }
            }
            Msg::Resolved { req, result } => {
                let Some((sent, kind)) = self.pending.remove(&req) else {
                    return;
                };
                let Kind::Redirect { id, url } = kind else {
                    return;
                };
                if result != Resolution::Unavailable {
                    ctx.observe(Obs::Redirect { id, want: url, got: result });
                }
                self.finish(sent, kind, result != Resolution::Unavailable, ctx);
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} links, {} in flight, {} failed", self.links.len(), self.pending.len(), self.failed)
    }
}
