//! A fleet: many devices simulated by one actor. A world holds at most 512 nodes, and a
//! million devices are mostly asleep, so each fleet keeps one 24-byte [`Device`] per
//! device in a flat `Vec` and wakes only the device that has something to do: the one the
//! workload picks to make a reading (Zipf-distributed — a few chatty devices, a long
//! quiet tail), and those whose retry deadline is due in the fleet's timing wheel.
//!
//! With a buffer (the robust design) a device sends each reading at once unless it is
//! backing off, keeps it until the gateway acknowledges it, and when no acknowledgement
//! comes within its timeout — or the gateway says "busy" — re-sends what it holds
//! (its oldest eight per round) after an exponentially growing, jittered delay, to the next gateway each round (so a
//! dead gateway is routed around and a recovering one is not stampeded). Without a buffer
//! (QoS 0) it sends each reading once and forgets it. Devices keep their buffers in flash:
//! a fleet crash loses no reading, only time.

use super::auth;
use super::device::Device;
use super::msg::{LetGo, Msg, Obs, Reading};
use crate::blocks::backoff::Backoff;
use crate::blocks::siphash::SipKey;
use crate::blocks::timing_wheel::TimingWheel;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::{KeySampler, WorkloadSpec};
use crate::sim::NodeId;

const TAG_ARRIVAL: u64 = 1;
const TAG_WHEEL: u64 = 2;
/// How often the retry wheel is advanced while it holds deadlines.
const WHEEL_MS: u64 = 10;
/// Backoff doubles at most this many times.
const MAX_DOUBLINGS: u8 = 4;
/// Readings a device re-sends per retry round, oldest first: the rest wait for the next
/// round, so a million full buffers retrying at once cannot flood the network.
pub const RESEND_MAX: usize = 8;

#[derive(Clone, Debug)]
pub struct FleetCfg {
    pub index: u32,
    pub fleets: u32,
    /// Global id of this fleet's first device; it simulates `count` devices from there.
    pub first: u32,
    pub count: u32,
    pub gateways: Vec<NodeId>,
    /// Buffer and retry (robust) or send once and forget (QoS 0).
    pub buffered: bool,
    pub buffer: u32,
    /// Acknowledgement timeout, and the base of the backoff.
    pub retry_ms: u64,
    /// Devices stop sending this long before the run ends, so every acknowledgement has
    /// time to be written before the checks judge.
    pub stop_at: SimTime,
    pub master: SipKey,
    pub workload: WorkloadSpec,
}

#[derive(Clone, Debug)]
pub struct Fleet {
    pub cfg: FleetCfg,
    pub devices: Vec<Device>,
    sampler: KeySampler,
    wheel: TimingWheel<u32>,
    wheel_ticking: bool,
    pub made: u64,
    pub sent: u64,
    pub resent: u64,
    pub acked: u64,
    pub overflowed: u64,
    pub busy: u64,
}

impl Fleet {
    pub fn new(cfg: FleetCfg) -> Fleet {
        let sampler = KeySampler::new(u64::from(cfg.count.max(1)), cfg.workload.zipf_s);
        Fleet {
            devices: vec![Device::default(); cfg.count as usize],
            sampler,
            wheel: TimingWheel::new(1, 4),
            wheel_ticking: false,
            made: 0,
            sent: 0,
            resent: 0,
            acked: 0,
            overflowed: 0,
            busy: 0,
            cfg,
        }
    }

    fn schedule_arrival(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(at) = self.cfg.workload.next_arrival(ctx.now(), self.cfg.fleets, ctx.rng) {
            ctx.set_timer(at.since(ctx.now()), TAG_ARRIVAL);
        }
    }

    fn gateway_for(&self, device: u32, attempts: u8) -> NodeId {
        let g = &self.cfg.gateways;
        g[(device as usize + attempts as usize) % g.len()]
    }

    fn send(&mut self, device: u32, seq: u32, attempts: u8, ctx: &mut Ctx<'_, Msg, Obs>) {
        let reading: Reading = auth::sign(self.cfg.master, device, seq, auth::sensor_value(device, seq));
        ctx.send(self.gateway_for(device, attempts), Msg::Publish(reading));
    }

    fn local_ms(ctx: &Ctx<'_, Msg, Obs>) -> u64 {
        ctx.local_time().0 / 1_000
    }

    /// Sets device `i`'s retry deadline `after_ms` from now on the device's clock.
    fn arm(&mut self, i: usize, after_ms: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = Self::local_ms(ctx).max(self.wheel.now());
        self.wheel.insert(now + after_ms.max(1), i as u32);
        self.devices[i].armed = true;
        if !self.wheel_ticking {
            self.wheel_ticking = true;
            ctx.set_timer(SimDuration::from_ms(WHEEL_MS), TAG_WHEEL);
        }
    }

    fn make_reading(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let i = self.sampler.sample(ctx.rng) as usize;
        let device = self.cfg.first + i as u32;
        self.made += 1;
        if !self.cfg.buffered {
            let seq = self.devices[i].make_unbuffered();
            ctx.observe(Obs::Generated { device, seq });
            self.send(device, seq, 0, ctx);
            self.sent += 1;
            ctx.observe(Obs::Delivered { device, seq, how: LetGo::Sent });
            return;
        }
        let (seq, dropped) = self.devices[i].make(self.cfg.buffer);
        ctx.observe(Obs::Generated { device, seq });
        if let Some(old) = dropped {
            self.overflowed += 1;
            ctx.metrics.add("device_overflow", 1);
            ctx.observe(Obs::Overflowed { device, seq: old });
        }
        let d = self.devices[i];
        if d.attempts == 0 {
            self.send(device, seq, 0, ctx);
            self.sent += 1;
        }
        if !d.armed {
            self.arm(i, self.cfg.retry_ms, ctx);
        }
    }

    /// Due retry deadlines: re-send what each device still holds, and back off.
    fn retry_due(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = Self::local_ms(ctx).max(self.wheel.now());
        let stopped = ctx.now() >= self.cfg.stop_at;
        for (_, i) in self.wheel.advance(now) {
            let i = i as usize;
            let device = self.cfg.first + i as u32;
            self.devices[i].armed = false;
            if self.devices[i].pending == 0 {
                self.devices[i].attempts = 0;
                continue;
            }
            if stopped {
                continue;
            }
            let attempts = self.devices[i].attempts.saturating_add(1).min(16);
            self.devices[i].attempts = attempts;
            let waiting: Vec<u32> = self.devices[i].waiting().take(RESEND_MAX).collect();
            for seq in waiting {
                self.send(device, seq, attempts, ctx);
                self.resent += 1;
            }
            ctx.metrics.add("device_retries", 1);
            // The acknowledgement timeout, then full jitter on an exponential backoff
            // (`blocks::backoff`): after a gateway outage the retries of thousands of devices
            // spread out instead of arriving together.
            let backoff = Backoff::from_ms(self.cfg.retry_ms, self.cfg.retry_ms << MAX_DOUBLINGS);
            let jitter_ms = backoff.full_jitter(u32::from(attempts), ctx.rng).0 / 1_000;
            self.arm(i, self.cfg.retry_ms + jitter_ms, ctx);
        }
    }

    /// Readings held in device buffers: each buffered reading leaves by an
    /// acknowledgement or an overflow.
    pub fn waiting(&self) -> u64 {
        if self.cfg.buffered {
            self.made - self.acked - self.overflowed
        } else {
            0
        }
    }

    fn local(&self, device: u32) -> Option<usize> {
        let i = device.checked_sub(self.cfg.first)?;
        (i < self.cfg.count).then_some(i as usize)
    }
}

impl Actor for Fleet {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.wheel_ticking = false;
        if ctx.now() < self.cfg.stop_at {
            self.schedule_arrival(ctx);
        }
        if !self.wheel.is_empty() {
            self.wheel_ticking = true;
            ctx.set_timer(SimDuration::from_ms(WHEEL_MS), TAG_WHEEL);
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if !self.cfg.buffered {
            return; // QoS 0: nothing to hear back
        }
        match msg {
            Msg::Acks(acks) => {
                for (device, seq) in acks {
                    let Some(i) = self.local(device) else { continue };
                    if self.devices[i].ack(seq) {
                        self.acked += 1;
                        ctx.observe(Obs::Delivered { device, seq, how: LetGo::Acked });
                        if self.devices[i].pending == 0 {
                            self.devices[i].attempts = 0;
                        }
                    }
                }
            }
            Msg::Busy { device, .. } => {
                if let Some(i) = self.local(device) {
                    self.busy += 1;
                    let d = &mut self.devices[i];
                    d.attempts = d.attempts.max(1);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match tag {
            TAG_ARRIVAL => {
                if ctx.now() >= self.cfg.stop_at {
                    return;
                }
                self.make_reading(ctx);
                self.schedule_arrival(ctx);
            }
            TAG_WHEEL => {
                self.retry_due(ctx);
                if self.wheel.is_empty() {
                    self.wheel_ticking = false;
                } else {
                    ctx.set_timer(SimDuration::from_ms(WHEEL_MS), TAG_WHEEL);
                }
            }
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} devices · {} made · {} waiting", self.cfg.count, self.made, self.waiting())
    }
}
