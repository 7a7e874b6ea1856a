//! Lanes of spans over simulated time: who holds a lock (and who only believes it does),
//! when cron jobs fire, which worker holds a lease. Each span is coloured by its kind
//! (`ok`, `warn`, `bad`, `info`; anything else reads as `info`) and carries its label as a
//! tooltip, and as text when it is wide enough. A shared time axis runs along the bottom,
//! so two overlapping "holders" line up visibly.

use super::scale::{self, coord, nice_domain, Linear};
use sdlab_core::view::Timeline;
use yew::prelude::*;

const W: f64 = 600.0;
const LABEL_W: f64 = 96.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 6.0;
const LANE: f64 = 26.0;
const AXIS: f64 = 22.0;

#[derive(Properties, PartialEq, Clone)]
pub struct TimelineProps {
    pub timeline: Timeline,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub lane: usize,
    pub x: f64,
    pub w: f64,
    pub class: &'static str,
    pub text: Option<String>,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimelineGeometry {
    pub height: f64,
    pub ticks: Vec<(f64, String)>,
    pub bars: Vec<Bar>,
    pub summary: String,
}

/// The style class for a span kind; unknown kinds fall back to `info`.
pub fn kind_class(kind: &str) -> &'static str {
    match kind {
        "ok" => "vw-ok",
        "warn" => "vw-warn",
        "bad" => "vw-bad",
        _ => "vw-info",
    }
}

pub fn timeline_geometry(t: &Timeline) -> TimelineGeometry {
    let spans = || t.lanes.iter().flat_map(|l| l.spans.iter());
    let finite = |v: f64| v.is_finite().then_some(v);
    let lo = spans().filter_map(|s| finite(s.start_ms)).fold(f64::INFINITY, f64::min);
    let hi = spans().filter_map(|s| finite(s.end_ms).or(finite(s.start_ms))).fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi.is_finite() { (lo, hi.max(lo)) } else { (0.0, 1000.0) };
    let (d0, d1, ticks) = nice_domain(lo, hi, 6);
    let x = Linear::new((d0, d1), (LABEL_W, W - RIGHT));
    let mut bars = Vec::new();
    for (li, lane) in t.lanes.iter().enumerate() {
        for s in &lane.spans {
            let Some(start) = finite(s.start_ms) else { continue };
            let end = finite(s.end_ms).unwrap_or(start).max(start);
            let x0 = x.map(start);
            let w = (x.map(end) - x0).max(2.0);
            let fits = (w / 6.5) as usize;
            let text = (w >= 24.0 && !s.label.is_empty()).then(|| scale::clip(&s.label, fits));
            let title = format!("{}: {} ({} – {})", lane.name, s.label, scale::ms(start), scale::ms(end));
            bars.push(Bar { lane: li, x: x0, w, class: kind_class(&s.kind), text, title });
        }
    }
    let bad = spans().filter(|s| s.kind == "bad").count();
    let summary = format!(
        "{}: {}, {} from {} to {}{}",
        t.title,
        scale::count(t.lanes.len(), "lane", "lanes"),
        scale::count(bars.len(), "span", "spans"),
        scale::ms(lo),
        scale::ms(hi),
        if bad > 0 { format!(", {bad} marked bad") } else { String::new() }
    );
    let height = TOP + LANE * t.lanes.len().max(1) as f64 + AXIS;
    let ticks = ticks.iter().map(|v| x.map(*v)).zip(scale::ms_ticks(&ticks)).collect();
    TimelineGeometry { height, ticks, bars, summary }
}

#[component]
pub fn TimelineView(props: &TimelineProps) -> Html {
    let geom = use_memo(props.timeline.clone(), timeline_geometry);
    let t = &props.timeline;
    let axis_y = geom.height - AXIS;
    html! {
        <figure class="vw vw-timeline" data-shape="timeline">
            <figcaption class="vw-title">{ t.title.clone() }</figcaption>
            <svg class="vw-svg" viewBox={format!("0 0 {W} {}", coord(geom.height))} role="img" aria-label={geom.summary.clone()}>
                <g class="vw-grid" aria-hidden="true">
                    { for geom.ticks.iter().map(|(px, label)| html! {
                        <g>
                            <line x1={coord(*px)} x2={coord(*px)} y1={coord(TOP)} y2={coord(axis_y)} />
                            <text class="vw-tick" x={coord(*px)} y={coord(axis_y + 15.0)} text-anchor="middle">{ label.clone() }</text>
                        </g>
                    }) }
                    <line class="vw-axis" x1={coord(LABEL_W)} x2={coord(W - RIGHT)} y1={coord(axis_y)} y2={coord(axis_y)} />
                </g>
                { for t.lanes.iter().enumerate().map(|(i, lane)| html! {
                    <text class="vw-lane-label" x={coord(LABEL_W - 6.0)} y={coord(TOP + LANE * i as f64 + LANE / 2.0 + 4.0)} text-anchor="end">
                        { scale::clip(&lane.name, 14) }
                    </text>
                }) }
                { for geom.bars.iter().map(|b| {
                    let y = TOP + LANE * b.lane as f64 + 3.0;
                    html! {
                        <g class={classes!("vw-span", b.class)}>
                            <rect x={coord(b.x)} y={coord(y)} width={coord(b.w)} height={coord(LANE - 6.0)} rx="3">
                                <title>{ b.title.clone() }</title>
                            </rect>
                            if let Some(text) = &b.text {
                                <text class="vw-span-label" x={coord(b.x + 4.0)} y={coord(y + LANE / 2.0)} aria-hidden="true">{ text.clone() }</text>
                            }
                        </g>
                    }
                }) }
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdlab_core::view::{Span, TimelineLane};

    fn span(a: f64, b: f64, kind: &str) -> Span {
        Span { start_ms: a, end_ms: b, label: "holder".into(), kind: kind.into() }
    }

    #[test]
    fn bars_follow_time_and_kinds_map_to_classes() {
        let t = Timeline {
            title: "locks".into(),
            lanes: vec![
                TimelineLane { name: "a".into(), spans: vec![span(0.0, 500.0, "ok"), span(500.0, 500.0, "weird")] },
                TimelineLane { name: "b".into(), spans: vec![span(250.0, 1000.0, "bad"), span(f64::NAN, 1.0, "ok")] },
            ],
        };
        let g = timeline_geometry(&t);
        assert_eq!(g.bars.len(), 3);
        assert_eq!(g.bars[0].x, LABEL_W);
        assert_eq!(g.bars[1].class, "vw-info");
        assert_eq!(g.bars[1].w, 2.0);
        assert_eq!(g.bars[2].class, "vw-bad");
        assert!((g.bars[2].x + g.bars[2].w - (W - RIGHT)).abs() < 1e-9);
        assert_eq!(g.summary, "locks: 2 lanes, 3 spans from 0 ms to 1 s, 1 marked bad");
    }

    #[test]
    fn empty_timeline_still_has_an_axis() {
        let g = timeline_geometry(&Timeline::default());
        assert!(g.bars.is_empty() && g.ticks.len() >= 2 && g.height > AXIS);
    }
}
