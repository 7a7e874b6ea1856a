//! A consumer in the group: joins through the coordinator, heartbeats, and on each new
//! generation learns which partitions it owns. For a partition it newly owns it asks where
//! to start (the coordinator's committed offset, or the sink's for the transactional
//! design), then loops: fetch a batch from the partition's leader, process it one record
//! at a time (`process_ms` each), and commit — before processing (at-most-once), after
//! (at-least-once), or together with the effects in one atomic write to the sink
//! (transactional: the sink applies the batch only if its stored offset is still the one
//! this consumer started from).

use super::msg::{Msg, Obs, PartMeta, Wire};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::BTreeMap;

/// Timer kinds, in the top bits of a tag; the low bits carry a serial number so a
/// superseded timer is recognised and ignored.
const HEARTBEAT: u64 = 1 << 40;
const POLL: u64 = 2 << 40;
const PROCESS: u64 = 3 << 40;
const TIMEOUT: u64 = 4 << 40;
const KIND: u64 = 0xff << 40;
const HEARTBEAT_MS: u64 = 100;
const REQUEST_TIMEOUT_MS: u64 = 250;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    CommitBefore,
    CommitAfter,
    Transactional,
}

#[derive(Clone, Debug)]
pub struct ConsumerCfg {
    pub index: u32,
    pub coordinator: NodeId,
    pub sink: NodeId,
    pub brokers: Vec<NodeId>,
    pub mode: Mode,
    pub batch: u32,
    pub process_ms: u64,
    pub poll_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pos {
    /// Waiting for the stored offset (request id).
    Asking(u64),
    At(u64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Fetching { p: u32, req: u64 },
    Processing { p: u32, generation: u32, records: Vec<Wire>, done: usize, effects: Vec<(u64, u64)> },
    Committing { p: u32, req: u64, msg: Msg },
}

#[derive(Clone, Debug)]
pub struct Consumer {
    pub cfg: ConsumerCfg,
    meta: Vec<PartMeta>,
    pub generation: u32,
    pub owned: Vec<u32>,
    pos: BTreeMap<u32, Pos>,
    /// Transactional: the sink's stored offset, for a partition whose position was reset
    /// past records retention deleted (the batch then does not start where the sink
    /// stands). Otherwise a batch's transaction names its own first offset.
    skipped_from: BTreeMap<u32, u64>,
    state: State,
    session: u64,
    sessions: BTreeMap<u32, u64>,
    cursor: usize,
    empty_streak: usize,
    serial: u64,
    /// Crashes survived (not state the process keeps: the run's name for its lifetimes).
    lives: u64,
    /// Only the latest poll wake-up counts.
    poll_gen: u64,
    pub processed: u64,
}

impl Consumer {
    pub fn new(cfg: ConsumerCfg) -> Consumer {
        Consumer {
            cfg,
            meta: Vec::new(),
            generation: 0,
            owned: Vec::new(),
            pos: BTreeMap::new(),
            skipped_from: BTreeMap::new(),
            state: State::Idle,
            session: 0,
            sessions: BTreeMap::new(),
            cursor: 0,
            empty_streak: 0,
            serial: 0,
            lives: 0,
            poll_gen: 0,
            processed: 0,
        }
    }

    /// The next offset this consumer will fetch of `p`, if it knows it.
    pub fn position(&self, p: u32) -> Option<u64> {
        match self.pos.get(&p) {
            Some(Pos::At(o)) => Some(*o),
            _ => None,
        }
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn wake(&mut self, after_ms: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.poll_gen += 1;
        ctx.set_timer(SimDuration::from_ms(after_ms), POLL | self.poll_gen);
    }

    fn reposition(&mut self, p: u32, offset: u64) {
        self.session += 1;
        self.sessions.insert(p, self.session);
        self.pos.insert(p, Pos::At(offset));
    }

    fn ask_offset(&mut self, p: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        let req = self.next_serial();
        self.pos.insert(p, Pos::Asking(req));
        match self.cfg.mode {
            Mode::Transactional => ctx.send(self.cfg.sink, Msg::SinkOffsetFetch { p, req }),
            _ => ctx.send(self.cfg.coordinator, Msg::OffsetFetch { p, req }),
        }
        ctx.set_timer(SimDuration::from_ms(REQUEST_TIMEOUT_MS), TIMEOUT | req);
    }

    fn on_assign(&mut self, generation: u32, partitions: Vec<u32>, ctx: &mut Ctx<'_, Msg, Obs>) {
        if generation < self.generation || (generation == self.generation && partitions == self.owned) {
            return;
        }
        // Eager rebalancing: every generation starts from the stored offsets, even for a
        // partition this member kept — it may have been someone else's in a generation
        // this member never heard of (it was paused, say), and its own position is stale.
        self.pos.clear();
        self.generation = generation;
        self.owned = partitions.clone();
        for p in partitions {
            self.ask_offset(p, ctx);
        }
    }

    /// Starts the next fetch, round-robin over owned partitions with a known position.
    fn poll(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.state != State::Idle {
            return;
        }
        let n = self.owned.len();
        for i in 0..n {
            let p = self.owned[(self.cursor + i) % n];
            let (Some(Pos::At(offset)), Some(leader)) =
                (self.pos.get(&p).copied(), self.meta.get(p as usize).and_then(|m| m.leader))
            else {
                continue;
            };
            self.cursor = (self.cursor + i + 1) % n;
            let req = self.next_serial();
            ctx.send(self.cfg.brokers[leader as usize], Msg::Fetch { p, offset, max: self.cfg.batch, req });
            ctx.set_timer(SimDuration::from_ms(REQUEST_TIMEOUT_MS), TIMEOUT | req);
            self.state = State::Fetching { p, req };
            return;
        }
        self.wake(self.cfg.poll_ms, ctx);
    }

    fn on_records(&mut self, p: u32, records: Vec<Wire>, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.state = State::Idle;
        let (Some(Pos::At(at)), Some(first)) = (self.pos.get(&p).copied(), records.first()) else {
            self.empty_streak += 1;
            if self.empty_streak >= self.owned.len().max(1) {
                self.empty_streak = 0;
                self.wake(self.cfg.poll_ms, ctx);
            } else {
                self.poll(ctx);
            }
            return;
        };
        self.empty_streak = 0;
        if first.offset != at {
            self.poll(ctx);
            return;
        }
        let session = self.sessions.get(&p).copied().unwrap_or(0);
        for w in &records {
            ctx.observe(Obs::Polled { consumer: self.cfg.index, session, p, offset: w.offset, rec: w.rec });
        }
        let next = records.last().expect("non-empty").offset + 1;
        self.pos.insert(p, Pos::At(next));
        if self.cfg.mode == Mode::CommitBefore {
            self.commit(p, next, ctx);
        }
        self.state = State::Processing { p, generation: self.generation, records, done: 0, effects: Vec::new() };
        let s = self.next_serial();
        ctx.set_timer(SimDuration::from_ms(self.cfg.process_ms), PROCESS | s);
    }

    fn commit(&self, p: u32, offset: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let generation = match &self.state {
            State::Processing { generation, .. } => *generation,
            _ => self.generation,
        };
        ctx.send(self.cfg.coordinator, Msg::Commit { member: self.cfg.index, generation, p, offset });
    }

    /// One record's processing finished: its effect goes to the sink now (or into the
    /// transaction); after the last one the batch is committed.
    fn processed_one(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let State::Processing { p, records, done, effects, .. } = &mut self.state else { return };
        let p = *p;
        let w = records[*done];
        *done += 1;
        self.processed += 1;
        match self.cfg.mode {
            Mode::Transactional => effects.push((w.offset, w.rec.id)),
            _ => ctx.send(self.cfg.sink, Msg::Effect { p, offset: w.offset, id: w.rec.id }),
        }
        if *done < records.len() {
            let s = self.next_serial();
            ctx.set_timer(SimDuration::from_ms(self.cfg.process_ms), PROCESS | s);
            return;
        }
        let to = w.offset + 1;
        match self.cfg.mode {
            Mode::CommitBefore => {}
            Mode::CommitAfter => self.commit(p, to, ctx),
            Mode::Transactional => {
                let effects = std::mem::take(effects);
                let from = records[0].offset;
                let expected = self.skipped_from.get(&p).copied().unwrap_or(from);
                let req = self.next_serial();
                let msg = Msg::TxnApply { p, expected, to, effects, req };
                ctx.send(self.cfg.sink, msg.clone());
                ctx.set_timer(SimDuration::from_ms(REQUEST_TIMEOUT_MS), TIMEOUT | req);
                self.state = State::Committing { p, req, msg };
                return;
            }
        }
        self.state = State::Idle;
        self.poll(ctx);
    }

    fn on_timeout(&mut self, req: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some((&p, _)) = self.pos.iter().find(|(_, &pos)| pos == Pos::Asking(req)) {
            self.ask_offset(p, ctx);
            return;
        }
        match &self.state {
            State::Fetching { req: r, .. } if *r == req => {
                self.state = State::Idle;
                self.poll(ctx);
            }
            State::Committing { req: r, msg, .. } if *r == req => {
                ctx.send(self.cfg.sink, msg.clone());
                ctx.set_timer(SimDuration::from_ms(REQUEST_TIMEOUT_MS), TIMEOUT | req);
            }
            _ => {}
        }
    }
}

impl Actor for Consumer {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.send(self.cfg.coordinator, Msg::Join { member: self.cfg.index });
        ctx.set_timer(SimDuration::from_ms(HEARTBEAT_MS), HEARTBEAT);
        self.wake(self.cfg.poll_ms, ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Metadata { parts } => self.meta = parts,
            Msg::Assign { generation, partitions } => self.on_assign(generation, partitions, ctx),
            Msg::OffsetIs { p, req, offset } if self.pos.get(&p) == Some(&Pos::Asking(req)) => {
                self.reposition(p, offset);
            }
            Msg::Records { p, req, records } if self.state == (State::Fetching { p, req }) => {
                self.on_records(p, records, ctx)
            }
            Msg::FetchNotLeader { p, req } | Msg::FetchOutOfRange { p, req, .. }
                if self.state == (State::Fetching { p, req }) =>
            {
                if let Msg::FetchOutOfRange { log_start, .. } = msg {
                    // auto.offset.reset=earliest: skip what retention deleted. The sink's
                    // stored offset has not moved, so the next transaction still names it.
                    if let Some(Pos::At(at)) = self.pos.get(&p).copied() {
                        self.skipped_from.entry(p).or_insert(at);
                    }
                    self.reposition(p, log_start);
                }
                self.state = State::Idle;
                self.wake(self.cfg.poll_ms, ctx);
            }
            Msg::TxnResult { p, req, ok, stored } => {
                let State::Committing { req: r, .. } = &self.state else { return };
                if *r != req {
                    return;
                }
                self.skipped_from.remove(&p);
                if !ok && self.owned.contains(&p) && !matches!(self.pos.get(&p), Some(Pos::Asking(_))) {
                    // Someone else moved the offset (or this batch already went in):
                    // resume from what the sink holds.
                    self.reposition(p, stored);
                }
                self.state = State::Idle;
                self.poll(ctx);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let serial = tag & !KIND;
        match tag & KIND {
            HEARTBEAT => {
                ctx.send(self.cfg.coordinator, Msg::GroupHeartbeat { member: self.cfg.index });
                ctx.set_timer(SimDuration::from_ms(HEARTBEAT_MS), HEARTBEAT);
            }
            POLL if serial == self.poll_gen => self.poll(ctx),
            POLL => {}
            PROCESS => self.processed_one(ctx),
            TIMEOUT => self.on_timeout(serial, ctx),
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        let cfg = self.cfg.clone();
        // A restarted process is a new reader: its sessions must not reuse the old ones'
        // numbers (the count of lives stands in for a process id).
        let lives = self.lives + 1;
        *self = Consumer::new(cfg);
        self.lives = lives;
        self.session = lives << 32;
    }

    fn describe(&self) -> String {
        let owned: Vec<String> = self.owned.iter().map(|p| format!("p{p}")).collect();
        format!("gen {} · {}", self.generation, if owned.is_empty() { "idle".into() } else { owned.join(",") })
    }
}
