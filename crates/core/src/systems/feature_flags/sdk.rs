//! The SDK inside each app server: a local cache of every flag, so an evaluation is a
//! function call, not a network round trip. How the cache follows the store is the
//! strategy:
//!
//! - Polling (naive): every `poll_ms` ask for the whole flag set and serve whatever came
//!   back last. A change — the kill switch included — reaches the SDK up to a whole
//!   interval later.
//! - Streaming (robust): one long-lived connection. The store pushes each committed change
//!   as a patch carrying its version; a patch that skips a version (one was lost) makes
//!   the SDK catch up at once with a sync. Every `keepalive_ms` the SDK syncs anyway: the
//!   reply re-subscribes it (after a store restart), carries what it missed, and confirms
//!   that as of the moment the sync was *sent* its cache was current.
//!
//! That confirmation is a lease. For a fail-closed flag (the kill switch) a streaming SDK
//! serves the code default once its newest confirmation is older than `lease_ms`, timed
//! from when the confirmed sync left, on a reading that never goes backwards (a clock
//! stepped back voids the lease). A partitioned, paused or restarted SDK therefore stops
//! serving a feature it cannot prove is still on, and the kill switch's SLO holds
//! without assuming the network delivers.
//!
//! The cache lives in memory: a crash loses it, and until the first answer after the
//! restart every flag is served its code default.

use super::flags::{evaluate, Bucketing, FlagConfig, Reason, Segment, FULL};
use super::msg::{Msg, Obs, Version};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::VecDeque;

const TAG_SYNC: u64 = 1;
const TAG_POLL: u64 = 2;
/// Syncs awaiting an answer that the SDK remembers (older ones are forgotten).
const PENDING_MAX: usize = 16;

/// How an SDK follows the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Updates {
    Poll { every_ms: u64 },
    Stream { keepalive_ms: u64, lease_ms: u64 },
}

#[derive(Clone, Debug)]
pub struct Sdk {
    pub store: NodeId,
    pub updates: Updates,
    pub bucketing: Bucketing,
    pub segments: Vec<Segment>,
    /// The cache: the flags as of `version` (empty until the first answer).
    pub flags: Vec<FlagConfig>,
    pub version: Version,
    /// Local send time of the newest sync the store answered (the lease's start).
    pub confirmed: Option<SimTime>,
    pending: VecDeque<(u64, SimTime)>,
    nonce: u64,
    /// The latest reading of the local clock (to notice it stepping back).
    last_read: SimTime,
    pub evals: u64,
    pub fallbacks: u64,
    pub patches: u64,
    pub gaps: u64,
    /// When (true time) the cache last changed version, for the view.
    pub updated_at: SimTime,
}

impl Sdk {
    pub fn new(store: NodeId, updates: Updates, bucketing: Bucketing, segments: Vec<Segment>) -> Sdk {
        Sdk {
            store,
            updates,
            bucketing,
            segments,
            flags: Vec::new(),
            version: 0,
            confirmed: None,
            pending: VecDeque::new(),
            nonce: 0,
            last_read: SimTime::ZERO,
            evals: 0,
            fallbacks: 0,
            patches: 0,
            gaps: 0,
            updated_at: SimTime::ZERO,
        }
    }

    /// The local clock, read the way a monotonic clock would be: a step back voids the
    /// lease and every sync in flight (their send times are on the old reading).
    fn read_clock(&mut self, ctx: &Ctx<'_, Msg, Obs>) -> SimTime {
        let now = ctx.local_time();
        if now < self.last_read {
            self.confirmed = None;
            self.pending.clear();
        }
        self.last_read = now;
        now
    }

    fn sync(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = self.read_clock(ctx);
        self.nonce += 1;
        self.pending.push_back((self.nonce, now));
        if self.pending.len() > PENDING_MAX {
            self.pending.pop_front();
        }
        ctx.send(self.store, Msg::Sync { nonce: self.nonce, have: self.version });
    }

    /// Whether the lease on the cache holds at local time `now`.
    pub fn fresh(&self, now: SimTime) -> bool {
        match (self.updates, self.confirmed) {
            (Updates::Stream { lease_ms, .. }, Some(t)) => now >= t && now < t + SimDuration::from_ms(lease_ms),
            (Updates::Stream { .. }, None) => false,
            // A polling SDK has no lease: it serves what it has.
            (Updates::Poll { .. }, _) => true,
        }
    }

    fn install(&mut self, version: Version, flags: Vec<FlagConfig>, ctx: &mut Ctx<'_, Msg, Obs>) {
        if version > self.version || self.flags.is_empty() {
            self.version = version;
            self.flags = flags;
            self.updated_at = ctx.now();
        }
    }

    fn on_state(&mut self, nonce: u64, version: Version, flags: Option<Vec<FlagConfig>>, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some(flags) = flags {
            self.install(version, flags, ctx);
        }
        if let Updates::Stream { .. } = self.updates {
            self.read_clock(ctx);
            // The answer covers the store's state when it read the sync: everything up to
            // `version` is in the cache now (it came in this answer, or earlier).
            if self.version >= version && !self.flags.is_empty() {
                if let Some(&(_, sent)) = self.pending.iter().find(|(n, _)| *n == nonce) {
                    self.confirmed = Some(self.confirmed.map_or(sent, |c| c.max(sent)));
                    self.pending.retain(|(n, _)| *n > nonce);
                }
            }
        }
    }

    fn on_patch(&mut self, version: Version, flag: u8, config: FlagConfig, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.flags.is_empty() || version <= self.version {
            return;
        }
        if version == self.version + 1 && (flag as usize) < self.flags.len() {
            self.patches += 1;
            self.flags[flag as usize] = config;
            self.version = version;
            self.updated_at = ctx.now();
        } else {
            // A version went missing on the way: catch up now rather than at the next
            // keepalive.
            self.gaps += 1;
            self.sync(ctx);
        }
    }

    fn on_eval(&mut self, user: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = self.read_clock(ctx);
        let fresh = self.fresh(now);
        let me = ctx.me();
        let (mut evals, mut fallbacks) = (0, 0);
        for (i, flag) in self.flags.iter().enumerate() {
            let (variant, reason) = if flag.fail_closed && !fresh {
                (flag.off_variant, Reason::Fallback)
            } else {
                let rng = &mut *ctx.rng;
                evaluate(flag, &self.segments, user, self.bucketing, || rng.below(u64::from(FULL)) as u32)
            };
            evals += 1;
            if reason == Reason::Fallback {
                fallbacks += 1;
            }
            let on = variant != flag.off_variant;
            ctx.metrics.series.add(&format!("evals:{}", flag.key), ctx.now(), 1.0);
            if on {
                ctx.metrics.series.add(&format!("on:{}", flag.key), ctx.now(), 1.0);
            }
            ctx.observe(Obs::Evaluated { sdk: me, user, flag: i as u8, version: self.version, variant, reason });
        }
        self.evals += evals;
        self.fallbacks += fallbacks;
        if self.flags.is_empty() {
            // No cache yet: every flag gets its code default; nothing to report per flag.
            self.fallbacks += 1;
        }
    }
}

impl Actor for Sdk {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.last_read = ctx.local_time();
        match self.updates {
            Updates::Stream { keepalive_ms, .. } => {
                self.sync(ctx);
                ctx.set_timer(SimDuration::from_ms(keepalive_ms), TAG_SYNC);
            }
            Updates::Poll { every_ms } => {
                ctx.send(self.store, Msg::Poll { have: self.version });
                // Servers started together still poll at scattered moments.
                let first = 1 + ctx.rng.below(every_ms);
                ctx.set_timer(SimDuration::from_ms(first), TAG_POLL);
            }
        }
    }

    /// The cache and the connection were in memory.
    fn on_crash(&mut self) {
        self.flags.clear();
        self.version = 0;
        self.confirmed = None;
        self.pending.clear();
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match (tag, self.updates) {
            (TAG_SYNC, Updates::Stream { keepalive_ms, .. }) => {
                self.sync(ctx);
                ctx.set_timer(SimDuration::from_ms(keepalive_ms), TAG_SYNC);
            }
            (TAG_POLL, Updates::Poll { every_ms }) => {
                ctx.send(self.store, Msg::Poll { have: self.version });
                ctx.set_timer(SimDuration::from_ms(every_ms), TAG_POLL);
            }
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match msg {
            Msg::Eval { user } => self.on_eval(user, ctx),
            Msg::State { nonce, version, flags } if from == self.store => self.on_state(nonce, version, flags, ctx),
            Msg::Patch { version, flag, config } if from == self.store => self.on_patch(version, flag, config, ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        if self.flags.is_empty() {
            return "no cache yet".into();
        }
        format!("v{} · {} evals", self.version, self.evals)
    }
}
