//! Payment gateway (catalog entry 8): merchants charge their customers' saved cards
//! through a gateway — an API with idempotency keys, a payment state machine (created,
//! authorized, captured, failed, refunded), fraud rules, a tokenised card vault — that talks
//! to a flaky card network (a timeout may hide a charge that went through) and keeps a
//! ledger and an audit log.
//!
//! Four designs, each one mistake away from the robust one: merchants that retry without
//! an idempotency key (every retry a new payment: a double charge), a gateway that reads a
//! network timeout as a decline (the card was charged on a "failed" payment), and a
//! single-entry ledger (balances changed in place: a retried write counts twice). The
//! checks judge everything against the card network's own record of money moved. See
//! `explainer.md`.

pub mod checks;
pub mod fraud;
pub mod gateway;
pub mod ledger;
pub mod merchant;
pub mod msg;
pub mod network;
pub mod node;
pub mod payment;
pub mod vault;
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
use msg::Obs;
use node::Node;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    RetryNoKey,
    TimeoutFails,
    SingleEntry,
    Robust,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "retry-no-key" => Strategy::RetryNoKey,
            "timeout-fails" => Strategy::TimeoutFails,
            "single-entry" => Strategy::SingleEntry,
            "keys-double-entry" => Strategy::Robust,
            _ => return None,
        })
    }

    pub fn keys(self) -> bool {
        self != Strategy::RetryNoKey
    }

    pub fn double_entry(self) -> bool {
        self != Strategy::SingleEntry
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "retry-no-key",
        title: "Retry without an idempotency key",
        robust: false,
        summary: "Merchants retry a payment request that timed out, but send no idempotency key: to the gateway every retry is a new payment, and a slow first attempt still goes through. The card is charged twice.",
    },
    StrategyDef {
        id: "timeout-fails",
        title: "Network timeout = failure",
        robust: false,
        summary: "Keys everywhere, but when the card network does not answer in time the gateway marks the payment failed. The network did process it: the card is charged on a failed payment, the ledger never hears of it, and the customer pays again.",
    },
    StrategyDef {
        id: "single-entry",
        title: "Single-entry balances",
        robust: false,
        summary: "Keys and patient retries, but the ledger is a balance per account changed in place, one write per account. A write retried after a lost acknowledgement, or replayed after a crash, is counted twice: the books drift from the money.",
    },
    StrategyDef {
        id: "keys-double-entry",
        title: "Idempotency keys + double entry",
        robust: true,
        summary: "Keys stored with the payment; network calls retried under the same reference (backoff with full jitter) until answered; every money movement one balanced, named journal entry written through a durable outbox, so retries and replays are harmless.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("merchants", "Merchants", "merchants", 1, 8, 3, "Merchant backends sending payments."),
    ParamSpec::int("cards", "Cards in the vault", "cards", 1, 1_000, 60, "Customers' saved cards (tokens)."),
    ParamSpec::int(
        "payments_per_s",
        "Payments",
        "payments/s",
        1,
        200,
        40,
        "New payments per second for the first 8 s.",
    ),
    ParamSpec::int(
        "merchant_timeout_ms",
        "Merchant timeout",
        "ms",
        100,
        5_000,
        1_000,
        "A merchant retries a payment request unanswered this long.",
    ),
    ParamSpec::int(
        "net_timeout_ms",
        "Network timeout",
        "ms",
        50,
        2_000,
        300,
        "The gateway's timeout on a card-network call.",
    ),
    ParamSpec::int(
        "lost_reply_pct",
        "Lost network replies",
        "%",
        0,
        30,
        3,
        "The network processes the request but its reply never arrives.",
    ),
    ParamSpec::int("slow_pct", "Slow network replies", "%", 0, 30, 5, "The network answers after 0.5–2 s."),
    ParamSpec::int("decline_pct", "Issuer declines", "%", 0, 50, 5, "Authorizations the issuer declines."),
    ParamSpec::int(
        "key_ttl_ms",
        "Idempotency-key retention",
        "ms",
        100,
        120_000,
        60_000,
        "How long the gateway keeps a key; a retry after that is a new payment.",
    ),
    ParamSpec::int(
        "velocity_max",
        "Velocity limit",
        "per card per 10 s",
        1,
        50,
        8,
        "Fraud rule: attempts allowed per card.",
    ),
    ParamSpec::int(
        "amount_limit",
        "Amount limit",
        "¢",
        1_000,
        1_000_000,
        50_000,
        "Fraud rule: a single charge above this is refused.",
    ),
    ParamSpec::int(
        "foreign_pct",
        "Foreign attempts",
        "%",
        0,
        100,
        3,
        "Payments from a country other than the card's (the geography rule refuses them).",
    ),
    ParamSpec::int("refund_pct", "Refunds", "%", 0, 50, 10, "Captured payments the merchant later refunds."),
    ParamSpec::int("fee_bps", "Fee", "basis points", 0, 1_000, 290, "The gateway's fee per capture (plus 30¢)."),
    ParamSpec::int(
        "brownout_ms",
        "Network brownout",
        "ms",
        0,
        3_000,
        1_000,
        "Default faults: from 2 s, the network's replies take 700 ms longer for this long.",
    ),
    ParamSpec::int(
        "ledger_pause_ms",
        "Ledger pause",
        "ms",
        0,
        3_000,
        800,
        "Default faults: the ledger database stalls this long at 4.5 s.",
    ),
    ParamSpec::int(
        "gateway_down_ms",
        "Gateway crash",
        "ms",
        0,
        3_000,
        300,
        "Default faults: the gateway crashes at 6 s and is down this long.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "charged-once",
        kind: CheckKind::Safety,
        description: "No card is charged twice for one order, judged from the card network's own record of captures and refunds per (card, merchant order).",
    },
    CheckDef {
        name: "ledger-balanced",
        kind: CheckKind::Safety,
        description: "At the end of a quiet run the ledger's accounts sum to zero, the clearing account equals the money the card network moved, and each merchant's payable and the fee account match the network's captures at the published price.",
    },
    CheckDef {
        name: "terminal-state",
        kind: CheckKind::Liveness,
        description: "Every payment is captured, failed or refunded by its deadline (8 s + 4 network timeouts after its creation or the last fault), and its state agrees with the network: no money on a failed payment, the amount on a captured one.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

/// How long the network must have moved no money (and the faults be over) before the
/// end-of-run judgements count: in-flight work gets this long to land.
pub const SETTLE_MS: u64 = 2_500;
/// A merchant backend's payment rate is capped here (the heaviest workload a link may ask
/// for would otherwise grow every table without bound).
pub const MAX_PAYMENTS_PER_S: f64 = 200.0;

pub const DEF: SystemDef = SystemDef {
    id: "payment-gateway",
    number: 8,
    title: "Payment gateway",
    theme: "Transactions",
    question: "How do you build a payment API that never charges a card twice, never loses track of money, and ends every payment in a definite state, when the card network times out and retries are everywhere?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 8_000,
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
        rate_per_s: p.int("payments_per_s") as f64,
        think_ms: 0,
        duration_ms: 8_000,
        keys: p.int("cards") as u64,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// A brownout of the card network (its replies late by 700 ms, past the gateway's
/// timeout), a stall of the ledger database, and a gateway crash: the three moments the
/// designs differ. A zero length leaves a fault out.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let mut out = Vec::new();
    let brownout = p.int("brownout_ms") as u64;
    if brownout > 0 {
        let (from, to) = ("network".to_string(), "gateway".to_string());
        out.push(TimedFault { at_ms: 2_000, fault: Fault::Clog { from: from.clone(), to: to.clone(), extra_ms: 700 } });
        out.push(TimedFault { at_ms: 2_000 + brownout, fault: Fault::Unclog { from, to } });
    }
    let pause = p.int("ledger_pause_ms") as u64;
    if pause > 0 {
        out.push(TimedFault { at_ms: 4_500, fault: Fault::Pause { node: "ledger".into(), for_ms: pause } });
    }
    let down = p.int("gateway_down_ms") as u64;
    if down > 0 {
        out.push(TimedFault { at_ms: 6_000, fault: Fault::Crash { node: "gateway".into() } });
        out.push(TimedFault { at_ms: 6_000 + down, fault: Fault::Restart { node: "gateway".into() } });
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(_p: &Params) -> Vec<String> {
    ["merchant-0", "gateway", "network", "ledger"].map(String::from).to_vec()
}

/// When the last fault of a plan is over (`SimTime::MAX` if one never ends); a clock skew
/// lasts until it is set back, since payment deadlines run on local clocks.
pub fn quiet_from(faults: &[TimedFault]) -> SimTime {
    crate::sim::fault::quiet_from(faults, true).unwrap_or(SimTime::MAX)
}

/// A payment's deadline after its creation (or after the last fault).
pub fn deadline_ms(net_timeout_ms: u64) -> u64 {
    8_000 + 4 * net_timeout_ms
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

/// Node ids: merchants `0..m` (a merchant's index is its node id), then the gateway, the
/// card network and the ledger.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("payment-gateway has no strategy {:?}", scenario.strategy.id)))?;
    let merchants = p.int("merchants") as u32;
    let (gateway, network, ledger): (NodeId, NodeId, NodeId) = (merchants, merchants + 1, merchants + 2);
    // The cards are issued once per seed, from the scenario's own stream.
    let vault =
        vault::Vault::issue(p.int("cards") as u32, &mut crate::sim::rng::Prng::new(scenario.seed).fork("vault"));
    let workload = scenario.workload.capped(MAX_PAYMENTS_PER_S, scenario.workload.duration_ms);
    let mut specs = Vec::new();
    for m in 0..merchants {
        let cfg = merchant::MerchantCfg {
            index: m,
            merchants,
            gateway,
            use_keys: strategy.keys(),
            timeout_ms: p.int("merchant_timeout_ms") as u64,
            tokens: vault.tokens.clone(),
            countries: vault.cards.iter().map(|c| c.country).collect(),
            foreign_pct: p.int("foreign_pct") as u64,
            refund_pct: p.int("refund_pct") as u64,
            workload: workload.clone(),
        };
        specs.push(NodeSpec::new(
            format!("merchant-{m}"),
            "merchant",
            Node::Merchant(Box::new(merchant::Merchant::new(cfg))),
        ));
    }
    let net_timeout_ms = p.int("net_timeout_ms") as u64;
    let fee_bps = p.int("fee_bps") as u64;
    let gcfg = gateway::GatewayCfg {
        strategy,
        network,
        ledger,
        net_timeout_ms,
        key_ttl_ms: p.int("key_ttl_ms") as u64,
        fee_bps,
        amount_limit: p.int("amount_limit") as u64,
        velocity_max: p.int("velocity_max") as u64,
    };
    let pans: Vec<u64> = vault.cards.iter().map(|c| c.pan).collect();
    specs.push(NodeSpec::new("gateway", "gateway", Node::Gateway(Box::new(gateway::Gateway::new(gcfg, vault)))));
    let ncfg = network::NetworkCfg {
        lost_pct: p.int("lost_reply_pct") as u64,
        slow_pct: p.int("slow_pct") as u64,
        decline_pct: p.int("decline_pct") as u64,
    };
    specs.push(NodeSpec::new("network", "network", Node::Network(network::Network::new(ncfg, &pans))));
    specs.push(NodeSpec::new("ledger", "ledger", Node::Ledger(ledger::Ledger::new(strategy.double_entry()))));
    let quiet = quiet_from(&scenario.faults);
    let settle = SimDuration::from_ms(SETTLE_MS);
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::ChargedOnce::default()),
        Box::new(checks::LedgerBalanced::new(fee_bps, quiet, settle)),
        Box::new(checks::TerminalState::new(SimDuration::from_ms(deadline_ms(net_timeout_ms)), quiet, settle)),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let rate = (p.int("payments_per_s") as f64).min(MAX_PAYMENTS_PER_S);
    let lost = p.int("lost_reply_pct") as f64 / 100.0;
    let slow = p.int("slow_pct") as f64 / 100.0;
    let net_timeout = p.int("net_timeout_ms") as f64;
    // Two network calls per payment (authorize, capture); a call is retried when its reply
    // is lost, or slower (0.5–2 s, uniform) than the timeout.
    let slow_past_timeout = slow * ((2_000.0 - net_timeout.max(500.0)) / 1_500.0).clamp(0.0, 1.0);
    let p_retry = lost + slow_past_timeout;
    let calls = 2.0 + 2.0 * p_retry / (1.0 - p_retry).max(0.01);
    let refund = p.int("refund_pct") as f64 / 100.0;
    let ttl_s = p.int("key_ttl_ms") as f64 / 1_000.0;
    let fee_bps = p.int("fee_bps") as f64;
    let mean_amount = 100.0 + 6_000.0;
    vec![
        Estimate::new("Payments", format!("{} /s", estimate::si(rate)), "the merchants' combined rate (≤ 200 /s)"),
        Estimate::new(
            "Network calls per payment",
            format!("≈ {}", estimate::si(calls)),
            "authorize + capture, each retried while replies are lost or slower than the timeout",
        ),
        Estimate::new(
            "Calls whose outcome a timeout hides",
            format!("≈ {} /s", estimate::si(rate * 2.0 * p_retry)),
            "network calls/s × P(reply lost or late): each one may have moved money",
        ),
        Estimate::new(
            "Idempotency keys held",
            format!("≈ {}", estimate::si(rate * ttl_s)),
            "payments/s × key retention",
        ),
        Estimate::new(
            "Journal entries",
            format!("≈ {} /s", estimate::si(rate * (1.0 - 0.1) * (1.0 + refund))),
            "captures (~90 % of payments) plus refunds, 3 postings each",
        ),
        Estimate::new(
            "Fee revenue",
            format!(
                "≈ ${} /day",
                estimate::si(rate * 0.9 * (mean_amount * fee_bps / 10_000.0 + 30.0) / 100.0 * 86_400.0)
            ),
            "captures/day × (mean $61 × fee + 30¢)",
        ),
    ]
}
