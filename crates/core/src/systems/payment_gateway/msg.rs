//! Messages and observations of the payment-gateway model. Four conversations: merchants
//! with the gateway's API (pay, refund, and the answers), the gateway with the card network
//! (authorize, capture, refund — each naming the gateway's payment id as its *reference*),
//! the gateway with its ledger database (a double-entry journal entry, or a single-entry
//! balance adjustment), and the acknowledgements.
//!
//! What the checks need travels as observations, reported where the fact arises: the card
//! network reports money it moved (its own record, which no gateway bug can edit), the
//! ledger reports postings it applied, the gateway reports payments it created and every
//! state change. A check builds its own record from those, never trusting a field the
//! design under test computed for itself.

use super::payment::{Reason, State};
use crate::sim::node::Message;

/// The gateway's id for one payment; also the reference it gives the card network.
pub type PaymentId = u64;

/// A merchant's order: who sells, and the merchant's own order number. It travels to the
/// card network as the merchant reference (as a real authorization carries one), so the
/// network's record says which order each charge was for.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrderRef {
    pub merchant: u32,
    pub order: u64,
}

impl std::fmt::Display for OrderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "m{}/o{}", self.merchant, self.order)
    }
}

/// A ledger account. Debits are positive, credits negative; a balanced book sums to zero.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Account {
    /// What the card network owes the gateway for captured charges (an asset: debit).
    Clearing,
    /// What the gateway owes a merchant (a liability: credit).
    Merchant(u32),
    /// The gateway's fee revenue (credit).
    Fees,
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Account::Clearing => f.write_str("clearing (card network)"),
            Account::Merchant(m) => write!(f, "merchant-{m} payable"),
            Account::Fees => f.write_str("fee revenue"),
        }
    }
}

/// Why a journal entry is written: the money movement of one payment.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Movement {
    Capture,
    Refund,
}

/// A card-network operation on one reference.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum NetOp {
    Auth,
    Capture,
    Refund,
}

/// One ledger write: a whole journal entry (double entry) or one balance change (single
/// entry). `write` numbers it in the gateway's outbox, for the acknowledgement.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum LedgerWrite {
    /// Append entry `(payment, movement)` with these postings; they sum to zero.
    Post { payment: PaymentId, movement: Movement, postings: Vec<(Account, i64)> },
    /// Add `delta` to one balance.
    Adjust { account: Account, delta: i64 },
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Merchant → gateway: charge the card behind `token`. `key` is the Idempotency-Key
    /// header (none in the naive strategy); `attempt` numbers the merchant's tries.
    Pay {
        order: OrderRef,
        key: Option<u64>,
        token: u64,
        amount: u64,
        country: u8,
        attempt: u32,
    },
    /// Merchant → gateway: refund a captured payment in full.
    Refund {
        order: OrderRef,
        payment: PaymentId,
    },
    /// Gateway → merchant: where a payment ended (or stands, for a refund in progress).
    Result {
        order: OrderRef,
        payment: PaymentId,
        state: State,
        reason: Option<Reason>,
    },
    /// Gateway → merchant: a request with this key is still being processed (HTTP 409).
    InProgress {
        order: OrderRef,
        attempt: u32,
    },
    /// Gateway → merchant: the key was used before with a different request (HTTP 422).
    KeyReused {
        order: OrderRef,
    },
    /// Gateway → card network.
    Auth {
        reference: PaymentId,
        pan: u64,
        amount: u64,
        order: OrderRef,
    },
    Capture {
        reference: PaymentId,
    },
    NetRefund {
        reference: PaymentId,
    },
    /// Card network → gateway: the outcome of `op` on `reference`.
    NetReply {
        reference: PaymentId,
        op: NetOp,
        ok: bool,
    },
    /// Gateway → ledger.
    Ledger {
        write: u64,
        body: LedgerWrite,
    },
    /// Ledger → gateway.
    LedgerAck {
        write: u64,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Pay { order, key: Some(k), amount, .. } => {
                format!("pay {order} ${}.{:02} key {:04x}", amount / 100, amount % 100, k & 0xffff)
            }
            Msg::Pay { order, key: None, amount, .. } => {
                format!("pay {order} ${}.{:02} (no key)", amount / 100, amount % 100)
            }
            Msg::Refund { order, payment } => format!("refund {order} p{payment}"),
            Msg::Result { payment, state, reason: None, .. } => format!("p{payment} {}", state.name()),
            Msg::Result { payment, state, reason: Some(r), .. } => {
                format!("p{payment} {} ({})", state.name(), r.name())
            }
            Msg::InProgress { order, .. } => format!("409 {order} in progress"),
            Msg::KeyReused { order } => format!("422 {order} key reused"),
            Msg::Auth { reference, amount, .. } => format!("auth p{reference} {amount}¢"),
            Msg::Capture { reference } => format!("capture p{reference}"),
            Msg::NetRefund { reference } => format!("refund p{reference}"),
            Msg::NetReply { reference, op, ok } => {
                format!("{op:?} p{reference} {}", if *ok { "ok" } else { "declined" })
            }
            Msg::Ledger { write, body: LedgerWrite::Post { payment, movement, .. } } => {
                format!("post #{write} {movement:?} p{payment}")
            }
            Msg::Ledger { write, body: LedgerWrite::Adjust { account, delta } } => {
                format!("adjust #{write} {account} {delta:+}")
            }
            Msg::LedgerAck { write } => format!("ack #{write}"),
        }
    }
}

/// What nodes report to the checks (times are the kernel's true time of the report).
#[derive(Clone, Debug)]
pub enum Obs {
    /// The gateway created payment `payment` for `order` on `card` (the vault's card index).
    Created { payment: PaymentId, order: OrderRef, card: u32, amount: u64 },
    /// The gateway moved a payment from one state to another.
    Transition { payment: PaymentId, from: State, to: State },
    /// The card network moved money on `reference`: `+amount` at capture, `-amount` at
    /// refund. Its own record: what the cardholder's statement shows.
    Money { reference: PaymentId, card: u32, order: OrderRef, amount: i64 },
    /// The ledger applied these postings (one for a single-entry adjustment, a whole entry
    /// for double entry).
    Posted { postings: Vec<(Account, i64)> },
}
