//! Views aggregated per campaign, partition and worker — never one mark per user: the
//! fan-out tree (campaign → partitions → workers → channels, with batch and message
//! counts), per-partition progress, per-worker state, and messages delivered per channel
//! over time.

use super::node::Node;
use super::prefs::{self, Channel};
use super::provider::Provider;
use super::queue::Queue;
use crate::sim::world::World;
use crate::view::{SeriesLine, SeriesView, Table, Tree, TreeNode, View};

/// Partitions shown under each campaign in the tree (the rest are summed in one node).
const TREE_PARTITIONS: u32 = 12;

pub fn views(world: &World<Node>) -> Vec<View> {
    let names = world.node_names();
    let mut api = None;
    let mut queue: Option<&Queue> = None;
    let mut providers: Vec<&Provider> = Vec::new();
    let mut worker_rows = Vec::new();
    for (i, n) in world.nodes().iter().enumerate() {
        match n {
            Node::Api(a) => api = Some(a),
            Node::Queue(q) => queue = Some(q),
            Node::Provider(p) => providers.push(p),
            Node::Worker(w) => worker_rows.push(vec![
                names[i].clone(),
                crate::sim::node::Actor::describe(w),
                w.batches.to_string(),
                w.retries.to_string(),
                w.lost_requests.to_string(),
            ]),
        }
    }
    let Some(api) = api else { return Vec::new() };
    let delivered = |c: u32, part: Option<u32>, sender: Option<u32>, ch: Channel| -> u64 {
        providers
            .iter()
            .filter(|p| p.channel == ch)
            .flat_map(|p| p.delivered.iter())
            .filter(|(&(cc, pp, ss), _)| cc == c && part.is_none_or(|x| x == pp) && sender.is_none_or(|x| x == ss))
            .map(|(_, &n)| n)
            .sum()
    };
    let mut nodes = Vec::new();
    for i in 0..api.accepted_campaigns {
        let c = prefs::marketing(i, api.cfg.users, api.cfg.utc_hour);
        let id = format!("c{i}");
        let total: u64 = Channel::ALL.iter().map(|&ch| delivered(i, None, None, ch)).sum();
        nodes.push(TreeNode { id: id.clone(), parent: None, label: format!("{} — {total} delivered", c.label()) });
        match queue {
            None => {
                let pid = format!("{id}/loop");
                let at = match api.work.front() {
                    Some(h) if h.id == i => format!("at user {}", api.cursor),
                    _ => String::new(),
                };
                nodes.push(TreeNode {
                    id: pid.clone(),
                    parent: Some(id.clone()),
                    label: format!("api inline loop {at}"),
                });
                for ch in Channel::ALL.iter().filter(|ch| c.channels & ch.bit() != 0) {
                    let n = delivered(i, None, None, *ch);
                    nodes.push(TreeNode {
                        id: format!("{pid}/{}", ch.name()),
                        parent: Some(pid.clone()),
                        label: format!("{}: {n}", ch.name()),
                    });
                }
            }
            Some(q) => {
                let mut rest = (0u32, 0u32, 0u32);
                for p in 0..q.partitions {
                    let st = q.stats.get(&(i, p)).copied().unwrap_or_default();
                    if p >= TREE_PARTITIONS {
                        rest = (rest.0 + 1, rest.1 + st.done, rest.2 + st.total);
                        continue;
                    }
                    let pid = format!("{id}/p{p}");
                    let redo =
                        if st.redelivered > 0 { format!(", {} redelivered", st.redelivered) } else { String::new() };
                    nodes.push(TreeNode {
                        id: pid.clone(),
                        parent: Some(id.clone()),
                        label: format!("partition {p}: {}/{} batches done{redo}", st.done, st.total),
                    });
                    for (&(_, _, w), &k) in q.handed.iter().filter(|(&(cc, pp, _), _)| cc == i && pp == p) {
                        let wid = format!("{pid}/w{w}");
                        let wname = names.get(w as usize).cloned().unwrap_or_default();
                        nodes.push(TreeNode {
                            id: wid.clone(),
                            parent: Some(pid.clone()),
                            label: format!("{wname}: {k} batches"),
                        });
                        for ch in Channel::ALL.iter().filter(|ch| c.channels & ch.bit() != 0) {
                            let n = delivered(i, Some(p), Some(w), *ch);
                            nodes.push(TreeNode {
                                id: format!("{wid}/{}", ch.name()),
                                parent: Some(wid.clone()),
                                label: format!("{}: {n}", ch.name()),
                            });
                        }
                    }
                }
                if rest.0 > 0 {
                    nodes.push(TreeNode {
                        id: format!("{id}/rest"),
                        parent: Some(id.clone()),
                        label: format!("{} more partitions: {}/{} batches done", rest.0, rest.1, rest.2),
                    });
                }
            }
        }
    }
    let txn_total: u64 = providers
        .iter()
        .flat_map(|p| p.delivered.iter())
        .filter(|(&(c, _, _), _)| c >= api.cfg.campaigns)
        .map(|(_, &n)| n)
        .sum();
    nodes.push(TreeNode {
        id: "txn".into(),
        parent: None,
        label: format!("transactional sends: {} accepted, {txn_total} delivered", api.accepted_txn),
    });

    let mut views =
        vec![View::Tree(Tree { title: "Fan-out: campaign → partition → worker → channel".into(), nodes })];
    let columns = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    if let Some(q) = queue {
        let nw = worker_rows.len().max(1) as u32;
        let rows = (0..q.partitions)
            .map(|p| {
                let (mut total, mut done, mut redo) = (0, 0, 0);
                for (_, st) in q.stats.range((0, 0)..).filter(|(&(_, pp), _)| pp == p) {
                    total += st.total;
                    done += st.done;
                    redo += st.redelivered;
                }
                vec![
                    format!("p{p}"),
                    names.get(2 + (p % nw) as usize).cloned().unwrap_or_default(),
                    format!("{done}/{total}"),
                    q.pending(p).to_string(),
                    q.in_flight(p).to_string(),
                    redo.to_string(),
                ]
            })
            .collect();
        views.push(View::Table(Table {
            title: "Per-partition progress (batches, all sends)".into(),
            columns: columns(&["partition", "owner", "done", "queued", "in flight", "redelivered"]),
            rows,
        }));
        views.push(View::Table(Table {
            title: "Workers".into(),
            columns: columns(&["worker", "state", "batches", "retries", "requests lost"]),
            rows: worker_rows,
        }));
    } else {
        views.push(View::Table(Table {
            title: "Inline loop".into(),
            columns: columns(&["state", "sends queued", "provider requests"]),
            rows: vec![vec![
                crate::sim::node::Actor::describe(api),
                api.work.len().to_string(),
                api.sent_requests.to_string(),
            ]],
        }));
    }
    views.push(View::Table(Table {
        title: "Providers".into(),
        columns: columns(&["channel", "delivered", "throttled (429)", "failed", "deduplicated"]),
        rows: providers
            .iter()
            .map(|p| {
                vec![
                    p.channel.name().into(),
                    p.total.to_string(),
                    p.throttled.to_string(),
                    p.failed.to_string(),
                    p.deduped.to_string(),
                ]
            })
            .collect(),
    }));
    let interval_ms = providers.first().map_or(100, |p| p.interval_ms);
    views.push(View::Series(SeriesView {
        title: "Messages delivered per interval".into(),
        unit: "messages".into(),
        interval_ms,
        lines: providers
            .iter()
            .map(|p| SeriesLine {
                name: p.channel.name().into(),
                values: p.per_interval.iter().map(|&n| n as f64).collect(),
            })
            .collect(),
    }));
    views
}
