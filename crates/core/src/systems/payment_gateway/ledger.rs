//! The ledger database, in one of two bookkeeping designs, on the shared
//! [`crate::blocks::ledger::Journal`].
//!
//! **Single entry**: one balance per account, each changed in place by its own write
//! (`balance += delta`). A capture is three separate writes — the network owes us more,
//! we owe the merchant more, we earned a fee — and nothing ties them together: a write
//! retried after its acknowledgement was lost is applied twice, one replayed after a crash
//! is applied again, and no record says which. The books drift from the money and nobody
//! can tell where.
//!
//! **Double entry**: every movement is one journal *entry* whose postings sum to zero
//! (debits positive, credits negative), named by `(payment, movement)`. An entry is
//! applied whole or not at all, and an entry already in the journal is acknowledged and
//! not applied again — so the gateway may retry and replay freely. Balances are sums of
//! postings; the trial balance (every account summed) is zero by construction, and any
//! one-sided write would show as a non-zero total.

use super::msg::{Account, LedgerWrite, Movement, Msg, Obs, PaymentId};
use crate::blocks::ledger::{Journal, Posted};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

/// Journal lines kept for the view.
const RECENT: usize = 40;

#[derive(Clone, Debug)]
pub struct Ledger {
    pub double_entry: bool,
    /// Durable: the journal (its entry ids) and the balances.
    pub journal: Journal<Account, (PaymentId, Movement)>,
    /// The most recent applied writes, for the view.
    pub recent: VecDeque<(f64, String)>,
}

impl Ledger {
    pub fn new(double_entry: bool) -> Ledger {
        Ledger { double_entry, journal: Journal::new(), recent: VecDeque::new() }
    }

    /// Applies one write; `true` if the gateway may count it as done.
    pub fn apply(&mut self, at_ms: f64, body: &LedgerWrite, ctx: &mut Ctx<'_, Msg, Obs>) -> bool {
        let line = match body {
            LedgerWrite::Post { payment, movement, postings } => {
                match self.journal.post((*payment, *movement), postings) {
                    Posted::Duplicate => return true,
                    // Never written: a one-sided entry is refused, not half-applied.
                    Posted::Unbalanced => return false,
                    Posted::Applied => {
                        ctx.observe(Obs::Posted { postings: postings.clone() });
                        let parts: Vec<String> = postings.iter().map(|(a, d)| format!("{a} {d:+}")).collect();
                        format!("{movement:?} p{payment}: {}", parts.join(", "))
                    }
                }
            }
            LedgerWrite::Adjust { account, delta } => {
                self.journal.adjust(*account, *delta);
                ctx.observe(Obs::Posted { postings: vec![(*account, *delta)] });
                format!("{account} {delta:+}")
            }
        };
        self.recent.push_back((at_ms, line));
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
        true
    }

    pub fn balances(&self) -> &BTreeMap<Account, i64> {
        self.journal.balances()
    }

    /// Writes applied (entries and adjustments).
    pub fn applied(&self) -> u64 {
        self.journal.applied
    }

    /// Entries recognised as already applied.
    pub fn duplicates(&self) -> u64 {
        self.journal.duplicates
    }

    /// The trial balance: every account summed (zero when the books balance).
    pub fn trial_balance(&self) -> i64 {
        self.journal.trial_balance()
    }
}

impl Actor for Ledger {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::Ledger { write, body } = msg {
            if self.apply(ctx.now().as_ms(), &body, ctx) {
                ctx.send(from, Msg::LedgerAck { write });
            }
        }
    }

    fn describe(&self) -> String {
        format!("{} writes, trial balance {:+}", self.applied(), self.trial_balance())
    }
}
