//! The ledger database, in one of two bookkeeping designs.
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
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Journal lines kept for the view.
const RECENT: usize = 40;

#[derive(Clone, Debug)]
pub struct Ledger {
    pub double_entry: bool,
    /// Durable: account balances (derived from the journal in double entry).
    pub balances: BTreeMap<Account, i64>,
    /// Durable: the ids of applied journal entries (double entry only).
    journal: BTreeSet<(PaymentId, Movement)>,
    /// The most recent applied writes, for the view.
    pub recent: VecDeque<(f64, String)>,
    pub applied: u64,
    pub duplicates: u64,
    pub refused: u64,
}

impl Ledger {
    pub fn new(double_entry: bool) -> Ledger {
        Ledger {
            double_entry,
            balances: BTreeMap::new(),
            journal: BTreeSet::new(),
            recent: VecDeque::new(),
            applied: 0,
            duplicates: 0,
            refused: 0,
        }
    }

    /// Applies one write; `true` if the gateway may count it as done.
    pub fn apply(&mut self, at_ms: f64, body: &LedgerWrite, ctx: &mut Ctx<'_, Msg, Obs>) -> bool {
        let line = match body {
            LedgerWrite::Post { payment, movement, postings } => {
                if !self.journal.insert((*payment, *movement)) {
                    self.duplicates += 1;
                    return true;
                }
                if postings.iter().map(|p| p.1).sum::<i64>() != 0 {
                    // Never written: a one-sided entry is refused, not half-applied.
                    self.journal.remove(&(*payment, *movement));
                    self.refused += 1;
                    return false;
                }
                for &(a, d) in postings {
                    *self.balances.entry(a).or_insert(0) += d;
                }
                ctx.observe(Obs::Posted { postings: postings.clone() });
                let parts: Vec<String> = postings.iter().map(|(a, d)| format!("{a} {d:+}")).collect();
                format!("{movement:?} p{payment}: {}", parts.join(", "))
            }
            LedgerWrite::Adjust { account, delta } => {
                *self.balances.entry(*account).or_insert(0) += delta;
                ctx.observe(Obs::Posted { postings: vec![(*account, *delta)] });
                format!("{account} {delta:+}")
            }
        };
        self.applied += 1;
        self.recent.push_back((at_ms, line));
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
        true
    }

    /// The trial balance: every account summed (zero when the books balance).
    pub fn trial_balance(&self) -> i64 {
        self.balances.values().sum()
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
        format!("{} writes, trial balance {:+}", self.applied, self.trial_balance())
    }
}
