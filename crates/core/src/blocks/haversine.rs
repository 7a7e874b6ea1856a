//! Distances on the sphere, for "find nearby": the haversine great-circle distance, the
//! bounding box of a search circle (a spherical cap), and the exact least distance from a
//! point to a latitude/longitude rectangle — the lower bound a spatial index prunes with.
//!
//! Why each matters: a degree of longitude shrinks with `cos(latitude)` (in London it is
//! 69 km, not 111), so "within 2 km" is never a square in degrees; and a pruning bound
//! that is a hair too large (clamping the point into the rectangle, the usual shortcut, is
//! one: the nearest point of a meridian edge lies poleward of the query) silently drops an
//! entity from a k-nearest answer. Transcendental functions come from `libm`, so the
//! numbers are the same natively and in wasm.
//!
//! The sphere is an approximation (the WGS-84 ellipsoid differs by up to 0.5 %); an index
//! and its brute-force twin must simply agree on one distance function.

/// Mean Earth radius (IUGG), km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Padding of a search box, degrees (about 0.1 mm): far below any distance that matters,
/// far above the rounding of the trigonometry.
pub const PAD_DEG: f64 = 1e-9;

/// A position in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub const fn new(lat: f64, lon: f64) -> LatLon {
        LatLon { lat, lon }
    }
}

/// A latitude/longitude rectangle, degrees (`lon_min ≤ lon_max`, no antimeridian wrap).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub lat_min: f64,
    pub lat_max: f64,
    pub lon_min: f64,
    pub lon_max: f64,
}

impl Rect {
    pub fn contains(&self, p: LatLon) -> bool {
        p.lat >= self.lat_min && p.lat <= self.lat_max && p.lon >= self.lon_min && p.lon <= self.lon_max
    }

    pub fn intersects(&self, o: &Rect) -> bool {
        self.lat_min <= o.lat_max && o.lat_min <= self.lat_max && self.lon_min <= o.lon_max && o.lon_min <= self.lon_max
    }

    /// Whether `o` lies inside this rectangle.
    pub fn covers(&self, o: &Rect) -> bool {
        o.lat_min >= self.lat_min && o.lat_max <= self.lat_max && o.lon_min >= self.lon_min && o.lon_max <= self.lon_max
    }
}

fn rad(deg: f64) -> f64 {
    deg * (std::f64::consts::PI / 180.0)
}

fn deg(rad: f64) -> f64 {
    rad * (180.0 / std::f64::consts::PI)
}

/// Great-circle distance on a sphere of radius `radius_km` (the haversine formula,
/// R. W. Sinnott, "Virtues of the Haversine", Sky and Telescope, 1984).
pub fn distance_on(radius_km: f64, a: LatLon, b: LatLon) -> f64 {
    let (p1, p2) = (rad(a.lat), rad(b.lat));
    let dp = p2 - p1;
    let dl = rad(b.lon - a.lon);
    let s1 = libm::sin(dp / 2.0);
    let s2 = libm::sin(dl / 2.0);
    let h = (s1 * s1 + libm::cos(p1) * libm::cos(p2) * s2 * s2).clamp(0.0, 1.0);
    2.0 * radius_km * libm::asin(h.sqrt())
}

/// Great-circle distance on the mean Earth sphere, km.
pub fn distance_km(a: LatLon, b: LatLon) -> f64 {
    distance_on(EARTH_RADIUS_KM, a, b)
}

/// The smallest rectangle holding every point within `r_km` of `c` (J. P. Matuschek,
/// "Finding Points Within a Distance of a Latitude/Longitude Using Bounding
/// Coordinates"): latitude ± r/R, longitude ± asin(sin(r/R) / cos(lat)). Near a pole the
/// cap covers every longitude. The box is padded by [`PAD_DEG`] so that rounding in the
/// last bit never leaves a point of the circle just outside it.
pub fn cap_bbox(c: LatLon, r_km: f64) -> Rect {
    let ang = (r_km / EARTH_RADIUS_KM).max(0.0);
    let (lat_min, lat_max) = (c.lat - deg(ang) - PAD_DEG, c.lat + deg(ang) + PAD_DEG);
    if lat_max >= 90.0 || lat_min <= -90.0 {
        return Rect { lat_min: lat_min.max(-90.0), lat_max: lat_max.min(90.0), lon_min: -180.0, lon_max: 180.0 };
    }
    let ratio = libm::sin(ang) / libm::cos(rad(c.lat));
    if ratio >= 1.0 {
        return Rect { lat_min, lat_max, lon_min: -180.0, lon_max: 180.0 };
    }
    let dlon = deg(libm::asin(ratio)) + PAD_DEG;
    Rect { lat_min, lat_max, lon_min: c.lon - dlon, lon_max: c.lon + dlon }
}

/// The exact least great-circle distance from `p` to any point of `r` (0 inside). If `p`
/// is within the rectangle's longitudes, the nearest point is straight north or south.
/// Otherwise it lies on the nearer meridian edge, at the latitude where the distance to
/// that meridian is least — `atan(tan(lat) / cos(Δlon))`, poleward of `p` — clamped to
/// the edge (the distance along a meridian has a single minimum, so clamping is exact).
pub fn min_distance_km(p: LatLon, r: &Rect) -> f64 {
    if r.contains(p) {
        return 0.0;
    }
    if p.lon >= r.lon_min && p.lon <= r.lon_max {
        let lat = p.lat.clamp(r.lat_min, r.lat_max);
        return distance_km(p, LatLon::new(lat, p.lon));
    }
    let edge = if (r.lon_min - p.lon).abs() <= (p.lon - r.lon_max).abs() { r.lon_min } else { r.lon_max };
    let dl = rad(edge - p.lon);
    let best = deg(libm::atan(libm::tan(rad(p.lat)) / libm::cos(dl)));
    distance_km(p, LatLon::new(best.clamp(r.lat_min, r.lat_max), edge))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    #[test]
    fn haversine_matches_the_published_nashville_to_los_angeles_example() {
        // Rosetta Code, "Haversine formula": BNA (36.12, -86.67) to LAX (33.94, -118.40)
        // on a sphere of radius 6372.8 km is 2887.2599506071106 km.
        let d = distance_on(6372.8, LatLon::new(36.12, -86.67), LatLon::new(33.94, -118.40));
        assert!((d - 2_887.259_950_607_11).abs() < 1e-6, "{d}");
        // Symmetric, zero on itself, a quarter meridian is πR/2.
        let (a, b) = (LatLon::new(51.5, -0.12), LatLon::new(51.48, 0.0));
        assert_eq!(distance_km(a, b), distance_km(b, a));
        assert_eq!(distance_km(a, a), 0.0);
        let q = distance_km(LatLon::new(0.0, 10.0), LatLon::new(90.0, 10.0));
        assert!((q - EARTH_RADIUS_KM * std::f64::consts::FRAC_PI_2).abs() < 1e-9);
    }

    #[test]
    fn a_degree_of_longitude_in_london_is_about_69_km() {
        let d = distance_km(LatLon::new(51.5, 0.0), LatLon::new(51.5, 1.0));
        assert!((d - 69.2).abs() < 0.2, "{d}");
    }

    #[test]
    fn the_cap_bbox_holds_every_point_of_the_circle() {
        // Twin: walk the circle's boundary by bisection on each bearing and check each
        // point found lies in the box, and that the box is tight (touched within 0.1 %).
        let mut rng = Prng::new(7);
        for _ in 0..40 {
            let c = LatLon::new(rng.unit() * 140.0 - 70.0, rng.unit() * 300.0 - 150.0);
            let r = 0.1 + rng.unit() * 50.0;
            let b = cap_bbox(c, r);
            let mut reach = [0.0f64; 4];
            for i in 0..360 {
                let t = rad(f64::from(i));
                // The point at distance r along bearing t, by bisection on the step length.
                let (mut lo, mut hi) = (0.0, 2.0 * r / 110.0 + 1.0);
                for _ in 0..60 {
                    let mid = (lo + hi) / 2.0;
                    let q = LatLon::new(c.lat + mid * libm::cos(t), c.lon + mid * libm::sin(t) / libm::cos(rad(c.lat)));
                    if distance_km(c, q) < r {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let q = LatLon::new(c.lat + lo * libm::cos(t), c.lon + lo * libm::sin(t) / libm::cos(rad(c.lat)));
                assert!(b.contains(q) || distance_km(c, q) > r, "{q:?} outside {b:?}");
                reach[0] = reach[0].max(c.lat - q.lat);
                reach[1] = reach[1].max(q.lat - c.lat);
                reach[2] = reach[2].max(c.lon - q.lon);
                reach[3] = reach[3].max(q.lon - c.lon);
            }
            assert!(reach[1] > (b.lat_max - c.lat) * 0.999 && reach[3] > (b.lon_max - c.lon) * 0.99, "{reach:?} {b:?}");
        }
    }

    #[test]
    fn min_distance_is_a_tight_lower_bound_against_a_dense_grid() {
        // Twin: the least distance to a 300 × 300 grid of points of the rectangle (edges
        // included) is never below the bound, and exceeds it by at most one grid step.
        let mut rng = Prng::new(11);
        for _ in 0..60 {
            let lat0 = rng.unit() * 120.0 - 60.0;
            let lon0 = rng.unit() * 200.0 - 100.0;
            let (h, w) = (0.01 + rng.unit() * 3.0, 0.01 + rng.unit() * 3.0);
            let r = Rect { lat_min: lat0, lat_max: lat0 + h, lon_min: lon0, lon_max: lon0 + w };
            let p = LatLon::new(lat0 + (rng.unit() * 5.0 - 2.0) * h, lon0 + (rng.unit() * 5.0 - 2.0) * w);
            let bound = min_distance_km(p, &r);
            let n = 300;
            let mut best = f64::INFINITY;
            for i in 0..=n {
                for j in 0..=n {
                    let q = LatLon::new(lat0 + h * f64::from(i) / f64::from(n), lon0 + w * f64::from(j) / f64::from(n));
                    best = best.min(distance_km(p, q));
                }
            }
            let step = distance_km(LatLon::new(lat0, lon0), LatLon::new(lat0 + h / 300.0, lon0 + w / 300.0));
            assert!(bound <= best + 1e-9, "bound {bound} above the grid's {best} for {p:?} {r:?}");
            assert!(best - bound <= step, "bound {bound} far below {best} for {p:?} {r:?}");
        }
    }

    #[test]
    fn clamping_into_the_rectangle_overestimates_and_this_bound_does_not() {
        // 60° north, the rectangle 1° to the east: the nearest point is poleward.
        let p = LatLon::new(60.0, 0.0);
        let r = Rect { lat_min: 59.0, lat_max: 61.0, lon_min: 1.0, lon_max: 2.0 };
        let clamped = distance_km(p, LatLon::new(60.0, 1.0));
        let exact = min_distance_km(p, &r);
        assert!(exact < clamped, "{exact} vs {clamped}");
    }
}
