//! The device gateway: the fleet's front door (MQTT broker / HTTPS endpoint in a real
//! deployment). For each reading it authenticates the device (SipHash tag under the
//! device's diversified key — or, with the naive knob, trusts the claimed id), validates
//! the payload, and admits it to an in-memory queue that a worker drains at the gateway's
//! service rate into broker appends, batched per service tick. When the broker confirms
//! an append, the gateway acknowledges each reading to its device: an acknowledgement
//! means "durable", never just "received".
//!
//! Admission is where overload is decided. Bounded, the queue holds at most the memory
//! budget; a reading that does not fit is shed at once with "busy", which costs the
//! gateway nothing and tells a buffering device to back off (backpressure reaches the
//! edge, where the memory is). Unbounded, every reading is admitted: under a burst the
//! queue grows without limit until the process is killed for running out of memory
//! (modelled at [`HARD_CAP`] readings: the queue is lost, as the kernel's OOM killer would
//! lose it). The queue is memory: a crash loses it.

use super::auth;
use super::msg::{Entry, Msg, Obs, Reading, READING_BYTES};
use crate::blocks::siphash::SipKey;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;
use std::collections::{BTreeMap, VecDeque};

const TAG_SERVE: u64 = 1;
/// The worker drains the queue in ticks of this length.
pub const TICK_MS: u64 = 5;
/// Readings an unbounded queue reaches before the process is out of memory.
pub const HARD_CAP: usize = 100_000;

/// How a gateway decides who a reading is from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Verify the reading's MAC under the claimed device's key.
    Mac,
    /// Trust the device id the reading claims (the naive knob).
    DeviceId,
}

#[derive(Clone, Debug)]
pub struct GatewayCfg {
    pub index: u32,
    pub broker: NodeId,
    /// Readings per second the worker forwards.
    pub rate_per_s: u64,
    /// Memory budget for queued readings; `None` admits everything (the naive design).
    pub budget_bytes: Option<u64>,
    /// Whether devices expect replies (false for QoS 0 fleets).
    pub replies: bool,
    pub auth: Auth,
    pub master: SipKey,
    pub devices: u32,
}

#[derive(Clone, Debug)]
pub struct Gateway {
    pub cfg: GatewayCfg,
    pub queue: VecDeque<Entry>,
    serving: bool,
    pub admitted: u64,
    pub shed: u64,
    pub forged_rejected: u64,
    pub invalid: u64,
    pub forwarded: u64,
    pub acked: u64,
    pub oom_kills: u64,
    pub peak_bytes: u64,
}

impl Gateway {
    pub fn new(cfg: GatewayCfg) -> Gateway {
        Gateway {
            cfg,
            queue: VecDeque::new(),
            serving: false,
            admitted: 0,
            shed: 0,
            forged_rejected: 0,
            invalid: 0,
            forwarded: 0,
            acked: 0,
            oom_kills: 0,
            peak_bytes: 0,
        }
    }

    pub fn queued_bytes(&self) -> u64 {
        self.queue.len() as u64 * READING_BYTES
    }

    /// Readings the worker forwards per tick (at least one).
    fn per_tick(&self) -> usize {
        ((self.cfg.rate_per_s * TICK_MS / 1_000) as usize).max(1)
    }

    fn authentic(&self, r: &Reading) -> bool {
        match self.cfg.auth {
            Auth::Mac => auth::verify(self.cfg.master, r),
            Auth::DeviceId => r.device < self.cfg.devices,
        }
    }

    fn series_name(&self, what: &str) -> String {
        format!("{what} gateway-{}", self.cfg.index)
    }

    fn admit(&mut self, from: NodeId, r: Reading, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.authentic(&r) {
            self.forged_rejected += 1;
            ctx.metrics.add("forged_rejected", 1);
            ctx.metrics.series.add("forged rejected", ctx.now(), 1.0);
            return;
        }
        if !auth::plausible(r.value) {
            self.invalid += 1;
            return;
        }
        let fits = match self.cfg.budget_bytes {
            Some(budget) => self.queued_bytes() + READING_BYTES <= budget,
            None => true,
        };
        if !fits {
            self.shed += 1;
            ctx.metrics.add("shed", 1);
            ctx.metrics.series.add("shed", ctx.now(), 1.0);
            if self.cfg.replies {
                ctx.send(from, Msg::Busy { device: r.device, seq: r.seq });
            }
            return;
        }
        if self.cfg.budget_bytes.is_none() && self.queue.len() >= HARD_CAP {
            let lost = self.queued_bytes();
            self.oom_kills += 1;
            ctx.metrics.add("gateway_oom_kills", 1);
            ctx.note(format!("gateway-{} out of memory: {} queued readings lost", self.cfg.index, self.queue.len()));
            self.queue.clear();
            ctx.observe(Obs::Queue { gateway: self.cfg.index, added: 0, removed: lost });
        }
        self.queue.push_back(Entry { fleet: from, reading: r });
        self.admitted += 1;
        ctx.metrics.series.add("admitted", ctx.now(), 1.0);
        ctx.observe(Obs::Queue { gateway: self.cfg.index, added: READING_BYTES, removed: 0 });
        let bytes = self.queued_bytes();
        self.peak_bytes = self.peak_bytes.max(bytes);
        let name = self.series_name("queue KB");
        ctx.metrics.series.max(&name, ctx.now(), bytes as f64 / 1_024.0);
        if !self.serving {
            self.serving = true;
            ctx.set_timer(SimDuration::from_ms(TICK_MS), TAG_SERVE);
        }
    }

    fn serve(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let n = self.per_tick().min(self.queue.len());
        let batch: Vec<Entry> = self.queue.drain(..n).collect();
        if !batch.is_empty() {
            self.forwarded += batch.len() as u64;
            ctx.observe(Obs::Queue { gateway: self.cfg.index, added: 0, removed: batch.len() as u64 * READING_BYTES });
            ctx.send(self.cfg.broker, Msg::Append(batch));
        }
        let name = self.series_name("queue KB");
        ctx.metrics.series.max(&name, ctx.now(), self.queued_bytes() as f64 / 1_024.0);
        if self.queue.is_empty() {
            self.serving = false;
        } else {
            ctx.set_timer(SimDuration::from_ms(TICK_MS), TAG_SERVE);
        }
    }

    /// The broker stored these: acknowledge each to its device's fleet, one message per
    /// fleet.
    fn acknowledge(&mut self, entries: Vec<Entry>, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.cfg.replies {
            return;
        }
        let mut by_fleet: BTreeMap<NodeId, Vec<(u32, u32)>> = BTreeMap::new();
        for e in entries {
            by_fleet.entry(e.fleet).or_default().push((e.reading.device, e.reading.seq));
        }
        for (fleet, acks) in by_fleet {
            self.acked += acks.len() as u64;
            ctx.send(fleet, Msg::Acks(acks));
        }
    }
}

impl Actor for Gateway {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.serving = false;
        ctx.observe(Obs::GatewayStarted { gateway: self.cfg.index });
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Publish(r) => self.admit(from, r, ctx),
            Msg::Appended(entries) => self.acknowledge(entries, ctx),
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag == TAG_SERVE {
            self.serve(ctx);
        }
    }

    fn on_crash(&mut self) {
        self.queue.clear();
        self.serving = false;
    }

    fn describe(&self) -> String {
        let budget = match self.cfg.budget_bytes {
            Some(b) => format!("{} KB", b / 1_024),
            None => "∞".into(),
        };
        format!("queue {} KB / {budget} · shed {}", self.queued_bytes() / 1_024, self.shed)
    }
}
