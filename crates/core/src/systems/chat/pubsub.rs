//! The pub/sub router between gateways (a Redis-pub/sub-like channel per user): it knows
//! which gateways hold a session of which user, and fans each stored message out to the
//! gateways holding any member of its conversation — one copy per gateway, not per
//! device. Subscriptions are soft state rebuilt from the gateways' subscribes.

use super::msg::{Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub struct PubSub {
    /// Members (user ids) of each conversation.
    pub members: Vec<Vec<u32>>,
    /// Conversation names (for the views only).
    pub conv_names: Vec<String>,
    /// Gateways subscribed per user.
    pub subs: BTreeMap<u32, BTreeSet<NodeId>>,
    pub published: u64,
}

impl PubSub {
    pub fn new(members: Vec<Vec<u32>>, conv_names: Vec<String>) -> PubSub {
        PubSub { members, conv_names, subs: BTreeMap::new(), published: 0 }
    }
}

impl Actor for PubSub {
    type Msg = Msg;
    type Obs = Obs;

    fn on_crash(&mut self) {
        self.subs.clear();
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Subscribe { user } => {
                self.subs.entry(user).or_default().insert(from);
            }
            Msg::Unsubscribe { user } => {
                if let Some(s) = self.subs.get_mut(&user) {
                    s.remove(&from);
                    if s.is_empty() {
                        self.subs.remove(&user);
                    }
                }
            }
            Msg::Publish { item } => {
                self.published += 1;
                let Some(members) = self.members.get(item.conv as usize) else { return };
                let gateways: BTreeSet<NodeId> =
                    members.iter().filter_map(|u| self.subs.get(u)).flat_map(|s| s.iter().copied()).collect();
                for g in gateways {
                    ctx.send(g, Msg::Fanout { item });
                }
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} users routed", self.subs.len())
    }
}
