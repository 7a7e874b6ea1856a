//! A sequence diagram of recent trace events: one lifeline per node that takes part,
//! time flowing down, an arrow per delivered message from its sender (at the time it was
//! sent) to its receiver (at the time it was handled), a cross where a message was
//! dropped, and markers for faults, notes and check violations. Only the last `max`
//! events are drawn. Timer firings are left out: they are the bulk of most traces and
//! carry no message between nodes. Slanted arrows are the point: network latency is the
//! slope, and reordering shows up as crossing arrows.
//!
//! Arrowheads are computed polygons rather than SVG `<marker>`s, whose ids would clash
//! when compare mode puts two diagrams on one page.

use super::scale::{self, coord, nice_domain, Linear};
use sdlab_core::sim::NodeId;
use sdlab_core::trace::{TraceEvent, TraceKind};
use std::collections::BTreeSet;
use yew::prelude::*;

const LEFT: f64 = 64.0;
const COL: f64 = 120.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 14.0;
const ROW: f64 = 16.0;

#[derive(Properties, PartialEq, Clone)]
pub struct SequenceProps {
    pub events: Vec<TraceEvent>,
    /// Node names by id (`Simulation::node_names`); unknown ids read `n<id>`.
    pub names: Vec<String>,
    /// How many of the most recent events to draw.
    pub max: usize,
}

/// One drawn element, in SVG user units.
#[derive(Clone, Debug, PartialEq)]
pub enum Mark {
    Message {
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        label: String,
        title: String,
    },
    /// A message to self: a loop on the right of the lifeline.
    SelfMessage {
        x: f64,
        y1: f64,
        y2: f64,
        label: String,
        title: String,
    },
    Dropped {
        x1: f64,
        x2: f64,
        y: f64,
        title: String,
    },
    Fault {
        x: f64,
        y: f64,
        title: String,
    },
    Note {
        x: f64,
        y: f64,
        title: String,
    },
    Violation {
        x: f64,
        y: f64,
        title: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct SequenceGeometry {
    pub width: f64,
    pub height: f64,
    /// Lifeline x and name.
    pub lifelines: Vec<(f64, String)>,
    pub ticks: Vec<(f64, String)>,
    pub marks: Vec<Mark>,
    pub summary: String,
}

fn name(names: &[String], id: NodeId) -> String {
    names.get(id as usize).cloned().unwrap_or_else(|| format!("n{id}"))
}

pub fn sequence_geometry(events: &[TraceEvent], names: &[String], max: usize) -> SequenceGeometry {
    let window: Vec<&TraceEvent> = events[events.len().saturating_sub(max)..]
        .iter()
        .filter(|e| !matches!(e.kind, TraceKind::Timer { .. }))
        .collect();
    let mut nodes = BTreeSet::new();
    let (mut t0, mut t1) = (u64::MAX, 0u64);
    for e in &window {
        nodes.insert(e.node);
        t0 = t0.min(e.at.0);
        t1 = t1.max(e.at.0);
        match &e.kind {
            TraceKind::Deliver { from, sent_at, .. } => {
                nodes.insert(*from);
                t0 = t0.min(sent_at.0);
            }
            TraceKind::Drop { from, to, .. } => {
                nodes.insert(*from);
                nodes.insert(*to);
            }
            _ => {}
        }
    }
    let (t0, t1) = if window.is_empty() { (0.0, 1.0) } else { (t0 as f64 / 1e3, t1 as f64 / 1e3) };
    let cols: Vec<NodeId> = nodes.into_iter().collect();
    let col_x = |id: NodeId| LEFT + COL * (cols.iter().position(|c| *c == id).unwrap_or(0) as f64 + 0.5);
    let width = LEFT + COL * cols.len().max(1) as f64 + 8.0;
    let height = TOP + (ROW * window.len() as f64).max(160.0) + BOTTOM;
    let (d0, d1, ticks) = nice_domain(t0, t1, 6);
    let y = Linear::new((d0, d1), (TOP + 6.0, height - BOTTOM));
    let ms = |t: sdlab_core::sim::time::SimTime| t.0 as f64 / 1e3;
    let (mut delivered, mut dropped, mut faults, mut violations) = (0, 0, 0, 0);
    let mut marks = Vec::with_capacity(window.len());
    for e in &window {
        // Tooltips give exact times, as the text trace prints them.
        let at = e.at.to_string();
        let here = name(names, e.node);
        let (x, ya) = (col_x(e.node), y.map(ms(e.at)));
        marks.push(match &e.kind {
            TraceKind::Deliver { from, sent_at, label } => {
                delivered += 1;
                let title = format!("{} → {here}: {label} (sent {sent_at}, handled {at})", name(names, *from));
                let (y1, label) = (y.map(ms(*sent_at)), scale::clip(label, 18));
                if *from == e.node {
                    Mark::SelfMessage { x, y1, y2: ya, label, title }
                } else {
                    Mark::Message { x1: col_x(*from), y1, x2: x, y2: ya, label, title }
                }
            }
            TraceKind::Drop { from, to, label, reason } => {
                dropped += 1;
                let (x1, x2) = (col_x(*from), col_x(*to));
                let title =
                    format!("dropped {} → {}: {label} ({reason:?}) at {at}", name(names, *from), name(names, *to));
                Mark::Dropped { x1, x2: x1 + (x2 - x1) * 0.6, y: ya, title }
            }
            TraceKind::Fault { text } => {
                faults += 1;
                Mark::Fault { x, y: ya, title: format!("fault at {at} on {here}: {text}") }
            }
            TraceKind::Note { text } => Mark::Note { x, y: ya, title: format!("{here} at {at}: {text}") },
            TraceKind::Violation { check, detail } => {
                violations += 1;
                Mark::Violation { x, y: ya, title: format!("violation of {check} at {at}: {detail}") }
            }
            TraceKind::Timer { .. } => unreachable!("timers are filtered out above"),
        });
    }
    let summary = if window.is_empty() {
        "Sequence diagram: no messages yet".to_string()
    } else {
        format!(
            "Sequence diagram of {} among {} from {} to {}: {delivered} delivered, {dropped} dropped, {}, {}",
            scale::count(window.len(), "event", "events"),
            scale::count(cols.len(), "node", "nodes"),
            scale::ms(t0),
            scale::ms(t1),
            scale::count(faults, "fault", "faults"),
            scale::count(violations, "violation", "violations")
        )
    };
    SequenceGeometry {
        width,
        height,
        lifelines: cols.iter().map(|id| (col_x(*id), name(names, *id))).collect(),
        ticks: ticks.iter().map(|t| y.map(*t)).zip(scale::ms_ticks(&ticks)).collect(),
        marks,
        summary,
    }
}

/// The points of an arrowhead ending at (x2, y2), pointing along the segment.
pub fn arrow_head(x1: f64, y1: f64, x2: f64, y2: f64) -> String {
    let (dx, dy) = (x2 - x1, y2 - y1);
    let len = (dx * dx + dy * dy).sqrt();
    let (ux, uy) = if len > 1e-9 { (dx / len, dy / len) } else { (1.0, 0.0) };
    let (bx, by) = (x2 - 8.0 * ux, y2 - 8.0 * uy);
    let (nx, ny) = (-uy * 3.5, ux * 3.5);
    format!("{},{} {},{} {},{}", coord(x2), coord(y2), coord(bx + nx), coord(by + ny), coord(bx - nx), coord(by - ny))
}

fn mark(m: &Mark) -> Html {
    match m {
        Mark::Message { x1, y1, x2, y2, label, title } => html! {
            <g class="vw-msg">
                <title>{ title.clone() }</title>
                <line x1={coord(*x1)} y1={coord(*y1)} x2={coord(*x2)} y2={coord(*y2)} />
                <polygon points={arrow_head(*x1, *y1, *x2, *y2)} />
                <text class="vw-msg-label" x={coord((x1 + x2) / 2.0)} y={coord((y1 + y2) / 2.0 - 3.0)} text-anchor="middle">{ label.clone() }</text>
            </g>
        },
        Mark::SelfMessage { x, y1, y2, label, title } => html! {
            <g class="vw-msg">
                <title>{ title.clone() }</title>
                <path d={format!("M{} {} C{} {} {} {} {} {}", coord(*x), coord(*y1), coord(x + 28.0), coord(*y1), coord(x + 28.0), coord(*y2), coord(x + 2.0), coord(*y2))} />
                <polygon points={arrow_head(x + 20.0, *y2, *x, *y2)} />
                <text class="vw-msg-label" x={coord(x + 30.0)} y={coord((y1 + y2) / 2.0 + 3.0)}>{ label.clone() }</text>
            </g>
        },
        Mark::Dropped { x1, x2, y, title } => html! {
            <g class="vw-drop">
                <title>{ title.clone() }</title>
                <line class="vw-drop-line" x1={coord(*x1)} y1={coord(*y)} x2={coord(*x2)} y2={coord(*y)} />
                <path d={format!("M{} {} l8 8 m0 -8 l-8 8", coord(x2 - 4.0), coord(y - 4.0))} />
            </g>
        },
        Mark::Fault { x, y, title } => html! {
            <polygon class="vw-fault" points={format!("{},{} {},{} {},{} {},{}", coord(*x), coord(y - 7.0), coord(x + 7.0), coord(*y), coord(*x), coord(y + 7.0), coord(x - 7.0), coord(*y))}>
                <title>{ title.clone() }</title>
            </polygon>
        },
        Mark::Note { x, y, title } => html! {
            <circle class="vw-note" cx={coord(*x)} cy={coord(*y)} r="4"><title>{ title.clone() }</title></circle>
        },
        Mark::Violation { x, y, title } => html! {
            <polygon class="vw-violation" points={format!("{},{} {},{} {},{}", coord(*x), coord(y - 8.0), coord(x + 8.0), coord(y + 6.0), coord(x - 8.0), coord(y + 6.0))}>
                <title>{ title.clone() }</title>
            </polygon>
        },
    }
}

#[component]
pub fn SequenceDiagram(props: &SequenceProps) -> Html {
    let geom =
        use_memo((props.events.clone(), props.names.clone(), props.max), |(e, n, max)| sequence_geometry(e, n, *max));
    let bottom = geom.height - BOTTOM;
    html! {
        <figure class="vw vw-seq" data-shape="sequence">
            <figcaption class="vw-title">{ "Messages" }</figcaption>
            <div class="vw-scroll" role="region" tabindex="0" aria-label="Sequence diagram, scrollable">
                <svg class="vw-seq-svg" viewBox={format!("0 0 {} {}", coord(geom.width), coord(geom.height))}
                    width={coord(geom.width)} height={coord(geom.height)} role="img" aria-label={geom.summary.clone()}>
                    <g class="vw-grid" aria-hidden="true">
                        { for geom.ticks.iter().map(|(py, label)| html! {
                            <g>
                                <line x1={coord(LEFT - 4.0)} x2={coord(geom.width)} y1={coord(*py)} y2={coord(*py)} />
                                <text class="vw-tick" x={coord(LEFT - 6.0)} y={coord(py + 3.5)} text-anchor="end">{ label.clone() }</text>
                            </g>
                        }) }
                    </g>
                    { for geom.lifelines.iter().map(|(x, n)| html! {
                        <g class="vw-lifeline">
                            <text class="vw-lane-label" x={coord(*x)} y="18" text-anchor="middle">{ scale::clip(n, 16) }</text>
                            <line x1={coord(*x)} x2={coord(*x)} y1={coord(TOP - 8.0)} y2={coord(bottom)} />
                        </g>
                    }) }
                    { for geom.marks.iter().map(mark) }
                </svg>
            </div>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdlab_core::sim::net::DropReason;
    use sdlab_core::sim::time::SimTime;

    fn ev(seq: u64, at_ms: u64, node: NodeId, kind: TraceKind) -> TraceEvent {
        TraceEvent { seq, at: SimTime::from_ms(at_ms), node, kind }
    }

    fn sample() -> Vec<TraceEvent> {
        vec![
            ev(0, 0, 0, TraceKind::Timer { tag: 1 }),
            ev(1, 10, 1, TraceKind::Deliver { from: 0, sent_at: SimTime::from_ms(2), label: "get k".into() }),
            ev(2, 12, 0, TraceKind::Drop { from: 1, to: 2, label: "put".into(), reason: DropReason::Partition }),
            ev(3, 15, 2, TraceKind::Fault { text: "crash".into() }),
            ev(4, 20, 0, TraceKind::Deliver { from: 0, sent_at: SimTime::from_ms(18), label: "tick".into() }),
            ev(5, 30, 1, TraceKind::Violation { check: "safety".into(), detail: "two leaders".into() }),
        ]
    }

    #[test]
    fn lifelines_are_participants_and_timers_are_skipped() {
        let names = vec!["client".to_string(), "server".to_string()];
        let g = sequence_geometry(&sample(), &names, 100);
        let lifelines: Vec<&str> = g.lifelines.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(lifelines, ["client", "server", "n2"]);
        assert_eq!(g.marks.len(), 5);
        assert!(matches!(g.marks[0], Mark::Message { x1, x2, y1, y2, .. } if x1 < x2 && y1 < y2));
        assert!(matches!(g.marks[3], Mark::SelfMessage { .. }));
        assert!(matches!(&g.marks[1], Mark::Dropped { x1, x2, .. } if x2 > x1));
        assert_eq!(
            g.summary,
            "Sequence diagram of 5 events among 3 nodes from 2 ms to 30 ms: 2 delivered, 1 dropped, 1 fault, 1 violation"
        );
    }

    #[test]
    fn only_the_last_max_events_are_drawn() {
        let g = sequence_geometry(&sample(), &[], 2);
        assert_eq!(g.marks.len(), 2);
        assert!(matches!(g.marks[1], Mark::Violation { .. }));
        let g = sequence_geometry(&sample(), &[], 0);
        assert!(g.marks.is_empty() && g.summary.contains("no messages"));
    }

    #[test]
    fn arrow_heads_point_at_the_tip() {
        assert_eq!(arrow_head(0.0, 0.0, 10.0, 0.0), "10.0,0.0 2.0,3.5 2.0,-3.5");
    }
}
