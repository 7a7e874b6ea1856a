//! The client: an open-loop mix of puts and gets over `objects` keys. Every object it puts
//! starts with its request id (8 bytes, little-endian) followed by seeded random bytes, so
//! whatever a read returns names the put it came from. The client reports what it sent
//! and what it was told, in true time: the record the checks judge the store against.

use super::msg::{digest, req_of, Key, Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimTime;
use crate::sim::workload::{KeySampler, WorkloadSpec};
use crate::sim::NodeId;
use std::collections::BTreeMap;

const ARRIVAL: u64 = 1;
/// Requests the client keeps open at once; past it an arrival is skipped (and counted).
pub const MAX_OUTSTANDING: usize = 2_000;
/// Puts one run may issue: every version is kept, so this caps the bytes stored whatever
/// rate and duration a link asks for.
pub const MAX_PUTS: u64 = 5_000;

#[derive(Clone, Debug)]
pub struct ClientCfg {
    pub frontend: NodeId,
    pub workload: WorkloadSpec,
    pub put_pct: u64,
    pub object_size: usize,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub cfg: ClientCfg,
    sampler: KeySampler,
    next_req: u64,
    puts: BTreeMap<u64, Key>,
    gets: BTreeMap<u64, (Key, SimTime)>,
    pub acked: u64,
    pub put_failed: u64,
    pub reads_ok: u64,
    pub reads_failed: u64,
    pub skipped: u64,
    pub issued: u64,
}

impl Client {
    pub fn new(cfg: ClientCfg) -> Client {
        let sampler = cfg.workload.key_sampler();
        Client {
            cfg,
            sampler,
            next_req: 0,
            puts: BTreeMap::new(),
            gets: BTreeMap::new(),
            acked: 0,
            put_failed: 0,
            reads_ok: 0,
            reads_failed: 0,
            skipped: 0,
            issued: 0,
        }
    }

    fn schedule(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(at) = self.cfg.workload.next_arrival(ctx.now(), 1, ctx.rng) {
            ctx.set_timer(at.since(ctx.now()), ARRIVAL);
        }
    }

    fn arrive(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let key = self.sampler.sample(ctx.rng);
        let put = ctx.rng.below(100) < self.cfg.put_pct;
        if self.puts.len() + self.gets.len() >= MAX_OUTSTANDING || (put && self.issued >= MAX_PUTS) {
            self.skipped += 1;
            return;
        }
        self.next_req += 1;
        let req = self.next_req;
        if put {
            self.issued += 1;
            let mut data = req.to_le_bytes().to_vec();
            while data.len() < self.cfg.object_size.max(8) {
                data.extend_from_slice(&ctx.rng.next_u64().to_le_bytes());
            }
            data.truncate(self.cfg.object_size.max(8));
            ctx.observe(Obs::PutIssued { req, key, data: data.clone() });
            self.puts.insert(req, key);
            ctx.send(self.cfg.frontend, Msg::Put { req, key, data });
        } else {
            self.gets.insert(req, (key, ctx.now()));
            ctx.send(self.cfg.frontend, Msg::Get { req, key });
        }
    }
}

impl Actor for Client {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.schedule(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::PutAck { req, key, version } if self.puts.remove(&req).is_some() => {
                self.acked += 1;
                ctx.observe(Obs::PutAcked { req, key, version });
            }
            Msg::PutFail { req } if self.puts.remove(&req).is_some() => {
                self.put_failed += 1;
            }
            Msg::GetReply { req, key, found } => {
                if let Some((_, sent)) = self.gets.remove(&req) {
                    self.reads_ok += 1;
                    let found = found.map(|(v, b)| (v, digest(&b), req_of(&b)));
                    ctx.observe(Obs::ReadDone { key, sent_us: sent.0, found });
                }
            }
            Msg::GetFail { req } if self.gets.remove(&req).is_some() => {
                self.reads_failed += 1;
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == ARRIVAL {
            self.arrive(ctx);
            self.schedule(ctx);
        }
    }

    fn on_crash(&mut self) {
        self.puts.clear();
        self.gets.clear();
    }

    fn describe(&self) -> String {
        format!("{} acked, {} reads", self.acked, self.reads_ok)
    }
}
