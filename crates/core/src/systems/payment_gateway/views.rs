//! The views: the payments table (each recent payment's state, the step in flight, and the
//! card network's own verdict on it side by side, so a double charge or a "failed but
//! charged" payment is one glance), the ledger (balances per account, the trial balance,
//! the clearing account against the money the network moved, and the latest writes), and
//! the gateway's append-only audit log.

use super::gateway::Gateway;
use super::ledger::Ledger;
use super::network::Network;
use super::node::Node;
use crate::sim::world::World;
use crate::view::{Log, LogLane, Table, View};

/// Payments shown (the latest).
const ROWS: usize = 16;

pub fn views(world: &World<Node>) -> Vec<View> {
    let (mut gateway, mut network, mut ledger) = (None, None, None);
    for n in world.nodes() {
        match n {
            Node::Gateway(g) => gateway = Some(&**g),
            Node::Network(x) => network = Some(x),
            Node::Ledger(l) => ledger = Some(l),
            Node::Merchant(_) => {}
        }
    }
    let mut out = Vec::new();
    if let (Some(g), Some(net)) = (gateway, network) {
        out.push(View::Table(payments(g, net)));
    }
    if let (Some(l), Some(net)) = (ledger, network) {
        out.push(View::Table(balances(l, net)));
        out.push(View::Log(journal(l)));
    }
    if let Some(g) = gateway {
        out.push(View::Log(audit(g)));
    }
    out
}

fn payments(g: &Gateway, net: &Network) -> Table {
    let rows = g
        .payments
        .values()
        .rev()
        .take(ROWS)
        .map(|p| {
            let at_network = match net.records.get(&p.id) {
                None => "—".to_string(),
                Some(r) if r.refunded => "refunded".into(),
                Some(r) if r.captured => format!("captured {}¢", r.amount),
                Some(r) if r.approved => "authorized".into(),
                Some(_) => "declined".into(),
            };
            let charged_failed = p.state.name() == "failed" && net.net(p.id) > 0;
            vec![
                format!("p{}", p.id),
                p.order.to_string(),
                p.key.map_or("—".into(), |k| format!("{:04x}", k & 0xffff)),
                format!("{}¢", p.amount),
                match p.reason {
                    Some(r) => format!("{} ({})", p.state.name(), r.name()),
                    None => p.state.name().to_string(),
                },
                p.pending.map_or("—".into(), |op| format!("{op:?}…")),
                if charged_failed { format!("{at_network} ⚠") } else { at_network },
            ]
        })
        .collect();
    let columns = ["payment", "order", "idem. key", "amount", "state", "in flight", "card network says"]
        .map(String::from)
        .to_vec();
    Table { title: format!("Payments (latest {ROWS} of {})", g.payments.len()), columns, rows }
}

fn balances(l: &Ledger, net: &Network) -> Table {
    let moved: i64 = net.records.keys().map(|&r| net.net(r)).sum();
    let mut rows: Vec<Vec<String>> = l.balances().iter().map(|(a, b)| vec![a.to_string(), format!("{b:+}¢")]).collect();
    rows.push(vec!["trial balance (Σ all accounts)".into(), format!("{:+}¢", l.trial_balance())]);
    rows.push(vec!["money the card network moved".into(), format!("{moved:+}¢")]);
    let book = if l.double_entry { "double entry" } else { "single entry" };
    Table {
        title: format!("Ledger balances ({book}; {} writes, {} duplicates ignored)", l.applied(), l.duplicates()),
        columns: vec!["account".into(), "balance".into()],
        rows,
    }
}

fn journal(l: &Ledger) -> Log {
    let entries: Vec<String> = l.recent.iter().map(|(at, t)| format!("{at:.0} ms {t}")).collect();
    let committed = entries.len();
    Log { title: "Ledger writes (latest)".into(), lanes: vec![LogLane { name: "ledger".into(), entries, committed }] }
}

fn audit(g: &Gateway) -> Log {
    let entries: Vec<String> = g.audit.iter().map(|(at, t)| format!("{at:.0} ms {t}")).collect();
    let committed = entries.len();
    Log {
        title: format!("Audit log (append-only; latest {} of {})", entries.len(), g.audit_total),
        lanes: vec![LogLane { name: "gateway".into(), entries, committed }],
    }
}
