//! Video streaming (catalog entry 5): creators upload videos, which are cut into chunks
//! and transcoded by a pool of workers (a job queue with leases) to a bitrate ladder in an
//! origin object store; viewers' players fetch a manifest and then segments through CDN
//! edges (LRU with TTL) that fill their misses from an origin shield, choosing a rung
//! before each segment with an adaptive-bitrate rule while their bandwidth changes.
//!
//! Six designs, each naive one a single mistake away from the robust one: a player that
//! never adapts (rebuffers when bandwidth drops), a rate-based ABR (stalls when a drop
//! starts under a big segment), no shield (every edge's miss reaches the origin), purge
//! instead of versioned URLs (stale segments after an update), and a queue that forgets a
//! job when it hands it out (a crashed transcoder loses it). The checks judge the players'
//! true arrival times, the origin's own logs and version history, and the uploader's
//! record. See `explainer.md`.

pub mod abr;
pub mod cdn;
pub mod checks;
pub mod msg;
pub mod node;
pub mod origin;
pub mod player;
pub mod queue;
pub mod trace;
pub mod transcoder;
pub mod uploader;
pub mod views;

#[cfg(test)]
mod tests;

use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::swarm::FaultKind;
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{self, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use abr::Abr;
use msg::Obs;
use node::Node;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// What one strategy does at each of the five decision points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Design {
    pub abr: Abr,
    pub shield: bool,
    pub versioned: bool,
    pub leases: bool,
}

const ROBUST: Design = Design { abr: Abr::Buffer, shield: true, versioned: true, leases: true };

impl Design {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Design> {
        Some(match id {
            "single-bitrate" => Design { abr: Abr::Fixed, ..ROBUST },
            "throughput-abr" => Design { abr: Abr::Throughput, ..ROBUST },
            "no-shield" => Design { shield: false, ..ROBUST },
            "purge" => Design { versioned: false, ..ROBUST },
            "ack-on-take" => Design { leases: false, ..ROBUST },
            "buffer-abr" => ROBUST,
            _ => return None,
        })
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "single-bitrate",
        title: "Single bitrate",
        robust: false,
        summary: "Every player streams the top rung, whatever its bandwidth. When the bandwidth drops below the bitrate, each segment takes longer to download than to play: the buffer drains and playback stalls.",
    },
    StrategyDef {
        id: "throughput-abr",
        title: "Throughput-based ABR",
        robust: false,
        summary: "The player measures each download and picks the highest rung under 0.9 × the harmonic mean of recent throughput. It keeps a shallow buffer at a high rung, and a drop that begins under a big segment is measured only once that segment finally arrives — after the buffer ran dry.",
    },
    StrategyDef {
        id: "no-shield",
        title: "No origin shield",
        robust: false,
        summary: "Buffer-based ABR and versioned URLs, but edges fill their misses straight from the origin. Each edge that serves a segment fetches it once: the origin sends popular objects several times over, past its egress bound.",
    },
    StrategyDef {
        id: "purge",
        title: "Purge on update",
        robust: false,
        summary: "Segment URLs carry no version; when a video is re-published the origin purges the caches. The purge takes time to reach every edge, and a fetch in flight lands after it: players get bytes of a version their manifest does not name.",
    },
    StrategyDef {
        id: "ack-on-take",
        title: "Queue deletes jobs on hand-out",
        robust: false,
        summary: "The transcoding queue forgets a job as soon as a transcoder takes it (auto-acknowledge on delivery). A transcoder that crashes mid-job takes the job with it: the chunk is never transcoded and its version is never published.",
    },
    StrategyDef {
        id: "buffer-abr",
        title: "BBA + shield + versioned URLs + leases",
        robust: true,
        summary: "Buffer-based ABR (BBA-0: the rung follows the buffer level, the top rung only with a deep buffer); edges fill misses through one origin shield that collapses concurrent misses; every version has its own URLs; transcoding jobs are leased and come back when a lease runs out.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("players", "Players", "viewers", 1, 200, 24, "Viewers watching at once."),
    ParamSpec::int("edges", "CDN edges", "edges", 1, 8, 4, "Edge caches; player i starts on edge i mod edges."),
    ParamSpec::int("videos", "Catalog", "videos", 1, 50, 8, "Videos in the catalog (Zipf popularity, s = 1)."),
    ParamSpec::int("video_s", "Video length", "s", 20, 300, 60, "Length of each catalog video."),
    ParamSpec::int("seg_ms", "Segment length", "ms", 1_000, 10_000, 2_000, "Playback time of one segment."),
    ParamSpec::int(
        "rungs",
        "Ladder rungs",
        "rungs",
        1,
        6,
        6,
        "Rungs of the ladder 200, 500, 1000, 2000, 3500, 6000 kbps.",
    ),
    ParamSpec::int("max_buffer_s", "Player buffer", "s", 10, 120, 30, "Most video a player keeps buffered ahead."),
    ParamSpec::int(
        "bandwidth_kbps",
        "Bandwidth",
        "kbps",
        300,
        50_000,
        8_000,
        "Each player's mean bandwidth (per second: ×0.6–1.4).",
    ),
    ParamSpec::int(
        "drop_kbps",
        "Bandwidth in the drop",
        "kbps",
        100,
        50_000,
        1_000,
        "Bandwidth during the drop (×0.8–1.2).",
    ),
    ParamSpec::int("drop_at_ms", "Drop starts", "ms", 0, 600_000, 14_000, "When every player's bandwidth drops."),
    ParamSpec::int("drop_ms", "Drop length", "ms", 0, 600_000, 8_000, "How long the drop lasts (0: no drop)."),
    ParamSpec::int(
        "edge_cache",
        "Edge cache",
        "objects",
        10,
        20_000,
        2_000,
        "Segments an edge (and the shield) keeps (LRU).",
    ),
    ParamSpec::int("edge_ttl_ms", "Edge TTL", "ms", 1_000, 600_000, 60_000, "How long an edge keeps a segment."),
    ParamSpec::int(
        "shield_ttl_ms",
        "Shield TTL",
        "ms",
        1_000,
        3_600_000,
        600_000,
        "How long the shield keeps a segment.",
    ),
    ParamSpec::int(
        "purge_delay_ms",
        "Purge propagation",
        "ms",
        0,
        10_000,
        1_500,
        "A purge reaches each cache after up to this long.",
    ),
    ParamSpec::int(
        "update_at_ms",
        "Re-upload of video 0",
        "ms",
        0,
        600_000,
        5_000,
        "When video 0's owner uploads version 2 (0: never).",
    ),
    ParamSpec::int("transcoders", "Transcoders", "workers", 1, 8, 3, "Transcoding workers."),
    ParamSpec::int(
        "transcode_ms",
        "Transcode time",
        "ms",
        50,
        5_000,
        600,
        "Time to transcode one chunk to every rung.",
    ),
    ParamSpec::int(
        "lease_ms",
        "Job lease",
        "ms",
        500,
        30_000,
        3_000,
        "A job whose lease runs out goes back to the queue.",
    ),
    ParamSpec::float(
        "uploads_per_s",
        "Uploads",
        "videos/s",
        0.01,
        2.0,
        0.2,
        "New videos uploaded per second (2–8 chunks each).",
    ),
    ParamSpec::float(
        "rebuffer_slo_pct",
        "Rebuffer SLO",
        "%",
        0.0,
        50.0,
        1.0,
        "Most stall time per player, as a share of watch time.",
    ),
    ParamSpec::int(
        "edge_down_ms",
        "Edge crash",
        "ms",
        0,
        10_000,
        3_000,
        "Default faults: the last edge crashes at 26 s for this long.",
    ),
    ParamSpec::int(
        "transcoder_down_ms",
        "Transcoder crash",
        "ms",
        0,
        10_000,
        3_000,
        "Default faults: transcoder-0 crashes at 6 s for this long.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "rebuffer-ratio",
        kind: CheckKind::Slo,
        description: "Each player's stall time ÷ (stall + video delivered) stays within the SLO, replayed from the true arrival times of its segments. Promised for players that got ≥ 10 s of video and whose bandwidth never fell below 1.5 × the lowest rung; stalls during a delivery-path fault and the 5 s after it are not counted.",
    },
    CheckDef {
        name: "origin-egress",
        kind: CheckKind::Slo,
        description: "From the origin's own log: the bytes it served stay within 1.2 × the bytes of the distinct objects it served (one fetch per object through the shield). Refetches during a delivery-path fault and the 5 s after it are excused.",
    },
    CheckDef {
        name: "no-stale-segment",
        kind: CheckKind::Safety,
        description: "Every segment a player receives is the bytes of the version its manifest named, and that version was the origin's current one when the manifest was served — judged from the origin's version history and the bytes' digest.",
    },
    CheckDef {
        name: "chunks-transcoded",
        kind: CheckKind::Liveness,
        description: "Every chunk the queue accepted is stored at the origin in every rung, with the right bytes, within 15 s of its upload or of the last fault.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

/// Workload length: players stop asking for segments and creators stop uploading here.
pub const DURATION_MS: u64 = 40_000;
/// A chunk's deadline after its upload (or after the last fault).
pub const TRANSCODE_DEADLINE_MS: u64 = 15_000;
/// Uploads per second are capped here (the heaviest workload a link may ask for would
/// otherwise grow the job table without bound).
pub const MAX_UPLOADS_PER_S: f64 = 2.0;

pub const DEF: SystemDef = SystemDef {
    id: "video-streaming",
    number: 5,
    title: "Video streaming",
    theme: "Request path and caching",
    question: "How do you build a video platform where uploads become watchable at every quality, players keep playing while bandwidth changes, the CDN keeps load off the origin, and an update never mixes versions?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 20_000,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

fn default_workload(p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: p.float("uploads_per_s"),
        think_ms: 0,
        duration_ms: DURATION_MS,
        keys: 1,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// The last edge's name.
fn last_edge(p: &Params) -> String {
    format!("edge-{}", (p.int("edges") - 1).min(1))
}

/// A transcoder crash while version 2 of video 0 is being transcoded, and an edge crash
/// late in the run; the bandwidth drop (14–22 s by default) is part of the players' trace.
/// A zero length leaves a fault out.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let mut out = Vec::new();
    let t = p.int("transcoder_down_ms") as u64;
    if t > 0 {
        out.push(TimedFault { at_ms: 6_000, fault: Fault::Crash { node: "transcoder-0".into() } });
        out.push(TimedFault { at_ms: 6_000 + t, fault: Fault::Restart { node: "transcoder-0".into() } });
    }
    let e = p.int("edge_down_ms") as u64;
    if e > 0 {
        out.push(TimedFault { at_ms: 26_000, fault: Fault::Crash { node: last_edge(p) } });
        out.push(TimedFault { at_ms: 26_000 + e, fault: Fault::Restart { node: last_edge(p) } });
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t = vec!["edge-0".to_string()];
    if p.int("edges") > 1 {
        t.push("edge-1".into());
    }
    t.extend(["shield", "origin", "transcoder-0", "queue"].map(String::from));
    t
}

/// Whether a fault touches the viewers' delivery path (anything but the upload pipeline).
fn on_delivery_path(f: &Fault) -> bool {
    let names = f.names();
    names.is_empty()
        || !names.iter().all(|n| n.starts_with("transcoder") || n.starts_with("queue") || n.starts_with("uploader"))
}

/// The windows in which delivery-path faults (and `grace` after their repair) excuse
/// stalls and refetches: a crash until its restart, a pause for its length, a partition
/// until a heal, a clog until its unclog, a loss rate until it is set back to 0. A fault
/// never repaired lasts to the end.
pub fn fault_windows(faults: &[TimedFault], grace: SimDuration) -> Vec<(SimTime, SimTime)> {
    let lasting = crate::sim::fault::windows(faults, false);
    let mut out = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        if !f.fault.disrupts() || !on_delivery_path(&f.fault) {
            continue;
        }
        // A repair (a restart, loss set back to 0) is instantaneous but still earns grace.
        let at = SimTime::from_ms(f.at_ms);
        let until = lasting.iter().find(|w| w.index == i).map_or(Some(at), |w| w.until);
        out.push((at, until.map_or(SimTime::MAX, |t| t + grace)));
    }
    out
}

/// When the last fault of a plan is over (`SimTime::MAX` if one never ends).
pub fn quiet_from(faults: &[TimedFault]) -> SimTime {
    crate::sim::fault::quiet_from(faults, false).unwrap_or(SimTime::MAX)
}

/// The players' bandwidth trace for a scenario.
pub fn trace_of(s: &Scenario) -> trace::Trace {
    let p = &s.params;
    trace::Trace {
        seed: crate::sim::rng::Prng::new(s.seed).fork("bandwidth").next_u64(),
        mean_kbps: p.int("bandwidth_kbps") as f64,
        drop_kbps: p.int("drop_kbps") as f64,
        drop_at_ms: p.int("drop_at_ms") as u64,
        drop_ms: p.int("drop_ms") as u64,
    }
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let (specs, props) = parts(scenario)?;
    system::assemble(scenario, opts, specs, props, views::views)
}

pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let (specs, props) = parts(scenario)?;
    system::world(scenario, opts, specs, props)
}

type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// Node ids: players `0..P`, edges `P..P+E`, the shield, the origin, transcoders, the
/// queue, the uploader.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let design = Design::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("video-streaming has no strategy {:?}", scenario.strategy.id)))?;
    let players = p.int("players") as u32;
    let edges = p.int("edges") as u32;
    let transcoders = p.int("transcoders") as u32;
    let shield: NodeId = players + edges;
    let origin: NodeId = shield + 1;
    let queue: NodeId = origin + 1 + transcoders;
    let seg_ms = p.int("seg_ms") as u64;
    let video_segs = ((p.int("video_s") as u64 * 1_000).div_ceil(seg_ms)) as u32;
    let videos = p.int("videos") as u32;
    let ladder = trace::ladder(p.int("rungs") as usize);
    let trace = trace_of(scenario);
    let stop = SimTime::from_ms(scenario.workload.duration_ms);
    let edge_ids: Vec<NodeId> = (players..players + edges).collect();
    let mut specs = Vec::new();
    for i in 0..players {
        let cfg = player::PlayerCfg {
            index: i,
            edges: edge_ids.clone(),
            origin,
            abr: design.abr,
            versioned: design.versioned,
            ladder: ladder.clone(),
            seg_ms,
            video_segs,
            videos,
            max_buffer_ms: (p.int("max_buffer_s") as u64 * 1_000).max(2 * seg_ms),
            trace,
            stop,
        };
        specs.push(NodeSpec::new(format!("player-{i}"), "player", Node::Player(Box::new(player::Player::new(cfg)))));
    }
    let capacity = p.int("edge_cache") as usize;
    for i in 0..edges {
        let cfg = cdn::CacheCfg {
            index: i,
            upstream: if design.shield { shield } else { origin },
            capacity,
            ttl_ms: p.int("edge_ttl_ms") as u64,
            durable: false,
        };
        specs.push(NodeSpec::new(format!("edge-{i}"), "edge", Node::Edge(Box::new(cdn::Cache::new(cfg)))));
    }
    let scfg = cdn::CacheCfg {
        index: 0,
        upstream: origin,
        capacity: capacity * 4,
        ttl_ms: p.int("shield_ttl_ms") as u64,
        durable: true,
    };
    specs.push(NodeSpec::new("shield", "shield", Node::Shield(Box::new(cdn::Cache::new(scfg)))));
    let mut caches = edge_ids.clone();
    caches.push(shield);
    let ocfg = origin::OriginCfg {
        videos,
        video_segs,
        rung_kbits: ladder.iter().map(|k| k * seg_ms / 1_000).collect(),
        purge: !design.versioned,
        purge_delay_ms: p.int("purge_delay_ms") as u64,
        caches,
    };
    specs.push(NodeSpec::new("origin", "origin", Node::Origin(Box::new(origin::Origin::new(ocfg)))));
    let lease_ms = p.int("lease_ms") as u64;
    for i in 0..transcoders {
        let t = transcoder::Transcoder::new(queue, origin, ladder.len(), p.int("transcode_ms") as u64, lease_ms);
        specs.push(NodeSpec::new(format!("transcoder-{i}"), "transcoder", Node::Transcoder(t)));
    }
    specs.push(NodeSpec::new(
        "queue",
        "queue",
        Node::Queue(Box::new(queue::Queue::new(origin, !design.leases, lease_ms))),
    ));
    let workload = scenario.workload.capped(MAX_UPLOADS_PER_S, scenario.workload.duration_ms);
    let update = p.int("update_at_ms") as u64;
    let update_at = (update > 0).then(|| SimTime::from_ms(update));
    let up = uploader::Uploader::new(queue, workload, update_at, videos, video_segs);
    specs.push(NodeSpec::new("uploader", "uploader", Node::Uploader(Box::new(up))));
    let grace = SimDuration::from_ms(checks::GRACE_MS);
    let windows = fault_windows(&scenario.faults, grace);
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::RebufferRatio::new(p.float("rebuffer_slo_pct"), windows.clone(), trace, ladder[0])),
        Box::new(checks::OriginEgress::new(windows)),
        Box::new(checks::NoStaleSegment::default()),
        Box::new(checks::ChunksTranscoded::new(
            ladder.len(),
            SimDuration::from_ms(TRANSCODE_DEADLINE_MS),
            quiet_from(&scenario.faults),
        )),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let ladder = trace::ladder(p.int("rungs") as usize);
    let ladder_kbps: u64 = ladder.iter().sum();
    let video_s = p.int("video_s") as f64;
    let videos = p.int("videos") as f64;
    let players = p.int("players") as f64;
    let edges = p.int("edges") as f64;
    let bw = p.int("bandwidth_kbps") as f64;
    let top = *ladder.last().unwrap_or(&200) as f64;
    let watched = ladder.iter().rev().find(|&&k| k as f64 <= 0.9 * bw).copied().unwrap_or(ladder[0]) as f64;
    let uploads = p.float("uploads_per_s").min(MAX_UPLOADS_PER_S);
    let chunks_per_s = uploads * 5.0;
    let capacity = p.int("transcoders") as f64 * 1_000.0 / p.int("transcode_ms") as f64;
    let per_video_bytes = ladder_kbps as f64 * video_s * 1_000.0 / 8.0;
    vec![
        Estimate::new(
            "Storage per video",
            estimate::bytes(per_video_bytes),
            "Σ ladder bitrates × length (every rung stored)",
        ),
        Estimate::new(
            "Catalog at the origin",
            estimate::bytes(per_video_bytes * videos),
            "storage per video × catalog size",
        ),
        Estimate::new(
            "Viewer egress",
            format!("≈ {} bit/s", estimate::si(players * watched * 1_000.0)),
            "players × the rung 0.9 × bandwidth affords",
        ),
        Estimate::new(
            "Worst-case origin egress without a shield",
            format!("≈ {}× the catalog watched", estimate::si(edges)),
            "each edge fetches each popular segment once",
        ),
        Estimate::new(
            "Transcoding load",
            format!("{:.0}% of the pool", 100.0 * chunks_per_s / capacity.max(1e-9)),
            "uploads/s × 5 chunks ÷ (transcoders ÷ transcode time)",
        ),
        Estimate::new(
            "Top-rung segment in the drop",
            format!(
                "{:.1} s to download",
                top * p.int("seg_ms") as f64 / 1_000.0 / (p.int("drop_kbps") as f64).max(1.0)
            ),
            "top bitrate × segment length ÷ drop bandwidth: the buffer a player needs to ride it out",
        ),
    ]
}
