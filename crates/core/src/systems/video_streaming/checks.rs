//! The four properties, each judged against a record the design under test cannot edit.
//!
//! - `rebuffer-ratio` (SLO): from the true arrival time of every segment's last byte, the
//!   check replays each player's playback timeline itself — playback starts with a
//!   session's first segment, each segment plays for its duration right after the one
//!   before, and a segment that arrives after the buffer ran dry stalls playback until it
//!   arrives. Stall time ÷ (stall time + seconds of video delivered) must stay within the
//!   SLO for every player, under the conditions it promises: the player's bandwidth never
//!   fell below 1.5 × the lowest rung (from the trace: the lowest rung was always
//!   sustainable), the player got at least 10 s of video, and stalls that overlap a fault
//!   on the delivery path (edge, shield, origin, the network) or the 5 s after it are not
//!   counted.
//! - `origin-egress`: every byte the origin served, per content (video, version, segment,
//!   rung), from the origin's own log. At the end, the total must stay within 1.2 × the
//!   bytes of the distinct objects it served (one fetch per object through the shield,
//!   with room for refetches after lost replies).
//! - `no-stale-segment`: every segment a player receives must be the bytes of the version
//!   its manifest named, and that version must be the one current at the origin when the
//!   manifest was served — both judged from the origin's history of published versions and
//!   the content digest of the bytes.
//! - `chunks-transcoded` (liveness): every chunk the queue accepted (the uploader's record)
//!   ends stored at the origin in every rung with the right digest (the origin's record),
//!   within a deadline after its upload or after the last fault.

use super::msg::{Chunk, Content, Obs, VideoId};
use super::trace::Trace;
use crate::check::{Property, RunEnd};
use crate::sim::time::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// Fewer seconds of delivered video than this make no rebuffer verdict for a player.
pub const MIN_WATCHED_MS: u64 = 10_000;
/// Stalls this long after a delivery-path fault ends are still the fault's.
pub const GRACE_MS: u64 = 5_000;
/// The SLO holds only for players whose bandwidth stayed at least this × the lowest rung.
pub const FLOOR_FACTOR: f64 = 1.5;
/// Origin egress may be at most this × the bytes of the distinct objects served.
pub const EGRESS_FACTOR: f64 = 1.2;

#[derive(Clone, Copy, Debug, Default)]
pub struct Playback {
    /// When the delivered video runs out (None before a session's first segment).
    pub play_end: Option<SimTime>,
    pub waiting: bool,
    pub delivered_us: u64,
    pub stall_us: u64,
    /// Stall time outside fault windows.
    pub counted_us: u64,
    /// The longest counted stall: (from, to, rung of the segment that ended it).
    pub worst: Option<(SimTime, SimTime, u8)>,
}

#[derive(Clone)]
pub struct RebufferRatio {
    pub slo_pct: f64,
    windows: Vec<(SimTime, SimTime)>,
    trace: Trace,
    floor_kbps: f64,
    pub players: BTreeMap<u32, Playback>,
    segments: u64,
    verdict: String,
}

impl RebufferRatio {
    pub fn new(slo_pct: f64, windows: Vec<(SimTime, SimTime)>, trace: Trace, lowest_kbps: u64) -> Self {
        RebufferRatio {
            slo_pct,
            windows,
            trace,
            floor_kbps: FLOOR_FACTOR * lowest_kbps as f64,
            players: BTreeMap::new(),
            segments: 0,
            verdict: "not judged yet".into(),
        }
    }

    /// The part of `[a, b]` outside every fault window, µs.
    fn outside(&self, a: SimTime, b: SimTime) -> u64 {
        let mut cuts: Vec<(u64, u64)> =
            self.windows.iter().map(|&(s, e)| (s.0.max(a.0), e.0.min(b.0))).filter(|(s, e)| s < e).collect();
        cuts.sort_unstable();
        let (mut covered, mut reach) = (0u64, a.0);
        for (s, e) in cuts {
            let s = s.max(reach);
            if e > s {
                covered += e - s;
                reach = e;
            }
        }
        (b.0 - a.0).saturating_sub(covered)
    }

    fn stall(&mut self, player: u32, from: SimTime, to: SimTime, rung: u8) {
        let counted = self.outside(from, to);
        let p = self.players.entry(player).or_default();
        p.stall_us += to.0 - from.0;
        p.counted_us += counted;
        if counted > 0 && p.worst.is_none_or(|(a, b, _)| b.0 - a.0 < to.0 - from.0) {
            p.worst = Some((from, to, rung));
        }
    }
}

impl Property<Obs> for RebufferRatio {
    fn name(&self) -> &'static str {
        "rebuffer-ratio"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::SessionStart { player, .. } => {
                let p = self.players.entry(player).or_default();
                p.play_end = None;
                p.waiting = false;
            }
            Obs::Requested { player } => self.players.entry(player).or_default().waiting = true,
            Obs::SegmentIn { player, url, seg_ms, .. } => {
                self.segments += 1;
                let seg = SimDuration::from_ms(seg_ms);
                let prev = self.players.entry(player).or_default().play_end;
                if let Some(end) = prev.filter(|&e| e < at) {
                    self.stall(player, end, at, url.rung);
                }
                let p = self.players.entry(player).or_default();
                p.waiting = false;
                p.delivered_us += seg.0;
                p.play_end = Some(match prev {
                    Some(e) if e > at => e + seg,
                    _ => at + seg,
                });
            }
            _ => {}
        }
        None
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        // A player still waiting when the run ends has been stalled since its buffer ran out.
        let stuck: Vec<(u32, SimTime)> = self
            .players
            .iter()
            .filter_map(|(&i, p)| p.play_end.filter(|&e| p.waiting && e < end.now).map(|e| (i, e)))
            .collect();
        for (i, from) in stuck {
            self.stall(i, from, end.now, u8::MAX);
        }
        let mut judged = 0;
        let mut worst: Option<(u32, f64)> = None;
        for (&i, p) in &self.players {
            if p.delivered_us < MIN_WATCHED_MS * 1_000 || self.trace.floor(i, SimTime::ZERO, end.now) < self.floor_kbps
            {
                continue;
            }
            judged += 1;
            let ratio = 100.0 * p.counted_us as f64 / (p.counted_us + p.delivered_us) as f64;
            if worst.is_none_or(|(_, r)| ratio > r) {
                worst = Some((i, ratio));
            }
        }
        let Some((i, ratio)) = worst else {
            self.verdict = "not judged: no player met the SLO's conditions".into();
            return None;
        };
        self.verdict = format!(
            "worst rebuffer ratio {ratio:.2}% ≤ {}% (player-{i}) over {judged} judged players, {} segments",
            self.slo_pct, self.segments
        );
        (ratio > self.slo_pct).then(|| {
            let p = &self.players[&i];
            let at = p.worst.map_or(String::new(), |(a, b, rung)| {
                let rung = if rung == u8::MAX { "never arrived".to_string() } else { format!("rung {rung}") };
                format!("; longest stall {:.1}–{:.1} s ({rung})", a.as_ms() / 1e3, b.as_ms() / 1e3)
            });
            format!(
                "player-{i} rebuffered {:.1} s for {:.1} s of video delivered: {ratio:.1}% > {}%{at}",
                p.counted_us as f64 / 1e6,
                p.delivered_us as f64 / 1e6,
                self.slo_pct
            )
        })
    }

    fn samples(&self) -> u64 {
        self.segments
    }

    fn summary(&self) -> String {
        self.verdict.clone()
    }
}

#[derive(Clone, Default)]
pub struct OriginEgress {
    windows: Vec<(SimTime, SimTime)>,
    /// Content → (times served, kbit each).
    pub served: BTreeMap<Content, (u64, u64)>,
    /// Every byte served, less refetches excused by a fault window.
    pub total_kbits: u64,
    pub excused_kbits: u64,
    verdict: String,
}

impl OriginEgress {
    pub fn new(windows: Vec<(SimTime, SimTime)>) -> OriginEgress {
        OriginEgress { windows, ..OriginEgress::default() }
    }

    pub fn distinct_kbits(&self) -> u64 {
        self.served.values().map(|&(_, k)| k).sum()
    }
}

impl Property<Obs> for OriginEgress {
    fn name(&self) -> &'static str {
        "origin-egress"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        if let Obs::OriginServed { content, kbits } = *obs {
            let e = self.served.entry(content).or_insert((0, kbits));
            e.0 += 1;
            if e.0 > 1 && self.windows.iter().any(|&(a, b)| a <= at && at <= b) {
                self.excused_kbits += kbits;
            } else {
                self.total_kbits += kbits;
            }
        }
        None
    }

    fn finish(&mut self, _end: &RunEnd<'_>) -> Option<String> {
        let distinct = self.distinct_kbits();
        let bound = EGRESS_FACTOR * distinct as f64;
        let ratio = if distinct == 0 { 0.0 } else { self.total_kbits as f64 / distinct as f64 };
        self.verdict = format!(
            "origin served {:.1} MB for {:.1} MB of distinct objects ({ratio:.2}×, bound {EGRESS_FACTOR}×)",
            self.total_kbits as f64 / 8_000.0,
            distinct as f64 / 8_000.0
        );
        if self.total_kbits as f64 <= bound {
            return None;
        }
        let (c, (n, _)) = self.served.iter().max_by_key(|(c, (n, _))| (*n, std::cmp::Reverse(**c)))?;
        Some(format!(
            "origin egress {:.1} MB is {ratio:.2}× the {:.1} MB of distinct objects it served (bound {EGRESS_FACTOR}×); \
             v{}.{} seg {} rung {} was sent {n} times",
            self.total_kbits as f64 / 8_000.0,
            distinct as f64 / 8_000.0,
            c.video,
            c.version,
            c.seg,
            c.rung
        ))
    }

    fn samples(&self) -> u64 {
        self.served.values().map(|&(n, _)| n).sum()
    }

    fn summary(&self) -> String {
        self.verdict.clone()
    }
}

#[derive(Clone, Default)]
pub struct NoStaleSegment {
    /// The origin's history: video → (when, version) in publish order.
    pub history: BTreeMap<VideoId, Vec<(SimTime, u32)>>,
    segments: u64,
}

impl NoStaleSegment {
    fn current_at(&self, video: VideoId, t: SimTime) -> Option<u32> {
        self.history.get(&video)?.iter().rev().find(|(at, _)| *at <= t).map(|&(_, v)| v)
    }
}

impl Property<Obs> for NoStaleSegment {
    fn name(&self) -> &'static str {
        "no-stale-segment"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Published { video, version } => {
                self.history.entry(video).or_default().push((at, version));
                None
            }
            Obs::SegmentIn { player, url, manifest_version, manifest_us, digest, .. } => {
                self.segments += 1;
                let served = SimTime(manifest_us);
                let current = self.current_at(url.video, served);
                if current != Some(manifest_version) {
                    return Some(format!(
                        "player-{player}'s manifest for v{} says version {manifest_version}, but the origin's current version at {:.0} ms was {current:?}",
                        url.video,
                        served.as_ms()
                    ));
                }
                let want = Content { video: url.video, version: manifest_version, seg: url.seg, rung: url.rung };
                if digest == want.digest() {
                    return None;
                }
                let versions: Vec<u32> =
                    self.history.get(&url.video).map(|h| h.iter().map(|&(_, v)| v).collect()).unwrap_or_default();
                let got = versions
                    .into_iter()
                    .find(|&v| Content { version: v, ..want }.digest() == digest)
                    .map_or("unknown bytes".to_string(), |v| format!("version {v}'s bytes"));
                Some(format!(
                    "player-{player} got {got} for v{} seg {} rung {}; its manifest (served at {:.0} ms) named version {manifest_version}",
                    url.video,
                    url.seg,
                    url.rung,
                    served.as_ms()
                ))
            }
            _ => None,
        }
    }

    fn samples(&self) -> u64 {
        self.segments
    }

    fn summary(&self) -> String {
        let updates: usize = self.history.values().map(|h| h.len().saturating_sub(1)).sum();
        format!("{} segments matched their manifest's version ({updates} version updates)", self.segments)
    }
}

#[derive(Clone)]
pub struct ChunksTranscoded {
    rungs: usize,
    deadline: SimDuration,
    quiet: SimTime,
    /// Chunk → when the queue accepted it.
    pub uploaded: BTreeMap<Chunk, SimTime>,
    /// Chunk → rungs stored with the right digest (a bit each).
    pub stored: BTreeMap<Chunk, u64>,
    judged: u64,
}

impl ChunksTranscoded {
    pub fn new(rungs: usize, deadline: SimDuration, quiet: SimTime) -> Self {
        ChunksTranscoded { rungs, deadline, quiet, uploaded: BTreeMap::new(), stored: BTreeMap::new(), judged: 0 }
    }
}

impl Property<Obs> for ChunksTranscoded {
    fn name(&self) -> &'static str {
        "chunks-transcoded"
    }

    fn observe(&mut self, at: SimTime, obs: &Obs) -> Option<String> {
        match *obs {
            Obs::Uploaded { chunk } => {
                self.uploaded.entry(chunk).or_insert(at);
                None
            }
            Obs::Stored { chunk, rung, digest } => {
                let want = Content { video: chunk.video, version: chunk.version, seg: chunk.chunk, rung }.digest();
                if digest != want {
                    return Some(format!("{chunk} rung {rung} stored with the wrong bytes"));
                }
                *self.stored.entry(chunk).or_insert(0) |= 1 << rung;
                None
            }
            _ => None,
        }
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> Option<String> {
        if self.quiet == SimTime::MAX {
            return None;
        }
        let full = (1u64 << self.rungs) - 1;
        let mut first = None;
        for (&chunk, &at) in &self.uploaded {
            let due = at.max(self.quiet) + self.deadline;
            if due > end.now {
                continue;
            }
            self.judged += 1;
            let have = self.stored.get(&chunk).copied().unwrap_or(0);
            if have != full && first.is_none() {
                first = Some(format!(
                    "{chunk}, queued at {:.0} ms, has {} of {} rungs in the store at its deadline {:.0} ms",
                    at.as_ms(),
                    have.count_ones(),
                    self.rungs,
                    due.as_ms()
                ));
            }
        }
        first
    }

    fn samples(&self) -> u64 {
        self.uploaded.len() as u64
    }

    fn summary(&self) -> String {
        format!("{} chunks queued; {} judged at their deadline, every rung stored", self.uploaded.len(), self.judged)
    }
}
