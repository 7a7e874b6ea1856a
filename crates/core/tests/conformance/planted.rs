//! A deliberately broken system, and proof that each rule flags its flaw. "planted" is a
//! ping service written to fail the suite in every way a new system could go wrong:
//! - a draw from process-global state (a build counter) instead of the seed, so two runs
//!   of one scenario differ;
//! - a check that watches an observation nobody makes (`never-seen`, always 0 samples);
//! - a naive strategy nothing catches, and a check nothing can fail;
//! - a show-me line that claims a check fails when it holds;
//! - a default fault that names `client-1` whatever the client count (broken at 1 client);
//! - an explainer without the interview path and a page without estimates.

use super::rules;
use sdlab_core::check::{CheckKind, Property};
use sdlab_core::scenario::params::{ParamKind, ParamSpec, Params};
use sdlab_core::scenario::Scenario;
use sdlab_core::sim::fault::{Fault, TimedFault};
use sdlab_core::sim::node::{Actor, Ctx, Message};
use sdlab_core::sim::time::{SimDuration, SimTime};
use sdlab_core::sim::workload::{Arrival, WorkloadSpec};
use sdlab_core::sim::world::{BuildError, NodeSpec};
use sdlab_core::sim::NodeId;
use sdlab_core::system::{assemble, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Clone, Debug, Hash)]
enum Msg {
    Ping(u64),
    Pong(u64),
}
impl Message for Msg {}

#[derive(Clone, Debug)]
enum Obs {
    Answered,
    /// What `never-seen` waits for; no node ever reports it.
    #[allow(dead_code)]
    Never,
}

/// The flaw: state outside the scenario that every build changes.
static BUILDS: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Debug)]
struct Client {
    server: NodeId,
    jitter_ms: u64,
    until: SimTime,
    sent: u64,
}

impl Actor for Client {
    type Msg = Msg;
    type Obs = Obs;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(1 + self.jitter_ms), 0);
    }
    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::Pong(_) = msg {
            ctx.observe(Obs::Answered);
        }
    }
    fn on_timer(&mut self, _tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if ctx.now() < self.until {
            self.sent += 1;
            ctx.send(self.server, Msg::Ping(self.sent));
            ctx.set_timer(SimDuration::from_ms(10), 0);
        }
    }
}

#[derive(Clone, Debug)]
struct Server;

impl Actor for Server {
    type Msg = Msg;
    type Obs = Obs;
    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::Ping(n) = msg {
            ctx.send(from, Msg::Pong(n));
        }
    }
}

sdlab_core::roles! {
    enum Node: Msg, Obs { Client(Client), Server(Server) }
}

#[derive(Clone, Default)]
struct Answered(u64);
impl Property<Obs> for Answered {
    fn name(&self) -> &'static str {
        "pings-answered"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        self.0 += matches!(obs, Obs::Answered) as u64;
        None
    }
    fn samples(&self) -> u64 {
        self.0
    }
}

#[derive(Clone, Default)]
struct NeverSeen(u64);
impl Property<Obs> for NeverSeen {
    fn name(&self) -> &'static str {
        "never-seen"
    }
    fn observe(&mut self, _at: SimTime, obs: &Obs) -> Option<String> {
        self.0 += matches!(obs, Obs::Never) as u64;
        None
    }
    fn samples(&self) -> u64 {
        self.0
    }
}

fn build(s: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let clients = s.params.int("clients") as u32;
    let jitter_ms = BUILDS.fetch_add(1, Ordering::Relaxed) % 7;
    let until = SimTime::from_ms(s.workload.duration_ms);
    let mut nodes: Vec<NodeSpec<Node>> = (0..clients)
        .map(|i| {
            NodeSpec::new(
                format!("client-{i}"),
                "client",
                Node::Client(Client { server: clients, jitter_ms, until, sent: 0 }),
            )
        })
        .collect();
    nodes.push(NodeSpec::new("server", "server", Node::Server(Server)));
    assemble(s, opts, nodes, vec![Box::new(Answered::default()), Box::new(NeverSeen::default())], |_| Vec::new())
}

fn workload(_p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Closed,
        rate_per_s: 10.0,
        think_ms: 10,
        duration_ms: 2_000,
        keys: 1,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

fn faults(_p: &Params) -> Vec<TimedFault> {
    vec![TimedFault { at_ms: 500, fault: Fault::Pause { node: "client-1".into(), for_ms: 100 } }]
}

static PLANTED: SystemDef = SystemDef {
    id: "planted",
    number: 99,
    title: "Planted",
    theme: "Test",
    question: "Does the conformance suite notice?",
    strategies: &[
        StrategyDef { id: "uncaught", title: "Uncaught", robust: false, summary: "Naive, yet nothing fails." },
        StrategyDef { id: "steady", title: "Steady", robust: true, summary: "The same design." },
    ],
    params: &[ParamSpec {
        key: "clients",
        label: "Clients",
        unit: "",
        kind: ParamKind::Int { min: 1, max: 3, default: 2 },
        help: "",
    }],
    checks: &[
        CheckDef { name: "pings-answered", kind: CheckKind::Safety, description: "Counts answers; never fails." },
        CheckDef { name: "never-seen", kind: CheckKind::Safety, description: "Watches what nobody reports." },
    ],
    swarm_faults: &[],
    drain_ms: 100,
    default_workload: workload,
    default_faults: faults,
    swarm_targets: |_| Vec::new(),
    build,
    explainer: "## Requirements\n\nPing.\n\nShow me: {\"version\":1,\"system\":\"planted\",\"strategy\":\"steady\"} => fails pings-answered\n",
    estimates: |_| Vec::new(),
};

fn flagged(findings: &[String], needle: &str) -> bool {
    findings.iter().any(|f| f.contains(needle))
}

#[test]
fn a_non_deterministic_draw_is_flagged() {
    let (bad, _) = rules::determinism(&PLANTED);
    assert!(flagged(&bad, "two runs of one scenario differ"), "{bad:#?}");
}

#[test]
fn a_vacuous_check_is_flagged() {
    let (_, reports) = rules::determinism(&PLANTED);
    let bad = rules::shape(&PLANTED, &reports);
    assert!(flagged(&bad, "check `never-seen` observed nothing"), "{bad:#?}");
    assert!(!flagged(&bad, "check `pings-answered` observed nothing"), "{bad:#?}");
}

#[test]
fn a_show_me_line_whose_claim_is_false_is_flagged() {
    let (bad, shown) = rules::show_me(&PLANTED);
    assert!(flagged(&bad, "claims `pings-answered` fails, but it held"), "{bad:#?}");
    assert!(shown.is_empty(), "a false claim must not count as showing a failure: {shown:?}");
}

#[test]
fn an_uncaught_naive_strategy_and_unfailable_checks_are_flagged() {
    let bad = rules::failability(&PLANTED, &[]);
    assert!(flagged(&bad, "uncaught: naive, but no check failed"), "{bad:#?}");
    assert!(flagged(&bad, "check `pings-answered` is failed by no naive strategy"), "{bad:#?}");
    assert!(flagged(&bad, "check `never-seen` is failed by no naive strategy"), "{bad:#?}");
}

#[test]
fn a_default_fault_that_ignores_the_parameters_is_flagged() {
    let bad = rules::bounds(&PLANTED);
    assert!(flagged(&bad, "`clients` = 1: does not build"), "{bad:#?}");
    assert!(!flagged(&bad, "`clients` = 3"), "{bad:#?}");
}

#[test]
fn a_page_off_the_interview_path_is_flagged() {
    let bad = rules::page(&PLANTED);
    assert!(flagged(&bad, "no `## Deep dive` section"), "{bad:#?}");
    assert!(flagged(&bad, "the page shows no estimate"), "{bad:#?}");
    assert!(!flagged(&bad, "no `## Requirements` section"), "{bad:#?}");
}
