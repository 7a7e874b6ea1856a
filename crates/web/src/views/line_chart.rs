//! A line chart in SVG: axes with round ticks, one path per line, a legend with each
//! line's latest value, and an optional playhead. The playground draws throughput,
//! latency percentiles, error rate and every system series with it.
//!
//! Value `i` of a line is plotted at `i * interval_ms` (the start of its bucket). Non-finite
//! values break the line rather than dragging it to zero. The geometry depends only on the
//! data, so it is memoised apart from the cursor, which moves on every tick while the data
//! often does not. A viewBox keeps it sharp at any size; text stays readable because the
//! chart keeps its aspect ratio.

use super::scale::{self, coord, nice_domain, Linear};
use yew::prelude::*;

const W: f64 = 600.0;
const H: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 26.0;

#[derive(Properties, PartialEq, Clone)]
pub struct LineChartProps {
    pub title: AttrValue,
    /// Unit of the values, shown on the axis and read out in the summary ("ms", "req/s").
    #[prop_or_default]
    pub unit: AttrValue,
    /// Time between consecutive values.
    pub interval_ms: u64,
    /// Named lines; they may differ in length.
    pub lines: Vec<(String, Vec<f64>)>,
    /// Where the playhead is, in ms from the start of the run.
    #[prop_or_default]
    pub cursor_ms: Option<f64>,
}

/// Everything drawn that depends on the data only.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartGeometry {
    pub x: Linear,
    pub y: Linear,
    pub x_ticks: Vec<(f64, String)>,
    pub y_ticks: Vec<(f64, String)>,
    /// One `d` attribute per line (empty when the line has no finite value).
    pub paths: Vec<String>,
    /// Points that have no neighbour to join, so a path alone would not show them.
    pub dots: Vec<(usize, f64, f64)>,
    /// Name and latest finite value of each line.
    pub legend: Vec<(String, Option<f64>)>,
    pub summary: String,
}

/// Lays out the chart for the given data.
pub fn chart_geometry(title: &str, unit: &str, interval_ms: u64, lines: &[(String, Vec<f64>)]) -> ChartGeometry {
    let interval = interval_ms.max(1) as f64;
    let n = lines.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let x_max = if n > 1 { (n - 1) as f64 * interval } else { interval };
    let finite = || lines.iter().flat_map(|(_, v)| v.iter().copied()).filter(|v| v.is_finite());
    let lo = finite().fold(0.0f64, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    let hi = if hi.is_finite() { hi } else { 1.0 };
    let (y0, y1, yt) = nice_domain(lo, hi, 4);
    let x = Linear::new((0.0, x_max), (LEFT, W - RIGHT));
    let y = Linear::new((y0, y1), (H - BOTTOM, TOP));
    let (_, _, xt) = nice_domain(0.0, x_max, 5);
    let xt: Vec<f64> = xt.into_iter().filter(|t| *t <= x_max * (1.0 + 1e-9)).collect();
    let x_ticks = xt.iter().map(|t| x.map(*t)).zip(scale::ms_ticks(&xt)).collect();
    let y_ticks = yt.into_iter().map(|t| (y.map(t), scale::num(t))).collect();
    let mut paths = Vec::with_capacity(lines.len());
    let mut dots = Vec::new();
    for (li, (_, values)) in lines.iter().enumerate() {
        let mut d = String::new();
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut flush = |run: &mut Vec<(f64, f64)>, d: &mut String| {
            if run.len() == 1 {
                dots.push((li, run[0].0, run[0].1));
            }
            for (k, (px, py)) in run.iter().enumerate() {
                d.push_str(if k == 0 { "M" } else { "L" });
                d.push_str(&coord(*px));
                d.push(' ');
                d.push_str(&coord(*py));
            }
            run.clear();
        };
        for (i, v) in values.iter().enumerate() {
            if v.is_finite() {
                run.push((x.map(i as f64 * interval), y.map(*v)));
            } else {
                flush(&mut run, &mut d);
            }
        }
        flush(&mut run, &mut d);
        paths.push(d);
    }
    let legend: Vec<(String, Option<f64>)> =
        lines.iter().map(|(name, v)| (name.clone(), v.iter().rev().copied().find(|v| v.is_finite()))).collect();
    let summary = summarise(title, unit, x_max, lines);
    ChartGeometry { x, y, x_ticks, y_ticks, paths, dots, legend, summary }
}

/// The chart in words, for screen readers: latest, minimum and maximum of each line.
fn summarise(title: &str, unit: &str, x_max: f64, lines: &[(String, Vec<f64>)]) -> String {
    let unit_part = if unit.is_empty() { String::new() } else { format!(" ({unit})") };
    let mut parts = Vec::new();
    for (name, values) in lines {
        let f: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if let Some(last) = f.last() {
            let min = f.iter().copied().fold(f64::INFINITY, f64::min);
            let max = f.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            parts.push(format!(
                "{name}: latest {}, min {}, max {}",
                scale::num(*last),
                scale::num(min),
                scale::num(max)
            ));
        }
    }
    if parts.is_empty() {
        format!("{title}{unit_part}: no data yet")
    } else {
        format!("{title}{unit_part} over {}. {}.", scale::ms(x_max), parts.join("; "))
    }
}

#[component]
pub fn LineChart(props: &LineChartProps) -> Html {
    let geom = use_memo(
        (props.title.clone(), props.unit.clone(), props.interval_ms, props.lines.clone()),
        |(title, unit, interval, lines)| chart_geometry(title, unit, *interval, lines),
    );
    let cursor = props.cursor_ms.filter(|c| c.is_finite()).map(|c| {
        let px = geom.x.map(c).clamp(LEFT, W - RIGHT);
        html! { <line class="vw-cursor" data-testid="chart-cursor" x1={coord(px)} x2={coord(px)} y1={coord(TOP)} y2={coord(H - BOTTOM)} /> }
    });
    let unit = props.unit.clone();
    html! {
        <figure class="vw vw-chart" data-shape="series">
            <figcaption class="vw-title">
                { props.title.clone() }
                if !unit.is_empty() { <span class="vw-unit">{ format!(" ({unit})") }</span> }
            </figcaption>
            <svg class="vw-svg" viewBox={format!("0 0 {W} {H}")} role="img" aria-label={geom.summary.clone()}>
                <g class="vw-grid" aria-hidden="true">
                    { for geom.y_ticks.iter().map(|(py, label)| html! {
                        <g>
                            <line x1={coord(LEFT)} x2={coord(W - RIGHT)} y1={coord(*py)} y2={coord(*py)} />
                            <text class="vw-tick" x={coord(LEFT - 4.0)} y={coord(*py + 3.5)} text-anchor="end">{ label }</text>
                        </g>
                    }) }
                    { for geom.x_ticks.iter().map(|(px, label)| html! {
                        <text class="vw-tick" x={coord(*px)} y={coord(H - BOTTOM + 16.0)} text-anchor="middle">{ label }</text>
                    }) }
                    <line class="vw-axis" x1={coord(LEFT)} x2={coord(W - RIGHT)} y1={coord(H - BOTTOM)} y2={coord(H - BOTTOM)} />
                    <line class="vw-axis" x1={coord(LEFT)} x2={coord(LEFT)} y1={coord(TOP)} y2={coord(H - BOTTOM)} />
                </g>
                { for geom.paths.iter().enumerate().map(|(i, d)| html! {
                    <path class={classes!("vw-line", scale::palette_class(i))} d={d.clone()} />
                }) }
                { for geom.dots.iter().map(|(i, px, py)| html! {
                    <circle class={classes!("vw-dot", scale::palette_class(*i))} cx={coord(*px)} cy={coord(*py)} r="3" />
                }) }
                { for cursor }
            </svg>
            <ul class="vw-legend">
                { for geom.legend.iter().enumerate().map(|(i, (name, last))| html! {
                    <li>
                        <svg class="vw-swatch" viewBox="0 0 10 10" aria-hidden="true">
                            <rect class={scale::palette_class(i)} width="10" height="10" rx="2" />
                        </svg>
                        { name.clone() }
                        <span class="vw-latest">{ match last {
                            Some(v) if unit.is_empty() => scale::num(*v),
                            Some(v) => format!("{} {unit}", scale::num(*v)),
                            None => "–".into(),
                        } }</span>
                    </li>
                }) }
            </ul>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, v: &[f64]) -> (String, Vec<f64>) {
        (name.into(), v.to_vec())
    }

    #[test]
    fn paths_span_the_plot_area_and_skip_gaps() {
        let g = chart_geometry("t", "ms", 100, &[line("p50", &[1.0, 2.0, f64::NAN, 4.0, 5.0])]);
        assert_eq!(g.paths.len(), 1);
        assert_eq!(g.paths[0].matches('M').count(), 2, "{}", g.paths[0]);
        assert!(g.paths[0].starts_with("M48.0 "), "{}", g.paths[0]);
        assert!(g.paths[0].contains(&format!("L{} ", coord(W - RIGHT))), "{}", g.paths[0]);
        assert!(g.dots.is_empty());
    }

    #[test]
    fn lone_points_become_dots_and_empty_lines_draw_nothing() {
        let g = chart_geometry("t", "", 10, &[line("a", &[3.0]), line("b", &[])]);
        assert_eq!(g.dots.len(), 1);
        assert_eq!(g.paths[1], "");
        assert_eq!(g.legend[1], ("b".to_string(), None));
        assert_eq!(g.legend[0].1, Some(3.0));
    }

    #[test]
    fn summary_names_every_line_or_says_empty() {
        let g = chart_geometry("Latency", "ms", 1000, &[line("p99", &[10.0, 30.0, 20.0])]);
        assert_eq!(g.summary, "Latency (ms) over 2 s. p99: latest 20, min 10, max 30.");
        let g = chart_geometry("Latency", "ms", 1000, &[]);
        assert_eq!(g.summary, "Latency (ms): no data yet");
    }

    #[test]
    fn y_axis_includes_zero_and_negative_values() {
        let g = chart_geometry("t", "", 1, &[line("a", &[-5.0, 12.0])]);
        assert!(g.y.d0 <= -5.0 && g.y.d1 >= 12.0);
        assert!(g.y_ticks.iter().any(|(_, l)| l == "0"));
    }
}
