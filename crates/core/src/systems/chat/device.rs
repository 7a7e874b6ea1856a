//! A device: one app instance of one user (a phone, a laptop). It flaps between using the
//! app (connected to a gateway over a simulated WebSocket) and having it closed, sends
//! messages the workload gives it, and puts messages on screen.
//!
//! - Connecting is sticky: the user's home gateway first (`user mod gateways`, what a
//!   load balancer hashing on the user id does), the next one when that does not answer.
//! - Liveness is the WebSocket ping: a ping every heartbeat interval; no pong for
//!   `missed` intervals means the socket is dead, and the device reconnects.
//! - Sending goes through a durable outbox, one message in flight at a time, retried until
//!   the store's acknowledgement comes back (the store recognises a retry by its id).
//! - Displaying depends on the design. Online-only shows what arrives, as it arrives.
//!   The persisting designs keep, per conversation, the highest sequence number shown
//!   (durable, as the app's local database is): a message at that number + 1 is shown, one
//!   at or below it is a copy and is dropped, one beyond it waits while the device asks
//!   the store for what it missed. They also sync every conversation on connect and every
//!   `sync_ms` as a safety net for a lost push.

use super::msg::{Item, Msg, MsgId, Obs};
use super::Strategy;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::WorkloadSpec;
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

const TAG_FLAP: u64 = 1;
const TAG_ARRIVAL: u64 = 2;
const TAG_CONNECT_TIMEOUT: u64 = 3;
const TAG_PING: u64 = 4;
const TAG_SYNC: u64 = 5;
const TAG_RETRY: u64 = 6;
/// Messages a device keeps unsent before it refuses new ones.
const OUTBOX_CAP: usize = 64;
/// Out-of-order messages a device holds while it fills a gap.
const PENDING_CAP: usize = 256;
/// Recent displays kept for the views.
const RECENT: usize = 24;

#[derive(Clone, Debug)]
pub struct DeviceCfg {
    pub strategy: Strategy,
    pub user: u32,
    pub gateways: Vec<NodeId>,
    /// The conversations the user is in.
    pub convs: Vec<u32>,
    pub workload: WorkloadSpec,
    /// Devices sharing the workload's rate.
    pub clients: u32,
    pub heartbeat_ms: u64,
    pub missed: u64,
    pub online_ms: u64,
    pub away_ms: u64,
    pub sync_ms: u64,
}

/// The socket, as the device sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// The app is closed.
    Away,
    /// Handshake sent to `gateways[gw]`, `attempt` gateways tried so far.
    Connecting {
        gw: usize,
        attempt: usize,
    },
    Connected {
        gw: usize,
    },
}

#[derive(Clone, Debug)]
pub struct Device {
    pub cfg: DeviceCfg,
    pub link: Link,
    /// Whether the user wants the app open (the flap state).
    wants_online: bool,
    /// Generation of the socket: timers of an older socket are ignored.
    link_gen: u64,
    flap_gen: u64,
    send_gen: u64,
    last_pong: SimTime,
    /// Durable: highest sequence number shown per conversation.
    pub shown: BTreeMap<u32, u64>,
    /// Durable: messages written but not yet acknowledged, oldest first.
    pub outbox: VecDeque<(MsgId, u32, SimTime)>,
    next_n: u32,
    in_flight: bool,
    /// Volatile: messages beyond a gap, waiting for it to fill.
    pub pending: BTreeMap<(u32, u64), Item>,
    /// When a sync was last asked per conversation (so a burst of gaps asks once).
    asked: BTreeMap<u32, SimTime>,
    pub displayed: u64,
    pub copies_dropped: u64,
    /// Recent displays (conversation, seq, when) for the sequence view.
    pub recent: VecDeque<(u32, u64, f64)>,
}

impl Device {
    pub fn new(cfg: DeviceCfg) -> Device {
        Device {
            cfg,
            link: Link::Away,
            wants_online: false,
            link_gen: 0,
            flap_gen: 0,
            send_gen: 0,
            last_pong: SimTime::ZERO,
            shown: BTreeMap::new(),
            outbox: VecDeque::new(),
            next_n: 0,
            in_flight: false,
            pending: BTreeMap::new(),
            asked: BTreeMap::new(),
            displayed: 0,
            copies_dropped: 0,
            recent: VecDeque::new(),
        }
    }

    fn timer(ctx: &mut Ctx<'_, Msg, Obs>, after_ms: u64, gen: u64, kind: u64) {
        ctx.set_timer(SimDuration::from_ms(after_ms), (gen << 4) | kind);
    }

    fn home(&self) -> usize {
        self.cfg.user as usize % self.cfg.gateways.len()
    }

    fn gateway(&self) -> Option<NodeId> {
        match self.link {
            Link::Connected { gw } => Some(self.cfg.gateways[gw]),
            _ => None,
        }
    }

    /// Starts a handshake with the `attempt`-th gateway after the home one.
    fn connect(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, attempt: usize) {
        self.link_gen += 1;
        self.in_flight = false;
        let gw = (self.home() + attempt) % self.cfg.gateways.len();
        self.link = Link::Connecting { gw, attempt };
        ctx.send(self.cfg.gateways[gw], Msg::Hello { user: self.cfg.user });
        let wait = (2 * self.cfg.heartbeat_ms).max(200);
        Self::timer(ctx, wait, self.link_gen, TAG_CONNECT_TIMEOUT);
    }

    /// Drops the socket (cleanly with a `Bye`, or because it died) and reports it.
    fn disconnect(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, clean: bool) {
        if let Some(g) = self.gateway() {
            if clean {
                ctx.send(g, Msg::Bye);
            }
            ctx.observe(Obs::Session { device: ctx.me(), gateway: None });
        }
        self.link = Link::Away;
        self.link_gen += 1;
        self.in_flight = false;
        self.pending.clear();
    }

    fn schedule_flap(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.flap_gen += 1;
        let mean = if self.wants_online { self.cfg.online_ms } else { self.cfg.away_ms };
        let mut after = ctx.rng.between(mean / 2, mean + mean / 2).max(1);
        if !self.wants_online {
            // Everyone is back in the app by the end of the workload.
            let end = self.cfg.workload.duration_ms;
            let left = end.saturating_sub(ctx.now().as_ms() as u64);
            after = after.min(left + ctx.rng.between(1, 200));
        }
        Self::timer(ctx, after, self.flap_gen, TAG_FLAP);
    }

    fn go_online(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.wants_online = true;
        self.connect(ctx, 0);
        self.schedule_flap(ctx);
    }

    fn send_next(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let (Some(g), false) = (self.gateway(), self.in_flight) else { return };
        let Some(&(id, conv, sent_at)) = self.outbox.front() else { return };
        ctx.send(g, Msg::Send { conv, id, sent_at });
        self.in_flight = true;
        self.send_gen += 1;
        let wait = 4 * self.cfg.heartbeat_ms.max(100);
        Self::timer(ctx, wait, self.send_gen, TAG_RETRY);
    }

    fn sync(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, conv: u32) {
        let Some(g) = self.gateway() else { return };
        let after = self.shown.get(&conv).copied().unwrap_or(0);
        self.asked.insert(conv, ctx.now());
        ctx.send(g, Msg::SyncReq { conv, after });
    }

    fn show(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, item: Item) {
        ctx.observe(Obs::Displayed { device: ctx.me(), item });
        ctx.metrics.request(ctx.now(), ctx.now().since(item.sent_at), true);
        self.displayed += 1;
        let s = self.shown.entry(item.conv).or_insert(0);
        *s = (*s).max(item.seq);
        self.recent.push_back((item.conv, item.seq, ctx.now().as_ms()));
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
    }

    /// A message reached the device: show it, drop it as a copy, or hold it behind a gap.
    fn receive(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, item: Item) {
        if !self.cfg.strategy.persists() {
            self.show(ctx, item);
            return;
        }
        let shown = self.shown.get(&item.conv).copied().unwrap_or(0);
        if item.seq <= shown {
            self.copies_dropped += 1;
            return;
        }
        if item.seq > shown + 1 {
            if self.pending.len() < PENDING_CAP {
                self.pending.insert((item.conv, item.seq), item);
            }
            let recently = self.asked.get(&item.conv).is_some_and(|&t| ctx.now().since(t).as_ms() < 200.0);
            if !recently {
                self.sync(ctx, item.conv);
            }
            return;
        }
        self.show(ctx, item);
        let mut next = item.seq + 1;
        while let Some(held) = self.pending.remove(&(item.conv, next)) {
            self.show(ctx, held);
            next += 1;
        }
        self.pending.retain(|&(c, s), _| c != item.conv || s >= next);
    }
}

impl Actor for Device {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.link = Link::Away;
        self.wants_online = false;
        let stagger = ctx.rng.between(0, 200);
        self.flap_gen += 1;
        Self::timer(ctx, stagger, self.flap_gen, TAG_FLAP);
        if let Some(t) = self.cfg.workload.next_arrival(ctx.now(), self.cfg.clients, ctx.rng) {
            ctx.set_timer(t.since(ctx.now()), TAG_ARRIVAL);
        }
    }

    fn on_crash(&mut self) {
        // The socket and what was held in memory go; the local database (`shown`, the
        // outbox) stays.
        self.link = Link::Away;
        self.in_flight = false;
        self.pending.clear();
        self.asked.clear();
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let gen = tag >> 4;
        match tag & 0xf {
            TAG_FLAP if gen == self.flap_gen => {
                if !self.wants_online {
                    self.go_online(ctx);
                } else if self.cfg.workload.active(ctx.now()) {
                    // The user closes the app for a while.
                    self.disconnect(ctx, true);
                    self.wants_online = false;
                    self.schedule_flap(ctx);
                }
                // After the workload every user opens the app and keeps it open.
            }
            TAG_ARRIVAL => {
                if self.wants_online && self.outbox.len() < OUTBOX_CAP && !self.cfg.convs.is_empty() {
                    let conv = *ctx.rng.pick(&self.cfg.convs).expect("non-empty");
                    let id = MsgId { device: ctx.me(), n: self.next_n };
                    self.next_n += 1;
                    self.outbox.push_back((id, conv, ctx.now()));
                    self.send_next(ctx);
                }
                if let Some(t) = self.cfg.workload.next_arrival(ctx.now(), self.cfg.clients, ctx.rng) {
                    ctx.set_timer(t.since(ctx.now()), TAG_ARRIVAL);
                }
            }
            TAG_CONNECT_TIMEOUT if gen == self.link_gen => {
                if let Link::Connecting { attempt, .. } = self.link {
                    self.connect(ctx, attempt + 1);
                }
            }
            TAG_PING if gen == self.link_gen => {
                let Some(g) = self.gateway() else { return };
                let limit = self.cfg.missed * self.cfg.heartbeat_ms;
                if ctx.local_time().since(self.last_pong).as_ms() > limit as f64 {
                    // No pong for `missed` intervals: the socket is dead; reconnect.
                    self.disconnect(ctx, false);
                    self.connect(ctx, 0);
                    return;
                }
                ctx.send(g, Msg::Ping);
                Self::timer(ctx, self.cfg.heartbeat_ms, self.link_gen, TAG_PING);
            }
            TAG_SYNC if gen == self.link_gen && self.gateway().is_some() => {
                for conv in self.cfg.convs.clone() {
                    self.sync(ctx, conv);
                }
                Self::timer(ctx, self.cfg.sync_ms, self.link_gen, TAG_SYNC);
            }
            TAG_RETRY if gen == self.send_gen && self.in_flight => {
                self.in_flight = false;
                self.send_next(ctx);
            }
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let (Msg::Welcome, Link::Connecting { gw, .. }) = (&msg, self.link) {
            if self.cfg.gateways[gw] != from {
                return;
            }
            self.link = Link::Connected { gw };
            self.link_gen += 1;
            self.last_pong = ctx.local_time();
            ctx.observe(Obs::Session { device: ctx.me(), gateway: Some(from) });
            ctx.send(from, Msg::Ping);
            Self::timer(ctx, self.cfg.heartbeat_ms, self.link_gen, TAG_PING);
            if self.cfg.strategy.persists() {
                for conv in self.cfg.convs.clone() {
                    self.sync(ctx, conv);
                }
                Self::timer(ctx, self.cfg.sync_ms, self.link_gen, TAG_SYNC);
            }
            self.send_next(ctx);
            return;
        }
        // Anything else counts only on the open socket.
        if self.gateway() != Some(from) {
            return;
        }
        match msg {
            Msg::Pong => self.last_pong = ctx.local_time(),
            // An ack for anything but the oldest unsent message is a late copy.
            Msg::Ack { item } if self.outbox.front().is_some_and(|&(id, _, _)| id == item.id) => {
                self.outbox.pop_front();
                ctx.observe(Obs::Acked { item });
                self.in_flight = false;
                self.send_gen += 1;
                self.send_next(ctx);
            }
            Msg::Push { item } => self.receive(ctx, item),
            Msg::Batch { conv, items, more, .. } => {
                for item in items {
                    self.receive(ctx, item);
                }
                if more {
                    self.sync(ctx, conv);
                }
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        let link = match self.link {
            Link::Away => "away".to_string(),
            Link::Connecting { gw, .. } => format!("→ gw{gw}"),
            Link::Connected { gw } => format!("on gw{gw}"),
        };
        format!("{link}, {} shown", self.displayed)
    }
}
