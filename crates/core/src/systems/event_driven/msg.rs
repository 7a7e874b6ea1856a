//! Events, topics, messages and observations of the event-driven model.
//!
//! An event names its producer and a per-producer sequence number (`EventId`), the saga
//! step it reports or commands (`Kind`), the order it belongs to, and the order body as
//! the order service wrote it (the part under a schema). Services copy the body they
//! received into the events they emit, so an old body can travel far after a deploy.
//!
//! Checks learn what happened only from observations each service reports when its local
//! transaction commits (an effect row written), or when it fails to decode a body.

use super::schema::{Body, Schema};
use crate::sim::node::Message;
use std::fmt;

/// A service of the shop, and its index in the world.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Svc {
    Order,
    Inventory,
    Billing,
    Shipping,
}

impl Svc {
    pub const ALL: [Svc; 4] = [Svc::Order, Svc::Inventory, Svc::Billing, Svc::Shipping];

    pub fn name(self) -> &'static str {
        match self {
            Svc::Order => "order",
            Svc::Inventory => "inventory",
            Svc::Billing => "billing",
            Svc::Shipping => "shipping",
        }
    }

    pub fn index(self) -> u32 {
        self as u32
    }
}

/// A topic on the bus. Each service publishes its events to its own topic; commands
/// (orchestration) and dead letters have theirs.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Topic {
    Orders,
    Inventory,
    Billing,
    Shipping,
    Commands,
    Dlq,
}

impl Topic {
    pub const ALL: [Topic; 6] =
        [Topic::Orders, Topic::Inventory, Topic::Billing, Topic::Shipping, Topic::Commands, Topic::Dlq];

    pub fn name(self) -> &'static str {
        match self {
            Topic::Orders => "orders",
            Topic::Inventory => "inventory-events",
            Topic::Billing => "billing-events",
            Topic::Shipping => "shipping-events",
            Topic::Commands => "commands",
            Topic::Dlq => "dead-letters",
        }
    }
}

/// A saga step: events report what happened; commands (orchestration) ask for a step.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    OrderPlaced,
    StockReserved,
    StockRejected,
    StockReleased,
    PaymentCharged,
    PaymentDeclined,
    PaymentRefunded,
    Shipped,
    ShipFailed,
    ReserveStock,
    ReleaseStock,
    ChargePayment,
    RefundPayment,
    ShipOrder,
}

impl Kind {
    pub fn is_command(self) -> bool {
        matches!(
            self,
            Kind::ReserveStock | Kind::ReleaseStock | Kind::ChargePayment | Kind::RefundPayment | Kind::ShipOrder
        )
    }
}

/// Producer (service index) in the high bits, its sequence number in the low.
pub type EventId = u64;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub kind: Kind,
    pub order: u64,
    pub topic: Topic,
    pub body: Body,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} o{} (v{}, e{}:{})",
            self.kind,
            self.order,
            self.body.version,
            self.id >> 32,
            self.id & 0xffff_ffff
        )
    }
}

/// A fetch position: topic, partition, and the next offset (`None`: the committed one).
pub type Position = (Topic, u32, Option<u64>);

/// What a fetch read from one partition: topic, partition, and (offset, event) pairs.
pub type PartitionRecords = (Topic, u32, Vec<(u64, Event)>);

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Producer (relay or dual-writing service) → bus: append these.
    Produce {
        batch: u64,
        records: Vec<Event>,
    },
    Produced {
        batch: u64,
    },
    /// Consumer → bus: records from these positions.
    Fetch {
        positions: Vec<Position>,
    },
    /// Bus → consumer: per partition, the records read (offset, event).
    Records {
        parts: Vec<PartitionRecords>,
    },
    /// Consumer → bus: the next offset to read, per partition (its group's committed offset).
    CommitOffsets {
        offsets: Vec<(Topic, u32, u64)>,
    },
    /// Relay → service: outbox rows after this row id.
    OutboxPoll {
        after: Option<u64>,
    },
    OutboxRows {
        rows: Vec<(u64, Event)>,
    },
    /// Relay → service: rows up to this id are on the bus; delete them.
    OutboxDelete {
        upto: u64,
    },
    /// Producer → registry: register a new version of the `order` subject.
    Register {
        schema: Schema,
    },
    Registered {
        version: u32,
    },
    Rejected {
        version: u32,
        reason: String,
    },
    /// Order service → billing: the new schema is deployed; read with it.
    SchemaDeployed {
        schema: Schema,
    },
    SchemaAck {
        version: u32,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Produce { records, .. } => match records.as_slice() {
                [one] => format!("produce {one}"),
                _ => format!("produce {} events", records.len()),
            },
            Msg::Produced { batch } => format!("produced #{batch}"),
            Msg::Fetch { positions } => format!("fetch {} partitions", positions.len()),
            Msg::Records { parts } => format!("{} records", parts.iter().map(|p| p.2.len()).sum::<usize>()),
            Msg::CommitOffsets { offsets } => format!("commit {} offsets", offsets.len()),
            Msg::OutboxPoll { after } => format!("outbox after {after:?}"),
            Msg::OutboxRows { rows } => format!("{} outbox rows", rows.len()),
            Msg::OutboxDelete { upto } => format!("delete outbox ≤ {upto}"),
            Msg::Register { schema } => format!("register order v{}", schema.version),
            Msg::Registered { version } => format!("registered v{version}"),
            Msg::Rejected { version, reason } => format!("rejected v{version}: {reason}"),
            Msg::SchemaDeployed { schema } => format!("deploy schema v{}", schema.version),
            Msg::SchemaAck { version } => format!("using v{version}"),
        }
    }
}

/// An effect a service's local transaction wrote.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    Reserved,
    Rejected,
    Released,
    Charged,
    Declined,
    Refunded,
    Shipped,
    ShipFailed,
    Done,
    Cancelled,
}

/// What nodes report to the checks (the kernel stamps each with the true time).
#[derive(Clone, Debug)]
pub enum Obs {
    /// The order service committed a new order to its database.
    OrderCommitted { order: u64 },
    /// A service's local transaction wrote this effect row for `order`.
    Applied { svc: Svc, order: u64, effect: Effect },
    /// A consumer received an event whose body it could not decode.
    ParseFailed { svc: Svc, event: Event, reason: String },
}
