//! The message store: the sequencer and the durable log of every conversation.
//!
//! An append gets the conversation's next sequence number, is kept (the persisting
//! designs keep the last `history` messages of each conversation, a bounded stand-in for a
//! database table — the inbox a device syncs from), is acknowledged to the sender through
//! its gateway, and only then is published for delivery. A retry of a message already
//! stored (same sending device and counter) gets the same sequence number back and is not
//! stored or published again: each device sends one message at a time, so the store needs
//! to remember only each device's last one.
//!
//! A crash makes the store unavailable; its contents are on disk and survive.

use super::msg::{Item, Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::VecDeque;

/// Messages per sync batch.
pub const BATCH: usize = 64;
/// Recent appends kept for the sequence view.
const RECENT: usize = 48;

#[derive(Clone, Debug)]
pub struct Store {
    pub pubsub: NodeId,
    /// Messages kept per conversation (0: none, the online-only design).
    pub history: usize,
    /// Last sequence number given per conversation.
    pub head: Vec<u64>,
    /// The kept tail of each conversation, oldest first.
    pub tail: Vec<VecDeque<Item>>,
    /// Per sending device: its last stored message (counter, item).
    last: Vec<Option<(u32, Item)>>,
    pub appended: u64,
    pub retries: u64,
    /// Recent appends (item, when) for the sequence view.
    pub recent: VecDeque<(Item, f64)>,
}

impl Store {
    pub fn new(pubsub: NodeId, convs: usize, devices: usize, history: usize) -> Store {
        Store {
            pubsub,
            history,
            head: vec![0; convs],
            tail: vec![VecDeque::new(); convs],
            last: vec![None; devices],
            appended: 0,
            retries: 0,
            recent: VecDeque::new(),
        }
    }
}

impl Actor for Store {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Append { conv, id, sent_at } => {
                let c = conv as usize;
                if c >= self.head.len() {
                    return;
                }
                let d = id.device as usize;
                match self.last.get(d).copied().flatten() {
                    Some((n, item)) if n == id.n => {
                        self.retries += 1;
                        ctx.send(from, Msg::Appended { item });
                        return;
                    }
                    Some((n, _)) if n > id.n => return,
                    _ => {}
                }
                self.head[c] += 1;
                let item = Item { conv, seq: self.head[c], id, sent_at };
                if self.history > 0 {
                    self.tail[c].push_back(item);
                    if self.tail[c].len() > self.history {
                        self.tail[c].pop_front();
                    }
                }
                if let Some(slot) = self.last.get_mut(d) {
                    *slot = Some((id.n, item));
                }
                self.appended += 1;
                self.recent.push_back((item, ctx.now().as_ms()));
                if self.recent.len() > RECENT {
                    self.recent.pop_front();
                }
                ctx.send(from, Msg::Appended { item });
                ctx.send(self.pubsub, Msg::Publish { item });
            }
            Msg::Fetch { conv, after, device } => {
                let Some(tail) = self.tail.get(conv as usize) else { return };
                // The tail is in sequence order: skip to the first message after `after`.
                let start = tail.partition_point(|i| i.seq <= after);
                let items: Vec<Item> = tail.iter().skip(start).take(BATCH).copied().collect();
                let more = tail.len() - start > items.len();
                ctx.send(from, Msg::Batch { conv, device, items, more });
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} stored", self.appended)
    }
}
