//! The three properties. Each judges the gateway against a record it cannot edit: the
//! card network's own account of money moved on each card, reported as it moves.
//!
//! - `charged-once`: no card pays twice for one order. The network's record names, for
//!   every capture, the card and the merchant's order (the merchant reference travels with
//!   the authorization). Two references with money captured and not refunded for one
//!   (card, order) fail at once: that is the double charge on the cardholder's statement,
//!   whatever the gateway's tables say.
//! - `ledger-balanced`: the books balance and match the money. From the postings the
//!   ledger applied, at the end of a run quiet long enough for in-flight writes to land:
//!   every account sums to zero (trial balance); the clearing account equals the money the
//!   network moved; each merchant's payable and the fee account equal what the network's
//!   captures (less refunds) imply at the published price.
//! - `terminal-state`: every payment reaches captured, failed or refunded by its deadline
//!   (`deadline` after it was created or after the last fault ended, whichever is later),
//!   and the state agrees with the network: money never moves on a failed payment (judged
//!   the instant either side learns it), and at the end a captured payment has its amount
//!   captured, a refunded or failed one none.

use super::msg::{Account, Obs, OrderRef, PaymentId};
use super::payment::{fee, State};
use crate::check::{Property, RunEnd};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

#[derive(Clone, Default)]
pub struct ChargedOnce {
    /// (card, order) → net money per network reference.
    charges: BTreeMap<(u32, OrderRef), BTreeMap<PaymentId, i64>>,
    samples: u64,
}

impl Property<Obs> for ChargedOnce {
    fn name(&self) -> &'static str {
        "charged-once"
    }

    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        let Obs::Money { reference, card, order, amount } = *obs else { return None };
        self.samples += 1;
        let refs = self.charges.entry((card, order)).or_default();
        *refs.entry(reference).or_insert(0) += amount;
        let live: Vec<String> =
            refs.iter().filter(|(_, &net)| net > 0).map(|(r, net)| format!("p{r} ({net}¢)")).collect();
        (live.len() > 1).then(|| {
            format!(
                "card #{card} charged {} times for order {order} at the card network: {}",
                live.len(),
                live.join(", ")
            )
        })
    }

    fn samples(&self) -> u64 {
        self.samples
    }

    fn summary(&self) -> String {
        format!(
            "{} captures and refunds on {} (card, order) pairs, none charged twice",
            self.samples,
            self.charges.len()
        )
    }
}

/// When the run counts as quiet: the fault plan ended and the network has moved no money
/// for `settle`.
fn settled(end: SimTime, quiet: SimTime, last: SimTime, settle: SimDuration) -> bool {
    quiet != SimTime::MAX && end >= quiet.max(last) + settle
}

#[derive(Clone)]
pub struct LedgerBalanced {
    fee_bps: u64,
    quiet: SimTime,
    settle: SimDuration,
    balances: BTreeMap<Account, i64>,
    /// Network reference → (merchant, captured amount, net moved).
    money: BTreeMap<PaymentId, (u32, u64, i64)>,
    last_money: SimTime,
    postings: u64,
    judged: bool,
}

impl LedgerBalanced {
    pub fn new(fee_bps: u64, quiet: SimTime, settle: SimDuration) -> LedgerBalanced {
        LedgerBalanced {
            fee_bps,
            quiet,
            settle,
            balances: BTreeMap::new(),
            money: BTreeMap::new(),
            last_money: SimTime::ZERO,
            postings: 0,
            judged: false,
        }
    }

    fn verdict(&self) -> Option<String> {
        let total: i64 = self.balances.values().sum();
        if total != 0 {
            let parts: Vec<String> = self.balances.iter().map(|(a, b)| format!("{a} {b:+}")).collect();
            return Some(format!("the books do not balance: accounts sum to {total:+}¢ ({})", parts.join(", ")));
        }
        let moved: i64 = self.money.values().map(|m| m.2).sum();
        let clearing = self.balances.get(&Account::Clearing).copied().unwrap_or(0);
        if clearing != moved {
            return Some(format!(
                "the ledger says the card network owes {clearing}¢; the network moved {moved}¢ ({:+}¢)",
                clearing - moved
            ));
        }
        let mut owed: BTreeMap<Account, i64> = BTreeMap::new();
        for &(m, amount, net) in self.money.values() {
            if net > 0 {
                let f = fee(amount, self.fee_bps) as i64;
                *owed.entry(Account::Merchant(m)).or_insert(0) -= net - f;
                *owed.entry(Account::Fees).or_insert(0) -= f;
            }
        }
        for (a, &b) in &self.balances {
            let want = owed.get(a).copied().unwrap_or(0);
            if *a != Account::Clearing && b != want {
                return Some(format!("{a} is {b:+}¢, the network's captures imply {want:+}¢"));
            }
        }
        for (a, &want) in &owed {
            if !self.balances.contains_key(a) && want != 0 {
                return Some(format!("{a} has no postings, the network's captures imply {want:+}¢"));
            }
        }
        None
    }
}

impl Property<Obs> for LedgerBalanced {
    fn name(&self) -> &'static str {
        "ledger-balanced"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match obs {
            Obs::Posted { postings } => {
                for &(a, d) in postings {
                    *self.balances.entry(a).or_insert(0) += d;
                    self.postings += 1;
                }
            }
            Obs::Money { reference, order, amount, .. } => {
                let e = self.money.entry(*reference).or_insert((order.merchant, 0, 0));
                if *amount > 0 {
                    e.1 = *amount as u64;
                }
                e.2 += amount;
                self.last_money = at;
            }
            _ => {}
        }
        None
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        if !settled(end.now, self.quiet, self.last_money, self.settle) {
            return None;
        }
        self.judged = true;
        self.verdict()
    }

    fn samples(&self) -> u64 {
        self.postings
    }

    fn summary(&self) -> String {
        let judged = if self.judged {
            "at the end the books balance and match the card network"
        } else {
            "not judged at the end (the run was not quiet long enough)"
        };
        format!("{} postings; {judged}", self.postings)
    }
}

#[derive(Clone, Copy)]
struct Tracked {
    created: SimTime,
    amount: u64,
    state: State,
    terminal_at: Option<SimTime>,
    changed: SimTime,
}

#[derive(Clone)]
pub struct TerminalState {
    deadline: SimDuration,
    quiet: SimTime,
    settle: SimDuration,
    payments: BTreeMap<PaymentId, Tracked>,
    /// Network reference → (net moved, when it last moved).
    net: BTreeMap<PaymentId, (i64, SimTime)>,
    judged: u64,
}

impl TerminalState {
    pub fn new(deadline: SimDuration, quiet: SimTime, settle: SimDuration) -> TerminalState {
        TerminalState { deadline, quiet, settle, payments: BTreeMap::new(), net: BTreeMap::new(), judged: 0 }
    }
}

impl Property<Obs> for TerminalState {
    fn name(&self) -> &'static str {
        "terminal-state"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Created { payment, amount, .. } => {
                let t = Tracked { created: at, amount, state: State::Created, terminal_at: None, changed: at };
                self.payments.insert(payment, t);
                None
            }
            Obs::Transition { payment, to, .. } => {
                let t = self.payments.get_mut(&payment)?;
                t.state = to;
                t.changed = at;
                if to.terminal() && t.terminal_at.is_none() {
                    t.terminal_at = Some(at);
                }
                let moved = self.net.get(&payment).map_or(0, |n| n.0);
                (to == State::Failed && moved > 0)
                    .then(|| format!("p{payment} marked failed, but the card network had already captured {moved}¢"))
            }
            Obs::Money { reference, amount, .. } => {
                let n = self.net.entry(reference).or_insert((0, at));
                n.0 += amount;
                n.1 = at;
                let failed = self.payments.get(&reference).is_some_and(|t| t.state == State::Failed);
                (failed && amount > 0).then(|| {
                    format!("the card network captured {amount}¢ on p{reference}, which the gateway marked failed")
                })
            }
            Obs::Posted { .. } => None,
        }
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        let mut first = None;
        for (&id, t) in &self.payments {
            if self.quiet == SimTime::MAX {
                break;
            }
            let due = t.created.max(self.quiet) + self.deadline;
            if due <= end.now {
                self.judged += 1;
                if t.terminal_at.is_none_or(|at| at > due) {
                    first.get_or_insert_with(|| {
                        format!(
                            "p{id}, created at {:.0} ms, is still {} at its deadline {:.0} ms",
                            t.created.as_ms(),
                            t.state.name(),
                            due.as_ms()
                        )
                    });
                    continue;
                }
            }
            if !t.state.terminal() {
                continue;
            }
            let (moved, last) = self.net.get(&id).copied().unwrap_or((0, SimTime::ZERO));
            if !settled(end.now, self.quiet, last.max(t.changed), self.settle) {
                continue;
            }
            let want = if t.state == State::Captured { t.amount as i64 } else { 0 };
            if moved != want {
                first.get_or_insert_with(|| {
                    format!("p{id} is {} but the card network moved {moved}¢ on it (expected {want}¢)", t.state.name())
                });
            }
        }
        first
    }

    fn samples(&self) -> u64 {
        self.payments.len() as u64
    }

    fn summary(&self) -> String {
        format!(
            "{} payments; {} judged against their deadline and the network's record",
            self.payments.len(),
            self.judged
        )
    }
}
