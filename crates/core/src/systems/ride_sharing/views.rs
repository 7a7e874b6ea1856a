//! What the page draws: the city map — surge cells shaded by their multiplier (labelled
//! with geohash, owner, multiplier, supply), every driver's true position and, beside it,
//! where the location service believes it is, the riders waiting, and the recent
//! assignments (rider and driver drawn as a pair); and a table of trips by state.

use super::city::{self, Xy};
use super::location::TripState;
use super::node::Node;
use crate::blocks::geohash;
use crate::sim::world::World;
use crate::view::{MapCell, MapCircle, MapPoint, MapView, Table, View};

/// Drivers drawn at most (every n-th by id).
const MAX_DRIVERS: usize = 400;

fn km(p: Xy) -> (f64, f64) {
    (p.x / 1_000.0, (city::SIZE_M - p.y) / 1_000.0)
}

fn point(p: Xy, label: String, kind: &str) -> MapPoint {
    let (x, y) = km(city::clamp(p));
    MapPoint { x, y, label, kind: kind.into() }
}

pub fn views(world: &World<Node>) -> Vec<View> {
    let (mut fleet, mut location, mut riders, mut matchers) = (None, None, None, Vec::new());
    for n in world.nodes() {
        match n {
            Node::Fleet(f) => fleet = Some(f),
            Node::Location(l) => location = Some(l),
            Node::Riders(r) => riders = Some(r),
            Node::Matcher(m) => matchers.push(m),
        }
    }
    let mut cells = Vec::new();
    for m in &matchers {
        for (c, s) in &m.surge {
            let r = geohash::bounds(*c);
            let a = city::clamp(city::from_latlon(crate::blocks::haversine::LatLon::new(r.lat_max, r.lon_min)));
            let b = city::clamp(city::from_latlon(crate::blocks::haversine::LatLon::new(r.lat_min, r.lon_max)));
            let ((x0, y0), (x1, y1)) = (km(a), km(b));
            if x1 <= x0 || y1 <= y0 {
                continue;
            }
            let weight = ((s.mult - 1.0) / (m.cfg.cap - 1.0).max(1e-9)).clamp(0.0, 1.0);
            let label = format!("{c} · matcher-{} · ×{:.2} · {} free drivers", m.cfg.idx, s.mult, s.supply);
            cells.push(MapCell { x: x0, y: y0, w: x1 - x0, h: y1 - y0, label, weight });
        }
    }
    let mut points = Vec::new();
    if let Some(f) = fleet {
        let every = f.drivers.len().div_ceil(MAX_DRIVERS).max(1);
        for d in f.drivers.iter().step_by(every) {
            let kind = if d.trip.is_some() { "driver on a trip" } else { "driver (true)" };
            let what = match (&d.trip, d.queue.len()) {
                (Some(t), 0) => format!("driver {} (true) serving rider {}", d.id, t.rider),
                (Some(t), q) => format!("driver {} (true) serving rider {} and {q} more booked", d.id, t.rider),
                (None, _) => format!("driver {} (true)", d.id),
            };
            points.push(point(d.at, what, kind));
            if let Some(est) = location.and_then(|l| l.estimate(d.id)) {
                let off = est.flat(d.at);
                points.push(point(
                    est,
                    format!("driver {} as the location service has it ({off:.0} m off)", d.id),
                    "driver (reported)",
                ));
            }
        }
    }
    if let Some(r) = riders {
        for (id, o) in r.open.iter().take(MAX_DRIVERS) {
            points.push(point(o.at, format!("rider {id} waiting"), "rider waiting"));
        }
        for (id, at, d) in &r.recent {
            match d {
                Some(d) => points.push(point(*at, format!("rider {id} ← driver {d}"), "rider matched")),
                None => points.push(point(*at, format!("rider {id}: no driver"), "rider refused")),
            }
        }
    }
    let mut circles = Vec::new();
    if let (Some(r), Some(f)) = (riders, fleet) {
        // The last few assignments: a circle around each pickup reaching its driver.
        for (id, at, d) in r.recent.iter().rev().take(12) {
            if let Some(drv) = d.and_then(|d| f.drivers.get(d as usize)) {
                let (x, y) = km(*at);
                circles.push(MapCircle {
                    x,
                    y,
                    r: city::dist_m(*at, drv.at) / 1_000.0,
                    label: format!("rider {id} ↔ driver {}", drv.id),
                });
            }
        }
    }
    let map = MapView {
        title: "City: surge cells, drivers (true vs reported), riders and assignments".into(),
        width: city::SIZE_M / 1_000.0,
        height: city::SIZE_M / 1_000.0,
        cells,
        points,
        circles,
    };
    let mut out = vec![View::Map(map)];
    if let Some(l) = location {
        let mut counts = [0usize; 4];
        for t in l.trips.values() {
            counts[t.state as usize] += 1;
        }
        let states = [TripState::Matched, TripState::Arriving, TripState::OnTrip, TripState::Completed];
        let mut rows: Vec<Vec<String>> =
            states.iter().zip(counts).map(|(s, n)| vec![format!("{s:?}"), n.to_string()]).collect();
        if let Some(r) = riders {
            rows.push(vec!["Requested (waiting)".into(), r.open.len().to_string()]);
            rows.push(vec!["Cancelled (no driver)".into(), r.no_driver.to_string()]);
        }
        rows.push(vec![
            "reservations granted / refused / overwritten".into(),
            format!("{} / {} / {}", l.granted, l.refused, l.overwritten),
        ]);
        out.push(View::Table(Table { title: "Trips".into(), columns: vec!["state".into(), "count".into()], rows }));
    }
    out
}
