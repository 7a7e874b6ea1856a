//! A service with its own local database: order, inventory, billing or shipping.
//!
//! Durable (survives a crash): the effect rows per order, the order rows (order service),
//! the outbox, the processed-event-id table, the event sequence number, the schemas in
//! use. Volatile: fetch positions (after a crash the consumer resumes from its group's
//! committed offset on the bus), the dual-write producer buffer, pending deploy chatter.
//!
//! One local transaction per consumed event: decode the body, skip it if its id is in the
//! processed table (idempotent consumer), else write the effect row, the id, and the
//! events it causes — into the outbox (same transaction) or, in the dual-write design, a
//! producer buffer in memory that a linger timer flushes to the bus after the commit.
//! A crash in between loses the buffer: the database says it happened, the bus never hears.
//!
//! Offsets are committed on a timer, after the effects: a crash in between redelivers
//! records whose effects are already in the database (at-least-once delivery).

use super::msg::{Effect, Event, EventId, Kind, Msg, Obs, PartitionRecords, Svc, Topic};
use super::saga::{self, Action};
use super::schema::{self, Change, OrderData, Schema};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

const POLL: u64 = 1;
const COMMIT: u64 = 2;
const LINGER: u64 = 3;
const NEXT_ORDER: u64 = 4;
const DEPLOY: u64 = 5;
const TRIM: u64 = 6;

/// How long a fetch, a produce or a deploy message waits before it is sent again.
pub const RETRY_MS: u64 = 200;
/// Records a consumer processes per fetched partition.
pub const MAX_FETCH: usize = 32;

#[derive(Clone, Debug)]
pub struct SvcCfg {
    pub svc: Svc,
    pub outbox: bool,
    pub dedup: bool,
    pub orchestrated: bool,
    pub dlq: bool,
    /// `None`: deploy a schema change without asking anyone.
    pub registry: Option<NodeId>,
    pub bus: NodeId,
    pub billing: NodeId,
    pub partitions: u32,
    pub poll_ms: u64,
    pub commit_ms: u64,
    pub linger_ms: u64,
    pub dedup_retain_ms: u64,
    /// Chance (%) that this service's step fails for a business reason.
    pub fail_pct: u64,
    pub change: Change,
    pub deploy_at_ms: u64,
    /// Order service: new orders per second while the workload runs.
    pub orders_per_s: f64,
    pub workload_ms: u64,
}

/// What the order service keeps per order besides effect rows: its data and saga log.
#[derive(Clone, Debug)]
pub struct OrderRow {
    pub data: OrderData,
    pub at_ms: f64,
    /// Orchestrator: the commands it sent, in order.
    pub steps: Vec<Kind>,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub cfg: SvcCfg,
    // Durable.
    pub orders: BTreeMap<u64, OrderRow>,
    pub effects: BTreeMap<u64, Vec<Effect>>,
    pub outbox: VecDeque<(u64, Event)>,
    next_row: u64,
    pub processed: BTreeMap<EventId, u64>,
    seq: u64,
    next_order: u64,
    pub writer: Schema,
    pub reader: Schema,
    deploy_resolved: bool,
    billing_acked: bool,
    // Volatile.
    positions: BTreeMap<(Topic, u32), u64>,
    sent_commits: BTreeMap<(Topic, u32), u64>,
    fetching: Option<SimTime>,
    buffer: Vec<Event>,
    in_flight: Option<(u64, Vec<Event>, SimTime)>,
    batch: u64,
    stuck: BTreeSet<EventId>,
    register_sent: Option<SimTime>,
    pub applied: u64,
    pub skipped: u64,
}

impl Service {
    pub fn new(cfg: SvcCfg) -> Service {
        Service {
            cfg,
            orders: BTreeMap::new(),
            effects: BTreeMap::new(),
            outbox: VecDeque::new(),
            next_row: 0,
            processed: BTreeMap::new(),
            seq: 0,
            next_order: 0,
            writer: schema::v1(),
            reader: schema::v1(),
            deploy_resolved: false,
            billing_acked: false,
            positions: BTreeMap::new(),
            sent_commits: BTreeMap::new(),
            fetching: None,
            buffer: Vec::new(),
            in_flight: None,
            batch: 0,
            stuck: BTreeSet::new(),
            register_sent: None,
            applied: 0,
            skipped: 0,
        }
    }

    fn timer(ctx: &mut Ctx<'_, Msg, Obs>, ms: u64, tag: u64) {
        ctx.set_timer(SimDuration::from_ms(ms), tag);
    }

    /// The reader schema this service decodes bodies with: inventory and shipping keep a
    /// projection of v1 (they were never redeployed); billing and the order service use
    /// whatever version was last deployed to them.
    pub fn reader_schema(&self) -> Schema {
        match self.cfg.svc {
            Svc::Inventory | Svc::Shipping => schema::project(&schema::v1(), &["order", "sku"]),
            Svc::Order | Svc::Billing => self.reader.clone(),
        }
    }

    fn new_event(&mut self, kind: Kind, order: u64, topic: Topic, body: schema::Body) -> Event {
        self.seq += 1;
        Event { id: (u64::from(self.cfg.svc.index()) << 32) | self.seq, kind, order, topic, body }
    }

    /// Hands events to the publishing path chosen by the design: outbox rows (the same
    /// local transaction as the effect) or the in-memory producer buffer (dual write).
    fn publish(&mut self, events: Vec<Event>, ctx: &mut Ctx<'_, Msg, Obs>) {
        for e in events {
            if self.cfg.outbox {
                self.next_row += 1;
                self.outbox.push_back((self.next_row, e));
                ctx.metrics.add("outbox_rows", 1);
            } else {
                self.buffer.push(e);
            }
        }
    }

    fn place_order(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.next_order += 1;
        let order = self.next_order;
        let data =
            OrderData { order, amount_cents: ctx.rng.between(500, 20_000) as i64, sku: ctx.rng.below(50) as u32 };
        let body = schema::encode(&self.writer, &data);
        let (kind, topic) = if self.cfg.orchestrated {
            (Kind::ReserveStock, Topic::Commands)
        } else {
            (Kind::OrderPlaced, Topic::Orders)
        };
        let steps = if self.cfg.orchestrated { vec![Kind::ReserveStock] } else { Vec::new() };
        self.orders.insert(order, OrderRow { data, at_ms: ctx.now().as_ms(), steps });
        let e = self.new_event(kind, order, topic, body);
        self.publish(vec![e], ctx);
        ctx.observe(Obs::OrderCommitted { order });
        ctx.metrics.add("orders", 1);
    }

    /// One consumed record: `Ok(())` to move past it, `Err(())` to stay stuck on it.
    fn consume(&mut self, ev: Event, ctx: &mut Ctx<'_, Msg, Obs>) -> Result<(), ()> {
        let svc = self.cfg.svc;
        let Some(action) = saga::react(svc, self.cfg.orchestrated, ev.kind) else { return Ok(()) };
        if let Err(why) = schema::decode(&self.reader_schema(), &ev.body) {
            if self.stuck.insert(ev.id) {
                ctx.metrics.add("parse_failures", 1);
                ctx.note(format!("{} cannot parse {ev}: {why}", svc.name()));
                ctx.observe(Obs::ParseFailed { svc, event: ev.clone(), reason: why.to_string() });
            }
            if !self.cfg.dlq {
                return Err(());
            }
            self.stuck.remove(&ev.id);
            let mut dead = ev;
            dead.topic = Topic::Dlq;
            ctx.metrics.add("dead_letters", 1);
            self.publish(vec![dead], ctx);
            return Ok(());
        }
        if self.cfg.dedup {
            if self.processed.contains_key(&ev.id) {
                self.skipped += 1;
                ctx.metrics.add("duplicates_skipped", 1);
                return Ok(());
            }
            self.processed.insert(ev.id, ctx.now().as_ms() as u64);
        }
        let failed = saga::can_fail(action) && ctx.rng.chance(self.cfg.fail_pct as f64 / 100.0);
        let (effect, emit) = saga::outcome(action, failed);
        if let Some(effect) = effect {
            self.effects.entry(ev.order).or_default().push(effect);
            self.applied += 1;
            ctx.metrics.add("effects", 1);
            ctx.observe(Obs::Applied { svc, order: ev.order, effect });
        }
        if let Some(kind) = emit {
            let (topic, body) = match action {
                Action::Command(_) => {
                    let body = match self.orders.get_mut(&ev.order) {
                        Some(row) => {
                            row.steps.push(kind);
                            schema::encode(&self.writer, &row.data)
                        }
                        None => ev.body.clone(),
                    };
                    (Topic::Commands, body)
                }
                _ => (saga::own_topic(svc), ev.body.clone()),
            };
            let e = self.new_event(kind, ev.order, topic, body);
            self.publish(vec![e], ctx);
        }
        Ok(())
    }

    fn fetch(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.fetching.is_some_and(|t| ctx.now().since(t) < SimDuration::from_ms(RETRY_MS)) {
            return;
        }
        let mut positions = Vec::new();
        for &t in saga::subscriptions(self.cfg.svc, self.cfg.orchestrated) {
            for p in 0..self.cfg.partitions {
                positions.push((t, p, self.positions.get(&(t, p)).copied()));
            }
        }
        self.fetching = Some(ctx.now());
        ctx.send(self.cfg.bus, Msg::Fetch { positions });
    }

    fn on_records(&mut self, parts: Vec<PartitionRecords>, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.fetching = None;
        for (t, p, records) in parts {
            for (offset, ev) in records {
                if self.consume(ev, ctx).is_err() {
                    self.positions.insert((t, p), offset);
                    break;
                }
                self.positions.insert((t, p), offset + 1);
            }
        }
    }

    fn commit_offsets(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let offsets: Vec<(Topic, u32, u64)> = self
            .positions
            .iter()
            .filter(|(k, v)| self.sent_commits.get(k) != Some(v))
            .map(|(&(t, p), &o)| (t, p, o))
            .collect();
        if offsets.is_empty() {
            return;
        }
        for &(t, p, o) in &offsets {
            self.sent_commits.insert((t, p), o);
        }
        ctx.send(self.cfg.bus, Msg::CommitOffsets { offsets });
    }

    /// Dual write: flush the producer buffer (one batch in flight, resent until acked).
    fn linger(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        match &mut self.in_flight {
            Some((batch, records, sent)) if ctx.now().since(*sent) >= SimDuration::from_ms(RETRY_MS) => {
                *sent = ctx.now();
                ctx.send(self.cfg.bus, Msg::Produce { batch: *batch, records: records.clone() });
            }
            Some(_) => {}
            None if !self.buffer.is_empty() => {
                self.batch += 1;
                let records = std::mem::take(&mut self.buffer);
                ctx.send(self.cfg.bus, Msg::Produce { batch: self.batch, records: records.clone() });
                self.in_flight = Some((self.batch, records, ctx.now()));
            }
            None => {}
        }
    }

    fn deploy(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(v2) = self.cfg.change.v2() else { return };
        if !self.deploy_resolved {
            match self.cfg.registry {
                Some(reg) => {
                    if self.register_sent.is_none_or(|t| ctx.now().since(t) >= SimDuration::from_ms(RETRY_MS)) {
                        self.register_sent = Some(ctx.now());
                        ctx.send(reg, Msg::Register { schema: v2 });
                    }
                }
                None => self.adopt(v2, ctx),
            }
        }
        if self.deploy_resolved && self.writer.version == 2 && !self.billing_acked {
            ctx.send(self.cfg.billing, Msg::SchemaDeployed { schema: self.writer.clone() });
        }
        if !self.deploy_resolved || (self.writer.version == 2 && !self.billing_acked) {
            Self::timer(ctx, RETRY_MS, DEPLOY);
        }
    }

    fn adopt(&mut self, v2: Schema, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.deploy_resolved = true;
        ctx.note(format!("order schema v{} deployed: producers write it, billing reads with it", v2.version));
        self.writer = v2.clone();
        self.reader = v2.clone();
        ctx.send(self.cfg.billing, Msg::SchemaDeployed { schema: v2 });
    }
}

impl Actor for Service {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let stagger = ctx.rng.between(0, self.cfg.poll_ms.max(1));
        Self::timer(ctx, stagger, POLL);
        Self::timer(ctx, self.cfg.commit_ms + stagger, COMMIT);
        Self::timer(ctx, 500, TRIM);
        if !self.cfg.outbox {
            Self::timer(ctx, self.cfg.linger_ms, LINGER);
        }
        if self.cfg.svc == Svc::Order {
            Self::timer(ctx, 1, NEXT_ORDER);
            if self.cfg.change != Change::None {
                let now = ctx.now().as_ms() as u64;
                Self::timer(ctx, self.cfg.deploy_at_ms.saturating_sub(now).max(1), DEPLOY);
            }
        }
    }

    fn on_crash(&mut self) {
        self.positions.clear();
        self.sent_commits.clear();
        self.fetching = None;
        self.buffer.clear();
        self.in_flight = None;
        self.stuck.clear();
        self.register_sent = None;
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match tag {
            POLL => {
                self.fetch(ctx);
                Self::timer(ctx, self.cfg.poll_ms, POLL);
            }
            COMMIT => {
                self.commit_offsets(ctx);
                Self::timer(ctx, self.cfg.commit_ms, COMMIT);
            }
            LINGER => {
                self.linger(ctx);
                Self::timer(ctx, self.cfg.linger_ms, LINGER);
            }
            NEXT_ORDER if ctx.now() < SimTime::from_ms(self.cfg.workload_ms) => {
                self.place_order(ctx);
                let gap = ctx.rng.exponential(1_000.0 / self.cfg.orders_per_s.max(0.001));
                ctx.set_timer(SimDuration::from_ms_f64(gap.max(0.01)), NEXT_ORDER);
            }
            DEPLOY => self.deploy(ctx),
            TRIM => {
                let keep_from = (ctx.now().as_ms() as u64).saturating_sub(self.cfg.dedup_retain_ms);
                self.processed.retain(|_, at| *at >= keep_from);
                Self::timer(ctx, 500, TRIM);
            }
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Records { parts } => self.on_records(parts, ctx),
            Msg::Produced { batch } if self.in_flight.as_ref().is_some_and(|f| f.0 == batch) => {
                self.in_flight = None;
            }
            Msg::OutboxPoll { after } => {
                let rows: Vec<(u64, Event)> = self
                    .outbox
                    .iter()
                    .skip_while(|(id, _)| after.is_some_and(|a| *id <= a))
                    .take(MAX_FETCH)
                    .cloned()
                    .collect();
                ctx.send(from, Msg::OutboxRows { rows });
            }
            Msg::OutboxDelete { upto } => {
                while self.outbox.front().is_some_and(|(id, _)| *id <= upto) {
                    self.outbox.pop_front();
                }
            }
            Msg::Registered { version } if !self.deploy_resolved => {
                if let Some(v2) = self.cfg.change.v2().filter(|s| s.version == version) {
                    self.adopt(v2, ctx);
                    Self::timer(ctx, RETRY_MS, DEPLOY);
                }
            }
            Msg::Rejected { version, reason } if !self.deploy_resolved => {
                self.deploy_resolved = true;
                ctx.metrics.add("schema_rejected", 1);
                ctx.note(format!("registry rejected order v{version}: {reason}; deploy rolled back"));
            }
            Msg::SchemaDeployed { schema } => {
                if schema.version > self.reader.version {
                    ctx.note(format!("{} now reads order v{}", self.cfg.svc.name(), schema.version));
                    self.reader = schema.clone();
                }
                ctx.send(from, Msg::SchemaAck { version: schema.version });
            }
            Msg::SchemaAck { version } if version == self.writer.version => {
                self.billing_acked = true;
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        let mut s = format!("{} effects · dedup {} · outbox {}", self.applied, self.processed.len(), self.outbox.len());
        if self.cfg.svc == Svc::Order {
            s = format!("{} orders · {s}", self.orders.len());
        }
        s
    }
}
