//! What the system page draws: each gateway's queue against its memory budget, readings
//! admitted, shed, stored and dropped as duplicates or forgeries per interval, the
//! devices furthest behind (per-device lag: readings made but not yet in the store), the
//! gateways' counters, and the tail of each broker partition.

use super::node::Node;
use crate::sim::world::World;
use crate::view::{Log, LogLane, SeriesLine, SeriesView, Table, View};

/// Rows in the per-device lag table.
const LAG_ROWS: usize = 12;
/// Records shown per partition.
const TAIL: u64 = 8;
pub const RATE_SERIES: [&str; 5] = ["admitted", "shed", "stored", "duplicates dropped", "forged rejected"];

pub fn views(world: &World<Node>) -> Vec<View> {
    let series = &world.metrics.series;
    let nodes = world.nodes();
    let gateways: Vec<&super::gateway::Gateway> = nodes
        .iter()
        .filter_map(|n| match n {
            Node::Gateway(g) => Some(&**g),
            _ => None,
        })
        .collect();
    let writer = nodes.iter().find_map(|n| match n {
        Node::Writer(w) => Some(&**w),
        _ => None,
    });
    let broker = nodes.iter().find_map(|n| match n {
        Node::Broker(b) => Some(&**b),
        _ => None,
    });
    let mut out = Vec::new();

    let mut lines: Vec<SeriesLine> = gateways
        .iter()
        .map(|g| {
            let name = format!("queue KB gateway-{}", g.cfg.index);
            SeriesLine {
                name,
                values: series
                    .get(&format!("queue KB gateway-{}", g.cfg.index))
                    .map(<[f64]>::to_vec)
                    .unwrap_or_default(),
            }
        })
        .collect();
    let len = lines.iter().map(|l| l.values.len()).max().unwrap_or(0);
    if let Some(budget) = gateways.first().and_then(|g| g.cfg.budget_bytes) {
        lines.push(SeriesLine { name: "budget KB".into(), values: vec![budget as f64 / 1_024.0; len] });
    }
    out.push(View::Series(SeriesView {
        title: "Gateway queues: deepest per interval (KB) against the memory budget".into(),
        unit: "KB".into(),
        interval_ms: series.interval_ms,
        lines,
    }));
    out.push(View::Series(SeriesView {
        title: "Readings per interval: admitted, shed, stored, duplicates and forgeries dropped".into(),
        unit: "readings / interval".into(),
        interval_ms: series.interval_ms,
        lines: RATE_SERIES
            .iter()
            .map(|n| SeriesLine { name: n.to_string(), values: series.get(n).map(<[f64]>::to_vec).unwrap_or_default() })
            .collect(),
    }));

    // Per-device lag: made − (newest stored + 1), the readings a dashboard is behind by.
    let mut lag: Vec<(u32, u32, u32, u32, u32, String)> = Vec::new();
    for n in nodes {
        let Node::Fleet(f) = n else { continue };
        for (i, d) in f.devices.iter().enumerate() {
            if d.next == 0 {
                continue;
            }
            let device = f.cfg.first + i as u32;
            let stored = writer.map(|w| w.store.get(device)).unwrap_or_default();
            let behind = d.next.saturating_sub(stored.top);
            if behind == 0 && d.pending == 0 {
                continue;
            }
            lag.push((behind, d.waiting_count(), device, d.next, stored.rows, format!("fleet-{}", f.cfg.index)));
        }
    }
    lag.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let rows = lag
        .iter()
        .take(LAG_ROWS)
        .map(|(behind, waiting, device, made, rows, fleet)| {
            vec![
                format!("d{device}"),
                fleet.clone(),
                made.to_string(),
                waiting.to_string(),
                rows.to_string(),
                behind.to_string(),
            ]
        })
        .collect();
    out.push(View::Table(Table {
        title: format!("Devices furthest behind ({} devices not fully stored)", lag.len()),
        columns: ["device", "fleet", "made", "in buffer", "rows stored", "lag (readings)"].map(String::from).to_vec(),
        rows,
    }));

    let rows = gateways
        .iter()
        .map(|g| {
            vec![
                format!("gateway-{}", g.cfg.index),
                format!("{:.1}", g.queued_bytes() as f64 / 1_024.0),
                g.cfg.budget_bytes.map_or("∞".into(), |b| format!("{}", b / 1_024)),
                format!("{:.1}", g.peak_bytes as f64 / 1_024.0),
                g.admitted.to_string(),
                g.shed.to_string(),
                g.forged_rejected.to_string(),
                g.acked.to_string(),
                g.oom_kills.to_string(),
            ]
        })
        .collect();
    out.push(View::Table(Table {
        title: "Gateways".into(),
        columns: [
            "gateway",
            "queue KB",
            "budget KB",
            "peak KB",
            "admitted",
            "shed",
            "forged rejected",
            "acked",
            "OOM kills",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }));

    if let Some(b) = broker {
        let lanes = b
            .logs
            .iter()
            .enumerate()
            .map(|(p, log)| {
                let from = log.log_end().saturating_sub(TAIL).max(log.log_start());
                let records = log.read(from, log.log_end(), TAIL as usize).unwrap_or_default();
                let written = writer.and_then(|w| w.next.get(p).copied()).unwrap_or(0);
                let committed = records.iter().filter(|r| r.offset < written).count();
                LogLane {
                    name: format!("p{p} (start {}, end {}, writer at {written})", log.log_start(), log.log_end()),
                    entries: records
                        .iter()
                        .map(|r| format!("{}:d{}#{}", r.offset, r.value.device, r.value.seq))
                        .collect(),
                    committed,
                }
            })
            .collect();
        out.push(View::Log(Log {
            title: "Broker partitions (offset:device#seq; written by the writer below the mark)".into(),
            lanes,
        }));
    }
    out
}
