//! The database node: the write path (WAL, memtable), flushes to level-0 tables,
//! compaction (see [`super::lsm`]), retention and queries (see [`super::query`]).
//!
//! **Write**: the points go into the memtable (one value per (series, timestamp)) and the
//! label index. With a WAL the batch is appended to the log and fsynced, and only then
//! acknowledged ([`crate::blocks::wal`] keeps the durable prefix); without one it is
//! acknowledged at once, from memory. A memtable twice its size refuses writes (the
//! scraper retries): the flush is behind.
//!
//! **Flush**: when the memtable is full, or every `block_ms`, it becomes immutable (still
//! read by queries) and is written as a level-0 table. The table is visible only once the
//! disk says it is written; then the WAL drops the records the table covers.
//!
//! **Crash**: memory is lost: memtables, the flush and compaction under way, the index.
//! Tables and the WAL's durable prefix survive; the restart replays the WAL into a fresh
//! memtable and rebuilds the index from the tables and the memtable.
//!
//! **Retention** is judged on timestamps, not on a clock: a table whose newest point is
//! older than the newest timestamp held minus the retention is dropped (as Prometheus
//! judges block retention against its head).

use super::lsm;
use super::msg::{Msg, Obs, Point, SeriesId};
use super::query::{self, LabelIndex, QueryPlan};
use super::table::{Encoding, Table};
use super::Strategy;
use crate::blocks::wal::Wal;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

const FLUSH: u64 = 1;
const IO_RETRY: u64 = 2;
/// Lines kept in the LSM event log (the view).
const EVENTS: usize = 40;

#[derive(Clone, Debug)]
pub struct DbCfg {
    pub strategy: Strategy,
    pub disk: NodeId,
    pub memtable_points: usize,
    pub block_ms: i64,
    pub fanout: usize,
    pub retention_ms: i64,
    pub io_timeout_ms: u64,
}

#[derive(Clone, Debug)]
pub struct WalRec {
    pub seq: u64,
    pub points: Vec<Point>,
}

#[derive(Clone, Debug)]
enum IoKind {
    Wal { ticket: u64, reply: (NodeId, u64) },
    Flush,
    Compaction,
}

#[derive(Clone, Debug)]
pub struct Flushing {
    pub mem: BTreeMap<(SeriesId, i64), u64>,
    /// WAL records with a lower sequence number are in this memtable.
    pub upto_seq: u64,
    pub table: Table,
}

#[derive(Clone, Debug)]
pub struct Compacting {
    pub inputs: Vec<u64>,
    pub outputs: Vec<Table>,
    pub level: u8,
}

#[derive(Clone, Debug)]
pub struct Db {
    pub cfg: DbCfg,
    // Durable.
    pub tables: Vec<Table>,
    pub wal: Wal<WalRec>,
    next_table: u64,
    next_op: u64,
    next_seq: u64,
    // Volatile.
    pub mem: BTreeMap<(SeriesId, i64), u64>,
    pub imm: Option<Flushing>,
    pub compacting: Option<Compacting>,
    io: BTreeMap<u64, (IoKind, u64, SimTime)>,
    pub index: LabelIndex,
    pub head: i64,
    pub last_plan: Option<QueryPlan>,
    // Statistics and the event log.
    pub crashes: u64,
    /// Points that were only in memory when the process died.
    pub lost_in_memory: u64,
    pub replayed: u64,
    pub flushes: u64,
    pub compactions: u64,
    pub dropped_tables: u64,
    pub events: VecDeque<(f64, String)>,
}

impl Db {
    pub fn new(cfg: DbCfg) -> Db {
        Db {
            cfg,
            tables: Vec::new(),
            wal: Wal::new(),
            next_table: 1,
            next_op: 1,
            next_seq: 0,
            mem: BTreeMap::new(),
            imm: None,
            compacting: None,
            io: BTreeMap::new(),
            index: LabelIndex::default(),
            head: 0,
            last_plan: None,
            crashes: 0,
            lost_in_memory: 0,
            replayed: 0,
            flushes: 0,
            compactions: 0,
            dropped_tables: 0,
            events: VecDeque::new(),
        }
    }

    fn encoding(&self) -> Encoding {
        if self.cfg.strategy.compressed() {
            Encoding::Gorilla
        } else {
            Encoding::Rows
        }
    }

    fn log(&mut self, ctx: &Ctx<'_, Msg, Obs>, line: String) {
        self.events.push_back((ctx.now().as_ms(), line));
        if self.events.len() > EVENTS {
            self.events.pop_front();
        }
    }

    fn io(&mut self, kind: IoKind, bytes: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let op = self.next_op;
        self.next_op += 1;
        self.io.insert(op, (kind, bytes, ctx.now()));
        ctx.send(self.cfg.disk, Msg::Io { op, bytes });
    }

    fn insert(&mut self, points: &[Point]) {
        for p in points {
            self.mem.insert((p.series, p.ts), p.bits);
            self.index.add(p.series);
            self.head = self.head.max(p.ts);
        }
    }

    fn footprint(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let bytes = self.tables.iter().map(Table::bytes).sum();
        let points = self.tables.iter().map(|t| t.points).sum();
        ctx.metrics.gauge("tsdb.disk_bytes", bytes as f64);
        ctx.observe(Obs::Footprint { bytes, points });
    }

    fn on_write(&mut self, from: NodeId, batch: u64, points: Vec<Point>, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.mem.len() >= 2 * self.cfg.memtable_points {
            ctx.metrics.add("tsdb.writes_refused", 1);
            return;
        }
        self.insert(&points);
        if self.cfg.strategy.wal() {
            let bytes = 16 * points.len() as u64 + 16;
            self.wal.append(WalRec { seq: self.next_seq, points });
            self.next_seq += 1;
            let ticket = self.wal.force();
            self.io(IoKind::Wal { ticket, reply: (from, batch) }, bytes, ctx);
        } else {
            ctx.send(from, Msg::WriteAck { batch });
        }
        self.maybe_flush(false, ctx);
    }

    fn maybe_flush(&mut self, timed: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.imm.is_some() || self.mem.is_empty() || !(timed || self.mem.len() >= self.cfg.memtable_points) {
            return;
        }
        let mem = std::mem::take(&mut self.mem);
        let points: Vec<(SeriesId, i64, u64)> = mem.iter().map(|(&(s, t), &b)| (s, t, b)).collect();
        let table = Table::build(self.next_table, 0, self.encoding(), &points, 0);
        self.next_table += 1;
        let bytes = table.bytes();
        self.imm = Some(Flushing { mem, upto_seq: self.next_seq, table });
        self.io(IoKind::Flush, bytes, ctx);
    }

    fn maybe_compact(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.compacting.is_some() {
            return;
        }
        let Some(plan) = lsm::pick(&self.tables, self.cfg.fanout, self.cfg.block_ms, self.head) else { return };
        let inputs: Vec<&Table> = self.tables.iter().filter(|t| plan.inputs.contains(&t.id)).collect();
        let enc = self.encoding();
        let outputs = lsm::merge(&inputs, plan.level, enc, self.cfg.block_ms, &mut self.next_table);
        let bytes = outputs.iter().map(|t| t.bytes() + t.rollup_bytes()).sum::<u64>().max(1);
        self.compacting = Some(Compacting { inputs: plan.inputs, outputs, level: plan.level });
        self.io(IoKind::Compaction, bytes, ctx);
    }

    fn retention(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let cutoff = self.head - self.cfg.retention_ms;
        let busy: Vec<u64> = self.compacting.as_ref().map(|c| c.inputs.clone()).unwrap_or_default();
        let before = self.tables.len();
        let dropped: Vec<String> = self
            .tables
            .iter()
            .filter(|t| t.max_ts < cutoff && !busy.contains(&t.id))
            .map(|t| format!("#{}", t.id))
            .collect();
        self.tables.retain(|t| t.max_ts >= cutoff || busy.contains(&t.id));
        if self.tables.len() < before {
            self.dropped_tables += (before - self.tables.len()) as u64;
            self.log(ctx, format!("retention: dropped {} (newest point < {cutoff} ms)", dropped.join(" ")));
            self.footprint(ctx);
        }
    }

    fn on_io_done(&mut self, op: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some((kind, _, _)) = self.io.remove(&op) else { return };
        match kind {
            IoKind::Wal { ticket, reply } => {
                self.wal.complete(ticket);
                ctx.send(reply.0, Msg::WriteAck { batch: reply.1 });
            }
            IoKind::Flush => {
                let Some(f) = self.imm.take() else { return };
                let line = format!("flush: L0 #{} ({} points, {} B)", f.table.id, f.table.points, f.table.bytes());
                self.tables.push(f.table);
                self.flushes += 1;
                let upto = f.upto_seq;
                self.wal.checkpoint(|r| r.seq >= upto);
                self.log(ctx, line);
                self.footprint(ctx);
                self.maybe_compact(ctx);
                self.maybe_flush(false, ctx);
            }
            IoKind::Compaction => {
                let Some(c) = self.compacting.take() else { return };
                let ins: Vec<String> = c.inputs.iter().map(|i| format!("#{i}")).collect();
                let outs: Vec<String> = c.outputs.iter().map(|t| format!("#{}", t.id)).collect();
                // Atomic: the outputs appear and the inputs go in one step.
                self.tables.retain(|t| !c.inputs.contains(&t.id));
                self.tables.extend(c.outputs);
                self.tables.sort_by_key(|t| t.id);
                self.compactions += 1;
                self.log(ctx, format!("compact → L{}: {} → {}", c.level, ins.join(" "), outs.join(" ")));
                self.footprint(ctx);
                self.maybe_compact(ctx);
            }
        }
    }

    fn retry_io(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        let late = SimDuration::from_ms(self.cfg.io_timeout_ms);
        for (op, (_, bytes, sent)) in self.io.iter_mut() {
            if *sent + late <= now {
                *sent = now;
                ctx.send(self.cfg.disk, Msg::Io { op: *op, bytes: *bytes });
            }
        }
        ctx.set_timer(late, IO_RETRY);
    }

    /// The newest table's level-0 count, level-1 count, level-2 count.
    pub fn levels(&self) -> [usize; 3] {
        let mut out = [0; 3];
        for t in &self.tables {
            out[usize::from(t.level.min(2))] += 1;
        }
        out
    }
}

impl Actor for Db {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(self.cfg.block_ms as u64), FLUSH);
        ctx.set_timer(SimDuration::from_ms(self.cfg.io_timeout_ms), IO_RETRY);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Write { batch, points } => self.on_write(from, batch, points, ctx),
            Msg::IoDone { op } => self.on_io_done(op, ctx),
            Msg::Query(q) => {
                let mut mems = Vec::new();
                if let Some(f) = &self.imm {
                    mems.push(&f.mem);
                }
                mems.push(&self.mem);
                let (answer, plan) = query::execute(&q, &self.index, &self.tables, &mems);
                for (_, _, u) in &plan.tables {
                    let name = match u {
                        query::Use::SkippedTime | query::Use::SkippedSeries => "tsdb.tables_skipped",
                        query::Use::Rollup(_) => "tsdb.tables_rollup",
                        query::Use::Decoded(_) => "tsdb.tables_decoded",
                    };
                    ctx.metrics.add(name, 1);
                }
                self.last_plan = Some(plan);
                ctx.send(from, Msg::Answer { id: q.id, answer });
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match tag {
            FLUSH => {
                ctx.set_timer(SimDuration::from_ms(self.cfg.block_ms as u64), FLUSH);
                self.maybe_flush(true, ctx);
                self.retention(ctx);
                self.maybe_compact(ctx);
            }
            IO_RETRY => self.retry_io(ctx),
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.crashes += 1;
        let imm = self.imm.as_ref().map_or(0, |f| f.mem.len());
        self.lost_in_memory += (self.mem.len() + imm) as u64;
        self.mem.clear();
        self.imm = None;
        self.compacting = None;
        self.io.clear();
        self.index = LabelIndex::default();
        self.last_plan = None;
        self.wal.crash();
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let records: Vec<Vec<Point>> = self.wal.durable().iter().map(|r| r.points.clone()).collect();
        let mut n = 0;
        for points in &records {
            self.insert(points);
            n += points.len() as u64;
        }
        self.replayed += n;
        let series: Vec<SeriesId> = self.tables.iter().flat_map(|t| t.chunks.iter().map(|c| c.series)).collect();
        for s in series {
            self.index.add(s);
        }
        self.head = self.head.max(self.tables.iter().map(|t| t.max_ts).max().unwrap_or(0));
        let line = if self.cfg.strategy.wal() {
            format!("restart: replayed {n} points from the WAL ({} records)", records.len())
        } else {
            "restart: no WAL, the memtable is gone".to_string()
        };
        self.log(ctx, line);
        self.footprint(ctx);
        self.on_start(ctx);
    }

    fn describe(&self) -> String {
        let [l0, l1, l2] = self.levels();
        format!("mem {} pts, L0 {l0} · L1 {l1} · L2 {l2}", self.mem.len())
    }
}
