//! Chat (SYSTEMS.md entry 4): users with one or more devices hold WebSockets to gateway
//! servers (sticky by user), a pub/sub router knows which gateway holds which user, a
//! message store gives every conversation its sequence numbers, and a presence service
//! says who is online. Three designs: deliver only to whoever is online right now (the
//! first answer: offline devices and devices behind a crashed gateway lose messages);
//! persist, acknowledge, then deliver, with devices syncing from their last seen sequence
//! number on reconnect — once with presence from connect/disconnect events (a crashed
//! gateway never reports its disconnects) and once with heartbeats and a timeout.

pub mod checks;
pub mod device;
pub mod gateway;
pub mod msg;
pub mod presence;
pub mod presence_check;
pub mod pubsub;
pub mod store;
pub mod views;

#[cfg(test)]
mod tests;

use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::swarm::FaultKind;
use crate::sim::time::SimDuration;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::sim::NodeId;
use crate::system::{BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use msg::{Msg, Obs};

pub const EXPLAINER: &str = include_str!("explainer.md");

crate::roles! {
    /// Every node of the chat world.
    pub enum Node: Msg, Obs {
        Device(Box<device::Device>),
        Gateway(gateway::Gateway),
        PubSub(pubsub::PubSub),
        Store(store::Store),
        Presence(presence::Presence),
    }
}

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    OnlineOnly,
    PersistEvents,
    PersistHeartbeat,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "online-only" => Strategy::OnlineOnly,
            "persist-events" => Strategy::PersistEvents,
            "persist-heartbeat" => Strategy::PersistHeartbeat,
            _ => return None,
        })
    }

    /// Whether the store keeps messages and devices sync from it.
    pub fn persists(self) -> bool {
        !matches!(self, Strategy::OnlineOnly)
    }

    /// Whether presence comes from heartbeats (else from connect/disconnect events).
    pub fn heartbeat_presence(self) -> bool {
        matches!(self, Strategy::PersistHeartbeat)
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "online-only",
        title: "Deliver only if online",
        robust: false,
        summary: "The store sequences and acknowledges a message, and the router pushes it to whoever holds a socket now. A device that is offline, or behind a crashed gateway, never sees it. Presence from connect/disconnect events.",
    },
    StrategyDef {
        id: "persist-events",
        title: "Persist then deliver, event presence",
        robust: false,
        summary: "Store with a sequence number, acknowledge, push, and let devices sync from their last seen number on reconnect: no message lost. Presence counts open/close events, and a crashed gateway never sends its closes.",
    },
    StrategyDef {
        id: "persist-heartbeat",
        title: "Persist then deliver, heartbeat presence",
        robust: true,
        summary: "The same delivery, with presence from heartbeats: a device not heard of for the timeout is shown offline, whoever crashed.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int(
        "users",
        "Users",
        "users",
        2,
        12,
        6,
        "People chatting; each is in a 1:1 conversation with the next.",
    ),
    ParamSpec::int(
        "devices",
        "Devices per user",
        "devices",
        1,
        3,
        2,
        "Phone, laptop, tablet: every one must show every message.",
    ),
    ParamSpec::int(
        "gateways",
        "Gateways",
        "servers",
        2,
        6,
        3,
        "WebSocket servers; a user's home gateway is user mod gateways.",
    ),
    ParamSpec::int("groups", "Group chats", "groups", 0, 4, 1, "Small group conversations besides the 1:1s."),
    ParamSpec::int("group_size", "Group size", "members", 3, 8, 4, "Members per group (at most the number of users)."),
    ParamSpec::int(
        "heartbeat_ms",
        "Heartbeat interval",
        "ms",
        100,
        2_000,
        250,
        "How often a device pings its gateway.",
    ),
    ParamSpec::int(
        "missed_beats",
        "Missed beats to time out",
        "beats",
        2,
        10,
        3,
        "Silence of this many intervals means gone (socket and presence).",
    ),
    ParamSpec::int(
        "online_ms",
        "Time in the app",
        "ms",
        500,
        20_000,
        4_000,
        "Mean time a device keeps the app open (± 50 %).",
    ),
    ParamSpec::int("away_ms", "Time away", "ms", 200, 20_000, 3_000, "Mean time a device has the app closed (± 50 %)."),
    ParamSpec::int(
        "sync_ms",
        "Safety-net sync",
        "ms",
        200,
        10_000,
        1_000,
        "Persisting designs: how often a connected device asks for anything it missed.",
    ),
    ParamSpec::int(
        "history",
        "Messages kept per conversation",
        "messages",
        50,
        20_000,
        5_000,
        "The store's retention; a device further behind than this cannot catch up.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "delivered-exactly-once",
        kind: CheckKind::Safety,
        description: "Every message acknowledged to its sender is displayed exactly once on every device of every member by the end of the run (devices the plan leaves crashed are excused).",
    },
    CheckDef {
        name: "conversation-order",
        kind: CheckKind::Safety,
        description: "Each device displays each conversation's messages in sequence order, with no gap.",
    },
    CheckDef {
        name: "presence-accurate",
        kind: CheckKind::Safety,
        description: "Presence shown for a device disagrees with its true connectivity (socket open, both ends up, not cut off) for no longer than timeout + heartbeat + 600 ms.",
    },
];

const SWARM: &[FaultKind] = &[FaultKind::Crash, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

pub const DEF: SystemDef = SystemDef {
    id: "chat",
    number: 4,
    title: "Chat",
    theme: "Messaging and fan-out",
    question: "How would you design a real-time chat service that delivers every message once, in order, to every device — including the ones that were offline?",
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

const USERS: [&str; 12] =
    ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj"];
const DEVICES: [&str; 3] = ["phone", "laptop", "tablet"];

fn default_workload(_p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: 30.0,
        think_ms: 0,
        duration_ms: 10_000,
        keys: 1,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// gateway-0 crashes at 3 s and comes back at 4.5 s (its users reconnect elsewhere, then
/// home); alice's phone is cut off from every gateway from 6 s to 7.5 s. Both nodes exist
/// for every parameter value.
fn default_faults(_p: &Params) -> Vec<TimedFault> {
    vec![
        TimedFault { at_ms: 3_000, fault: Fault::Crash { node: "gateway-0".into() } },
        TimedFault { at_ms: 4_500, fault: Fault::Restart { node: "gateway-0".into() } },
        TimedFault {
            at_ms: 6_000,
            fault: Fault::Partition { a: vec!["alice-phone".into()], b: vec!["gateway".into()], one_way: false },
        },
        TimedFault { at_ms: 7_500, fault: Fault::Heal },
    ]
}

fn device_names(p: &Params) -> Vec<(String, u32)> {
    let (users, devices) = (p.int("users") as u32, p.int("devices") as usize);
    (0..users).flat_map(|u| (0..devices).map(move |d| (format!("{}-{}", USERS[u as usize], DEVICES[d]), u))).collect()
}

fn swarm_targets(p: &Params) -> Vec<String> {
    let mut t: Vec<String> = device_names(p).into_iter().map(|(n, _)| n).collect();
    t.extend((0..p.int("gateways")).map(|g| format!("gateway-{g}")));
    t.push("store".into());
    t
}

/// The conversations: a 1:1 between each user and the next (one, for two users), then
/// the groups, each of consecutive users. Returns (name, member user ids).
pub fn conversations(p: &Params) -> Vec<(String, Vec<u32>)> {
    let users = p.int("users") as u32;
    let mut out = Vec::new();
    let pairs = if users == 2 { 1 } else { users };
    for u in 0..pairs {
        let v = (u + 1) % users;
        out.push((format!("{}–{}", USERS[u as usize], USERS[v as usize]), vec![u, v]));
    }
    let size = (p.int("group_size") as u32).min(users);
    for g in 0..p.int("groups") as u32 {
        let members: Vec<u32> = (0..size).map(|j| (g * size + j) % users).collect();
        out.push((format!("group {}", g + 1), members));
    }
    out
}

/// How long presence may disagree with the truth: the timeout, one heartbeat interval
/// (the last ping may have left just before the device went), one sweep, and 500 ms of
/// network delay.
pub fn presence_bound(p: &Params) -> SimDuration {
    let h = p.int("heartbeat_ms") as u64;
    SimDuration::from_ms(h * p.int("missed_beats") as u64 + h + presence::SWEEP_MS + 500)
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let (nodes, checks) = parts(scenario)?;
    crate::system::assemble(scenario, opts, nodes, checks, views::views)
}

/// The world of a scenario (for tests that read node state).
pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let (nodes, checks) = parts(scenario)?;
    crate::system::world(scenario, opts, nodes, checks)
}

type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// Nodes in order: devices (so a device's node id indexes per-device tables), gateways,
/// then pub/sub, store and presence.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("chat has no strategy {:?}", scenario.strategy.id)))?;
    let devices = device_names(p);
    let nd = devices.len() as u32;
    let ng = p.int("gateways") as u32;
    let gateways: Vec<NodeId> = (nd..nd + ng).collect();
    let (pubsub_id, store_id, presence_id) = (nd + ng, nd + ng + 1, nd + ng + 2);
    let convs = conversations(p);
    let members: Vec<Vec<u32>> = convs.iter().map(|(_, m)| m.clone()).collect();
    let heartbeat_ms = p.int("heartbeat_ms") as u64;
    let missed = p.int("missed_beats") as u64;
    let mut specs = Vec::new();
    for (name, user) in &devices {
        let cfg = device::DeviceCfg {
            strategy,
            user: *user,
            gateways: gateways.clone(),
            convs: (0..members.len() as u32).filter(|&c| members[c as usize].contains(user)).collect(),
            workload: scenario.workload.clone(),
            clients: nd,
            heartbeat_ms,
            missed,
            online_ms: p.int("online_ms") as u64,
            away_ms: p.int("away_ms") as u64,
            sync_ms: p.int("sync_ms") as u64,
        };
        specs.push(NodeSpec::new(name.clone(), "device", Node::Device(Box::new(device::Device::new(cfg)))));
    }
    for g in 0..ng {
        let cfg = gateway::GatewayCfg {
            heartbeat_presence: strategy.heartbeat_presence(),
            store: store_id,
            pubsub: pubsub_id,
            presence: presence_id,
            members: members.clone(),
            heartbeat_ms,
            missed,
        };
        specs.push(NodeSpec::new(format!("gateway-{g}"), "gateway", Node::Gateway(gateway::Gateway::new(cfg))));
    }
    specs.push(NodeSpec::new(
        "pubsub",
        "pubsub",
        Node::PubSub(pubsub::PubSub::new(members.clone(), convs.iter().map(|(n, _)| n.clone()).collect())),
    ));
    let history = if strategy.persists() { p.int("history") as usize } else { 0 };
    specs.push(NodeSpec::new(
        "store",
        "store",
        Node::Store(store::Store::new(pubsub_id, members.len(), nd as usize, history)),
    ));
    let timeout = heartbeat_ms * missed;
    specs.push(NodeSpec::new(
        "presence",
        "presence",
        Node::Presence(presence::Presence::new(strategy.heartbeat_presence(), timeout, nd as usize)),
    ));

    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let roles: Vec<&str> = specs.iter().map(|s| s.role).collect();
    let conv_names: Vec<String> = convs.iter().map(|(n, _)| n.clone()).collect();
    let recipients: Vec<Vec<NodeId>> =
        members.iter().map(|m| (0..nd).filter(|&d| m.contains(&devices[d as usize].1)).collect()).collect();
    let excused = crashed_at_end(&scenario.faults, &names, &roles, nd as usize);
    let checks: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::DeliveredExactlyOnce::new(names.clone(), conv_names.clone(), recipients, excused)),
        Box::new(checks::ConversationOrder::new(names.clone(), conv_names)),
        Box::new(presence_check::PresenceAccurate::new(
            names,
            &roles,
            nd as usize,
            presence_bound(p),
            &scenario.faults,
        )),
    ];
    Ok((specs, checks))
}

/// Devices (nodes `0..devices`) the fault plan leaves crashed at the end.
fn crashed_at_end(faults: &[TimedFault], names: &[String], roles: &[&str], devices: usize) -> Vec<bool> {
    let mut down = vec![false; devices];
    let mut sorted: Vec<&TimedFault> = faults.iter().collect();
    sorted.sort_by_key(|f| f.at_ms);
    for f in sorted {
        let (node, crash) = match &f.fault {
            Fault::Crash { node } => (node, true),
            Fault::Restart { node } => (node, false),
            _ => continue,
        };
        for id in presence_check::resolve(names, roles, node) {
            if let Some(d) = down.get_mut(id as usize) {
                *d = crash;
            }
        }
    }
    down
}

/// Back-of-the-envelope figures for the current parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let devices = (p.int("users") * p.int("devices")) as f64;
    let (online, away) = (p.int("online_ms") as f64, p.int("away_ms") as f64);
    let share = online / (online + away);
    let gateways = p.int("gateways") as f64;
    let h = p.int("heartbeat_ms") as f64;
    let rate = s.workload.rate_per_s;
    let convs = conversations(p);
    let avg_members = convs.iter().map(|(_, m)| m.len() as f64).sum::<f64>() / convs.len().max(1) as f64;
    let per_msg = avg_members * p.int("devices") as f64;
    vec![
        Estimate::new(
            "Open sockets",
            format!("≈ {} ({} per gateway)", estimate::si(devices * share), estimate::si(devices * share / gateways)),
            "devices × share of time in the app",
        ),
        Estimate::new(
            "Heartbeat traffic",
            format!("{} msg/s", estimate::si(devices * share * 1_000.0 / h * 3.0)),
            "ping, pong and relayed beat per open socket per interval",
        ),
        Estimate::new(
            "Pushes per message",
            format!("≈ {}", estimate::si(per_msg)),
            "members × devices each (including the sender's own devices)",
        ),
        Estimate::new(
            "Push rate",
            format!("{} /s", estimate::si(rate * per_msg * share)),
            "message rate × pushes per message × share online (the rest arrive by sync)",
        ),
        Estimate::new(
            "Presence lag",
            format!("≤ {} ms", presence_bound(p).as_ms()),
            "timeout (beats × interval) + one interval + sweep + network",
        ),
        Estimate::new(
            "Store growth",
            format!("{}/day", estimate::bytes(rate * 86_400.0 * 200.0)),
            "messages/s × 86 400 s × ~200 B per stored message",
        ),
    ]
}

/// Conversation names of a running world (the pub/sub router carries them), for views.
pub fn conversations_of(world: &World<Node>) -> Vec<String> {
    world
        .nodes()
        .iter()
        .find_map(|n| match n {
            Node::PubSub(p) => Some(p.conv_names.clone()),
            _ => None,
        })
        .unwrap_or_default()
}
