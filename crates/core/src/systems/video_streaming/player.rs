//! A viewer's player. It picks a video (Zipf popularity), fetches its manifest from the
//! origin's manifest API, then asks its edge for segment after segment, choosing a rung
//! with its ABR rule before each request. The body of a segment crosses the player's
//! access link at the trace's bandwidth (size ÷ bandwidth, in true simulated time), and
//! joins the playback buffer when its last byte arrives. The buffer drains at one second
//! per second while playing; the player keeps at most `max_buffer_ms` ahead and waits for
//! room before asking again. It watches a random number of segments, then moves on to
//! another video (a new manifest: the session's version is what that manifest said).
//!
//! A request unanswered for a second fails over to the next edge (as DNS or a CDN's
//! client-side failover would). Its own buffer arithmetic feeds only its ABR decisions and
//! its charts; the rebuffer check recomputes the playback timeline from the arrival times.

use super::abr::{self, Abr};
use super::msg::{Msg, Obs, Url, VideoId};
use super::trace::Trace;
use crate::blocks::backoff::Backoff;
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::KeySampler;
use crate::sim::NodeId;

/// Players whose buffer and bitrate are charted (each records a point every tick).
pub const CHARTED: u32 = 8;
/// A request (manifest or segment first byte) unanswered this long is retried.
pub const REQUEST_TIMEOUT_MS: u64 = 1_000;
const TICK_MS: u64 = 250;

const START: u64 = 1;
const MANIFEST_TIMEOUT: u64 = 2;
const SEG_TIMEOUT: u64 = 3;
const TRANSFER_DONE: u64 = 4;
const WAKE: u64 = 5;
const TICK: u64 = 6;
const MANIFEST_RETRY: u64 = 7;

#[derive(Clone, Debug)]
pub struct PlayerCfg {
    pub index: u32,
    pub edges: Vec<NodeId>,
    pub origin: NodeId,
    pub abr: Abr,
    pub versioned: bool,
    pub ladder: Vec<u64>,
    pub seg_ms: u64,
    pub video_segs: u32,
    pub videos: u32,
    pub max_buffer_ms: u64,
    pub trace: Trace,
    /// Players stop asking for segments here (the workload's end).
    pub stop: SimTime,
}

/// The video a player is watching, as its manifest described it.
#[derive(Clone, Copy, Debug)]
pub struct Session {
    pub video: VideoId,
    pub version: u32,
    pub manifest_us: u64,
    pub segs: u32,
    pub next_seg: u32,
    pub watch_until: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Phase {
    Idle,
    Manifest { req: u64, video: VideoId, attempt: u32 },
    Waiting { req: u64, url: Url, sent: SimTime },
    Transfer { req: u64, url: Url, sent: SimTime, digest: u64, kbits: u64 },
    Full,
}

#[derive(Clone, Debug)]
pub struct Player {
    pub cfg: PlayerCfg,
    zipf: KeySampler,
    backoff: Backoff,
    pub session: Option<Session>,
    pub phase: Phase,
    /// When the buffered video runs out if playback continues (None before the first
    /// segment of a session).
    pub play_end: Option<SimTime>,
    pub edge: usize,
    pub rung: usize,
    pub samples: Vec<f64>,
    next_req: u64,
    pub segments: u64,
    pub failovers: u64,
}

fn tag(kind: u64, req: u64) -> u64 {
    req << 4 | kind
}

impl Player {
    pub fn new(cfg: PlayerCfg) -> Player {
        let zipf = KeySampler::new(u64::from(cfg.videos), 1.0);
        let edge = cfg.index as usize % cfg.edges.len().max(1);
        Player {
            cfg,
            zipf,
            backoff: Backoff::from_ms(100, 2_000),
            session: None,
            phase: Phase::Idle,
            play_end: None,
            edge,
            rung: 0,
            samples: Vec::new(),
            next_req: 1,
            segments: 0,
            failovers: 0,
        }
    }

    /// Seconds of video buffered at `now`.
    pub fn buffer_s(&self, now: SimTime) -> f64 {
        self.play_end.map_or(0.0, |e| if e > now { e.since(now).as_ms() / 1_000.0 } else { 0.0 })
    }

    fn req(&mut self) -> u64 {
        self.next_req += 1;
        self.next_req
    }

    fn start_session(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if ctx.now() >= self.cfg.stop {
            self.phase = Phase::Idle;
            return;
        }
        let video = self.zipf.sample(ctx.rng) as VideoId;
        self.ask_manifest(video, 0, ctx);
    }

    fn ask_manifest(&mut self, video: VideoId, attempt: u32, ctx: &mut Ctx<'_, Msg, Obs>) {
        let req = self.req();
        self.phase = Phase::Manifest { req, video, attempt };
        ctx.send(self.cfg.origin, Msg::GetManifest { req, video });
        ctx.set_timer(SimDuration::from_ms(REQUEST_TIMEOUT_MS), tag(MANIFEST_TIMEOUT, req));
    }

    /// Asks for the next segment, waits for room in the buffer, or ends the session.
    fn next(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        let Some(s) = self.session else { return self.start_session(ctx) };
        if now >= self.cfg.stop {
            self.phase = Phase::Idle;
            return;
        }
        if s.next_seg >= s.watch_until {
            // Session over: the next video starts when this one's buffer has played out.
            self.session = None;
            self.phase = Phase::Idle;
            let at = self.play_end.filter(|&e| e > now).unwrap_or(now);
            ctx.set_timer(at.since(now), tag(START, 0));
            return;
        }
        let buffer = self.buffer_s(now);
        let room_at = (self.cfg.max_buffer_ms - self.cfg.seg_ms) as f64 / 1_000.0;
        if self.play_end.is_some() && buffer > room_at {
            self.phase = Phase::Full;
            ctx.set_timer(SimDuration::from_ms_f64((buffer - room_at) * 1_000.0), tag(WAKE, 0));
            return;
        }
        self.rung =
            abr::choose(self.cfg.abr, &self.cfg.ladder, self.rung, buffer, &self.samples, self.cfg.max_buffer_ms);
        let url = Url {
            video: s.video,
            version: self.cfg.versioned.then_some(s.version),
            seg: s.next_seg,
            rung: self.rung as u8,
        };
        self.send_segment(url, ctx);
    }

    fn send_segment(&mut self, url: Url, ctx: &mut Ctx<'_, Msg, Obs>) {
        let req = self.req();
        self.phase = Phase::Waiting { req, url, sent: ctx.now() };
        ctx.send(self.cfg.edges[self.edge], Msg::GetSegment { req, url });
        ctx.observe(Obs::Requested { player: self.cfg.index });
        ctx.set_timer(SimDuration::from_ms(REQUEST_TIMEOUT_MS), tag(SEG_TIMEOUT, req));
    }

    fn segment_in(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Phase::Transfer { url, sent, digest, kbits, .. } = self.phase else { return };
        let Some(s) = self.session.as_mut() else { return };
        let now = ctx.now();
        let seg = SimDuration::from_ms(self.cfg.seg_ms);
        self.play_end = Some(match self.play_end {
            None => now + seg,
            Some(e) if e > now => e + seg,
            Some(_) => now + seg,
        });
        ctx.observe(Obs::SegmentIn {
            player: self.cfg.index,
            url,
            seg_ms: self.cfg.seg_ms,
            manifest_version: s.version,
            manifest_us: s.manifest_us,
            digest,
            kbits,
        });
        s.next_seg += 1;
        self.segments += 1;
        let took = now.since(sent).as_ms().max(1.0) / 1_000.0;
        if self.samples.len() == abr::SAMPLES {
            self.samples.remove(0);
        }
        self.samples.push(kbits as f64 / took);
        ctx.metrics.request(now, now.since(sent), true);
        self.next(ctx);
    }

    fn chart(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        let now = ctx.now();
        let i = self.cfg.index;
        ctx.metrics.series.set(&format!("buffer.p{i}"), now, self.buffer_s(now));
        let kbps = if self.session.is_some() { self.cfg.ladder[self.rung] as f64 } else { 0.0 };
        ctx.metrics.series.set(&format!("kbps.p{i}"), now, kbps);
        ctx.metrics.series.set(&format!("bw.p{i}"), now, self.cfg.trace.at(i, now));
    }
}

impl Actor for Player {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        // Viewers arrive over the first three seconds.
        let stagger = u64::from(self.cfg.index) * 137 % 3_000;
        ctx.set_timer(SimDuration::from_ms(stagger), tag(START, 0));
        if self.cfg.index < CHARTED {
            ctx.set_timer(SimDuration::from_ms(TICK_MS), tag(TICK, 0));
        }
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        match (msg, self.phase) {
            (Msg::Manifest { req, video, version, segs, served_us }, Phase::Manifest { req: r, .. }) if req == r => {
                let watch = ctx.rng.between(10, u64::from(segs.max(10))) as u32;
                self.session = Some(Session {
                    video,
                    version,
                    manifest_us: served_us,
                    segs,
                    next_seg: 0,
                    watch_until: watch.min(segs),
                });
                self.play_end = None;
                self.rung = 0;
                self.edge = self.cfg.index as usize % self.cfg.edges.len();
                ctx.observe(Obs::SessionStart { player: self.cfg.index, video });
                self.next(ctx);
            }
            (Msg::Segment { req, url, digest, kbits }, Phase::Waiting { req: r, sent, .. }) if req == r => {
                self.phase = Phase::Transfer { req, url, sent, digest, kbits };
                let end = self.cfg.trace.transfer_end(self.cfg.index, ctx.now(), kbits as f64);
                ctx.set_timer(end.since(ctx.now()), tag(TRANSFER_DONE, req));
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, t: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        let (kind, req) = (t & 15, t >> 4);
        match (kind, self.phase) {
            (START, Phase::Idle) if self.session.is_none() => self.start_session(ctx),
            (MANIFEST_TIMEOUT, Phase::Manifest { req: r, video, attempt }) if r == req => {
                // Ask again for the same video after a backoff with full jitter.
                let wait = self.backoff.full_jitter(attempt, ctx.rng);
                self.phase = Phase::Manifest { req: 0, video, attempt: attempt + 1 };
                ctx.set_timer(wait, tag(MANIFEST_RETRY, 0));
            }
            (MANIFEST_RETRY, Phase::Manifest { req: 0, video, attempt }) => self.ask_manifest(video, attempt, ctx),
            (SEG_TIMEOUT, Phase::Waiting { req: r, url, .. }) if r == req => {
                self.edge = (self.edge + 1) % self.cfg.edges.len();
                self.failovers += 1;
                ctx.metrics.add("player.failovers", 1);
                self.send_segment(url, ctx);
            }
            (TRANSFER_DONE, Phase::Transfer { req: r, .. }) if r == req => self.segment_in(ctx),
            (WAKE, Phase::Full) => self.next(ctx),
            (TICK, _) => {
                self.chart(ctx);
                let live = ctx.now() < self.cfg.stop || self.buffer_s(ctx.now()) > 0.0;
                if live {
                    ctx.set_timer(SimDuration::from_ms(TICK_MS), tag(TICK, 0));
                }
            }
            _ => {}
        }
    }

    fn on_crash(&mut self) {
        self.phase = Phase::Idle;
        self.session = None;
        self.play_end = None;
    }

    fn describe(&self) -> String {
        match self.session {
            Some(s) => format!("v{} ver{} seg {} @{} kbps", s.video, s.version, s.next_seg, self.cfg.ladder[self.rung]),
            None => "idle".into(),
        }
    }
}
