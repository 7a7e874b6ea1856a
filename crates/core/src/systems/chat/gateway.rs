//! A gateway: holds devices' WebSockets (as sessions), subscribes to the pub/sub router
//! for every user it holds a session of, relays sends to the store and pushes from the
//! router to its sessions, and reports presence — a heartbeat per ping, or an event per
//! session opened and closed, as the design says.
//!
//! A session nobody has pinged for `missed + 1` heartbeat intervals is dropped (the
//! server side of the WebSocket keepalive); under event presence that is reported as a
//! close. A crash loses every session silently: nothing is left to report the closes,
//! which is what event presence cannot survive.

use super::msg::{Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeMap;

const TAG_EXPIRE: u64 = 1;

#[derive(Clone, Debug)]
pub struct GatewayCfg {
    pub heartbeat_presence: bool,
    pub store: NodeId,
    pub pubsub: NodeId,
    pub presence: NodeId,
    /// Members (user ids) of each conversation.
    pub members: Vec<Vec<u32>>,
    pub heartbeat_ms: u64,
    pub missed: u64,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub user: u32,
    last_ping: SimTime,
}

#[derive(Clone, Debug)]
pub struct Gateway {
    pub cfg: GatewayCfg,
    /// Open sessions by device.
    pub sessions: BTreeMap<NodeId, Session>,
    /// Sessions per user (subscribed while above zero).
    users: BTreeMap<u32, u32>,
    pub relayed: u64,
}

impl Gateway {
    pub fn new(cfg: GatewayCfg) -> Gateway {
        Gateway { cfg, sessions: BTreeMap::new(), users: BTreeMap::new(), relayed: 0 }
    }

    fn close(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, device: NodeId) {
        let Some(s) = self.sessions.remove(&device) else { return };
        if !self.cfg.heartbeat_presence {
            ctx.send(self.cfg.presence, Msg::ConnClose { device });
        }
        let n = self.users.entry(s.user).or_insert(1);
        *n -= 1;
        if *n == 0 {
            self.users.remove(&s.user);
            ctx.send(self.cfg.pubsub, Msg::Unsubscribe { user: s.user });
        }
    }
}

impl Actor for Gateway {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(self.cfg.heartbeat_ms), TAG_EXPIRE);
    }

    fn on_crash(&mut self) {
        self.sessions.clear();
        self.users.clear();
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let limit = (self.cfg.missed + 1) * self.cfg.heartbeat_ms;
        let now = ctx.local_time();
        let stale: Vec<NodeId> = self
            .sessions
            .iter()
            .filter(|(_, s)| now.since(s.last_ping).as_ms() > limit as f64)
            .map(|(&d, _)| d)
            .collect();
        for d in stale {
            self.close(ctx, d);
        }
        ctx.set_timer(SimDuration::from_ms(self.cfg.heartbeat_ms), TAG_EXPIRE);
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Hello { user } => {
                let now = ctx.local_time();
                if let Some(s) = self.sessions.get_mut(&from) {
                    s.last_ping = now;
                } else {
                    self.sessions.insert(from, Session { user, last_ping: now });
                    let n = self.users.entry(user).or_insert(0);
                    *n += 1;
                    if *n == 1 {
                        ctx.send(self.cfg.pubsub, Msg::Subscribe { user });
                    }
                    if !self.cfg.heartbeat_presence {
                        ctx.send(self.cfg.presence, Msg::ConnOpen { device: from });
                    }
                }
                ctx.send(from, Msg::Welcome);
            }
            Msg::Bye => self.close(ctx, from),
            Msg::Ping => {
                let now = ctx.local_time();
                let Some(s) = self.sessions.get_mut(&from) else { return };
                s.last_ping = now;
                ctx.send(from, Msg::Pong);
                if self.cfg.heartbeat_presence {
                    ctx.send(self.cfg.presence, Msg::Beat { device: from });
                }
            }
            Msg::Send { conv, id, sent_at } if self.sessions.contains_key(&from) => {
                ctx.send(self.cfg.store, Msg::Append { conv, id, sent_at });
            }
            Msg::Appended { item } => ctx.send(item.id.device, Msg::Ack { item }),
            Msg::Fanout { item } => {
                let Some(members) = self.cfg.members.get(item.conv as usize) else { return };
                for (&d, s) in &self.sessions {
                    if members.contains(&s.user) {
                        ctx.send(d, Msg::Push { item });
                        self.relayed += 1;
                    }
                }
            }
            Msg::SyncReq { conv, after } if self.sessions.contains_key(&from) => {
                ctx.send(self.cfg.store, Msg::Fetch { conv, after, device: from });
            }
            Msg::Batch { conv, device, items, more } => {
                ctx.send(device, Msg::Batch { conv, device, items, more });
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} sockets", self.sessions.len())
    }
}
