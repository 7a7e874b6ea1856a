//! The views: where each object's replicas or shards live (storage node × key, from the
//! front end's placement and each disk's contents), the redundancy and overhead the disks
//! actually hold, the first shard the repair rebuilt shown byte by byte (the bytes the
//! dead disk held, the erasure, the bytes decoded from k others), and the failure
//! detector's and repair's log.

use super::frontend::Frontend;
use super::node::Node;
use super::storage::Storage;
use crate::sim::world::{Status, World};
use crate::sim::NodeId;
use crate::view::{Log, LogLane, Table, View};

/// Keys shown in the placement grid.
const KEYS: usize = 10;
/// Bytes shown per shard.
const BYTES: usize = 16;

pub fn views(world: &World<Node>) -> Vec<View> {
    let mut frontend = None;
    let mut disks: Vec<(NodeId, String, bool, &Storage)> = Vec::new();
    for (i, (n, meta)) in world.nodes().iter().zip(world.meta()).enumerate() {
        match n {
            Node::Frontend(f) => frontend = Some(&**f),
            Node::Storage(s) => disks.push((i as NodeId, meta.name.clone(), meta.status == Status::Up, &**s)),
            Node::Client(_) => {}
        }
    }
    let Some(f) = frontend else { return Vec::new() };
    let mut out = vec![View::Table(placement(f, &disks)), View::Table(redundancy(f, &disks))];
    if let Some(t) = rebuild(f, &disks) {
        out.push(View::Table(t));
    }
    out.push(View::Log(log(f)));
    out
}

fn hex(b: &[u8]) -> String {
    let mut s: String = b.iter().take(BYTES).map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ");
    if b.len() > BYTES {
        s.push_str(" …");
    }
    s
}

fn slot_name(f: &Frontend, slot: usize) -> String {
    match &f.rs {
        Some(rs) if slot < rs.k => format!("d{slot}"),
        Some(rs) => format!("p{}", slot - rs.k),
        None => format!("r{slot}"),
    }
}

fn placement(f: &Frontend, disks: &[(NodeId, String, bool, &Storage)]) -> Table {
    let keys: Vec<u64> = f.meta.keys().copied().take(KEYS).collect();
    let mut columns = vec!["node".to_string()];
    columns.extend(keys.iter().map(|k| format!("k{k}")));
    let rows = disks
        .iter()
        .map(|(id, name, up, s)| {
            let state = if f.dead.contains(id) {
                "declared dead"
            } else if *up {
                "up"
            } else {
                "down"
            };
            let mut row = vec![format!("{name} ({state})")];
            for k in &keys {
                let km = &f.meta[k];
                let newest = km.versions.iter().rev().find(|(_, v)| v.acked).map(|(&v, _)| v);
                let cell = match km.placement.iter().position(|p| p == id) {
                    Some(slot) => {
                        let has = newest.is_none_or(|v| s.disk.contains_key(&(*k, v)));
                        format!("{}{}", slot_name(f, slot), if has { "" } else { " (behind)" })
                    }
                    None if s.newest(*k).is_some() => "old copy".into(),
                    None => String::new(),
                };
                row.push(cell);
            }
            row
        })
        .collect();
    Table { title: format!("Placement: node × key (first {} of {} keys)", keys.len(), f.meta.len()), columns, rows }
}

fn redundancy(f: &Frontend, disks: &[(NodeId, String, bool, &Storage)]) -> Table {
    let logical: u64 =
        f.meta.values().flat_map(|k| k.versions.values()).filter(|v| v.acked).map(|v| v.len as u64).sum();
    let stored: u64 = disks.iter().filter(|d| d.2).map(|d| d.3.bytes).sum();
    let acked = f.meta.values().flat_map(|k| k.versions.values()).filter(|v| v.acked).count();
    let full = f
        .meta
        .iter()
        .flat_map(|(&key, km)| km.versions.iter().filter(|(_, v)| v.acked).map(move |(&v, _)| (key, v)))
        .filter(|&(key, v)| f.held(key, v) >= f.cfg.n)
        .count();
    let design = match &f.rs {
        Some(rs) => format!("RS({}, {}): {:.2}× planned", rs.k, rs.m, (rs.k + rs.m) as f64 / rs.k as f64),
        None => format!("{} replica(s): {}× planned", f.cfg.n, f.cfg.n),
    };
    let rows = vec![
        vec!["design".into(), design],
        vec!["acknowledged versions".into(), acked.to_string()],
        vec!["… at full redundancy (metadata)".into(), full.to_string()],
        vec!["logical bytes acknowledged".into(), logical.to_string()],
        vec!["bytes on live disks".into(), stored.to_string()],
        vec![
            "measured overhead".into(),
            if logical > 0 { format!("{:.2}×", stored as f64 / logical as f64) } else { "—".into() },
        ],
        vec!["slots waiting for repair".into(), f.jobs.len().to_string()],
        vec!["slots repaired".into(), f.repaired.to_string()],
    ];
    Table { title: "Redundancy and storage overhead".into(), columns: vec!["".into(), "value".into()], rows }
}

fn rebuild(f: &Frontend, disks: &[(NodeId, String, bool, &Storage)]) -> Option<Table> {
    let d = f.demo.as_ref()?;
    let name = |id: NodeId| disks.iter().find(|x| x.0 == id).map_or(format!("n{id}"), |x| x.1.clone());
    let before = disks.iter().find(|x| x.0 == d.lost).and_then(|x| x.3.disk.get(&(d.key, d.version))).map(|(_, b)| b);
    let mut rows: Vec<Vec<String>> = d
        .fetched
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let bytes = match s {
                Some(b) => hex(b),
                None if i == d.slot as usize => "— erased —".into(),
                None => "(not needed)".into(),
            };
            vec![slot_name(f, i), bytes]
        })
        .collect();
    rows.push(vec![
        format!("{} on {} before loss", slot_name(f, d.slot as usize), name(d.lost)),
        before.map_or("?".into(), |b| hex(b)),
    ]);
    rows.push(vec![format!("{} rebuilt → {}", slot_name(f, d.slot as usize), name(d.target)), hex(&d.rebuilt)]);
    let same = before.is_some_and(|b| *b == d.rebuilt);
    Some(Table {
        title: format!(
            "Shard rebuilt byte by byte: k{} v{} slot {} ({})",
            d.key,
            d.version,
            d.slot,
            if same { "identical to the lost bytes" } else { "differs!" }
        ),
        columns: vec!["shard".into(), "bytes".into()],
        rows,
    })
}

fn log(f: &Frontend) -> Log {
    let entries: Vec<String> = f.events.iter().map(|(at, t)| format!("{at:.0} ms {t}")).collect();
    let committed = entries.len();
    Log {
        title: "Failure detector and repair".into(),
        lanes: vec![LogLane { name: "frontend".into(), entries, committed }],
    }
}
