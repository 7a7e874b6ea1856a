//! An API server: it answers creates with the id generator of the chosen strategy and
//! redirects through an optional read-through LRU cache in front of the shards. It is
//! also an ID worker (its index is the Snowflake worker id). Shard requests time out so a
//! crashed shard turns into errors, never into a stuck client.

use super::idgen::{self, IdRange, Next, Snowflake};
use super::msg::{Created, Msg, Obs, Resolution};
use super::{Ctx, Strategy};
use crate::blocks::lru::Lru;
use crate::sim::node::Actor;
use crate::sim::rng::mix64;
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// Timer tags below this are special; above it a tag is an op id (its timeout).
const TAG_CLOCK: u64 = 1;
const FIRST_OP: u64 = 16;
const MAX_WAITING: usize = 1_000;
const MAX_ATTEMPTS: u32 = 8;
pub const RECENT: usize = 8;

/// Where an API server sends things.
#[derive(Clone, Debug)]
pub struct Wiring {
    pub strategy: Strategy,
    pub id_space: u64,
    pub shards: Vec<NodeId>,
    pub ticket: NodeId,
    pub op_timeout_ms: u64,
}

impl Wiring {
    /// The shard that stores `id`.
    pub fn shard_of(&self, id: u64) -> NodeId {
        self.shards[(mix64(id) % self.shards.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, Debug)]
struct Job {
    client: NodeId,
    req: u64,
    url: u64,
    attempts: u32,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Check(Job, u64),
    Put(Job, u64),
    Lookup { client: NodeId, req: u64, id: u64 },
    Range,
}

#[derive(Clone, Debug)]
pub struct Api {
    pub w: Wiring,
    cache: Option<Lru<u64, u64>>,
    ops: BTreeMap<u64, Op>,
    next_op: u64,
    pub range: IdRange,
    range_pending: bool,
    waiting: VecDeque<Job>,
    clock_timer: bool,
    pub sf: Snowflake,
    /// Recently issued ids: (true ms, id).
    pub recent: VecDeque<(u64, u64)>,
    pub issued: u64,
    pub refused: u64,
    pub hits: u64,
    pub misses: u64,
}

impl Api {
    pub fn new(w: Wiring, worker: u64, cache_size: Option<usize>) -> Api {
        let guard = w.strategy != Strategy::SnowflakeNaive;
        Api {
            w,
            cache: cache_size.map(Lru::new),
            ops: BTreeMap::new(),
            next_op: FIRST_OP,
            range: IdRange::default(),
            range_pending: false,
            waiting: VecDeque::new(),
            clock_timer: false,
            sf: Snowflake::new(worker, guard),
            recent: VecDeque::new(),
            issued: 0,
            refused: 0,
            hits: 0,
            misses: 0,
        }
    }

    pub fn cache_len(&self) -> Option<usize> {
        self.cache.as_ref().map(Lru::len)
    }

    fn start_op(&mut self, to: NodeId, op: Op, msg_of: impl FnOnce(u64) -> Msg, ctx: &mut Ctx<'_>) {
        let id = self.next_op;
        self.next_op += 1;
        self.ops.insert(id, op);
        ctx.send(to, msg_of(id));
        ctx.set_timer(SimDuration::from_ms(self.w.op_timeout_ms), id);
    }

    /// A reply of the wrong kind for its op (cannot happen with honest nodes): keep the op.
    fn restore(&mut self, op: u64, o: Option<Op>) {
        if let Some(o) = o {
            self.ops.insert(op, o);
        }
    }

    fn fail(&mut self, o: Op, ctx: &mut Ctx<'_>) {
        match o {
            Op::Check(job, _) | Op::Put(job, _) => {
                ctx.send(job.client, Msg::Shortened { req: job.req, result: Created::Failed })
            }
            Op::Lookup { client, req, .. } => ctx.send(client, Msg::Resolved { req, result: Resolution::Unavailable }),
            Op::Range => {
                self.range_pending = false;
                if !self.waiting.is_empty() {
                    self.request_range(ctx);
                }
            }
        }
    }

    fn resolve(&mut self, client: NodeId, req: u64, id: u64, ctx: &mut Ctx<'_>) {
        if let Some(c) = self.cache.as_mut() {
            if let Some(&url) = c.get(&id) {
                self.hits += 1;
                ctx.metrics.series.add("cache_hit", ctx.now(), 1.0);
                ctx.send(client, Msg::Resolved { req, result: Resolution::Found(url) });
                return;
            }
            self.misses += 1;
            ctx.metrics.series.add("cache_miss", ctx.now(), 1.0);
        }
        let shard = self.w.shard_of(id);
        self.start_op(shard, Op::Lookup { client, req, id }, |op| Msg::Get { op, id }, ctx);
    }

    fn put(&mut self, job: Job, id: u64, ctx: &mut Ctx<'_>) {
        let shard = self.w.shard_of(id);
        let url = job.url;
        self.start_op(shard, Op::Put(job, id), |op| Msg::Put { op, id, url }, ctx);
    }

    fn request_range(&mut self, ctx: &mut Ctx<'_>) {
        if !self.range_pending {
            self.range_pending = true;
            let ticket = self.w.ticket;
            self.start_op(ticket, Op::Range, |op| Msg::RangeReq { op }, ctx);
        }
    }

    fn park(&mut self, job: Job, ctx: &mut Ctx<'_>) -> bool {
        if self.waiting.len() >= MAX_WAITING {
            ctx.send(job.client, Msg::Shortened { req: job.req, result: Created::Failed });
            return false;
        }
        self.waiting.push_back(job);
        true
    }

    fn create(&mut self, job: Job, ctx: &mut Ctx<'_>) {
        match self.w.strategy {
            Strategy::Hash => self.put(job, idgen::hash_id(job.url, self.w.id_space), ctx),
            Strategy::Random => {
                let id = ctx.rng.below(self.w.id_space);
                let shard = self.w.shard_of(id);
                self.start_op(shard, Op::Check(job, id), |op| Msg::Get { op, id }, ctx);
            }
            Strategy::Counter => match self.range.take() {
                Some(id) => {
                    self.put(job, id, ctx);
                    if self.range.wants_refill() {
                        self.request_range(ctx);
                    }
                }
                None => {
                    if self.park(job, ctx) {
                        self.request_range(ctx);
                    }
                }
            },
            Strategy::Snowflake | Strategy::SnowflakeNaive => {
                let now_ms = ctx.local_time().0 / 1_000;
                match self.sf.next(now_ms) {
                    Next::Id(id) => self.put(job, id, ctx),
                    Next::Wait(ms) => {
                        if self.park(job, ctx) && !self.clock_timer {
                            self.clock_timer = true;
                            ctx.set_timer(SimDuration::from_ms(ms), TAG_CLOCK);
                        }
                    }
                    Next::Refuse(gap) => {
                        self.refused += 1;
                        ctx.metrics.add("refused_clock_behind", 1);
                        if self.refused == 1 {
                            ctx.note(format!("clock {gap} ms behind the last id: refusing creates"));
                        }
                        ctx.send(job.client, Msg::Shortened { req: job.req, result: Created::Refused });
                    }
                }
            }
        }
    }
}

impl Actor for Api {
    type Msg = Msg;
    type Obs = Obs;

    /// Memory is gone; the Snowflake reservation is on disk.
    fn on_crash(&mut self) {
        self.ops.clear();
        self.range = IdRange::default();
        self.range_pending = false;
        self.waiting.clear();
        self.clock_timer = false;
        self.sf.restart();
        if let Some(c) = self.cache.as_mut() {
            c.clear();
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_>) {
        match msg {
            Msg::Shorten { req, url } => self.create(Job { client: from, req, url, attempts: 0 }, ctx),
            Msg::Resolve { req, id } => self.resolve(from, req, id, ctx),
            Msg::GetReply { op, url } => match self.ops.remove(&op) {
                Some(Op::Check(job, id)) => match url {
                    None => self.put(job, id, ctx),
                    Some(_) if job.attempts + 1 < MAX_ATTEMPTS => {
                        ctx.metrics.add("id_retries", 1);
                        self.create(Job { attempts: job.attempts + 1, ..job }, ctx);
                    }
                    Some(_) => ctx.send(job.client, Msg::Shortened { req: job.req, result: Created::Failed }),
                },
                Some(Op::Lookup { client, req, id }) => {
                    let result = match url {
                        Some(u) => {
                            if let Some(c) = self.cache.as_mut() {
                                c.put(id, u);
                            }
                            Resolution::Found(u)
                        }
                        None => Resolution::Missing,
                    };
                    ctx.send(client, Msg::Resolved { req, result });
                }
                other => self.restore(op, other),
            },
            Msg::PutAck { op } => match self.ops.remove(&op) {
                Some(Op::Put(job, id)) => {
                    self.issued += 1;
                    if self.recent.len() >= RECENT {
                        self.recent.pop_front();
                    }
                    self.recent.push_back((ctx.now().0 / 1_000, id));
                    ctx.send(job.client, Msg::Shortened { req: job.req, result: Created::Id(id) });
                }
                other => self.restore(op, other),
            },
            Msg::Busy { op } => {
                if let Some(o) = self.ops.remove(&op) {
                    self.fail(o, ctx);
                }
            }
            Msg::RangeGrant { op, start, len } => {
                if let Some(Op::Range) = self.ops.remove(&op) {
                    self.range_pending = false;
                    self.range.refill(start, len);
                    ctx.metrics.add("ranges", 1);
                    let jobs: Vec<Job> = self.waiting.drain(..).collect();
                    for j in jobs {
                        self.create(j, ctx);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_>) {
        if tag == TAG_CLOCK {
            self.clock_timer = false;
            let jobs: Vec<Job> = self.waiting.drain(..).collect();
            for j in jobs {
                self.create(j, ctx);
            }
        } else if let Some(o) = self.ops.remove(&tag) {
            ctx.metrics.add("op_timeouts", 1);
            self.fail(o, ctx);
        }
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        match self.w.strategy {
            Strategy::Counter => parts.push(format!("ids {}..{}", self.range.next, self.range.end)),
            Strategy::Snowflake | Strategy::SnowflakeNaive => {
                parts.push(format!("w{} t{} s{}", self.sf.worker, self.sf.last_ms, self.sf.seq))
            }
            _ => {}
        }
        parts.push(format!("{} issued", self.issued));
        let looks = self.hits + self.misses;
        if let Some(pct) = (self.hits * 100).checked_div(looks) {
            parts.push(format!("hit {pct}%"));
        }
        parts.join(", ")
    }
}
