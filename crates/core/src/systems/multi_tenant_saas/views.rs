//! The views: tenants on shards (placement, with the move in progress), and usage bars per
//! tenant (what it sent, what shards served, what the meter invoiced, what was throttled).

use super::store::ROWS_PER_KEY;
use super::{Node, BIG};
use crate::sim::world::World;
use crate::view::{Table, View};

pub fn views(world: &World<Node>) -> Vec<View> {
    vec![placement(world), usage(world)]
}

fn placement(world: &World<Node>) -> View {
    let mv = world.nodes().iter().find_map(|n| match n {
        Node::Router(r) => Some(r.mv),
        _ => None,
    });
    let mut rows = Vec::new();
    for (n, m) in world.nodes().iter().zip(world.meta()) {
        let Node::Shard(s) = n else { continue };
        let tenants: Vec<String> = s
            .owned
            .iter()
            .map(|&t| {
                let mark = if t == BIG { "★" } else { "" };
                let frozen = if s.frozen.contains(&t) { " (frozen)" } else { "" };
                format!("t{t}{mark}{frozen}")
            })
            .collect();
        let moving = match mv.flatten() {
            Some(mv) if mv.src == s.cfg.index => format!("t{} → shard-{} ({:?})", mv.tenant, mv.dst, mv.step),
            Some(mv) if mv.dst == s.cfg.index => format!("t{} ← shard-{} ({:?})", mv.tenant, mv.src, mv.step),
            _ => String::new(),
        };
        let served: u64 = s.served.values().sum();
        rows.push(vec![
            m.name.clone(),
            m.status.as_str().to_string(),
            tenants.join(" "),
            moving,
            format!("{} (≤ {ROWS_PER_KEY}/key)", s.store.row_count()),
            s.queue_len().to_string(),
            served.to_string(),
            s.unacked_usage().to_string(),
        ]);
    }
    let columns = ["shard", "status", "tenants", "move", "rows", "queue", "served", "usage unacked"];
    View::Table(Table { title: "Tenants on shards".into(), columns: columns.map(String::from).to_vec(), rows })
}

fn usage(world: &World<Node>) -> View {
    let nodes = world.nodes();
    let invoiced: Vec<u64> = nodes
        .iter()
        .find_map(|n| match n {
            Node::Meter(m) => Some(m.units.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let placement: Vec<u32> = nodes
        .iter()
        .find_map(|n| match n {
            Node::Router(r) => Some(r.placement.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let served_of = |t: u32| -> u64 {
        nodes.iter().map(|n| if let Node::Shard(s) = n { s.served.get(&t).copied().unwrap_or(0) } else { 0 }).sum()
    };
    let clients: Vec<&super::client::Client> =
        nodes.iter().filter_map(|n| if let Node::Client(c) = n { Some(c) } else { None }).collect();
    let most = clients.iter().map(|c| served_of(c.cfg.tenant)).max().unwrap_or(0).max(1);
    let rows = clients
        .iter()
        .map(|c| {
            let t = c.cfg.tenant;
            let served = served_of(t);
            let bar = "█".repeat(((served * 24).div_ceil(most)) as usize);
            vec![
                format!("t{t}{}", if t == BIG { "★" } else { "" }),
                placement.get(t as usize).map(|s| format!("shard-{s}")).unwrap_or_default(),
                c.tally.sent.to_string(),
                served.to_string(),
                invoiced.get(t as usize).copied().unwrap_or(0).to_string(),
                c.tally.throttled.to_string(),
                c.tally.failed.to_string(),
                bar,
            ]
        })
        .collect();
    let columns = ["tenant", "shard", "sent", "served", "invoiced", "throttled", "failed", "usage"];
    View::Table(Table { title: "Usage per tenant".into(), columns: columns.map(String::from).to_vec(), rows })
}
