//! The ledger database: the shared double-entry [`Journal`], behind a message API. Each
//! money movement of an order is one entry named `(order, movement)` whose postings sum to
//! zero; a retried entry is acknowledged and not applied again, an unbalanced one is
//! refused whole. The journal is durable.

use super::msg::{Account, Movement, Msg, Obs, OrderId};
use crate::blocks::ledger::{Journal, Posted};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;

#[derive(Clone, Debug, Default)]
pub struct Ledger {
    pub journal: Journal<Account, (OrderId, Movement)>,
}

impl Actor for Ledger {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Msg::Post { id, movement, postings } = msg else { return };
        match self.journal.post((id, movement), &postings) {
            Posted::Applied => ctx.observe(Obs::Entry { postings }),
            Posted::Duplicate => ctx.metrics.add("ledger.duplicates", 1),
            Posted::Unbalanced => return,
        }
        ctx.send(from, Msg::PostAck { id, movement });
    }

    fn describe(&self) -> String {
        format!("{} entries, trial balance {:+}", self.journal.applied, self.journal.trial_balance())
    }
}
