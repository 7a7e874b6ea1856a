//! What a node is. A node is a pure state machine: the kernel hands it one input (a
//! message, a timer) and a [`Ctx`]; the node only *records* effects — sends, timers,
//! observations, notes — and the kernel applies them afterwards. This is the shape of
//! raft-rs's `Ready` and stateright's `Out`: handlers are testable without a network, and
//! nothing a node does can reach outside the simulation.

use super::rng::Prng;
use super::time::{SimDuration, SimTime};
use super::NodeId;
use crate::metrics::Metrics;
use std::fmt::Debug;
use std::hash::Hash;

/// A message type. `Hash` feeds the trace hash (through a platform-stable hasher);
/// `label` is what the event log and sequence diagram show.
pub trait Message: Clone + Hash + Debug + 'static {
    fn label(&self) -> String {
        let mut s = format!("{self:?}");
        if s.len() > 80 {
            let mut cut = 77;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push('…');
        }
        s
    }
}

/// The behaviour of every node of one system (usually an enum over its roles).
pub trait Actor: Clone + 'static {
    type Msg: Message;
    /// What nodes report to the system's checks.
    type Obs: Clone + 'static;

    /// Called once when the run starts (and, by default, on restart).
    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self::Msg, Self::Obs>) {}
    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, Self::Msg, Self::Obs>);
    fn on_timer(&mut self, _tag: u64, _ctx: &mut Ctx<'_, Self::Msg, Self::Obs>) {}
    /// The process died: drop everything that was only in memory.
    fn on_crash(&mut self) {}
    /// The process came back after a crash.
    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self::Msg, Self::Obs>) {
        self.on_start(ctx);
    }
    /// A few words on the node's state for the topology view ("leader t3", "12 keys").
    fn describe(&self) -> String {
        String::new()
    }
    /// Where the topology draws this node's role, left to right: `roles!` gives each role
    /// its place in the enum, so declaring roles in the direction requests flow (clients,
    /// front, back, storage) draws them that way whatever order the nodes were built in.
    fn column(&self) -> usize {
        0
    }
}

/// A boxed role is the role (a large role can be boxed to keep its enum small).
impl<A: Actor> Actor for Box<A> {
    type Msg = A::Msg;
    type Obs = A::Obs;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self::Msg, Self::Obs>) {
        (**self).on_start(ctx)
    }
    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<'_, Self::Msg, Self::Obs>) {
        (**self).on_message(from, msg, ctx)
    }
    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Self::Msg, Self::Obs>) {
        (**self).on_timer(tag, ctx)
    }
    fn on_crash(&mut self) {
        (**self).on_crash()
    }
    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self::Msg, Self::Obs>) {
        (**self).on_restart(ctx)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn column(&self) -> usize {
        (**self).column()
    }
}

/// Effects recorded by one handler call.
pub struct Effects<M, O> {
    pub sends: Vec<(NodeId, M)>,
    pub timers: Vec<(SimDuration, u64)>,
    pub obs: Vec<O>,
    pub notes: Vec<String>,
}

impl<M, O> Default for Effects<M, O> {
    fn default() -> Self {
        Effects { sends: Vec::new(), timers: Vec::new(), obs: Vec::new(), notes: Vec::new() }
    }
}

impl<M: Clone, O: Clone> Clone for Effects<M, O> {
    fn clone(&self) -> Self {
        Effects::default()
    }
}

/// A node's clock: true time plus an offset, running `drift_ppm` fast or slow since
/// `since`. Timers a node sets are measured on this clock.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Clock {
    pub offset_us: i64,
    pub drift_ppm: i64,
    pub since: SimTime,
}

impl Clock {
    /// The local reading at true time `now`, in microseconds (never negative).
    pub fn read(&self, now: SimTime) -> SimTime {
        let elapsed = now.0.saturating_sub(self.since.0) as i128;
        let drift = elapsed * i128::from(self.drift_ppm) / 1_000_000;
        let local = i128::from(now.0) + i128::from(self.offset_us) + drift;
        SimTime(local.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// True time that passes while this clock advances by `d`.
    pub fn real_duration(&self, d: SimDuration) -> SimDuration {
        let rate = 1_000_000 + i128::from(self.drift_ppm);
        if rate <= 0 {
            return SimDuration(u64::MAX / 4);
        }
        SimDuration((i128::from(d.0) * 1_000_000 / rate).clamp(0, i128::from(u64::MAX / 4)) as u64)
    }

    /// Applies a skew fault at `now`: jump by `offset_us`, then run at `drift_ppm`.
    pub fn skew(&mut self, now: SimTime, offset_us: i64, drift_ppm: i64) {
        let current = self.read(now).0 as i128 - now.0 as i128;
        self.offset_us = (current + i128::from(offset_us)).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        self.drift_ppm = drift_ppm;
        self.since = now;
    }
}

/// A node's window on the world during one handler call.
pub struct Ctx<'a, M, O> {
    pub(crate) now: SimTime,
    pub(crate) me: NodeId,
    pub(crate) clock: Clock,
    /// This node's own random stream.
    pub rng: &'a mut Prng,
    /// The run's metrics (counters, histograms, series).
    pub metrics: &'a mut Metrics,
    pub(crate) fx: &'a mut Effects<M, O>,
}

impl<'a, M, O> Ctx<'a, M, O> {
    /// Builds a context outside the kernel, for unit-testing a handler.
    pub fn detached(
        now: SimTime,
        me: NodeId,
        rng: &'a mut Prng,
        metrics: &'a mut Metrics,
        fx: &'a mut Effects<M, O>,
    ) -> Self {
        Ctx { now, me, clock: Clock::default(), rng, metrics, fx }
    }

    pub fn me(&self) -> NodeId {
        self.me
    }

    /// True virtual time. Use it to *measure* (latencies, observations for checks);
    /// decisions a real process makes from its clock must use [`local_time`](Self::local_time).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// This node's clock reading, skew included.
    pub fn local_time(&self) -> SimTime {
        self.clock.read(self.now)
    }

    pub fn send(&mut self, to: NodeId, msg: M) {
        self.fx.sends.push((to, msg));
    }

    /// Fires `on_timer(tag)` after `after` has passed on this node's clock.
    pub fn set_timer(&mut self, after: SimDuration, tag: u64) {
        self.fx.timers.push((after, tag));
    }

    /// Reports an observation to the system's checks.
    pub fn observe(&mut self, obs: O) {
        self.fx.obs.push(obs);
    }

    /// Adds a line to the event log (leader elected, lease granted, ...).
    pub fn note(&mut self, text: impl Into<String>) {
        self.fx.notes.push(text.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skewed_clock_reads_and_times() {
        let mut c = Clock::default();
        c.skew(SimTime::from_ms(1_000), -200_000, 100_000); // 200 ms behind, 10 % fast
        assert_eq!(c.read(SimTime::from_ms(1_000)), SimTime::from_ms(800));
        assert_eq!(c.read(SimTime::from_ms(2_000)), SimTime::from_ms(1_900));
        assert_eq!(c.real_duration(SimDuration::from_ms(110)), SimDuration::from_ms(100));
        c.skew(SimTime::from_ms(2_000), 0, 0);
        assert_eq!(c.read(SimTime::from_ms(2_000)), SimTime::from_ms(1_900));
    }
}
