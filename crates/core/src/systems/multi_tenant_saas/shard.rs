//! A shard: a database server holding some tenants' rows. It runs one query at a time
//! (`op_us` each) from its run queue (FIFO or fair per tenant), records usage in a durable
//! outbox it ships to the meter until acknowledged, and plays the source or destination
//! part of a tenant move: snapshot copy, change log for the catch-up, write freeze,
//! release.
//!
//! Durable (survives a crash): rows, which tenants it owns or has frozen, the move change
//! log, the usage outbox, the row-id counter. Volatile: the run queue and connections.

use super::fairq::RunQueue;
use super::msg::{Answer, Msg, Obs, Op, Row, TenantId};
use super::store::{Isolation, Store};
use super::Ctx;
use crate::sim::node::Actor;
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

const TAG_DONE: u64 = 1;
const TAG_FLUSH: u64 = 2;
const TAG_COPY: u64 = 3;
/// Streaming a snapshot takes time: a fixed setup plus a share of a query per row. Writes
/// keep arriving meanwhile, which is what the catch-up is for.
pub const COPY_SETUP_US: u64 = 50_000;
/// How often unacknowledged usage is (re)sent to the meter.
pub const FLUSH_MS: u64 = 100;
/// Usage events per message.
const USAGE_BATCH: usize = 512;
pub const QUEUE_PER_TENANT: usize = 256;
pub const QUEUE_TOTAL: usize = 2_048;

#[derive(Clone, Debug)]
pub struct ShardCfg {
    pub index: u32,
    pub meter: NodeId,
    pub router: NodeId,
    /// Node ids of every shard, by shard index (a move names its destination by index).
    pub shards: Vec<NodeId>,
    pub fair: bool,
    pub op_us: u64,
}

type Job = (NodeId, u64, Op);

/// A snapshot being streamed out: (tenant, destination, rows, log position).
type Snapshot = (TenantId, NodeId, Vec<(u32, Row)>, u64);

#[derive(Clone, Debug)]
pub struct Shard {
    pub cfg: ShardCfg,
    pub store: Store,
    pub owned: BTreeSet<TenantId>,
    pub frozen: BTreeSet<TenantId>,
    /// Tenants being copied out, and every write of theirs since: (lsn, resource, row).
    moving: BTreeMap<TenantId, Vec<(u64, u32, Row)>>,
    /// Tenants copied in, with the log position their copy is complete to.
    copied_upto: BTreeMap<TenantId, u64>,
    /// A snapshot being streamed out.
    copying: Option<Snapshot>,
    lsn: u64,
    next_row: u64,
    outbox: VecDeque<TenantId>,
    /// Sequence number of `outbox[0]`.
    outbox_base: u64,
    pub served: BTreeMap<TenantId, u64>,
    pub refused: u64,
    queue: RunQueue<Job>,
    current: Option<(TenantId, Job)>,
}

impl Shard {
    pub fn new(cfg: ShardCfg, isolation: Isolation, bind_tenant: bool, owned: BTreeSet<TenantId>) -> Shard {
        let queue = RunQueue::new(cfg.fair, QUEUE_PER_TENANT, QUEUE_TOTAL);
        Shard {
            cfg,
            store: Store::new(isolation, bind_tenant),
            owned,
            frozen: BTreeSet::new(),
            moving: BTreeMap::new(),
            copied_upto: BTreeMap::new(),
            copying: None,
            lsn: 0,
            next_row: 0,
            outbox: VecDeque::new(),
            outbox_base: 0,
            served: BTreeMap::new(),
            refused: 0,
            queue,
            current: None,
        }
    }

    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    pub fn queued_of(&self, tenant: TenantId) -> usize {
        self.queue.len_of(tenant)
    }

    pub fn unacked_usage(&self) -> usize {
        self.outbox.len()
    }

    fn start_next(&mut self, ctx: &mut Ctx<'_>) {
        if self.current.is_none() {
            if let Some(job) = self.queue.pop() {
                self.current = Some(job);
                ctx.set_timer(SimDuration(self.cfg.op_us), TAG_DONE);
            }
        }
    }

    /// Runs the query at the head of the queue.
    fn execute(&mut self, tenant: TenantId, op: Op) -> Answer {
        if !self.owned.contains(&tenant) {
            return Answer::NotHere;
        }
        match op {
            Op::Read { resource } => Answer::Rows(self.store.read(tenant, resource)),
            Op::Write { resource } => {
                if self.frozen.contains(&tenant) {
                    return Answer::NotHere;
                }
                self.next_row += 1;
                let row = Row { id: u64::from(self.cfg.index + 1) << 40 | self.next_row, writer: tenant };
                let ns = self.store.write(tenant, resource, row);
                if let Some(log) = self.moving.get_mut(&ns) {
                    self.lsn += 1;
                    log.push((self.lsn, resource, row));
                }
                Answer::Written(row.id)
            }
        }
    }

    fn flush_usage(&mut self, ctx: &mut Ctx<'_>) {
        if !self.outbox.is_empty() {
            let tenants = self.outbox.iter().take(USAGE_BATCH).copied().collect();
            ctx.send(self.cfg.meter, Msg::Usage { shard: self.cfg.index, from: self.outbox_base, tenants });
        }
        ctx.set_timer(SimDuration::from_ms(FLUSH_MS), TAG_FLUSH);
    }
}

impl Actor for Shard {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        ctx.set_timer(SimDuration::from_ms(FLUSH_MS), TAG_FLUSH);
    }

    fn on_crash(&mut self) {
        self.queue.clear();
        self.current = None;
        self.copying = None;
        self.store.reset_connections();
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_>) {
        match tag {
            TAG_DONE => {
                let Some((tenant, (from, qid, op))) = self.current.take() else {
                    return;
                };
                let answer = self.execute(tenant, op);
                match &answer {
                    Answer::Rows(_) | Answer::Written(_) => {
                        if let Answer::Written(id) = answer {
                            ctx.observe(Obs::Wrote { id, writer: tenant });
                        }
                        *self.served.entry(tenant).or_default() += 1;
                        self.outbox.push_back(tenant);
                        ctx.observe(Obs::Served { tenant, shard: self.cfg.index });
                    }
                    _ => self.refused += 1,
                }
                ctx.send(from, Msg::Answered { qid, answer });
                self.start_next(ctx);
            }
            TAG_FLUSH => self.flush_usage(ctx),
            TAG_COPY => {
                if let Some((tenant, to, rows, upto)) = self.copying.take() {
                    ctx.send(to, Msg::CopyRows { tenant, rows, upto });
                }
            }
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_>) {
        match msg {
            Msg::Query { qid, tenant, op } => {
                if let Err((from, qid, _)) = self.queue.push(tenant, (from, qid, op)) {
                    self.refused += 1;
                    ctx.send(from, Msg::Answered { qid, answer: Answer::Busy });
                }
                self.start_next(ctx);
            }
            Msg::UsageAck { upto } => {
                while self.outbox_base < upto && self.outbox.pop_front().is_some() {
                    self.outbox_base += 1;
                }
            }
            Msg::Snapshot { tenant, dst } => {
                let Some(&to) = self.cfg.shards.get(dst as usize) else {
                    return;
                };
                if !self.owned.contains(&tenant) {
                    return;
                }
                if self.copying.is_some() {
                    return;
                }
                self.moving.entry(tenant).or_default();
                let rows = self.store.rows_of(tenant);
                let took = COPY_SETUP_US + rows.len() as u64 * self.cfg.op_us / 2;
                self.copying = Some((tenant, to, rows, self.lsn));
                ctx.set_timer(SimDuration(took), TAG_COPY);
            }
            // A copy of a tenant this shard already serves is stale: ignored.
            Msg::CopyRows { tenant, rows, upto } if !self.owned.contains(&tenant) => {
                self.store.load(tenant, &rows);
                self.copied_upto.insert(tenant, upto);
                ctx.send(self.cfg.router, Msg::Copied { tenant, upto });
            }
            Msg::Freeze { tenant, dst, from: after } => {
                let Some(&to) = self.cfg.shards.get(dst as usize) else {
                    return;
                };
                if !self.owned.contains(&tenant) {
                    return;
                }
                self.frozen.insert(tenant);
                let changes = self
                    .moving
                    .get(&tenant)
                    .map(|log| log.iter().filter(|(l, _, _)| *l > after).copied().collect())
                    .unwrap_or_default();
                ctx.send(to, Msg::CatchUp { tenant, changes });
            }
            Msg::CatchUp { tenant, changes } => {
                if !self.owned.contains(&tenant) {
                    let upto = self.copied_upto.get(&tenant).copied().unwrap_or(0);
                    for (lsn, resource, row) in changes {
                        if lsn > upto {
                            self.store.apply(tenant, resource, row);
                        }
                    }
                    self.owned.insert(tenant);
                    self.copied_upto.remove(&tenant);
                }
                ctx.send(self.cfg.router, Msg::CaughtUp { tenant });
            }
            Msg::Release { tenant } => {
                if self.owned.remove(&tenant) {
                    self.store.drop_tenant(tenant);
                }
                self.frozen.remove(&tenant);
                self.moving.remove(&tenant);
                ctx.send(from, Msg::Released { tenant });
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        let tenants: Vec<String> = self.owned.iter().map(|t| format!("t{t}")).collect();
        format!(
            "tenants [{}], {} rows, queue {}, {} usage unacked",
            tenants.join(" "),
            self.store.row_count(),
            self.queue.len(),
            self.outbox.len()
        )
    }
}
