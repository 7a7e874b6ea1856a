//! The sink: the store every execution writes to (the table a job fills, the API it
//! calls), and the record the checks judge: it reports each write it accepts, stamped
//! with true time, so an execution's interval is its first to its last accepted write.
//!
//! - **Fenced** — per task it keeps the highest token it has seen, and refuses any write
//!   with a lower one (a `Begin` with a higher token raises it). An execution that lost
//!   its lease without knowing — paused, cut off — is refused the moment a newer one has
//!   written, whichever round or leader the newer one came from.
//! - **Blind** — it accepts every write, as most stores do.
//!
//! Everything it keeps is durable.

use super::msg::{Msg, Obs, TaskRound, WriteKind};
use super::table::TaskId;
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

/// Executions kept for the view.
const ROWS: usize = 80;

/// One execution as the sink saw it, for the view.
#[derive(Clone, Debug)]
pub struct ExecRow {
    pub tr: TaskRound,
    pub token: u64,
    pub worker: NodeId,
    pub first_ms: f64,
    pub last_ms: f64,
    pub result: Option<bool>,
    pub refused: u32,
}

#[derive(Clone, Debug)]
pub struct Sink {
    pub fenced: bool,
    pub max_token: BTreeMap<TaskId, u64>,
    finished: BTreeSet<u64>,
    pub rows: Vec<ExecRow>,
    pub accepted: u64,
    pub refused: u64,
}

impl Sink {
    pub fn new(fenced: bool) -> Sink {
        Sink {
            fenced,
            max_token: BTreeMap::new(),
            finished: BTreeSet::new(),
            rows: Vec::new(),
            accepted: 0,
            refused: 0,
        }
    }

    fn row(&mut self, tr: TaskRound, token: u64, worker: NodeId, at: f64) -> &mut ExecRow {
        if let Some(i) = self.rows.iter().rposition(|r| r.token == token) {
            return &mut self.rows[i];
        }
        self.rows.push(ExecRow { tr, token, worker, first_ms: at, last_ms: at, result: None, refused: 0 });
        if self.rows.len() > ROWS {
            self.rows.remove(0);
        }
        self.rows.last_mut().expect("just pushed")
    }
}

impl Actor for Sink {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Msg::Write { token, tr, kind } = msg else { return };
        let at = ctx.now().as_ms();
        let max = self.max_token.entry(tr.task).or_insert(0);
        if self.fenced && token < *max {
            self.refused += 1;
            self.row(tr, token, from, at).refused += 1;
            ctx.observe(Obs::Refused { tr, token });
            ctx.send(from, Msg::Fenced { token });
            return;
        }
        *max = (*max).max(token);
        if let WriteKind::Finish { ok } = kind {
            ctx.send(from, Msg::FinishOk { token });
            if !self.finished.insert(token) {
                return; // a resent finish: already stored
            }
            self.row(tr, token, from, at).result = Some(ok);
        }
        self.accepted += 1;
        self.row(tr, token, from, at).last_ms = at;
        ctx.observe(Obs::Wrote { tr, token, kind, worker: from });
    }

    fn describe(&self) -> String {
        format!("{} writes · {} fenced", self.accepted, self.refused)
    }
}
