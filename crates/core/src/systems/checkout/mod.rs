//! Checkout (catalog entry 28): a flash sale across regions. Buyers check out with an
//! Idempotency-Key; their region's order service screens the order (fraud rules), then
//! runs a saga over its warehouse (stock per SKU, reservations with a time to live), a
//! card network that times out, and a double-entry ledger shared in shape with the
//! payment gateway (`blocks::ledger`, `blocks::idempotency`).
//!
//! Three designs: decrement-on-payment (no reservation: a read before paying, an
//! unconditional decrement after — racing buyers oversell the last units),
//! no-compensation (a failed order stops where it stands, keeping its hold and any money
//! charged), and the saga (reserve → pay → confirm, each failure compensated: refund,
//! release). The checks judge against the warehouse's physical stock, the card network's
//! record of money moved and each order's full history. See `explainer.md`.

pub mod buyers;
pub mod checks;
pub mod inventory;
pub mod ledger;
pub mod msg;
pub mod network;
pub mod node;
pub mod orders;
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
use crate::system::{self, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use msg::Obs;
use node::Node;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    DecrementOnPayment,
    NoCompensation,
    Saga,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "decrement-on-payment" => Strategy::DecrementOnPayment,
            "no-compensation" => Strategy::NoCompensation,
            "saga" => Strategy::Saga,
            _ => return None,
        })
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "decrement-on-payment",
        title: "Decrement on payment (no reservation)",
        robust: false,
        summary: "The order service asks the warehouse whether the units are in stock, charges the card, and only then takes the units off the shelf, whatever the shelf says by now. In a flash sale many buyers read the last units at once, all pay, and all ship: oversold.",
    },
    StrategyDef {
        id: "no-compensation",
        title: "Reservations, no compensation",
        robust: false,
        summary: "Stock is reserved before payment, so nothing is oversold, but an order that fails after a step stops where it stands: a declined card keeps its hold until the TTL, a charge given up after timeouts stays on the card, unrecorded.",
    },
    StrategyDef {
        id: "saga",
        title: "Order saga with compensations",
        robust: true,
        summary: "Reserve (with a TTL) → pay → confirm, each step idempotent and retried; a failure runs the compensations of the steps before it, newest first: refund or void the charge, then release the hold. Every order ends confirmed or fully undone.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("regions", "Regions", "regions", 1, 4, 2, "Each with its buyers, order service and warehouse."),
    ParamSpec::int("skus", "SKUs", "SKUs", 1, 50, 4, "Products on sale (buyers favour the first, Zipf)."),
    ParamSpec::int("stock", "Stock", "units per SKU per region", 1, 5_000, 25, "Physical units on each shelf."),
    ParamSpec::int("orders_per_s", "Buyers", "checkouts/s", 1, 300, 60, "Checkouts per second, all regions, for 8 s."),
    ParamSpec::int("cards", "Cards", "cards", 1, 1_000, 200, "Buyers' cards."),
    ParamSpec::int(
        "reservation_ttl_ms",
        "Reservation TTL",
        "ms",
        200,
        60_000,
        30_000,
        "A hold not confirmed this long expires and its units go back on sale.",
    ),
    ParamSpec::int("pay_timeout_ms", "Payment timeout", "ms", 50, 2_000, 300, "Wait for a card-network reply."),
    ParamSpec::int("pay_attempts", "Payment attempts", "tries", 1, 10, 3, "Charges sent before the order gives up."),
    ParamSpec::int("lost_reply_pct", "Lost network replies", "%", 0, 30, 3, "Processed, but the reply never arrives."),
    ParamSpec::int("slow_pct", "Slow network replies", "%", 0, 30, 5, "The network answers after 0.5–2 s."),
    ParamSpec::int("decline_pct", "Issuer declines", "%", 0, 50, 5, "Charges the issuer declines."),
    ParamSpec::int(
        "amount_limit",
        "Amount limit",
        "¢",
        500,
        1_000_000,
        25_000,
        "Fraud rule: larger orders are refused.",
    ),
    ParamSpec::int(
        "velocity_max",
        "Velocity limit",
        "per card per 10 s",
        1,
        50,
        4,
        "Fraud rule: checkouts allowed per card.",
    ),
    ParamSpec::int(
        "brownout_ms",
        "Network brownout",
        "ms",
        0,
        3_000,
        1_000,
        "Default faults: from 2 s the network's replies take 1.2 s longer, past every payment timeout.",
    ),
    ParamSpec::int(
        "inventory_down_ms",
        "Warehouse crash",
        "ms",
        0,
        3_000,
        500,
        "Default faults: region 0's warehouse crashes at 4 s and is down this long.",
    ),
    ParamSpec::int(
        "partition_ms",
        "Region partition",
        "ms",
        0,
        3_000,
        800,
        "Default faults: at 5.5 s the last region's order service is cut off from the network and ledger.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "never-oversell",
        kind: CheckKind::Safety,
        description: "Per region and SKU, the units the warehouse ships never exceed the physical stock put on its shelf.",
    },
    CheckDef {
        name: "money-conserved",
        kind: CheckKind::Safety,
        description: "Every ledger entry sums to zero, and at the end of a quiet run the clearing account equals the money the card network moved.",
    },
    CheckDef {
        name: "order-settled",
        kind: CheckKind::Liveness,
        description: "Every order ends by its deadline either confirmed (its units shipped, its amount charged) or failed and fully compensated (nothing held, nothing shipped, nothing charged), judged from the warehouse's and network's own reports.",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

/// How long money and the books must have been still (and the faults over) before the
/// end-of-run money judgement counts.
pub const SETTLE_MS: u64 = 3_000;
/// The workload lasts this long.
pub const SALE_MS: u64 = 8_000;
/// Buyers arrive for at most this long, whatever the workload asks: orders, reservations
/// and the ledger grow with it, and a flash sale is short.
pub const MAX_SALE_MS: u64 = 30_000;
/// The buyers' rate is capped here (the parameter's own maximum).
pub const MAX_ORDERS_PER_S: f64 = 300.0;

pub const DEF: SystemDef = SystemDef {
    id: "checkout",
    number: 28,
    title: "Checkout",
    theme: "Transactions",
    question: "How do you build a checkout that never sells a unit it does not have, never loses track of money, and leaves no order half-done, when a flash sale, card-network timeouts and a crashing warehouse all happen at once?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 10_000,
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
        rate_per_s: p.int("orders_per_s") as f64,
        think_ms: 0,
        duration_ms: SALE_MS,
        keys: p.int("skus") as u64,
        zipf_s: 1.0,
        bursts: Vec::new(),
    }
}

/// A card-network brownout (payment timeouts), a warehouse crash, and a region cut off
/// from the network and the ledger. A zero length leaves a fault out.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let mut out = Vec::new();
    let brownout = p.int("brownout_ms") as u64;
    if brownout > 0 {
        let (from, to) = ("network".to_string(), "orders".to_string());
        out.push(TimedFault {
            at_ms: 2_000,
            fault: Fault::Clog { from: from.clone(), to: to.clone(), extra_ms: 1_200 },
        });
        out.push(TimedFault { at_ms: 2_000 + brownout, fault: Fault::Unclog { from, to } });
    }
    let down = p.int("inventory_down_ms") as u64;
    if down > 0 {
        out.push(TimedFault { at_ms: 4_000, fault: Fault::Crash { node: "inventory-0".into() } });
        out.push(TimedFault { at_ms: 4_000 + down, fault: Fault::Restart { node: "inventory-0".into() } });
    }
    let cut = p.int("partition_ms") as u64;
    if cut > 0 {
        let last = format!("orders-{}", p.int("regions") - 1);
        let b = vec!["network".to_string(), "ledger".to_string()];
        out.push(TimedFault { at_ms: 5_500, fault: Fault::Partition { a: vec![last], b, one_way: false } });
        out.push(TimedFault { at_ms: 5_500 + cut, fault: Fault::Heal });
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(_p: &Params) -> Vec<String> {
    ["orders-0", "inventory-0", "network", "ledger"].map(String::from).to_vec()
}

/// When the last fault is over (`SimTime::MAX` if one never ends).
pub fn quiet_from(faults: &[TimedFault]) -> SimTime {
    crate::sim::fault::quiet_from(faults, false).unwrap_or(SimTime::MAX)
}

/// How long after its acceptance (or the last fault) an order has to end: its charges and
/// their timeouts, the slowest reply, and the warehouse and ledger steps around them.
pub fn deadline_ms(pay_timeout_ms: u64, pay_attempts: u64) -> u64 {
    4_000 + 2 * pay_attempts * (pay_timeout_ms + orders::TICK_MS) + 4_000
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

/// Node ids: buyers `0..r`, order services `r..2r`, warehouses `2r..3r`, then the card
/// network and the ledger.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("checkout has no strategy {:?}", scenario.strategy.id)))?;
    let regions = p.int("regions") as u32;
    let (skus, stock) = (p.int("skus") as u32, p.int("stock") as u32);
    let (network, ledger) = (3 * regions, 3 * regions + 1);
    let (pay_timeout_ms, pay_attempts) = (p.int("pay_timeout_ms") as u64, p.int("pay_attempts") as u64);
    let workload = scenario.workload.capped(MAX_ORDERS_PER_S, MAX_SALE_MS);
    let mut specs = Vec::new();
    for r in 0..regions {
        let cfg = buyers::BuyersCfg {
            orders: regions + r,
            regions,
            cards: p.int("cards") as u32,
            workload: workload.clone(),
        };
        specs.push(NodeSpec::new(format!("buyers-{r}"), "buyers", Node::Buyers(Box::new(buyers::Buyers::new(cfg)))));
    }
    for r in 0..regions {
        let cfg = orders::OrdersCfg {
            strategy,
            region: r,
            warehouse: 2 * regions + r,
            network,
            ledger,
            pay_timeout_ms,
            pay_attempts: pay_attempts as u32,
            amount_limit: p.int("amount_limit") as u64,
            velocity_max: p.int("velocity_max") as u64,
        };
        specs.push(NodeSpec::new(format!("orders-{r}"), "orders", Node::Orders(Box::new(orders::Orders::new(cfg)))));
    }
    let ttl = p.int("reservation_ttl_ms") as u64;
    for r in 0..regions {
        let w = inventory::Warehouse::new(r, skus, stock, ttl);
        specs.push(NodeSpec::new(format!("inventory-{r}"), "inventory", Node::Warehouse(Box::new(w))));
    }
    let ncfg = network::NetworkCfg {
        lost_pct: p.int("lost_reply_pct") as u64,
        slow_pct: p.int("slow_pct") as u64,
        decline_pct: p.int("decline_pct") as u64,
    };
    specs.push(NodeSpec::new("network", "network", Node::Network(network::Network::new(ncfg))));
    specs.push(NodeSpec::new("ledger", "ledger", Node::Ledger(ledger::Ledger::default())));
    let quiet = quiet_from(&scenario.faults);
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::NeverOversell::new(regions, skus, stock)),
        Box::new(checks::MoneyConserved::new(quiet, SimDuration::from_ms(SETTLE_MS))),
        Box::new(checks::OrderSettled::new(quiet, SimDuration::from_ms(deadline_ms(pay_timeout_ms, pay_attempts)))),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let rate = p.int("orders_per_s") as f64;
    let units = (p.int("regions") * p.int("skus") * p.int("stock")) as f64;
    let demand = rate * SALE_MS as f64 / 1_000.0 * 2.0;
    let lost = p.int("lost_reply_pct") as f64 / 100.0;
    let slow = p.int("slow_pct") as f64 / 100.0;
    let timeout = p.int("pay_timeout_ms") as f64;
    let p_late = lost + slow * ((2_000.0 - timeout.max(500.0)) / 1_500.0).clamp(0.0, 1.0);
    let attempts = p.int("pay_attempts") as i32;
    let give_up = libm::pow(p_late, f64::from(attempts));
    let ttl_s = p.int("reservation_ttl_ms") as f64 / 1_000.0;
    vec![
        Estimate::new("Checkouts", format!("{} /s", estimate::si(rate)), "all regions, for the 8 s of the sale"),
        Estimate::new(
            "Units asked for vs on the shelves",
            format!("≈ {} vs {}", estimate::si(demand), estimate::si(units)),
            "checkouts × 2 units on average; regions × SKUs × stock",
        ),
        Estimate::new(
            "Sold out after",
            if demand > units { format!("≈ {} s", estimate::si(units / (rate * 2.0))) } else { "never".into() },
            "units ÷ (checkouts/s × 2), ignoring failed orders",
        ),
        Estimate::new(
            "Charges given up",
            format!("≈ {} /s", estimate::si(rate * give_up)),
            "P(reply lost or later than the timeout) ^ attempts: each one a void the saga must send",
        ),
        Estimate::new(
            "Holds outstanding at most",
            format!("≈ {}", estimate::si(units.min(rate * 2.0 * ttl_s))),
            "units held for orders that never confirm stay off sale up to the TTL",
        ),
    ]
}
