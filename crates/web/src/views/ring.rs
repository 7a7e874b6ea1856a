//! A hash ring (consistent hashing): the circle of hash space with node tokens on it and
//! keys just inside it, each coloured by owner, plus a legend counting tokens and keys
//! per owner. Position 0 is at the top and positions grow clockwise, the way the ring is
//! usually drawn in papers (Karger et al.; Dynamo). Keys sit on a smaller radius so a key
//! and the token that owns it stay visible side by side; their angle is still their hash.

use super::scale::{self, coord};
use sdlab_core::view::Ring;
use std::collections::BTreeMap;
use yew::prelude::*;

const R_TOKEN: f64 = 90.0;
const R_KEY: f64 = 76.0;

#[derive(Properties, PartialEq, Clone)]
pub struct RingProps {
    pub ring: Ring,
}

/// One drawn point.
#[derive(Clone, Debug, PartialEq)]
pub struct RingDot {
    pub x: f64,
    pub y: f64,
    pub token: bool,
    /// Index of the owner in [`RingGeometry::owners`] (and so its colour).
    pub owner: usize,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RingGeometry {
    /// Owner name, tokens, keys; sorted by name so colours do not depend on point order.
    pub owners: Vec<(String, usize, usize)>,
    /// Keys first, then tokens, so tokens paint on top.
    pub dots: Vec<RingDot>,
    pub summary: String,
}

/// Cartesian position of a ring position in [0, 1) at radius `r`, 0 at the top, clockwise.
// The determinism lint bans platform trig in core; here it only places pixels.
#[allow(clippy::disallowed_methods)]
pub fn polar(pos: f64, r: f64) -> (f64, f64) {
    let p = if pos.is_finite() { pos.rem_euclid(1.0) } else { 0.0 };
    let a = p * std::f64::consts::TAU;
    (r * a.sin(), -r * a.cos())
}

pub fn ring_geometry(ring: &Ring) -> RingGeometry {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for p in &ring.points {
        let c = counts.entry(p.owner.as_str()).or_default();
        if p.kind == "token" {
            c.0 += 1;
        } else {
            c.1 += 1;
        }
    }
    let index: BTreeMap<&str, usize> = counts.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut dots: Vec<RingDot> = ring
        .points
        .iter()
        .map(|p| {
            let token = p.kind == "token";
            let (x, y) = polar(p.pos, if token { R_TOKEN } else { R_KEY });
            let what = if token { "token" } else { "key" };
            RingDot {
                x,
                y,
                token,
                owner: index[p.owner.as_str()],
                title: format!("{} {what} at {:.4}", p.owner, p.pos),
            }
        })
        .collect();
    dots.sort_by_key(|d| d.token);
    let tokens: usize = counts.values().map(|c| c.0).sum();
    let keys: usize = counts.values().map(|c| c.1).sum();
    let summary = format!(
        "{}: hash ring with {} of {} and {}",
        ring.title,
        scale::count(tokens, "token", "tokens"),
        scale::count(counts.len(), "owner", "owners"),
        scale::count(keys, "key", "keys")
    );
    let owners = counts.into_iter().map(|(k, (t, n))| (k.to_string(), t, n)).collect();
    RingGeometry { owners, dots, summary }
}

#[component]
pub fn RingView(props: &RingProps) -> Html {
    let geom = use_memo(props.ring.clone(), ring_geometry);
    html! {
        <figure class="vw vw-ring" data-shape="ring">
            <figcaption class="vw-title">{ props.ring.title.clone() }</figcaption>
            <svg class="vw-svg vw-ring-svg" viewBox="-110 -110 220 220" role="img" aria-label={geom.summary.clone()}>
                <circle class="vw-ring-circle" cx="0" cy="0" r={coord(R_TOKEN)} />
                <line class="vw-axis" x1="0" x2="0" y1={coord(-R_TOKEN - 8.0)} y2={coord(-R_TOKEN + 8.0)} />
                <text class="vw-tick" x="4" y={coord(-R_TOKEN - 9.0)}>{ "0" }</text>
                { for geom.dots.iter().map(|d| html! {
                    <circle
                        class={classes!(if d.token { "vw-token" } else { "vw-key" }, scale::palette_class(d.owner))}
                        cx={coord(d.x)} cy={coord(d.y)} r={if d.token { "6" } else { "2.5" }}>
                        <title>{ d.title.clone() }</title>
                    </circle>
                }) }
            </svg>
            <ul class="vw-legend" aria-label="Owners">
                { for geom.owners.iter().enumerate().map(|(i, (name, tokens, keys))| html! {
                    <li>
                        <svg class="vw-swatch" viewBox="0 0 10 10" aria-hidden="true">
                            <circle class={scale::palette_class(i)} cx="5" cy="5" r="5" />
                        </svg>
                        { name.clone() }
                        <span class="vw-latest">{ format!("{} · {}", scale::count(*tokens, "token", "tokens"), scale::count(*keys, "key", "keys")) }</span>
                    </li>
                }) }
            </ul>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdlab_core::view::RingPoint;

    fn pt(pos: f64, owner: &str, kind: &str) -> RingPoint {
        RingPoint { pos, owner: owner.into(), kind: kind.into() }
    }

    #[test]
    fn zero_is_at_the_top_and_a_quarter_is_to_the_right() {
        let (x, y) = polar(0.0, 10.0);
        assert!(x.abs() < 1e-9 && (y + 10.0).abs() < 1e-9);
        let (x, y) = polar(0.25, 10.0);
        assert!((x - 10.0).abs() < 1e-9 && y.abs() < 1e-9);
        assert_eq!(polar(1.25, 10.0), polar(0.25, 10.0));
        assert_eq!(polar(f64::NAN, 10.0), polar(0.0, 10.0));
    }

    #[test]
    fn owners_are_sorted_and_counted_and_tokens_paint_last() {
        let ring = Ring {
            title: "r".into(),
            points: vec![pt(0.1, "b", "token"), pt(0.2, "a", "key"), pt(0.3, "a", "token"), pt(0.4, "b", "key")],
        };
        let g = ring_geometry(&ring);
        assert_eq!(g.owners, vec![("a".into(), 1, 1), ("b".into(), 1, 1)]);
        assert!(!g.dots[0].token && !g.dots[1].token && g.dots[2].token && g.dots[3].token);
        assert_eq!(
            g.dots.iter().find(|d| d.token && d.owner == 1).map(|d| d.title.as_str()),
            Some("b token at 0.1000")
        );
        assert_eq!(g.summary, "r: hash ring with 2 tokens of 2 owners and 2 keys");
    }
}
