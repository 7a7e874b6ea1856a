//! The query router: the proximity API. It plans each query with its design
//! ([`super::plan`]), scatters one search per shard, gathers the hits, merges them
//! (nearest first; a driver caught by two shards mid-move counts once, at its newest fix)
//! and answers. A geohash k-nearest search widens in rounds: it searches an eighth of the
//! horizon, and doubles the radius until k hits lie inside it — then everything nearer than
//! the k-th hit has been read, so the k are exact.
//!
//! A round that a shard leaves unanswered for [`ROUND_TIMEOUT_MS`], or that a full shard
//! refuses, fails the query: the client is told, rather than handed a partial answer that
//! looks complete. In-flight queries are capped ([`MAX_INFLIGHT`]).

use super::area::ShardMap;
use super::msg::{Ask, Hit, Msg, Obs, Query};
use super::plan::{self, Design};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

pub const ROUND_TIMEOUT_MS: u64 = 300;
pub const MAX_INFLIGHT: usize = 2_048;

#[derive(Clone, Debug)]
struct Pending {
    client: NodeId,
    client_id: u64,
    query: Query,
    round: u32,
    radii: Vec<f64>,
    waiting: BTreeSet<u16>,
    /// Hits gathered in this round, by driver (the newest version wins).
    hits: BTreeMap<u32, Hit>,
}

/// The last answered query, for the map.
#[derive(Clone, Debug)]
pub struct LastQuery {
    pub query: Query,
    pub radius_km: f64,
    pub hits: Vec<Hit>,
    pub searched: Vec<crate::blocks::geohash::Cell>,
    pub at: SimTime,
}

#[derive(Clone, Debug)]
pub struct Router {
    design: Design,
    map: ShardMap,
    shard_base: NodeId,
    next_qid: u64,
    pending: BTreeMap<u64, Pending>,
    pub answered: u64,
    pub failed: u64,
    pub rounds: u64,
    pub last: Option<LastQuery>,
}

impl Router {
    pub fn new(design: Design, map: ShardMap, shard_base: NodeId) -> Router {
        Router {
            design,
            map,
            shard_base,
            next_qid: 0,
            pending: BTreeMap::new(),
            answered: 0,
            failed: 0,
            rounds: 0,
            last: None,
        }
    }

    /// Sends round `p.round` of query `qid`.
    fn scatter(&mut self, qid: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.pending.get_mut(&qid) else { return };
        let r = p.radii[p.round as usize];
        let targets = plan::plan(self.design, &self.map, p.query.at.0, r);
        p.waiting = targets.iter().map(|t| t.0).collect();
        p.hits.clear();
        let limit = p.query.limit().map(|k| k as u32);
        self.rounds += 1;
        for (s, area) in targets {
            let msg = Msg::Search { qid, round: p.round, at: p.query.at, radius_km_bits: r.to_bits(), limit, area };
            ctx.send(self.shard_base + NodeId::from(s), msg);
        }
        ctx.set_timer(SimDuration::from_ms(ROUND_TIMEOUT_MS), qid << 8 | u64::from(p.round & 0xff));
        if p.waiting.is_empty() {
            self.gathered(qid, ctx);
        }
    }

    /// Every shard of the round answered: finish, or widen.
    fn gathered(&mut self, qid: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.pending.get_mut(&qid) else { return };
        let mut hits: Vec<Hit> = p.hits.values().copied().collect();
        hits.sort_by(|a, b| a.km.total_cmp(&b.km).then(a.id.cmp(&b.id)));
        let enough = match p.query.ask {
            Ask::Radius { .. } => true,
            Ask::Nearest { k, .. } => hits.len() >= k as usize,
        };
        if !enough && (p.round as usize) + 1 < p.radii.len() {
            p.round += 1;
            self.scatter(qid, ctx);
            return;
        }
        let Some(p) = self.pending.remove(&qid) else { return };
        if let Some(k) = p.query.limit() {
            hits.truncate(k);
        }
        let r = p.radii[p.round as usize];
        ctx.observe(Obs::Answered { qid, hits: hits.iter().map(|h| (h.id, h.km)).collect() });
        self.answered += 1;
        let searched = match self.design {
            Design::CellOnly | Design::Neighbours => plan::cells(self.design, p.query.at.0, r),
            _ => Vec::new(),
        };
        self.last = Some(LastQuery { query: p.query, radius_km: r, hits: hits.clone(), searched, at: ctx.now() });
        ctx.send(p.client, Msg::Found { id: p.client_id, hits: Some(hits) });
    }

    fn fail(&mut self, qid: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(p) = self.pending.remove(&qid) {
            self.failed += 1;
            ctx.observe(Obs::GaveUp { qid });
            ctx.send(p.client, Msg::Found { id: p.client_id, hits: None });
        }
    }
}

impl Actor for Router {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Find { id, query } => {
                if self.pending.len() >= MAX_INFLIGHT {
                    self.failed += 1;
                    ctx.send(from, Msg::Found { id, hits: None });
                    return;
                }
                self.next_qid += 1;
                let qid = self.next_qid;
                let radii = match (self.design.widens(), query.ask) {
                    (true, Ask::Nearest { .. }) => plan::rounds(query.reach_km()),
                    _ => vec![query.reach_km()],
                };
                ctx.observe(Obs::Issued { qid, query });
                let p = Pending {
                    client: from,
                    client_id: id,
                    query,
                    round: 0,
                    radii,
                    waiting: BTreeSet::new(),
                    hits: BTreeMap::new(),
                };
                self.pending.insert(qid, p);
                self.scatter(qid, ctx);
            }
            Msg::Hits { qid, round, hits } => {
                let Some(shard) = from.checked_sub(self.shard_base).map(|s| s as u16) else { return };
                let Some(p) = self.pending.get_mut(&qid) else { return };
                if p.round != round || !p.waiting.remove(&shard) {
                    return;
                }
                for h in hits {
                    match p.hits.get(&h.id) {
                        Some(old) if old.version >= h.version => {}
                        _ => {
                            p.hits.insert(h.id, h);
                        }
                    }
                }
                if p.waiting.is_empty() {
                    self.gathered(qid, ctx);
                }
            }
            Msg::Busy { qid, round } if self.pending.get(&qid).is_some_and(|p| p.round == round) => {
                self.fail(qid, ctx);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let (qid, round) = (tag >> 8, (tag & 0xff) as u32);
        if self.pending.get(&qid).is_some_and(|p| p.round & 0xff == round) {
            self.fail(qid, ctx);
        }
    }

    fn on_crash(&mut self) {
        self.pending.clear();
    }

    fn describe(&self) -> String {
        format!("{} in flight · {} answered · {} failed", self.pending.len(), self.answered, self.failed)
    }
}
