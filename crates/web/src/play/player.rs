//! The player: one running simulation plus what the UI needs around it — advancing by a
//! budget of virtual time and events per frame (so no speed setting can freeze the page),
//! seeking by restoring the nearest snapshot and replaying in time-budgeted slices (so
//! opening a link at a far playhead shows progress and can be cancelled instead of freezing
//! the tab), and recording every clicked fault in the scenario, so the share link replays
//! exactly what the user saw.
//!
//! Faults clicked mid-run are scheduled at the next whole millisecond (the unit links
//! carry) and the kernel runs faults first at their instant, so replaying the link from
//! time zero meets each fault at the same point in the event order.

use sdlab_core::scenario::Scenario;
use sdlab_core::sim::fault::{Fault, TimedFault};
use sdlab_core::sim::time::{SimDuration, SimTime};
use sdlab_core::sim::workload::Burst;
use sdlab_core::system::BuildOptions;
use sdlab_core::system::Simulation;

/// Recent trace events kept for the log and the sequence diagram.
pub const KEEP_TRACE: usize = 600;
/// Most snapshots kept for seeking.
pub const MAX_SNAPSHOTS: usize = 48;

/// Events run between two looks at the clock in [`Player::advance_until`].
pub const CHUNK: u64 = 500;
/// Most events all snapshots together may hold waiting: each snapshot is a whole copy of
/// the world, so a run near the kernel's backlog limit keeps few of them (seeking back then
/// replays further) instead of multiplying its memory by the snapshot count.
pub const SNAPSHOT_EVENTS: usize = 1 << 19;

/// A seek under way: where it started (for progress) and where it goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seek {
    pub from: SimTime,
    pub to: SimTime,
    /// Events run when it started.
    pub from_events: u64,
}

impl Seek {
    /// How far along, 0..=1: by virtual time, or by the event budget when that is further
    /// (a flood uses up the budget long before its clock reaches a far playhead, and the
    /// run ends there).
    pub fn progress(&self, now: SimTime, events: u64) -> f64 {
        let span = self.to.micros().saturating_sub(self.from.micros()).max(1) as f64;
        let by_time = now.micros().saturating_sub(self.from.micros()) as f64 / span;
        let budget = BuildOptions::default().budget.saturating_sub(self.from_events).max(1) as f64;
        let by_events = events.saturating_sub(self.from_events) as f64 / budget;
        by_time.max(by_events).clamp(0.0, 1.0)
    }
}

pub struct Player {
    scenario: Scenario,
    sim: Box<dyn Simulation>,
    snapshots: Vec<Box<dyn Simulation>>,
    snapshot_every: SimDuration,
    seek: Option<Seek>,
}

impl Player {
    pub fn new(scenario: Scenario) -> Result<Player, String> {
        let sim = build(&scenario)?;
        let horizon = sim.horizon().micros().max(1);
        let snapshot_every = SimDuration((horizon / MAX_SNAPSHOTS as u64).max(50_000));
        let first = sim.snapshot();
        Ok(Player { scenario, sim, snapshots: vec![first], snapshot_every, seek: None })
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn sim(&self) -> &dyn Simulation {
        self.sim.as_ref()
    }

    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    pub fn horizon(&self) -> SimTime {
        self.sim.horizon()
    }

    pub fn finished(&self) -> bool {
        self.sim.stopped().is_some()
    }

    /// Advances virtual time by `dt` (to a whole millisecond, the unit links carry),
    /// handling at most `max_events` events. Returns how many events ran and whether the
    /// budget cut the advance short.
    pub fn advance(&mut self, dt: SimDuration, max_events: u64) -> (u64, bool) {
        self.advance_until(dt, max_events, || false)
    }

    /// [`advance`](Self::advance), also stopping as soon as `out_of_time` says so. It is
    /// asked after every [`CHUNK`] events, so the page can budget a frame by measured
    /// time: a scenario whose events are expensive runs fewer of them per frame instead
    /// of dropping frames.
    pub fn advance_until(
        &mut self,
        dt: SimDuration,
        max_events: u64,
        mut out_of_time: impl FnMut() -> bool,
    ) -> (u64, bool) {
        if self.seek.is_some() && !self.seek_step(&mut out_of_time) {
            return (0, true);
        }
        let target = SimTime((self.sim.now() + dt).micros() / 1_000 * 1_000);
        let start = self.sim.events();
        let cap = start.saturating_add(max_events);
        let mut capped = false;
        let mut next_look = start.saturating_add(CHUNK);
        while self.sim.now() < target && self.sim.stopped().is_none() {
            let next_snap = self.next_snapshot_time();
            match self.sim.run_until_capped(target.min(next_snap), next_look.min(cap)) {
                None => {
                    if self.sim.events() >= cap || out_of_time() {
                        capped = true;
                        break;
                    }
                    next_look = next_look.saturating_add(CHUNK);
                }
                Some(_) => {
                    if self.sim.now() >= next_snap {
                        self.take_snapshot();
                    }
                }
            }
        }
        if self.sim.stopped().is_some() {
            self.sim.run_to_end();
        }
        (self.sim.events() - start, capped)
    }

    fn next_snapshot_time(&self) -> SimTime {
        let last = self.snapshots.last().map_or(SimTime::ZERO, |s| s.now());
        last + self.snapshot_every
    }

    fn take_snapshot(&mut self) {
        let held: usize = self.snapshots.iter().map(|s| s.pending_events()).sum();
        if self.snapshots.len() < MAX_SNAPSHOTS * 2 && held + self.sim.pending_events() <= SNAPSHOT_EVENTS {
            self.snapshots.push(self.sim.snapshot());
        }
    }

    /// Handles exactly one event (the "step" button).
    pub fn step(&mut self) -> bool {
        let moved = self.sim.step();
        if !moved {
            self.sim.run_to_end();
        }
        moved
    }

    /// Puts the run at virtual time `t` at once: [`begin_seek`](Self::begin_seek) and
    /// replay to the end of it. Deterministic, so the result equals a run straight to `t`.
    /// The page uses the sliced form; this one is for tests and short hops.
    pub fn seek(&mut self, t: SimTime) {
        self.begin_seek(t);
        self.seek_step(|| false);
    }

    /// Starts moving the playhead to `t`: restores the latest snapshot at or before `t` (or
    /// rebuilds), which is cheap, and leaves the replay to [`seek_step`](Self::seek_step),
    /// which the page calls once per frame with a time budget.
    pub fn begin_seek(&mut self, t: SimTime) {
        let t = t.min(self.horizon());
        if t < self.sim.now() || self.sim.stopped().is_some() {
            let base = self.snapshots.iter().rev().find(|s| s.now() <= t).map(|s| s.snapshot());
            self.sim = match base {
                Some(s) => s,
                None => match build(&self.scenario) {
                    Ok(s) => s,
                    Err(_) => return,
                },
            };
        }
        self.seek = Some(Seek { from: self.sim.now(), to: t, from_events: self.sim.events() });
    }

    /// The seek under way, if any.
    pub fn seeking(&self) -> Option<Seek> {
        self.seek
    }

    /// Replays toward the seek target until it is reached or `out_of_time` says stop
    /// (asked every [`CHUNK`] events). Returns true when no seek is left.
    pub fn seek_step(&mut self, mut out_of_time: impl FnMut() -> bool) -> bool {
        let Some(Seek { to, .. }) = self.seek else { return true };
        loop {
            if self.sim.now() >= to || self.sim.stopped().is_some() {
                break;
            }
            let next_snap = self.next_snapshot_time();
            let cap = self.sim.events().saturating_add(CHUNK);
            match self.sim.run_until_capped(to.min(next_snap), cap) {
                None => {
                    if out_of_time() {
                        return false;
                    }
                }
                Some(_) if self.sim.now() >= next_snap => self.take_snapshot(),
                Some(_) => {}
            }
        }
        self.seek = None;
        if self.sim.stopped().is_some() || to >= self.horizon() {
            // At the end, judge end-of-run checks as `sdlab run` does.
            self.sim.run_to_end();
        }
        true
    }

    /// Stops a seek where it got to; the run stays there, paused.
    pub fn cancel_seek(&mut self) {
        self.seek = None;
    }

    /// Rebuilds from scratch (the reset button).
    pub fn reset(&mut self) {
        self.seek(SimTime::ZERO);
    }

    /// Records a fault at the next whole millisecond and rebuilds the run with it in its
    /// plan, replaying to now (in slices, like any seek). Rebuilding rather than slipping
    /// the fault into the live world is what makes the share link exact for every system:
    /// a check may read the fault plan when the world is built (to excuse the windows a
    /// crash or a partition opens), and when the link is opened the fault is in the plan
    /// from the start, so it must be here too.
    pub fn inject(&mut self, fault: Fault) -> Result<TimedFault, String> {
        if self.scenario.faults.len() >= sdlab_core::scenario::MAX_FAULTS {
            return Err(format!("a scenario holds at most {} faults", sdlab_core::scenario::MAX_FAULTS));
        }
        let timed = TimedFault { at_ms: self.next_ms(), fault };
        let mut scenario = self.scenario.clone();
        scenario.faults.push(timed.clone());
        self.rebuild_at_now(scenario)?;
        Ok(timed)
    }

    /// A traffic spike: the workload's rate × `factor` for `for_ms` from now. The workload
    /// is part of the built world, so this rebuilds and replays to the current time.
    pub fn spike(&mut self, factor: f64, for_ms: u64) -> Result<(), String> {
        let mut scenario = self.scenario.clone();
        if scenario.workload.bursts.len() >= sdlab_core::sim::workload::MAX_BURSTS {
            return Err("this scenario already has the most bursts it can hold".into());
        }
        scenario.workload.bursts.push(Burst { at_ms: self.next_ms(), for_ms, factor });
        scenario.workload.validate()?;
        self.rebuild_at_now(scenario)
    }

    /// The next whole millisecond: where a clicked change takes effect (the unit links carry).
    fn next_ms(&self) -> u64 {
        self.sim.now().micros().div_ceil(1_000)
    }

    /// Replaces the run with `scenario` built afresh and starts the replay to the current
    /// time (the way every clicked change enters the run). Refused while a replay is under way.
    fn rebuild_at_now(&mut self, scenario: Scenario) -> Result<(), String> {
        if self.seek.is_some() {
            return Err("the run is still replaying to its playhead; wait for it or cancel it first".into());
        }
        let now = self.sim.now();
        let mut fresh = Player::new(scenario)?;
        fresh.begin_seek(now);
        *self = fresh;
        Ok(())
    }

    /// Moves to the end of the current whole millisecond, so the playhead a link carries is
    /// exactly where the run stands. A link's playhead means "every event at or before this
    /// instant has run" (the kernel's `run_until` is inclusive); a step can leave the run
    /// mid-millisecond, or at a whole millisecond with more events due at that very instant
    /// (periodic timers on round times), and both are finished here.
    pub fn align_to_ms(&mut self) {
        let now = self.sim.now().micros();
        if self.sim.stopped().is_none() {
            self.sim.run_until(SimTime(now.div_ceil(1_000) * 1_000));
        }
    }

    /// The scenario as it stands, with the playhead at the current time (call
    /// [`align_to_ms`](Self::align_to_ms) first).
    pub fn share_link(&self) -> String {
        let mut s = self.scenario.clone();
        s.playhead_ms = Some(self.sim.now().micros() / 1_000);
        s.link()
    }
}

fn build(scenario: &Scenario) -> Result<Box<dyn Simulation>, String> {
    scenario.build(&BuildOptions { keep_trace: KEEP_TRACE, ..BuildOptions::default() }).map_err(|e| e.0)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use sdlab_core::catalog::CATALOG;

    fn player(system: &str) -> Player {
        let def = sdlab_core::catalog::find(system).unwrap();
        Player::new(sdlab_core::run::open(&def.default_spec()).unwrap()).unwrap()
    }

    /// The share-link promise: play in frames, click a fault, copy the link; a fresh
    /// player opened on that link and sought to its playhead shows the same trace hash and
    /// the same metrics.
    #[test]
    fn shared_link_replays_what_the_user_saw() {
        for def in CATALOG {
            let mut p = player(def.id);
            for _ in 0..40 {
                p.advance(SimDuration::from_ms(16), 5_000);
            }
            let node = p.sim().node_names().last().cloned().unwrap();
            p.inject(Fault::Crash { node: node.clone() }).unwrap();
            for _ in 0..30 {
                p.advance(SimDuration::from_ms(16), 5_000);
            }
            p.step();
            p.align_to_ms();
            let link = p.share_link();
            let opened = sdlab_core::run::open_link(&link).unwrap();
            let playhead = SimTime::from_ms(opened.playhead_ms.unwrap());
            assert_eq!(playhead, p.now(), "{}", def.id);
            let mut q = Player::new(opened).unwrap();
            q.seek(playhead);
            assert_eq!(q.sim().trace_hash(), p.sim().trace_hash(), "{}: hash at the playhead", def.id);
            assert_eq!(q.sim().events(), p.sim().events(), "{}", def.id);
            assert_eq!(q.sim().metrics().counters, p.sim().metrics().counters, "{}", def.id);
        }
    }

    #[test]
    fn seeking_back_and_forth_is_the_same_as_running_straight() {
        let mut p = player("rate-limiter");
        p.advance(SimDuration::from_ms(2_500), u64::MAX);
        let (h, e) = (p.sim().trace_hash(), p.sim().events());
        p.seek(SimTime::from_ms(700));
        assert!(p.now() == SimTime::from_ms(700));
        p.seek(SimTime::from_ms(2_500));
        assert_eq!((p.sim().trace_hash(), p.sim().events()), (h, e));
        let mut fresh = player("rate-limiter");
        fresh.seek(SimTime::from_ms(2_500));
        assert_eq!(fresh.sim().trace_hash(), h);
    }

    #[test]
    fn a_frame_never_runs_more_than_its_budget() {
        let mut p = player("distributed-cache");
        let (ran, capped) = p.advance(SimDuration::from_secs(60), 1_000);
        assert!(ran <= 1_000 && capped, "{ran}");
    }

    /// Hardening item 5: the frame stops when its time is up, a chunk at a time, and
    /// resumes next frame exactly where it left off (same run as one long advance).
    #[test]
    fn a_frame_stops_when_its_time_is_up_and_the_run_is_unchanged() {
        let mut p = player("distributed-cache");
        let mut looks = 0;
        let (ran, capped) = p.advance_until(SimDuration::from_secs(60), u64::MAX, || {
            looks += 1;
            looks >= 3
        });
        assert!(capped && ran <= 3 * CHUNK && ran > 0, "{ran}");
        let mut frames = 1;
        while !p.finished() {
            p.advance_until(SimDuration::from_secs(60), u64::MAX, || true);
            frames += 1;
        }
        let mut straight = player("distributed-cache");
        while !straight.finished() {
            straight.advance(SimDuration::from_secs(60), u64::MAX);
        }
        assert!(frames > 10, "{frames}");
        assert_eq!(p.sim().trace_hash(), straight.sim().trace_hash());
    }

    #[test]
    fn a_spike_is_recorded_in_the_workload() {
        let mut p = player("url-shortener");
        p.advance(SimDuration::from_ms(500), u64::MAX);
        let before = p.scenario().workload.bursts.len();
        p.spike(3.0, 500).unwrap();
        assert_eq!(p.scenario().workload.bursts.len(), before + 1);
        assert!(p.seeking().is_some(), "the replay to the spike's instant runs in slices");
        p.seek_step(|| false);
        assert_eq!(p.now(), SimTime::from_ms(500));
    }

    /// Hardening item 4: a seek runs in slices that stop when their time is up, reports
    /// progress, ends exactly where a straight run would, and can be cancelled where it is.
    #[test]
    fn a_seek_runs_in_slices_with_progress_and_can_be_cancelled() {
        let mut p = player("distributed-cache");
        let target = SimTime::from_ms(3_000);
        p.begin_seek(target);
        let mut slices = 0;
        let mut last = 0.0;
        while !p.seek_step(|| true) {
            slices += 1;
            let progress = p.seeking().unwrap().progress(p.now(), p.sim().events());
            assert!(progress >= last, "progress only grows");
            last = progress;
        }
        assert!(slices > 10, "{slices} slices");
        assert_eq!(p.now(), target);
        let mut straight = player("distributed-cache");
        straight.seek(target);
        assert_eq!(p.sim().trace_hash(), straight.sim().trace_hash());

        let mut q = player("distributed-cache");
        q.begin_seek(target);
        q.seek_step(|| true);
        q.cancel_seek();
        assert!(q.seeking().is_none() && q.now() < target && q.now() > SimTime::ZERO);
        assert!(q.inject(Fault::Crash { node: "db".into() }).is_ok(), "after a cancel the run is usable");
    }

    /// Snapshots are whole worlds: together they hold at most SNAPSHOT_EVENTS waiting
    /// events, so a heavy run does not multiply its memory by the snapshot count.
    #[test]
    fn snapshots_are_bounded_by_the_events_they_hold() {
        let mut p = player("url-shortener");
        p.seek(p.horizon());
        let held: usize = p.snapshots.iter().map(|s| s.pending_events()).sum();
        assert!(held <= SNAPSHOT_EVENTS && p.snapshots.len() > 1, "{held} in {}", p.snapshots.len());
    }
}
