//! The views: every partition replica's log tail (offset:key, the part below the high
//! watermark marked committed), the consumer group (who owns each partition, where the
//! group has committed, how far behind it is), and the producers and sink.

use super::controller::member_name;
use super::node::Node;
use crate::sim::world::World;
use crate::view::{Log, LogLane, Table, View};

/// Entries shown per replica log: enough to follow messages one by one.
const TAIL: u64 = 10;

pub fn views(world: &World<Node>) -> Vec<View> {
    let nodes = world.nodes();
    let controller = nodes.iter().find_map(|n| match n {
        Node::Controller(c) => Some(c),
        _ => None,
    });
    let sink = nodes.iter().find_map(|n| match n {
        Node::Sink(s) => Some(s),
        _ => None,
    });
    let brokers: Vec<&super::broker::Broker> = nodes
        .iter()
        .filter_map(|n| match n {
            Node::Broker(b) => Some(&**b),
            _ => None,
        })
        .collect();
    let consumers: Vec<&super::consumer::Consumer> = nodes
        .iter()
        .filter_map(|n| match n {
            Node::Consumer(c) => Some(c),
            _ => None,
        })
        .collect();
    let partitions = controller.map_or(0, |c| c.parts.len() as u32);
    let mut lanes = Vec::new();
    for p in 0..partitions {
        for b in &brokers {
            let Some(log) = b.logs.get(&p) else { continue };
            let hw = b.hw.get(&p).copied().unwrap_or(0);
            let from = log.log_end().saturating_sub(TAIL).max(log.log_start());
            let records = log.read(from, log.log_end(), TAIL as usize).unwrap_or_default();
            let committed = records.iter().filter(|r| r.offset < hw).count();
            let entries = records.iter().map(|r| format!("{}:k{}", r.offset, r.value.key)).collect();
            let role = if b.is_leader(p) { " ★ leader" } else { "" };
            lanes.push(LogLane {
                name: format!("p{p} · broker-{}{role} (start {}, hw {hw})", b.cfg.index, log.log_start()),
                entries,
                committed,
            });
        }
    }
    let mut out = vec![View::Log(Log {
        title: "Partition replicas (offset:key; committed below the high watermark)".into(),
        lanes,
    })];
    if let Some(c) = controller {
        let leader_end = |p: u32| {
            brokers.iter().find(|b| b.is_leader(p)).map(|b| (b.logs[&p].log_end(), b.hw.get(&p).copied().unwrap_or(0)))
        };
        let rows = (0..partitions)
            .map(|p| {
                let m = &c.parts[p as usize];
                let owner = c.assignment.iter().find(|(_, ps)| ps.contains(&p)).map(|(&m, _)| member_name(m));
                let committed = match sink.and_then(|s| s.stored.get(&p)) {
                    Some(&o) => o,
                    None => c.committed.get(&p).copied().unwrap_or(0),
                };
                let position = consumers.iter().find_map(|k| k.position(p).filter(|_| k.owned.contains(&p)));
                let (end, hw) = leader_end(p).unwrap_or((0, 0));
                vec![
                    format!("p{p}"),
                    m.leader.map_or("offline".into(), |l| format!("broker-{l}")),
                    m.epoch.to_string(),
                    m.isr.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(","),
                    format!("{hw} / {end}"),
                    owner.unwrap_or_else(|| "—".into()),
                    position.map_or("—".into(), |o| o.to_string()),
                    committed.to_string(),
                    hw.saturating_sub(committed).to_string(),
                ]
            })
            .collect();
        out.push(View::Table(Table {
            title: format!("Consumer group (generation {}, {} rebalances)", c.generation, c.rebalances),
            columns: ["partition", "leader", "epoch", "ISR", "hw / end", "owner", "position", "committed", "lag"]
                .map(String::from)
                .to_vec(),
            rows,
        }));
    }
    let mut rows = Vec::new();
    for (name, n) in world.node_names().iter().zip(nodes) {
        if let Node::Producer(pr) = n {
            rows.push(vec![
                name.clone(),
                pr.made.to_string(),
                pr.acked.to_string(),
                pr.in_flight().to_string(),
                pr.retries.to_string(),
            ]);
        }
    }
    out.push(View::Table(Table {
        title: "Producers".into(),
        columns: ["producer", "made", "acked", "waiting", "retries"].map(String::from).to_vec(),
        rows,
    }));
    if let Some(s) = sink {
        let rows = s
            .recent
            .iter()
            .rev()
            .map(|&(p, o, id)| {
                vec![format!("p{p}@{o}"), format!("m{}.{}", (id >> 32).saturating_sub(1), id & 0xffff_ffff)]
            })
            .collect();
        out.push(View::Table(Table {
            title: format!(
                "Sink: last effects ({} applied, {} batches refused)",
                s.applied.values().sum::<u64>(),
                s.refused
            ),
            columns: ["from", "message"].map(String::from).to_vec(),
            rows,
        }));
    }
    out
}
