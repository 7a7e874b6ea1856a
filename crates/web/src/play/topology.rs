//! The topology: nodes and links in SVG (clickable, focusable, labelled), with the
//! messages in flight drawn on a Canvas 2D layer above (see [`draw_flights`]) so thousands
//! of moving dots never touch the DOM. The wrapper keeps a fixed 5:3 aspect ratio, so SVG
//! and canvas share one coordinate system.

use sdlab_core::sim::time::SimTime;
use sdlab_core::sim::Flight;
use sdlab_core::view::Topology;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

pub const VIEW_W: f64 = 1000.0;
pub const VIEW_H: f64 = 600.0;

/// What the user picked to act on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Selection {
    Node(u32),
    Link(u32, u32),
}

#[derive(Properties, PartialEq)]
pub struct TopologyProps {
    pub topology: Topology,
    pub selected: Option<Selection>,
    pub on_select: Callback<Selection>,
    pub canvas: NodeRef,
}

fn radius(nodes: usize) -> f64 {
    match nodes {
        0..=12 => 22.0,
        13..=30 => 15.0,
        31..=60 => 10.0,
        _ => 7.0,
    }
}

fn pos(x: f32, y: f32) -> (f64, f64) {
    (40.0 + f64::from(x) * (VIEW_W - 80.0), 30.0 + f64::from(y) * (VIEW_H - 70.0))
}

#[component]
pub fn TopologyView(props: &TopologyProps) -> Html {
    let t = &props.topology;
    let r = radius(t.nodes.len());
    let show_labels = t.nodes.len() <= 40;
    // Past 16 nodes a large role wraps into side-by-side columns (see core's `layout`).
    let label_chars = if t.nodes.len() > 16 { 14 } else { 22 };
    let position = |id: u32| t.nodes.get(id as usize).map(|n| pos(n.x, n.y)).unwrap_or((0.0, 0.0));
    let links = t.links.iter().map(|l| {
        let (x1, y1) = position(l.from);
        let (x2, y2) = position(l.to);
        let sel = props.selected == Some(Selection::Link(l.from, l.to));
        let (a, b) = (&t.nodes[l.from as usize].name, &t.nodes[l.to as usize].name);
        let label = format!("link {a} – {b}: {}", l.state);
        let pick = {
            let cb = props.on_select.clone();
            let s = Selection::Link(l.from, l.to);
            Callback::from(move |_: MouseEvent| cb.emit(s))
        };
        let key = keyboard_pick(props.on_select.clone(), Selection::Link(l.from, l.to));
        html! {
            <g class={classes!("link", l.state.clone(), sel.then_some("selected"))} tabindex="0" role="button"
               aria-label={label.clone()} onclick={pick} onkeydown={key} data-link={format!("{a}|{b}")}>
                <title>{ label }</title>
                <line class="focus-halo" x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
                <line class="hit" x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
                <line class="wire" x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
            </g>
        }
    });
    let nodes = t.nodes.iter().map(|n| {
        let (x, y) = pos(n.x, n.y);
        let sel = props.selected == Some(Selection::Node(n.id));
        let label = format!("{} ({}), {}{}{}", n.name, n.role, n.status, if n.skewed { ", clock skewed" } else { "" },
            if n.label.is_empty() { String::new() } else { format!(": {}", n.label) });
        let pick = {
            let cb = props.on_select.clone();
            let s = Selection::Node(n.id);
            Callback::from(move |_: MouseEvent| cb.emit(s))
        };
        let key = keyboard_pick(props.on_select.clone(), Selection::Node(n.id));
        html! {
            <g class={classes!("node", format!("role-{}", n.role), format!("status-{}", n.status), n.skewed.then_some("skewed"), sel.then_some("selected"))}
               tabindex="0" role="button" aria-label={label.clone()} aria-pressed={sel.to_string()}
               onclick={pick} onkeydown={key} data-node={n.name.clone()} data-status={n.status.clone()}>
                <title>{ label }</title>
                <circle class="focus-halo" cx={x.to_string()} cy={y.to_string()} r={(r + 7.0).to_string()} />
                <circle cx={x.to_string()} cy={y.to_string()} r={r.to_string()} />
                if n.status == "down" {
                    <path class="cross" d={format!("M{} {}L{} {}M{} {}L{} {}", x - r * 0.6, y - r * 0.6, x + r * 0.6, y + r * 0.6, x + r * 0.6, y - r * 0.6, x - r * 0.6, y + r * 0.6)} />
                }
                if n.status == "paused" {
                    <path class="pause" d={format!("M{} {}v{}M{} {}v{}", x - r * 0.25, y - r * 0.45, r * 0.9, x + r * 0.25, y - r * 0.45, r * 0.9)} />
                }
                if show_labels {
                    <text class="name" x={x.to_string()} y={(y + r + 13.0).to_string()}>{ &n.name }</text>
                    <text class="state" x={x.to_string()} y={(y + r + 26.0).to_string()}>{ short(&n.label, label_chars) }</text>
                }
            </g>
        }
    });
    html! {
        <div class="topo-wrap" data-testid="topology">
            <svg class="topology" viewBox={format!("0 0 {VIEW_W} {VIEW_H}")} role="group" aria-label={format!("Topology: {} nodes, {} links", t.nodes.len(), t.links.len())}>
                { for links }
                { for nodes }
            </svg>
            <canvas ref={props.canvas.clone()} class="flights" aria-hidden="true"></canvas>
        </div>
    }
}

/// A node's state line, cut to fit beside its neighbours (the full text is in its title).
fn short(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    } else {
        s.to_string()
    }
}

fn keyboard_pick(cb: Callback<Selection>, s: Selection) -> Callback<KeyboardEvent> {
    Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" || e.key() == " " {
            e.prevent_default();
            cb.emit(s);
        }
    })
}

/// Colour of a message by the first word of its label, so request and reply types stand apart.
fn colour(label: &str) -> &'static str {
    const PALETTE: [&str; 8] = ["#1f6feb", "#d97706", "#16a34a", "#db2777", "#7c3aed", "#0891b2", "#ca8a04", "#dc2626"];
    let word = label.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
    let h = word.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    PALETTE[(h % PALETTE.len() as u32) as usize]
}

/// Real milliseconds a message stays on screen at least: datacentre hops take well under a
/// millisecond of virtual time, far less than one frame at most speeds, so each message
/// seen in flight is animated over at least this long.
pub const MIN_VISIBLE_MS: f64 = 350.0;
/// Most messages the trail buffer remembers.
const MAX_TRAILS: usize = 6_000;

/// Messages seen in flight, with the real time each was first seen, so short hops still
/// travel visibly across the screen.
#[derive(Default)]
pub struct Trails {
    seen: std::collections::BTreeMap<(u32, u32, u64, u64), (f64, &'static str)>,
}

impl Trails {
    /// Adds this frame's flights and returns what to draw: (from, to, progress, colour).
    /// The colour is worked out once, when a message is first seen.
    pub fn update(&mut self, flights: Vec<Flight>, now: SimTime, real_ms: f64) -> Vec<(u32, u32, f64, &'static str)> {
        for f in flights {
            if self.seen.len() >= MAX_TRAILS {
                break;
            }
            self.seen
                .entry((f.from, f.to, f.sent_at.micros(), f.arrives_at.micros()))
                .or_insert_with(|| (real_ms, colour(&f.label)));
        }
        let mut out = Vec::with_capacity(self.seen.len());
        self.seen.retain(|(from, to, sent, arrives), (first, c)| {
            let virtual_p = now.micros().saturating_sub(*sent) as f64 / (arrives.saturating_sub(*sent)).max(1) as f64;
            let real_p = (real_ms - *first) / MIN_VISIBLE_MS;
            let p = virtual_p.min(real_p).clamp(0.0, 1.0);
            let alive = real_p < 1.0 || virtual_p < 1.0;
            if alive {
                out.push((*from, *to, p, *c));
            }
            alive
        });
        out
    }

    pub fn clear(&mut self) {
        self.seen.clear();
    }
}

/// Draws messages as dots moving from sender to receiver, sized for the device's pixel
/// ratio so they stay sharp on HiDPI screens. Returns how many were drawn.
pub fn draw_flights(canvas: &NodeRef, topology: &Topology, flights: &[(u32, u32, f64, &'static str)]) -> usize {
    let Some(canvas) = canvas.cast::<HtmlCanvasElement>() else { return 0 };
    let dpr = gloo::utils::window().device_pixel_ratio().max(1.0);
    let (cw, ch) = (f64::from(canvas.client_width()), f64::from(canvas.client_height()));
    if cw <= 0.0 || ch <= 0.0 {
        return 0;
    }
    let (pw, ph) = ((cw * dpr).round() as u32, (ch * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    let Ok(Some(ctx)) = canvas.get_context("2d") else { return 0 };
    let Ok(ctx) = ctx.dyn_into::<CanvasRenderingContext2d>() else { return 0 };
    let (sx, sy) = (f64::from(pw) / VIEW_W, f64::from(ph) / VIEW_H);
    ctx.clear_rect(0.0, 0.0, f64::from(pw), f64::from(ph));
    let dot = (radius(topology.nodes.len()) * 0.28).max(2.5) * sx.min(sy);
    // One path per colour: a fill per dot would cost thousands of raster passes a frame.
    let mut by_colour: Vec<(&'static str, Vec<(f64, f64)>)> = Vec::new();
    for &(from, to, p, c) in flights {
        let (Some(a), Some(b)) = (topology.nodes.get(from as usize), topology.nodes.get(to as usize)) else {
            continue;
        };
        let (x1, y1) = pos(a.x, a.y);
        let (x2, y2) = pos(b.x, b.y);
        let at = ((x1 + (x2 - x1) * p) * sx, (y1 + (y2 - y1) * p) * sy);
        match by_colour.iter_mut().find(|(k, _)| *k == c) {
            Some((_, v)) => v.push(at),
            None => by_colour.push((c, vec![at])),
        }
    }
    let mut drawn = 0;
    for (c, dots) in &by_colour {
        ctx.set_fill_style_str(c);
        ctx.begin_path();
        for &(x, y) in dots {
            ctx.move_to(x + dot, y);
            let _ = ctx.arc(x, y, dot, 0.0, std::f64::consts::TAU);
        }
        ctx.fill();
        drawn += dots.len();
    }
    drawn
}
