//! Messages and observations of the IoT ingestion model.
//!
//! Four conversations: devices (simulated in fleets) publish signed readings to a gateway
//! and hear back an acknowledgement or "busy"; gateways append admitted readings to the
//! broker's partitions and learn when they are stored; the writer fetches from the broker.
//! Messages carry what the modelled protocol carries. What the checks need travels as
//! observations, each reported where the fact arises — a device when it makes a reading
//! and when it lets one go, the store when it writes one, the gateway when its queue grows
//! or shrinks — so every check keeps its own record instead of trusting a counter the
//! design under test computed.

use crate::sim::node::Message;
use crate::sim::NodeId;

/// Bytes one queued reading costs a gateway: device id, sequence number, value, 8-byte
/// tag, arrival time and the connection it came on, rounded up to the allocator's
/// 64-byte class. The memory-bound check sums these.
pub const READING_BYTES: u64 = 64;

/// One telemetry reading as a device sends it: `tag` is SipHash-2-4 over the other three
/// fields under the device's own key (see `auth.rs`).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Reading {
    pub device: u32,
    pub seq: u32,
    /// A sensor value in tenths of a degree.
    pub value: i32,
    pub tag: u64,
}

/// A reading on its way to the broker, with the connection to acknowledge.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Entry {
    pub fleet: NodeId,
    pub reading: Reading,
}

/// A record the broker hands the writer: partition, offset, reading.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Fetched {
    pub partition: u32,
    pub offset: u64,
    pub reading: Reading,
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Device (fleet or attacker) → gateway.
    Publish(Reading),
    /// Gateway → fleet: these readings are in the broker's log.
    Acks(Vec<(u32, u32)>),
    /// Gateway → fleet: the reading was shed (queue full); back off and retry.
    Busy { device: u32, seq: u32 },
    /// Gateway → broker: append these to their partitions.
    Append(Vec<Entry>),
    /// Broker → gateway: appended (and flushed) — acknowledge them.
    Appended(Vec<Entry>),
    /// Writer → broker: records from these offsets on, one per partition.
    Fetch { from: Vec<u64> },
    /// Broker → writer.
    Records(Vec<Fetched>),
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Publish(r) => format!("d{} #{}", r.device, r.seq),
            Msg::Acks(a) => format!("ack ×{}", a.len()),
            Msg::Busy { device, seq } => format!("busy d{device} #{seq}"),
            Msg::Append(e) => format!("append ×{}", e.len()),
            Msg::Appended(e) => format!("appended ×{}", e.len()),
            Msg::Fetch { from } => format!("fetch from {from:?}"),
            Msg::Records(r) => format!("records ×{}", r.len()),
        }
    }
}

/// How a device let go of a reading it believes delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LetGo {
    /// The gateway acknowledged it (after the broker stored it).
    Acked,
    /// No buffer: the device sent it once and forgot it (QoS 0).
    Sent,
}

/// What nodes report to the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// A device made its reading number `seq` (numbers start at 0 and have no gaps).
    Generated { device: u32, seq: u32 },
    /// A device let go of a reading believing it delivered.
    Delivered { device: u32, seq: u32, how: LetGo },
    /// A device's buffer was full: it discarded its oldest unacknowledged reading.
    Overflowed { device: u32, seq: u32 },
    /// The attacker sent a reading claiming to be `device`, without its key.
    Forged { device: u32, seq: u32 },
    /// The time-series store wrote this reading.
    Stored { device: u32, seq: u32, value: i32 },
    /// A gateway's queue took in `added` bytes or gave up `removed` bytes (forwarded,
    /// or lost when the process ran out of memory).
    Queue { gateway: u32, added: u64, removed: u64 },
    /// A gateway process started with an empty queue (first start or restart).
    GatewayStarted { gateway: u32 },
}
