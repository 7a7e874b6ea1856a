//! Messages and observations of the chat model. A device talks only to the gateway it
//! holds a (simulated) WebSocket to; gateways talk to the message store, the pub/sub
//! router that knows which gateway holds which user, and the presence service.
//!
//! What the checks need travels as observations, made where the fact arises: the sender
//! when its message is acknowledged (with the sequence number the store gave it), a device
//! when it puts a message on screen, a device when its socket opens or closes, and the
//! presence service when what it shows for a device changes. The checks keep their own
//! records of these; no check reads a field the design computed for itself.

use crate::sim::node::Message;
use crate::sim::time::SimTime;
use crate::sim::NodeId;

/// A chat message's identity: the sending device and its own counter (the client-side id
/// a real app puts in the send frame so that a retry can be recognised).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct MsgId {
    pub device: NodeId,
    pub n: u32,
}

/// One stored message: its conversation, the sequence number the store gave it there,
/// who sent it and when it left the sender (to measure delivery latency).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Item {
    pub conv: u32,
    pub seq: u64,
    pub id: MsgId,
    pub sent_at: SimTime,
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Device → gateway: open a session for `user` (the WebSocket handshake).
    Hello {
        user: u32,
    },
    /// Gateway → device: the session is open.
    Welcome,
    /// Device → gateway: closing the socket cleanly (the app goes to the background).
    Bye,
    /// Device → gateway: WebSocket ping, sent every heartbeat interval.
    Ping,
    /// Gateway → device.
    Pong,
    /// Gateway → presence: `device` is alive (heartbeat presence).
    Beat {
        device: NodeId,
    },
    /// Gateway → presence: a connection of `device` opened / closed (event presence).
    ConnOpen {
        device: NodeId,
    },
    ConnClose {
        device: NodeId,
    },
    /// Gateway → pub/sub: deliver `user`'s messages to me / stop.
    Subscribe {
        user: u32,
    },
    Unsubscribe {
        user: u32,
    },
    /// Device → gateway: post a message to a conversation.
    Send {
        conv: u32,
        id: MsgId,
        sent_at: SimTime,
    },
    /// Gateway → store: persist it and give it a sequence number.
    Append {
        conv: u32,
        id: MsgId,
        sent_at: SimTime,
    },
    /// Store → gateway, then gateway → device (as `Ack`).
    Appended {
        item: Item,
    },
    Ack {
        item: Item,
    },
    /// Store → pub/sub: fan a stored message out to the conversation's members.
    Publish {
        item: Item,
    },
    /// Pub/sub → gateway: push `item` to your sessions of its conversation's members.
    Fanout {
        item: Item,
    },
    /// Gateway → device.
    Push {
        item: Item,
    },
    /// Device → gateway: send me `conv`'s messages after `after`.
    SyncReq {
        conv: u32,
        after: u64,
    },
    /// Gateway → store, on behalf of `device`.
    Fetch {
        conv: u32,
        after: u64,
        device: NodeId,
    },
    /// Store → gateway → device: messages after the asked sequence number, in order;
    /// `more` when the batch was cut at its size limit.
    Batch {
        conv: u32,
        device: NodeId,
        items: Vec<Item>,
        more: bool,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Hello { user } => format!("hello (user {user})"),
            Msg::Welcome => "welcome".into(),
            Msg::Bye => "bye".into(),
            Msg::Ping => "ping".into(),
            Msg::Pong => "pong".into(),
            Msg::Beat { device } => format!("beat #{device}"),
            Msg::ConnOpen { device } => format!("online #{device}"),
            Msg::ConnClose { device } => format!("offline #{device}"),
            Msg::Subscribe { user } => format!("subscribe user {user}"),
            Msg::Unsubscribe { user } => format!("unsubscribe user {user}"),
            Msg::Send { conv, id, .. } => format!("send c{conv} m{}.{}", id.device, id.n),
            Msg::Append { conv, id, .. } => format!("append c{conv} m{}.{}", id.device, id.n),
            Msg::Appended { item } => format!("stored c{} #{}", item.conv, item.seq),
            Msg::Ack { item } => format!("ack c{} #{}", item.conv, item.seq),
            Msg::Publish { item } => format!("publish c{} #{}", item.conv, item.seq),
            Msg::Fanout { item } => format!("fanout c{} #{}", item.conv, item.seq),
            Msg::Push { item } => format!("push c{} #{}", item.conv, item.seq),
            Msg::SyncReq { conv, after } => format!("sync c{conv} after #{after}"),
            Msg::Fetch { conv, after, .. } => format!("fetch c{conv} after #{after}"),
            Msg::Batch { conv, items, .. } => format!("batch c{conv} ×{}", items.len()),
        }
    }
}

/// What nodes report to the checks. Times are the kernel's true time.
#[derive(Clone, Debug)]
pub enum Obs {
    /// The sender's device got the store's acknowledgement: `item` is durable (or, for
    /// online-only, sequenced) and the app shows it as sent.
    Acked { item: Item },
    /// `device` put `item` on screen.
    Displayed { device: NodeId, item: Item },
    /// `device`'s socket to `gateway` is open (`Some`) or it closed it (`None`).
    Session { device: NodeId, gateway: Option<NodeId> },
    /// The presence service now shows `device` online or offline.
    Presence { device: NodeId, online: bool },
}
