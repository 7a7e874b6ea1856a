//! The coordinator: the small consistent store the schedulers agree through (etcd or a
//! database row, modelled as one durable node). It holds the leader lease (the `lease`
//! block: epochs only grow) and the durable record a new leader resumes from: how far the
//! schedule has been handed out (`through_ms`), which rounds were started and not settled
//! (with their latest token), and how each pipeline round ended. The leader writes a
//! `Record` before it dispatches anything in it; a record from any term but the live one
//! is refused, so a deposed leader cannot start work.
//!
//! A crash loses the live lease (memory), not the epoch counter or the record.

use super::msg::{Handover, Msg, Obs, TaskRound};
use super::table::{Kind, TaskTable};
use crate::blocks::lease::{Grant, LeaseTable};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Coordinator {
    pub lease: LeaseTable,
    table: Arc<TaskTable>,
    /// Durable.
    pub through_ms: i64,
    pub open: BTreeMap<TaskRound, u64>,
    pub pipeline: BTreeMap<TaskRound, bool>,
    pub records: u64,
}

impl Coordinator {
    pub fn new(lease_ms: u64, table: Arc<TaskTable>) -> Coordinator {
        Coordinator {
            lease: LeaseTable::new(lease_ms),
            table,
            through_ms: -1,
            open: BTreeMap::new(),
            pipeline: BTreeMap::new(),
            records: 0,
        }
    }

    fn handover(&self) -> Handover {
        Handover {
            through_ms: self.through_ms,
            open: self.open.iter().map(|(&tr, &t)| (tr, t)).collect(),
            pipeline: self.pipeline.iter().map(|(&tr, &ok)| (tr, ok)).collect(),
        }
    }
}

impl Actor for Coordinator {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.local_time();
        match msg {
            Msg::Acquire { req, renew } => match self.lease.acquire(from, renew, now) {
                Grant::Fresh(epoch) => ctx.send(from, Msg::Granted { req, epoch, handover: Some(self.handover()) }),
                Grant::Renewed(epoch) => ctx.send(from, Msg::Granted { req, epoch, handover: None }),
                Grant::Busy => ctx.send(from, Msg::Busy { req }),
            },
            Msg::Record { epoch, batch, through_ms, started, settled } => {
                if !self.lease.holds(from, epoch, now) {
                    ctx.send(from, Msg::NotLeader { batch });
                    return;
                }
                self.records += 1;
                self.through_ms = self.through_ms.max(through_ms);
                for (tr, ok) in settled {
                    self.open.remove(&tr);
                    if matches!(self.table.kind(tr.task), Kind::Pipeline(_)) {
                        self.pipeline.insert(tr, ok);
                    }
                }
                for (tr, token) in started {
                    self.open.insert(tr, token);
                }
                ctx.send(from, Msg::RecordOk { batch });
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.lease.forget();
    }

    fn describe(&self) -> String {
        match self.lease.lease {
            Some(l) => format!("leader #{} epoch {} · {} open", l.holder, l.epoch, self.open.len()),
            None => format!("no lease · {} open", self.open.len()),
        }
    }
}
