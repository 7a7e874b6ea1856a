//! A user (an analyst, or the query engine acting for one): searches the catalog by a word
//! (a name part, a column, a tag, a domain), opens a dataset's entry, or reads a table's
//! newest data files.
//!
//! A read decodes every record with a *reader schema*: the table's current schema, or the
//! one this user's query engine cached when it last looked, for `schema_cache_ms` — a job
//! compiled against last week's schema reads this week's files. Decoding follows Avro's
//! resolution rules (`blocks::avro_schema::decode`), and its outcome is observed as is.
//! What the user is shown is observed with the time the request was sent, for the
//! access check.

use super::msg::{DatasetId, Msg, Obs};
use crate::blocks::avro_schema::{decode, Schema};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// Requests a user waits on at once (older ones are forgotten).
pub const MAX_PENDING: usize = 64;
const ARRIVAL: u64 = 1;

#[derive(Clone, Debug)]
pub struct UserCfg {
    pub index: u32,
    pub catalog: NodeId,
    pub datasets: u32,
    pub ops_per_s: f64,
    pub schema_cache_ms: u64,
    /// Words to search for.
    pub vocabulary: Vec<String>,
    /// Requests are sent until then.
    pub until_ms: u64,
}

#[derive(Clone, Debug)]
pub struct User {
    pub cfg: UserCfg,
    next_req: u64,
    /// Volatile: request → when it was sent.
    pending: BTreeMap<u64, SimTime>,
    /// Volatile: the query engine's schema cache, dataset → (schema, cached at).
    cache: BTreeMap<DatasetId, (Schema, SimTime)>,
    pub seen: u64,
    pub denied: u64,
    pub decode_errors: u64,
}

impl User {
    pub fn new(cfg: UserCfg) -> User {
        User {
            cfg,
            next_req: 0,
            pending: BTreeMap::new(),
            cache: BTreeMap::new(),
            seen: 0,
            denied: 0,
            decode_errors: 0,
        }
    }

    fn next_arrival(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let gap_ms = ctx.rng.exponential(1_000.0 / self.cfg.ops_per_s.max(0.001));
        ctx.set_timer(SimDuration::from_ms(1).max(SimDuration((gap_ms * 1_000.0) as u64)), ARRIVAL);
    }

    fn request(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let req = self.next_req;
        self.next_req += 1;
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_first();
        }
        self.pending.insert(req, ctx.now());
        let dataset = ctx.rng.below(u64::from(self.cfg.datasets)) as DatasetId;
        let msg = match ctx.rng.below(4) {
            0 | 1 => {
                let term = ctx.rng.pick(&self.cfg.vocabulary).cloned().unwrap_or_default();
                Msg::Search { req, term }
            }
            2 => Msg::Get { req, dataset },
            _ => Msg::Read { req, dataset },
        };
        ctx.send(self.cfg.catalog, msg);
    }

    fn shown(&mut self, req: u64, datasets: Vec<DatasetId>, ctx: &mut Ctx<'_, Msg, Obs>) -> bool {
        let Some(sent) = self.pending.remove(&req) else { return false };
        self.seen += datasets.len() as u64;
        ctx.observe(Obs::Seen { user: self.cfg.index, sent, datasets });
        true
    }
}

impl Actor for User {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.next_arrival(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Results { req, datasets } => {
                self.shown(req, datasets, ctx);
            }
            Msg::Denied { req } => {
                let known = self.pending.remove(&req).is_some();
                self.denied += u64::from(known);
            }
            Msg::Files { req, dataset, current, files } => {
                if !self.shown(req, vec![dataset], ctx) {
                    return;
                }
                let now = ctx.now();
                let ttl = SimDuration::from_ms(self.cfg.schema_cache_ms);
                let reader = match self.cache.get(&dataset) {
                    Some((s, at)) if now < *at + ttl => s.clone(),
                    _ => {
                        self.cache.insert(dataset, (current.clone(), now));
                        current
                    }
                };
                for f in &files {
                    let error =
                        f.records.iter().find_map(|r| decode(&reader, &f.schema, r).err()).map(|e| e.to_string());
                    if error.is_some() {
                        self.decode_errors += 1;
                    }
                    let (writer, reader) = (f.schema.version, reader.version);
                    ctx.observe(Obs::Decoded { dataset, writer, reader, error });
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == ARRIVAL && ctx.now() < SimTime::from_ms(self.cfg.until_ms) {
            self.request(ctx);
            self.next_arrival(ctx);
        }
    }

    fn on_crash(&mut self) {
        self.pending.clear();
        self.cache.clear();
    }

    fn describe(&self) -> String {
        format!("{} shown, {} denied, {} decode errors", self.seen, self.denied, self.decode_errors)
    }
}
