//! The views of the chat system: the first conversation's recent messages as a sequence
//! (stored by the store, then shown on each member device, with the delay), every
//! device's inbox (how far it has shown each conversation against the store's head), and
//! the presence grid (what presence shows for each device against whether its socket
//! truly works right now, read from the kernel).

use super::device::Link;
use super::Node;
use crate::sim::world::{Status, World};
use crate::view::{Log, LogLane, Table, View};

/// Entries per lane of the sequence view.
const LAST: usize = 12;

pub fn views(world: &World<Node>) -> Vec<View> {
    vec![sequence(world), inbox(world), presence_grid(world)]
}

fn store(world: &World<Node>) -> Option<&super::store::Store> {
    world.nodes().iter().find_map(|n| match n {
        Node::Store(s) => Some(s),
        _ => None,
    })
}

fn sequence(world: &World<Node>) -> View {
    let names = world.node_names();
    let mut lanes = Vec::new();
    let mut sent_at = std::collections::BTreeMap::new();
    if let Some(s) = store(world) {
        let entries: Vec<String> = s
            .recent
            .iter()
            .filter(|(i, _)| i.conv == 0)
            .map(|(i, at)| {
                sent_at.insert(i.seq, i.sent_at.as_ms());
                let from = names.get(i.id.device as usize).cloned().unwrap_or_default();
                format!("#{} from {from} · sent {:.0} ms · stored {:.0} ms", i.seq, i.sent_at.as_ms(), at)
            })
            .collect();
        let skip = entries.len().saturating_sub(LAST);
        let entries: Vec<String> = entries.into_iter().skip(skip).collect();
        lanes.push(LogLane { name: "store (sender → gateway → store)".into(), committed: entries.len(), entries });
    }
    for (i, n) in world.nodes().iter().enumerate() {
        let Node::Device(d) = n else { continue };
        if !d.cfg.convs.contains(&0) {
            continue;
        }
        let entries: Vec<String> = d
            .recent
            .iter()
            .filter(|(c, _, _)| *c == 0)
            .map(|&(_, seq, at)| match sent_at.get(&seq) {
                Some(s) => format!("#{seq} shown {at:.0} ms (+{:.0} ms)", at - s),
                None => format!("#{seq} shown {at:.0} ms"),
            })
            .collect();
        let skip = entries.len().saturating_sub(LAST);
        let entries: Vec<String> = entries.into_iter().skip(skip).collect();
        lanes.push(LogLane { name: format!("{} (gateway → device)", names[i]), committed: entries.len(), entries });
    }
    let title = match super::conversations_of(world).first() {
        Some(n) => format!("Sequence: last messages of {n}"),
        None => "Sequence".into(),
    };
    View::Log(Log { title, lanes })
}

fn inbox(world: &World<Node>) -> View {
    let names = world.node_names();
    let convs = super::conversations_of(world);
    let heads: Vec<u64> = store(world).map(|s| s.head.clone()).unwrap_or_default();
    let mut rows = Vec::new();
    for (i, n) in world.nodes().iter().enumerate() {
        let Node::Device(d) = n else { continue };
        for &c in &d.cfg.convs {
            let shown = d.shown.get(&c).copied().unwrap_or(0);
            let head = heads.get(c as usize).copied().unwrap_or(0);
            let waiting = d.pending.keys().filter(|(pc, _)| *pc == c).count();
            let outbox = d.outbox.iter().filter(|(_, oc, _)| *oc == c).count();
            rows.push(vec![
                names[i].clone(),
                convs.get(c as usize).cloned().unwrap_or_default(),
                shown.to_string(),
                head.to_string(),
                head.saturating_sub(shown).to_string(),
                waiting.to_string(),
                outbox.to_string(),
            ]);
        }
    }
    View::Table(Table {
        title: "Inbox per device".into(),
        columns: ["device", "conversation", "shown up to #", "store head #", "behind", "held (gap)", "unsent"]
            .map(String::from)
            .to_vec(),
        rows,
    })
}

fn presence_grid(world: &World<Node>) -> View {
    let names = world.node_names();
    let meta = world.meta();
    let shown: Vec<bool> = world
        .nodes()
        .iter()
        .find_map(|n| match n {
            Node::Presence(p) => Some(p.shown.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut rows = Vec::new();
    for (i, n) in world.nodes().iter().enumerate() {
        let Node::Device(d) = n else { continue };
        let id = i as u32;
        let (socket, truly) = match d.link {
            Link::Away => ("app closed".to_string(), false),
            Link::Connecting { gw, .. } => (format!("connecting to gateway-{gw}"), false),
            Link::Connected { gw } => {
                let g = d.cfg.gateways[gw];
                let ok = meta[i].status == Status::Up
                    && meta[g as usize].status == Status::Up
                    && matches!(&world.nodes()[g as usize], Node::Gateway(gt) if gt.sessions.contains_key(&id))
                    && !world.net.is_blocked(id, g)
                    && !world.net.is_blocked(g, id);
                (format!("gateway-{gw}"), ok)
            }
        };
        let truly = truly && meta[i].status == Status::Up;
        let shows = shown.get(i).copied().unwrap_or(false);
        let verdict = match (shows, truly) {
            (true, true) | (false, false) => "agrees",
            (true, false) => "shows online, is not",
            (false, true) => "shows offline, is connected",
        };
        rows.push(vec![
            names[i].clone(),
            if shows { "online" } else { "offline" }.into(),
            if truly { "connected" } else { "not connected" }.into(),
            socket,
            meta[i].status.as_str().into(),
            verdict.into(),
        ]);
    }
    View::Table(Table {
        title: "Presence grid: shown vs true".into(),
        columns: ["device", "presence shows", "truly", "socket (device's view)", "process", ""]
            .map(String::from)
            .to_vec(),
        rows,
    })
}
