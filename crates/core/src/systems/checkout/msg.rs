//! Messages and observations of the checkout model. Five conversations: buyers with their
//! region's order service (checkout with an Idempotency-Key, and the answers), the order
//! service with its region's warehouse (reserve, confirm, release; or, in the naive design,
//! read and decrement), with the card network (charge, refund, each naming the order as
//! its reference), and with the ledger (balanced journal entries).
//!
//! What the checks need travels as observations, reported where the fact arises: the
//! warehouse reports units it holds, releases and ships (its own stock record), the card
//! network reports money it moved, the ledger reports entries it applied, and the order
//! service reports orders it accepted and how each ended.

use crate::sim::node::Message;

/// An order's id: its region in the high bits, a per-region sequence below. It is also
/// the reference the card network keeps for the order's charge.
pub type OrderId = u64;

pub fn order_id(region: u32, seq: u64) -> OrderId {
    (u64::from(region) << 40) | seq
}

pub fn region_of(order: OrderId) -> u32 {
    (order >> 40) as u32
}

/// Short form for logs and views: `r1·o17`.
pub fn name(order: OrderId) -> String {
    format!("r{}·o{}", region_of(order), order & ((1 << 40) - 1))
}

/// A ledger account (debits positive, credits negative).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Account {
    /// What the card network owes us for captured charges (an asset).
    Clearing,
    /// Sales of one region (revenue, a credit).
    Sales(u32),
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Account::Clearing => f.write_str("clearing (card network)"),
            Account::Sales(r) => write!(f, "sales region-{r}"),
        }
    }
}

/// Why a journal entry is written.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Movement {
    Capture,
    Refund,
}

/// A card-network operation.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum PayOp {
    Charge,
    Refund,
}

/// Why an order failed.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Reason {
    Fraud,
    OutOfStock,
    Declined,
    PayTimeout,
    /// The reservation expired before the order could be confirmed, and the stock is gone.
    HoldExpired,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Fraud => "fraud rule",
            Reason::OutOfStock => "out of stock",
            Reason::Declined => "card declined",
            Reason::PayTimeout => "payment timed out",
            Reason::HoldExpired => "reservation expired",
        }
    }
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Buyer → order service. `key` is the Idempotency-Key; a retry repeats it.
    Checkout {
        order: u64,
        key: u64,
        sku: u32,
        qty: u32,
        card: u32,
        amount: u64,
    },
    /// Order service → buyer: how the order ended (`None`: confirmed).
    Answer {
        order: u64,
        id: OrderId,
        failed: Option<Reason>,
    },
    /// Order service → buyer: a request with this key is still in flight (HTTP 409).
    Conflict {
        order: u64,
    },
    /// Order service → buyer: this key was first used for a different request (HTTP 422).
    KeyReused {
        order: u64,
    },
    /// Order service → warehouse (saga): hold `qty` units for the order until the TTL.
    Reserve {
        id: OrderId,
        sku: u32,
        qty: u32,
    },
    /// Order service → warehouse (saga): turn the hold into a shipment.
    Confirm {
        id: OrderId,
        sku: u32,
        qty: u32,
    },
    /// Order service → warehouse (compensation): drop the hold, if any.
    Release {
        id: OrderId,
        sku: u32,
    },
    /// Order service → warehouse (naive): are `qty` units on hand? A read, no hold.
    Check {
        id: OrderId,
        sku: u32,
        qty: u32,
    },
    /// Order service → warehouse (naive): paid, so take the units off the shelf.
    Decrement {
        id: OrderId,
        sku: u32,
        qty: u32,
    },
    /// Warehouse → order service: the outcome of one of the above.
    Stock {
        id: OrderId,
        step: StockStep,
        ok: bool,
    },
    /// Order service → card network.
    Charge {
        id: OrderId,
        card: u32,
        amount: u64,
    },
    Refund {
        id: OrderId,
    },
    /// Card network → order service.
    Paid {
        id: OrderId,
        op: PayOp,
        ok: bool,
    },
    /// Order service → ledger: one balanced entry, named by (order, movement).
    Post {
        id: OrderId,
        movement: Movement,
        postings: Vec<(Account, i64)>,
    },
    /// Ledger → order service.
    PostAck {
        id: OrderId,
        movement: Movement,
    },
}

/// Which warehouse request a `Stock` reply answers.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum StockStep {
    Reserve,
    Confirm,
    Release,
    Check,
    Decrement,
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Checkout { order, key, sku, qty, .. } => {
                format!("checkout #{order} sku{sku}×{qty} key {:04x}", key & 0xffff)
            }
            Msg::Answer { id, failed: None, .. } => format!("{} confirmed", name(*id)),
            Msg::Answer { id, failed: Some(r), .. } => format!("{} failed ({})", name(*id), r.name()),
            Msg::Conflict { order } => format!("409 #{order} in flight"),
            Msg::KeyReused { order } => format!("422 #{order} key reused"),
            Msg::Reserve { id, sku, qty } => format!("reserve {} sku{sku}×{qty}", name(*id)),
            Msg::Confirm { id, .. } => format!("confirm {}", name(*id)),
            Msg::Release { id, .. } => format!("release {}", name(*id)),
            Msg::Check { id, sku, qty } => format!("in stock? {} sku{sku}×{qty}", name(*id)),
            Msg::Decrement { id, sku, qty } => format!("decrement {} sku{sku}×{qty}", name(*id)),
            Msg::Stock { id, step, ok } => format!("{step:?} {} {}", name(*id), if *ok { "ok" } else { "no" }),
            Msg::Charge { id, amount, .. } => format!("charge {} {amount}¢", name(*id)),
            Msg::Refund { id } => format!("refund {}", name(*id)),
            Msg::Paid { id, op, ok } => format!("{op:?} {} {}", name(*id), if *ok { "ok" } else { "declined" }),
            Msg::Post { id, movement, .. } => format!("post {movement:?} {}", name(*id)),
            Msg::PostAck { id, movement } => format!("ack {movement:?} {}", name(*id)),
        }
    }
}

/// What nodes report to the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// The order service accepted an order (once per order, however often it is retried).
    Placed { id: OrderId, sku: u32, qty: u32, amount: u64 },
    /// The order service ended an order: confirmed (`None`) or failed.
    Ended { id: OrderId, failed: Option<Reason> },
    /// The warehouse put `qty` units on hold for an order.
    Held { id: OrderId, qty: u32 },
    /// The warehouse dropped an order's hold (`expired`: its TTL ran out, not a release).
    Unheld { id: OrderId, qty: u32, expired: bool },
    /// The warehouse shipped units for an order (`from_hold` of them were on hold).
    Shipped { id: OrderId, region: u32, sku: u32, qty: u32, from_hold: u32 },
    /// The card network moved money on an order: `+amount` charged, `-amount` refunded.
    Money { id: OrderId, amount: i64 },
    /// The ledger applied an entry with these postings.
    Entry { postings: Vec<(Account, i64)> },
}
