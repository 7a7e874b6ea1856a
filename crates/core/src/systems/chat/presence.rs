//! The presence service: what the "online" dot next to each device shows.
//!
//! - Event presence counts each device's open connections: +1 when a gateway reports a
//!   session opened, −1 when it reports one closed; online while the count is above zero.
//!   A gateway that crashes never reports its closes, so its devices stay online forever.
//! - Heartbeat presence keeps when each device was last heard of (a ping relayed by its
//!   gateway) and shows it offline once `timeout` passes without one, checked by a sweep
//!   every 100 ms. Nothing has to be reported for a device to go offline: silence is
//!   enough, whoever crashed.

use super::msg::{Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;

/// How often heartbeat presence looks for devices that went silent.
pub const SWEEP_MS: u64 = 100;

#[derive(Clone, Debug)]
pub struct Presence {
    pub heartbeat: bool,
    pub timeout_ms: u64,
    /// Per device (node id): open connections (events) …
    pub conns: Vec<u32>,
    /// … or when it was last heard of (heartbeats), on this node's clock.
    pub last_beat: Vec<Option<SimTime>>,
    /// What is shown per device.
    pub shown: Vec<bool>,
}

impl Presence {
    pub fn new(heartbeat: bool, timeout_ms: u64, devices: usize) -> Presence {
        Presence {
            heartbeat,
            timeout_ms,
            conns: vec![0; devices],
            last_beat: vec![None; devices],
            shown: vec![false; devices],
        }
    }

    fn show(&mut self, ctx: &mut Ctx<'_, Msg, Obs>, device: NodeId, online: bool) {
        let Some(s) = self.shown.get_mut(device as usize) else { return };
        if *s != online {
            *s = online;
            ctx.observe(Obs::Presence { device, online });
        }
    }
}

impl Actor for Presence {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.heartbeat {
            ctx.set_timer(SimDuration::from_ms(SWEEP_MS), 0);
        }
    }

    fn on_crash(&mut self) {
        self.conns.iter_mut().for_each(|c| *c = 0);
        self.last_beat.iter_mut().for_each(|b| *b = None);
    }

    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.local_time();
        for d in 0..self.shown.len() {
            let alive = self.last_beat[d].is_some_and(|t| now.since(t).as_ms() <= self.timeout_ms as f64);
            if self.shown[d] && !alive {
                self.show(ctx, d as NodeId, false);
            }
        }
        ctx.set_timer(SimDuration::from_ms(SWEEP_MS), 0);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Beat { device } if self.heartbeat => {
                let now = ctx.local_time();
                if let Some(b) = self.last_beat.get_mut(device as usize) {
                    *b = Some(now);
                    self.show(ctx, device, true);
                }
            }
            Msg::ConnOpen { device } => {
                if let Some(c) = self.conns.get_mut(device as usize) {
                    *c += 1;
                    self.show(ctx, device, true);
                }
            }
            Msg::ConnClose { device } => {
                if let Some(c) = self.conns.get_mut(device as usize) {
                    *c = c.saturating_sub(1);
                    let online = *c > 0;
                    self.show(ctx, device, online);
                }
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} online", self.shown.iter().filter(|&&s| s).count())
    }
}
