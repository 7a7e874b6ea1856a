//! IoT data ingestion (catalog entry 14): a hundred thousand to a million smart meters
//! send bursty telemetry through authenticating gateways into a partitioned broker, from
//! which a writer deduplicates by (device, seq) into a time-series store.
//!
//! Devices are simulated in fleets (a world holds at most 512 nodes): one actor per
//! fleet, 24 bytes per device in a flat `Vec`. The strategies differ where ingestion
//! pipelines go wrong under load and failure. An unbounded gateway queue absorbs a burst
//! by growing until memory runs out; a device without a buffer (QoS 0) loses whatever a
//! full queue sheds, a crashed gateway held, or a flapping network dropped. The robust
//! design bounds each gateway's queue by a memory budget and sheds with "busy", keeps
//! every reading in the device's buffer until the gateway acknowledges it — which it does
//! only once the broker has stored it — retries with jittered exponential backoff across
//! gateways, and lets the writer drop the duplicates at-least-once delivery creates. Two
//! knobs plant the remaining classic mistakes: trusting a device's claimed id instead of
//! verifying its MAC, and writing without deduplication.

pub mod attacker;
pub mod auth;
pub mod broker;
pub mod checks;
pub mod device;
pub mod fleet;
pub mod gateway;
pub mod msg;
pub mod node;
pub mod store;
pub mod views;
pub mod writer;

#[cfg(test)]
mod tests;

use crate::blocks::siphash::SipKey;
use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::rng::Prng;
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimTime;
use crate::sim::workload::{Arrival, Burst, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{BuildOptions, CheckDef, StrategyDef, SystemDef};
use crate::system::{Run, Simulation};
use gateway::Auth;
use msg::{Obs, READING_BYTES};
use node::Node;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Devices stop sending this long before the run ends, so what they were told is stored
/// has been written when the checks judge.
pub const QUIET_END_MS: u64 = 1_000;
/// Readings let go in the run's last this-many milliseconds are not judged missing: the
/// writer polls every 20 ms, but a judgement at the very end would race it.
pub const LATE_MS: u64 = 500;

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    UnboundedQueue,
    NoDeviceBuffer,
    BufferRetry,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "unbounded-queue" => Strategy::UnboundedQueue,
            "no-device-buffer" => Strategy::NoDeviceBuffer,
            "buffer-retry" => Strategy::BufferRetry,
            _ => return None,
        })
    }

    fn bounded(self) -> bool {
        !matches!(self, Strategy::UnboundedQueue)
    }

    fn buffered(self) -> bool {
        !matches!(self, Strategy::NoDeviceBuffer)
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "unbounded-queue",
        title: "Unbounded gateway queue",
        robust: false,
        summary: "Gateways admit every authentic reading into an in-memory queue and never say no. Devices buffer and retry. A burst above the gateways' service rate grows the queue past its memory budget (and, left alone, until the process is killed); waiting readings time out and are re-sent, which grows it faster.",
    },
    StrategyDef {
        id: "no-device-buffer",
        title: "Bounded queue, no device buffer",
        robust: false,
        summary: "Gateways bound their queue and shed what does not fit, but devices send each reading once and forget it (QoS 0). Whatever is shed in a burst, held by a gateway that crashes, or dropped by a flapping network is gone.",
    },
    StrategyDef {
        id: "buffer-retry",
        title: "Bounded queue + backpressure + device buffer + dedup",
        robust: true,
        summary: "Gateways bound their queue by a memory budget and answer 'busy' when it is full; they acknowledge a reading only after the broker stored it. Devices keep readings until acknowledged and re-send with jittered exponential backoff, to the next gateway each round. The writer drops duplicates by (device, seq).",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("devices", "Devices", "devices", 1_000, 1_000_000, 100_000, "Devices in the fleet; each is 24 bytes of simulator state."),
    ParamSpec::int("fleets", "Fleet actors", "actors", 1, 8, 4, "Actors the devices are simulated in (devices are split evenly)."),
    ParamSpec::int("gateways", "Gateways", "nodes", 1, 4, 2, "Gateways; a device starts at gateway (id mod n) and moves to the next on each retry."),
    ParamSpec::int("partitions", "Broker partitions", "partitions", 1, 16, 4, "Partitions of the telemetry topic; a device's readings all go to one (keyed by its id)."),
    ParamSpec::int("gateway_rate", "Gateway service rate", "readings/s", 200, 50_000, 2_000, "Readings per second one gateway authenticates and forwards."),
    ParamSpec::int("queue_kb", "Gateway memory budget", "KB", 4, 1_024, 32, "Memory one gateway may spend on queued readings (64 bytes each)."),
    ParamSpec::int("device_buffer", "Device buffer", "readings", 1, 64, 16, "Readings a device keeps until acknowledged; when full it drops its oldest."),
    ParamSpec::int("retry_ms", "Ack timeout", "ms", 20, 2_000, 400, "A device re-sends what is unacknowledged after this long, doubling (jittered) each round up to 16×; keep it above the longest queue wait, or a full queue breeds its own duplicates."),
    ParamSpec::int("burst_factor", "Burst", "×", 1, 20, 3, "The default workload's rate multiplier from 2 s to 3.5 s."),
    ParamSpec::int("forged_per_s", "Forged readings", "per s", 0, 200, 10, "Readings an attacker without keys sends, claiming real device ids."),
    ParamSpec::int("outage_ms", "Gateway outage", "ms", 0, 3_000, 1_000, "The default faults crash gateway-0 at 4 s for this long (0: no crash)."),
    ParamSpec::choice(
        "auth",
        "Device authentication",
        &["mac", "device-id"],
        "mac",
        "mac: verify each reading's SipHash tag under the device's key; device-id: trust the id the reading claims (the naive knob).",
    ),
    ParamSpec::choice(
        "dedup",
        "Writer deduplication",
        &["device-seq", "none"],
        "device-seq",
        "device-seq: drop copies by (device, seq) with a replay window per device; none: write every copy (the naive knob).",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "no-loss-no-dup",
        kind: CheckKind::Safety,
        description: "Every reading a device let go of as delivered (acknowledged; or, without a buffer, sent) is in the store by the end, and no reading is written twice — judged from the devices' own record against every row written.",
    },
    CheckDef {
        name: "memory-bound",
        kind: CheckKind::Safety,
        description: "No gateway's queued readings, summed from everything that entered and left its queue, ever exceed its memory budget.",
    },
    CheckDef {
        name: "forged-rejected",
        kind: CheckKind::Safety,
        description: "The store holds no reading that its device did not make (the attacker, who has ids but no keys, gets nothing in).",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

pub const DEF: SystemDef = SystemDef {
    id: "iot-ingestion",
    number: 14,
    title: "IoT data ingestion",
    theme: "Messaging",
    question: "How do you ingest bursty telemetry from millions of devices without running out of memory, losing or doubling a reading, or letting a forged device in?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 3_000,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

/// Open-loop readings (devices report whatever the pipeline does), a few chatty devices
/// and a long quiet tail (Zipf 0.5), and one burst — every meter reporting a power cut.
fn default_workload(p: &Params) -> WorkloadSpec {
    let factor = p.int("burst_factor") as f64;
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: 2_400.0,
        think_ms: 0,
        duration_ms: 10_000,
        keys: p.int("devices") as u64,
        zipf_s: 0.5,
        bursts: if factor > 1.0 { vec![Burst { at_ms: 2_000, for_ms: 1_500, factor }] } else { Vec::new() },
    }
}

/// gateway-0 crashes at 4 s for `outage_ms`; fleet-0's network flaps (cut off from
/// every gateway for 600 ms at 6.5 s); then 5 % of all messages are lost for 0.8 s. Only
/// nodes that exist for every parameter value are named.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let outage = p.int("outage_ms") as u64;
    let mut out = Vec::new();
    if outage > 0 {
        out.push(TimedFault { at_ms: 4_000, fault: Fault::Crash { node: "gateway-0".into() } });
        out.push(TimedFault { at_ms: 4_000 + outage, fault: Fault::Restart { node: "gateway-0".into() } });
    }
    out.push(TimedFault {
        at_ms: 6_500,
        fault: Fault::Partition { a: vec!["fleet-0".into()], b: vec!["gateway".into()], one_way: false },
    });
    out.push(TimedFault { at_ms: 7_100, fault: Fault::Heal });
    out.push(TimedFault { at_ms: 8_000, fault: Fault::Loss { rate: 0.05 } });
    out.push(TimedFault { at_ms: 8_800, fault: Fault::Loss { rate: 0.0 } });
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t = vec!["fleet-0".to_string()];
    t.extend((0..p.int("gateways")).map(|i| format!("gateway-{i}")));
    t.push("broker".into());
    t.push("writer".into());
    t
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    Ok(Run::boxed(build_world(scenario, opts)?, views::views))
}

/// Fleets first, then the attacker, the gateways, the broker and the writer.
pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("iot-ingestion has no strategy {:?}", scenario.strategy.id)))?;
    let devices = p.int("devices") as u32;
    let fleets = p.int("fleets") as u32;
    let n_gw = p.int("gateways") as u32;
    let partitions = p.int("partitions") as u32;
    let gateways: Vec<NodeId> = (0..n_gw).map(|i| fleets + 1 + i).collect();
    let broker = fleets + 1 + n_gw;
    let writer = broker + 1;
    // The fleet's master secret, from which every device key is diversified.
    let mut keys = Prng::new(scenario.seed).fork("provisioning");
    let master = SipKey { k0: keys.next_u64(), k1: keys.next_u64() };
    let horizon = scenario.horizon_ms();
    let stop_at = SimTime::from_ms(horizon.saturating_sub(QUIET_END_MS).max(scenario.workload.duration_ms));
    let budget = p.int("queue_kb") as u64 * 1_024;
    let mut specs = Vec::new();
    for f in 0..fleets {
        let first = (u64::from(devices) * u64::from(f) / u64::from(fleets)) as u32;
        let end = (u64::from(devices) * u64::from(f + 1) / u64::from(fleets)) as u32;
        let cfg = fleet::FleetCfg {
            index: f,
            fleets,
            first,
            count: end - first,
            gateways: gateways.clone(),
            buffered: strategy.buffered(),
            buffer: p.int("device_buffer") as u32,
            retry_ms: p.int("retry_ms") as u64,
            stop_at,
            master,
            workload: scenario.workload.clone(),
        };
        specs.push(NodeSpec::new(format!("fleet-{f}"), "fleet", Node::Fleet(Box::new(fleet::Fleet::new(cfg)))));
    }
    let attacker = attacker::Attacker {
        gateways: gateways.clone(),
        devices,
        per_s: p.int("forged_per_s") as u64,
        until_ms: scenario.workload.duration_ms,
        sent: 0,
    };
    specs.push(NodeSpec::new("attacker", "attacker", Node::Attacker(attacker)));
    let auth = if p.choice("auth") == "mac" { Auth::Mac } else { Auth::DeviceId };
    for i in 0..n_gw {
        let cfg = gateway::GatewayCfg {
            index: i,
            broker,
            rate_per_s: p.int("gateway_rate") as u64,
            budget_bytes: strategy.bounded().then_some(budget),
            replies: strategy.buffered(),
            auth,
            master,
            devices,
        };
        specs.push(NodeSpec::new(
            format!("gateway-{i}"),
            "gateway",
            Node::Gateway(Box::new(gateway::Gateway::new(cfg))),
        ));
    }
    specs.push(NodeSpec::new("broker", "broker", Node::Broker(Box::new(broker::Broker::new(partitions)))));
    let dedup = p.choice("dedup") == "device-seq";
    specs.push(NodeSpec::new(
        "writer",
        "writer",
        Node::Writer(Box::new(writer::Writer::new(broker, partitions, devices, dedup))),
    ));
    debug_assert_eq!(specs.len() as u32, writer + 1);
    let late_from = SimTime::from_ms(horizon.saturating_sub(LATE_MS));
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::NoLossNoDup::new(devices, late_from)),
        Box::new(checks::MemoryBound::new(budget)),
        Box::new(checks::ForgedRejected::new(devices)),
    ];
    crate::system::world(scenario, opts, specs, props)
}

/// Back-of-the-envelope figures for the current parameters and workload.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let w = &s.workload;
    let devices = p.int("devices") as f64;
    let rate = w.rate_per_s;
    let peak_factor = w.bursts.iter().map(|b| b.factor).fold(1.0, f64::max);
    let peak = rate * peak_factor;
    let capacity = p.int("gateways") as f64 * p.int("gateway_rate") as f64;
    let per_gw = p.int("gateway_rate") as f64;
    let queue_readings = (p.int("queue_kb") as f64 * 1_024.0 / READING_BYTES as f64).floor();
    let burst_s = w.bursts.iter().map(|b| b.for_ms as f64 / 1_000.0).fold(0.0, f64::max);
    let per_device = rate / devices.max(1.0);
    let buffer = p.int("device_buffer") as f64;
    vec![
        Estimate::new(
            "Per device",
            format!("1 reading / {} s", estimate::si(1.0 / per_device.max(1e-12))),
            "workload rate ÷ devices (the average device; Zipf makes a few far chattier)",
        ),
        Estimate::new("Ingest", format!("{} readings/s", estimate::si(rate)), "the workload's rate"),
        Estimate::new("Peak", format!("{} readings/s", estimate::si(peak)), format!("× {peak_factor} in the burst")),
        Estimate::new(
            "Gateway capacity",
            format!("{} readings/s", estimate::si(capacity)),
            format!("gateways × service rate: {:.0} % busy at peak", 100.0 * peak / capacity.max(1.0)),
        ),
        Estimate::new(
            "Burst excess",
            format!("{} readings", estimate::si(((peak - capacity).max(0.0) * burst_s).round())),
            "(peak − capacity) × burst length: must wait somewhere — device buffers, not gateway RAM",
        ),
        Estimate::new(
            "Gateway queue",
            format!(
                "{} readings ≈ {} ms",
                estimate::si(queue_readings),
                estimate::si(1_000.0 * queue_readings / per_gw)
            ),
            "budget ÷ 64 B, drained at the service rate: the most latency a full queue adds",
        ),
        Estimate::new(
            "Ack timeout margin",
            format!("{} ms", estimate::si(p.int("retry_ms") as f64 - 1_000.0 * queue_readings / per_gw)),
            "ack timeout − full-queue wait: below zero, a full queue makes devices re-send what is still queued",
        ),
        Estimate::new(
            "Device buffer covers",
            format!("{} s", estimate::si(buffer / per_device.max(1e-12))),
            "buffer ÷ per-device rate: the outage an average device rides out without loss",
        ),
        Estimate::new(
            "Storage",
            format!("{}/day", estimate::bytes(rate * 86_400.0 * 16.0)),
            "16 B per row uncompressed (Gorilla-style compression gets ~1.4 B)",
        ),
        Estimate::new(
            "Dedup state",
            estimate::bytes(devices * 16.0),
            "one 16-byte replay window per device at the writer",
        ),
        Estimate::new("Key table at the gateway", "0 B".into(), "keys are derived from the master secret per reading"),
    ]
}
