//! Messages and observations of the notification system. A task is a batch of users of one
//! campaign inside one partition — never one user — so a million users cost a thousand
//! tasks, not a million events.
//!
//! What the checks need travels as observations made where the facts arise: the API when
//! it accepts a send, and the providers when they actually hand messages to users (after
//! any dedup). Workers report nothing the checks rely on: their beliefs are what is under
//! test.

use super::bits::Bits;
use super::prefs::{Campaign, Channel};
use crate::sim::node::Message;

/// A batch of users of one campaign: `first .. first + count`, all in `partition`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Task {
    /// Campaign id in the high 32 bits, batch number in the low.
    pub id: u64,
    pub campaign: Campaign,
    pub partition: u32,
    pub first: u32,
    pub count: u32,
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// API → queue: fan this send out (retried until acknowledged).
    Publish {
        campaign: Campaign,
    },
    /// Queue → API: the send is durably queued.
    PublishOk {
        campaign: u32,
    },
    /// Worker → queue: give me a task when there is one (a long poll).
    Pull,
    /// Queue → worker: a task; `delivery` counts how often it was handed out.
    Deliver {
        task: Task,
        delivery: u32,
    },
    /// Worker → queue: the task is done, delete it.
    Ack {
        task: u64,
    },
    /// Worker → queue: still working on it (retrying); push its visibility deadline back.
    Touch {
        task: u64,
    },
    /// Worker (or the inline API) → provider: deliver `campaign` on `channel` to the users
    /// set in `users` (indices from `first`). `keyed`: carries the idempotency key
    /// (campaign, user, channel) per user, which the provider's gateway honours.
    Send {
        task: u64,
        campaign: Campaign,
        channel: Channel,
        partition: u32,
        first: u32,
        users: Bits,
        keyed: bool,
        attempt: u32,
    },
    /// Provider → sender.
    SendOk {
        task: u64,
        channel: Channel,
        attempt: u32,
    },
    SendFailed {
        task: u64,
        channel: Channel,
        attempt: u32,
        throttled: bool,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Publish { campaign } => format!("publish {}", campaign.label()),
            Msg::PublishOk { campaign } => format!("queued #{campaign}"),
            Msg::Pull => "pull".into(),
            Msg::Deliver { task, delivery } => {
                let again = if *delivery > 1 { format!(" (delivery {delivery})") } else { String::new() };
                format!(
                    "#{} p{} users {}..{}{again}",
                    task.campaign.id,
                    task.partition,
                    task.first,
                    task.first + task.count
                )
            }
            Msg::Ack { task } => format!("ack #{} batch {}", task >> 32, task & 0xffff_ffff),
            Msg::Touch { task } => format!("extend #{} batch {}", task >> 32, task & 0xffff_ffff),
            Msg::Send { campaign, channel, users, attempt, .. } => {
                format!("{} #{}: {} users (try {attempt})", channel.name(), campaign.id, users.count())
            }
            Msg::SendOk { channel, .. } => format!("{} ok", channel.name()),
            Msg::SendFailed { channel, throttled: true, .. } => format!("{} 429 throttled", channel.name()),
            Msg::SendFailed { channel, .. } => format!("{} error", channel.name()),
        }
    }
}

/// What nodes report to the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// The producer API accepted a send (the caller was told yes).
    Accepted { campaign: Campaign },
    /// A provider handed `campaign` to these users on `channel` (indices from `first`).
    Delivered { campaign: u32, channel: Channel, first: u32, users: Bits },
}
