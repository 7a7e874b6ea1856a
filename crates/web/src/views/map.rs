//! A 2-D map: cells shaded by weight (geohash buckets, quadtree leaves, shard load),
//! points (drivers, riders, places) coloured by kind, and circles (search radii). The view
//! gives its own extent; y grows downwards as in SVG. Marker and text sizes are a fixed
//! share of the extent, so a map in metres and one in degrees look alike.

use super::scale::{self, coord};
use sdlab_core::view::MapView;
use std::collections::BTreeMap;
use yew::prelude::*;

#[derive(Properties, PartialEq, Clone)]
pub struct MapProps {
    pub map: MapView,
}

/// The drawing area and sizes derived from the data.
#[derive(Clone, Debug, PartialEq)]
pub struct MapFrame {
    pub width: f64,
    pub height: f64,
    /// One hundredth of the larger side: the unit for marker and text sizes.
    pub unit: f64,
    /// Point kinds in sorted order; a point's colour is its kind's index.
    pub kinds: Vec<String>,
    pub summary: String,
}

/// The view's extent, or the contents' bounding box when the view gives none.
pub fn map_frame(m: &MapView) -> MapFrame {
    let fin = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    let mut w = fin(m.width);
    let mut h = fin(m.height);
    if w <= 0.0 || h <= 0.0 {
        let xs = m
            .cells
            .iter()
            .map(|c| c.x + c.w)
            .chain(m.points.iter().map(|p| p.x))
            .chain(m.circles.iter().map(|c| c.x + c.r));
        let ys = m
            .cells
            .iter()
            .map(|c| c.y + c.h)
            .chain(m.points.iter().map(|p| p.y))
            .chain(m.circles.iter().map(|c| c.y + c.r));
        w = if w > 0.0 { w } else { xs.map(fin).fold(0.0, f64::max) };
        h = if h > 0.0 { h } else { ys.map(fin).fold(0.0, f64::max) };
    }
    let w = if w > 0.0 { w } else { 1.0 };
    let h = if h > 0.0 { h } else { 1.0 };
    let kinds: Vec<String> =
        m.points.iter().map(|p| p.kind.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &m.points {
        *per_kind.entry(p.kind.as_str()).or_default() += 1;
    }
    let counts: Vec<String> = per_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let summary = format!(
        "{}: map with {}, {}{}{}, {}",
        m.title,
        scale::count(m.cells.len(), "cell", "cells"),
        scale::count(m.points.len(), "point", "points"),
        if counts.is_empty() { "" } else { " — " },
        counts.join(", "),
        scale::count(m.circles.len(), "circle", "circles")
    );
    MapFrame { width: w, height: h, unit: w.max(h) / 100.0, kinds, summary }
}

#[component]
pub fn MapPlot(props: &MapProps) -> Html {
    let frame = use_memo(props.map.clone(), map_frame);
    let m = &props.map;
    let u = frame.unit;
    let kind_index = |k: &str| frame.kinds.iter().position(|x| x == k).unwrap_or(0);
    html! {
        <figure class="vw vw-map" data-shape="map">
            <figcaption class="vw-title">{ m.title.clone() }</figcaption>
            <svg class="vw-svg" viewBox={format!("{} {} {} {}", coord(-2.0 * u), coord(-2.0 * u), coord(frame.width + 4.0 * u), coord(frame.height + 4.0 * u))}
                role="img" aria-label={frame.summary.clone()}>
                <rect class="vw-map-bg" x="0" y="0" width={coord(frame.width)} height={coord(frame.height)} />
                { for m.cells.iter().map(|c| {
                    let weight = if c.weight.is_finite() { c.weight.clamp(0.0, 1.0) } else { 0.0 };
                    let big = c.w.min(c.h) >= 12.0 * u && !c.label.is_empty();
                    html! {
                        <g>
                            <rect class="vw-cell" x={coord(c.x)} y={coord(c.y)} width={coord(c.w.max(0.0))} height={coord(c.h.max(0.0))}
                                fill-opacity={format!("{:.2}", 0.06 + 0.8 * weight)}>
                                <title>{ format!("{} — weight {}", c.label, scale::num(weight)) }</title>
                            </rect>
                            if big {
                                <text class="vw-cell-label" x={coord(c.x + u)} y={coord(c.y + 4.0 * u)} font-size={coord(3.0 * u)}>{ scale::clip(&c.label, 12) }</text>
                            }
                        </g>
                    }
                }) }
                { for m.circles.iter().map(|c| html! {
                    <circle class="vw-range" cx={coord(c.x)} cy={coord(c.y)} r={coord(c.r.max(0.0))} stroke-width={coord(0.5 * u)}>
                        <title>{ c.label.clone() }</title>
                    </circle>
                }) }
                { for m.points.iter().map(|p| html! {
                    <circle class={classes!("vw-point", scale::palette_class(kind_index(&p.kind)))} cx={coord(p.x)} cy={coord(p.y)}
                        r={coord(1.4 * u)} stroke-width={coord(0.4 * u)}>
                        <title>{ format!("{} ({})", p.label, p.kind) }</title>
                    </circle>
                }) }
            </svg>
            if !frame.kinds.is_empty() {
                <ul class="vw-legend" aria-label="Point kinds">
                    { for frame.kinds.iter().enumerate().map(|(i, k)| html! {
                        <li>
                            <svg class="vw-swatch" viewBox="0 0 10 10" aria-hidden="true"><circle class={scale::palette_class(i)} cx="5" cy="5" r="5" /></svg>
                            { k.clone() }
                        </li>
                    }) }
                </ul>
            }
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdlab_core::view::{MapCell, MapPoint};

    #[test]
    fn extent_comes_from_the_view_or_the_contents() {
        let mut m = MapView { title: "m".into(), width: 200.0, height: 100.0, ..Default::default() };
        let f = map_frame(&m);
        assert_eq!((f.width, f.height, f.unit), (200.0, 100.0, 2.0));
        m.width = 0.0;
        m.height = f64::NAN;
        m.cells.push(MapCell { x: 10.0, y: 20.0, w: 5.0, h: 5.0, label: "c".into(), weight: 0.5 });
        m.points.push(MapPoint { x: 40.0, y: 1.0, label: "p".into(), kind: "driver".into() });
        let f = map_frame(&m);
        assert_eq!((f.width, f.height), (40.0, 25.0));
        assert_eq!(f.kinds, vec!["driver".to_string()]);
        assert_eq!(f.summary, "m: map with 1 cell, 1 point — 1 driver, 0 circles");
        let f = map_frame(&MapView::default());
        assert_eq!((f.width, f.height), (1.0, 1.0));
    }
}
