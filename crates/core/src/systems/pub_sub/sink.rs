//! The sink: the database where processing takes effect. Plain effects are applied as
//! they come (commit-before, commit-after). A transactional batch is applied together
//! with the partition's consumed offset, and only if the stored offset is still the one
//! the consumer started from — a compare-and-set that turns away a zombie's batch and a
//! retried batch that already went in (the "store offsets with the output" pattern, which
//! Kafka transactions give with `sendOffsetsToTransaction`). The sink is durable and kept
//! out of the fault plan.

use super::msg::{Msg, Obs, Store};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

const RECENT: usize = 12;

#[derive(Clone, Debug, Default)]
pub struct Sink {
    /// Partition → offset consumed up to (transactional).
    pub stored: BTreeMap<u32, u64>,
    /// Partition → effects applied.
    pub applied: BTreeMap<u32, u64>,
    pub refused: u64,
    /// The last few effects, for the view: (partition, offset, message id).
    pub recent: VecDeque<(u32, u64, u64)>,
}

impl Sink {
    fn apply(&mut self, p: u32, offset: u64, id: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        *self.applied.entry(p).or_default() += 1;
        self.recent.push_back((p, offset, id));
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
        ctx.observe(Obs::Applied { p, offset, id });
    }
}

impl Actor for Sink {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Effect { p, offset, id } => self.apply(p, offset, id, ctx),
            Msg::SinkOffsetFetch { p, req } => {
                let offset = self.stored.get(&p).copied().unwrap_or(0);
                ctx.send(from, Msg::OffsetIs { p, req, offset });
            }
            Msg::TxnApply { p, expected, to, effects, req } => {
                let stored = self.stored.get(&p).copied().unwrap_or(0);
                if stored != expected {
                    self.refused += 1;
                    ctx.send(from, Msg::TxnResult { p, req, ok: false, stored });
                    return;
                }
                for (offset, id) in effects {
                    self.apply(p, offset, id, ctx);
                }
                self.stored.insert(p, to);
                ctx.observe(Obs::Committed { p, offset: to, store: Store::Sink });
                ctx.send(from, Msg::TxnResult { p, req, ok: true, stored: to });
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} effects", self.applied.values().sum::<u64>())
    }
}
