//! A writer: an ingestion or transformation job that appends a data file to a table, now
//! and then with a schema change. One commit at a time:
//!
//! 1. load the table's current metadata version and schema;
//! 2. write the data file (takes `write_ms`) under that schema, or under the changed one;
//! 3. commit: ask the catalog to move the pointer from the version it loaded to a new one.
//!
//! On `Conflict` (someone committed in between) it backs off (full jitter) and starts again
//! from 1 on the new version — a *rebase*: an append does not depend on what others
//! appended, so the same file goes on top of their work. When a commit goes unanswered it
//! asks whether its snapshot is in the table's history before trying again (Iceberg calls
//! this a commit whose state is unknown), so a lost reply never becomes a second copy.
//! The job's counter is durable (snapshot ids stay unique across a crash); the commit in
//! flight is not: a writer that crashes mid-commit simply never acknowledges it.

use super::msg::{DataFile, DatasetId, MetaId, Msg, Obs, SnapshotId};
use crate::blocks::avro_schema::{Field, Prim, Schema, Value};
use crate::blocks::backoff::Backoff;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;

/// Tries per commit before the job gives up (it stays unacknowledged).
pub const MAX_ATTEMPTS: u32 = 12;
/// Records per data file the catalog keeps a sample of.
pub const RECORDS: usize = 3;

const ARRIVAL: u64 = 1;
const WRITTEN: u64 = 2;
const TIMEOUT: u64 = 3;
const RETRY: u64 = 4;

/// A schema change a job may ship with its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evolution {
    AddOptional,
    AddRequired,
    AddWithDefault,
    DropOptional,
    DropRequired,
    Widen,
    Narrow,
    MakeNullable,
    ChangeType,
}

pub const EVOLUTIONS: [Evolution; 9] = [
    Evolution::AddOptional,
    Evolution::AddRequired,
    Evolution::AddWithDefault,
    Evolution::DropOptional,
    Evolution::DropRequired,
    Evolution::Widen,
    Evolution::Narrow,
    Evolution::MakeNullable,
    Evolution::ChangeType,
];

/// The first schema of every table.
pub fn initial_schema() -> Schema {
    Schema {
        version: 1,
        fields: vec![
            Field::required("id", Prim::Long),
            Field::required("ts", Prim::Long),
            Field::required("amount", Prim::Int),
            Field::required("region", Prim::Str),
            Field::optional("note", Prim::Str),
        ],
    }
}

/// `base` changed by `e`; new columns are named `col` (unique per job and commit). A
/// change with nothing to act on (no field of the kind) adds an optional column instead.
pub fn evolve(base: &Schema, e: Evolution, col: &str) -> Schema {
    let mut s = base.clone();
    s.version = base.version + 1;
    let pos = |p: &dyn Fn(&Field) -> bool| s.fields.iter().skip(1).position(p).map(|i| i + 1);
    let done = match e {
        Evolution::AddOptional => None,
        Evolution::AddRequired => {
            s.fields.push(Field::required(col, Prim::Int));
            Some(())
        }
        Evolution::AddWithDefault => {
            s.fields.push(Field { name: col.into(), ty: Prim::Long, nullable: false, default: true });
            Some(())
        }
        Evolution::DropOptional => pos(&|f| f.default).map(|i| {
            s.fields.remove(i);
        }),
        Evolution::DropRequired => pos(&|f| !f.default).map(|i| {
            s.fields.remove(i);
        }),
        Evolution::Widen => pos(&|f| matches!(f.ty, Prim::Int | Prim::Float)).map(|i| {
            s.fields[i].ty = if s.fields[i].ty == Prim::Int { Prim::Long } else { Prim::Double };
        }),
        Evolution::Narrow => pos(&|f| f.ty == Prim::Long).map(|i| s.fields[i].ty = Prim::Int),
        Evolution::MakeNullable => pos(&|f| !f.nullable).map(|i| {
            s.fields[i].nullable = true;
            s.fields[i].default = true;
        }),
        Evolution::ChangeType => pos(&|f| f.ty == Prim::Str).map(|i| s.fields[i].ty = Prim::Int),
    };
    if done.is_none() {
        s.fields.push(Field::optional(col, Prim::Str));
    }
    s
}

#[derive(Clone, Debug)]
pub struct WriterCfg {
    pub index: u32,
    pub catalog: NodeId,
    pub datasets: u32,
    pub commits_per_s: f64,
    pub write_ms: u64,
    pub schema_change_pct: u64,
    pub timeout_ms: u64,
    /// Jobs start commits until then (the run then drains).
    pub until_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Loading,
    Writing,
    Committing,
    Probing,
}

#[derive(Clone, Debug)]
pub struct Pending {
    pub dataset: DatasetId,
    pub snapshot: SnapshotId,
    pub evolution: Option<Evolution>,
    pub attempt: u32,
    pub phase: Phase,
    pub base: Option<MetaId>,
    pub file: Option<DataFile>,
    pub schema: Option<Schema>,
}

#[derive(Clone, Debug)]
pub struct Writer {
    pub cfg: WriterCfg,
    backoff: Backoff,
    /// Durable: the job's commit counter.
    seq: u64,
    /// Volatile.
    pub pending: Option<Pending>,
    step: u64,
    pub acked: u64,
    pub given_up: u64,
}

impl Writer {
    pub fn new(cfg: WriterCfg) -> Writer {
        Writer { cfg, backoff: Backoff::from_ms(10, 400), seq: 0, pending: None, step: 0, acked: 0, given_up: 0 }
    }

    fn arm(&mut self, after: SimDuration, kind: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.step += 1;
        ctx.set_timer(after, (self.step << 4) | kind);
    }

    fn next_arrival(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let gap_ms = ctx.rng.exponential(1_000.0 / self.cfg.commits_per_s.max(0.001));
        // Arrivals keep their own tag space so they survive the commit's timer steps.
        ctx.set_timer(SimDuration::from_ms(1).max(SimDuration((gap_ms * 1_000.0) as u64)), ARRIVAL);
    }

    fn load(&mut self, probe: bool, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.pending.as_mut() else { return };
        p.phase = if probe { Phase::Probing } else { Phase::Loading };
        let msg = Msg::Load { dataset: p.dataset, probe: probe.then_some(p.snapshot) };
        ctx.send(self.cfg.catalog, msg);
        self.arm(SimDuration::from_ms(self.cfg.timeout_ms), TIMEOUT, ctx);
    }

    fn start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let dataset = ctx.rng.below(u64::from(self.cfg.datasets)) as DatasetId;
        let evolution = (ctx.rng.below(100) < self.cfg.schema_change_pct)
            .then(|| EVOLUTIONS[ctx.rng.below(EVOLUTIONS.len() as u64) as usize]);
        let snapshot = (u64::from(self.cfg.index) << 32) | self.seq;
        self.seq += 1;
        self.pending = Some(Pending {
            dataset,
            snapshot,
            evolution,
            attempt: 0,
            phase: Phase::Loading,
            base: None,
            file: None,
            schema: None,
        });
        self.load(false, ctx);
    }

    /// Writes the data file on top of what was loaded (again, after a conflict).
    fn write(&mut self, meta: Option<MetaId>, current: Schema, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.pending.as_mut() else { return };
        let col = format!("c{}_{}", self.cfg.index, p.snapshot & 0xffff_ffff);
        let schema = p.evolution.map(|e| evolve(&current, e, &col));
        let under = schema.clone().unwrap_or(current);
        let records = (0..RECORDS)
            .map(|_| {
                under
                    .fields
                    .iter()
                    .map(|f| {
                        if f.nullable && ctx.rng.chance(0.3) {
                            Value::Null
                        } else {
                            Value::Of(f.ty, ctx.rng.below(1_000_000) as i64)
                        }
                    })
                    .collect()
            })
            .collect();
        let partition = (ctx.now().as_ms() / 1_000.0) as u32;
        p.file = Some(DataFile { schema: under, partition, records });
        p.schema = schema;
        p.base = meta;
        p.phase = Phase::Writing;
        self.arm(SimDuration::from_ms(self.cfg.write_ms), WRITTEN, ctx);
    }

    fn retry(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.pending.as_mut() else { return };
        p.attempt += 1;
        if p.attempt >= MAX_ATTEMPTS {
            self.pending = None;
            self.given_up += 1;
            return;
        }
        let wait = self.backoff.full_jitter(p.attempt, ctx.rng);
        self.arm(wait, RETRY, ctx);
    }
}

impl Actor for Writer {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.next_arrival(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Some(p) = self.pending.as_ref() else { return };
        match msg {
            Msg::Loaded { dataset, meta, schema, present } if dataset == p.dataset => match p.phase {
                Phase::Probing if present => {
                    let (dataset, snapshot) = (p.dataset, p.snapshot);
                    ctx.observe(Obs::Acked { dataset, snapshot });
                    self.acked += 1;
                    self.pending = None;
                    self.step += 1;
                }
                Phase::Loading | Phase::Probing => self.write(meta, schema, ctx),
                _ => {}
            },
            Msg::Committed { snapshot, .. } if snapshot == p.snapshot && p.phase == Phase::Committing => {
                ctx.observe(Obs::Acked { dataset: p.dataset, snapshot });
                self.acked += 1;
                self.pending = None;
                self.step += 1;
            }
            Msg::Conflict { snapshot, .. } if snapshot == p.snapshot && p.phase == Phase::Committing => {
                self.retry(ctx);
            }
            Msg::Rejected { snapshot, .. } if snapshot == p.snapshot && p.phase == Phase::Committing => {
                self.pending = None;
                self.step += 1;
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == ARRIVAL {
            if ctx.now() >= SimTime::from_ms(self.cfg.until_ms) {
                return;
            }
            if self.pending.is_none() {
                self.start(ctx);
            }
            self.next_arrival(ctx);
            return;
        }
        if tag >> 4 != self.step {
            return;
        }
        match tag & 0xf {
            WRITTEN => {
                let Some(p) = self.pending.as_mut() else { return };
                let (Some(file), schema) = (p.file.clone(), p.schema.clone()) else { return };
                p.phase = Phase::Committing;
                let msg = Msg::Commit { dataset: p.dataset, base: p.base, snapshot: p.snapshot, file, schema };
                ctx.send(self.cfg.catalog, msg);
                self.arm(SimDuration::from_ms(self.cfg.timeout_ms), TIMEOUT, ctx);
            }
            TIMEOUT => {
                let Some(p) = self.pending.as_mut() else { return };
                p.attempt += 1;
                if p.attempt >= MAX_ATTEMPTS {
                    self.pending = None;
                    self.given_up += 1;
                    return;
                }
                // Unanswered: the commit may have landed. Ask before writing it again.
                let probe = matches!(p.phase, Phase::Committing | Phase::Probing);
                self.load(probe, ctx);
            }
            RETRY => self.load(false, ctx),
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.pending = None;
    }

    fn describe(&self) -> String {
        let doing = self.pending.as_ref().map_or("idle".to_string(), |p| {
            format!("{:?} {} on ds{}", p.phase, super::msg::snapshot_name(p.snapshot), p.dataset)
        });
        format!("{} acked, {doing}", self.acked)
    }
}
