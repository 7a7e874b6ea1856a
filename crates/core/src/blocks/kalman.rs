//! A constant-velocity Kalman filter for smoothing noisy GPS fixes (R. E. Kalman, "A new
//! approach to linear filtering and prediction problems", 1960; the white-noise-
//! acceleration model of Bar-Shalom, Li & Kirubarajan, "Estimation with Applications to
//! Tracking and Navigation", 2001, §6.2), one filter per axis, with innovation gating and
//! track confirmation.
//!
//! Why a filter and not the raw fix: a phone's fix is the true position plus noise (tens
//! of metres in the open, hundreds in an urban canyon) and now and then a multipath
//! outlier a kilometre off that still claims good accuracy. The filter weighs each fix by
//! the accuracy the phone reports against what its motion model predicts, so noise
//! averages out; a fix whose innovation is improbable under both (the squared Mahalanobis
//! distance past a chi-square gate) is rejected instead of yanking the estimate. When two
//! rejected fixes in a row agree with each other (within their accuracies and the
//! distance a vehicle can cover between them) the model, not the phone, was wrong (a sharp
//! turn, a long gap) and the track restarts at the newer one; two rejected fixes that do
//! not agree are outliers and restart nothing. This is M-of-N track initiation: one lying
//! fix can neither start a track nor move one. A track counts as confirmed only after a
//! few consistent *informative* fixes (ones with a real say in the estimate): a fix
//! claiming an accuracy of hundreds of metres is accepted by a wide gate but confirms
//! nothing, so an urban-canyon burst cannot vouch for a track started at an outlier.
//!
//! With no process noise and a diffuse prior the filter is recursive least squares: its
//! estimate equals the least-squares straight-line fit through the fixes (tested below
//! against the normal equations).

/// One axis: position and velocity, and their covariance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub x: f64,
    pub v: f64,
    /// Covariance [[p00, p01], [p01, p11]].
    pub p: [f64; 3],
}

impl Axis {
    /// Starts at `x` with variance `var` and an unknown velocity (variance `var_v`).
    pub fn new(x: f64, var: f64, var_v: f64) -> Axis {
        Axis { x, v: 0.0, p: [var, 0.0, var_v] }
    }

    /// Moves the state `dt` seconds ahead under white-noise acceleration of spectral
    /// density `q` (m²/s³).
    pub fn predict(&mut self, dt: f64, q: f64) {
        let [p00, p01, p11] = self.p;
        self.x += self.v * dt;
        let (dt2, dt3) = (dt * dt, dt * dt * dt);
        self.p = [p00 + 2.0 * dt * p01 + dt2 * p11 + q * dt3 / 3.0, p01 + dt * p11 + q * dt2 / 2.0, p11 + q * dt];
    }

    /// The innovation of a measurement `z` with variance `r`, and its variance.
    pub fn innovation(&self, z: f64, r: f64) -> (f64, f64) {
        (z - self.x, self.p[0] + r)
    }

    /// Folds in a measurement `z` with variance `r` (Joseph-free form: the covariance of
    /// a scalar update stays symmetric by construction here).
    pub fn update(&mut self, z: f64, r: f64) {
        let (nu, s) = self.innovation(z, r);
        let [p00, p01, p11] = self.p;
        let (k0, k1) = (p00 / s, p01 / s);
        self.x += k0 * nu;
        self.v += k1 * nu;
        self.p = [(1.0 - k0) * p00, (1.0 - k0) * p01, p11 - k1 * p01];
    }
}

/// Settings of a 2-D track.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrackCfg {
    /// Process noise spectral density, m²/s³ (how hard the vehicle may accelerate/turn).
    pub q: f64,
    /// Gate on the squared Mahalanobis distance of a fix (2 degrees of freedom: 13.8 is
    /// the 99.9 % point of chi-square).
    pub gate: f64,
    /// Consecutive rejected fixes, the last two agreeing, after which the track restarts
    /// at the newest one.
    pub max_rejects: u32,
    /// Least Kalman gain on position for an accepted fix to count toward confirmation.
    pub min_gain: f64,
    /// Accepted fixes before a track is confirmed.
    pub confirm: u32,
    /// Initial velocity variance, (m/s)².
    pub var_v: f64,
}

impl Default for TrackCfg {
    fn default() -> Self {
        TrackCfg { q: 16.0, gate: 13.8, max_rejects: 2, min_gain: 0.1, confirm: 3, var_v: 400.0 }
    }
}

/// What a fix did to a track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Started,
    Accepted,
    Rejected,
    Restarted,
}

/// A 2-D constant-velocity track (x east, y north, metres; time in seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Track {
    pub ax: Axis,
    pub ay: Axis,
    /// Time of the state, s.
    pub t: f64,
    /// Informative fixes folded in since the track (re)started.
    pub accepted: u32,
    pub rejects: u32,
    /// The last rejected fix `(t, x, y, r)`, while rejections run.
    pub pending: Option<(f64, f64, f64, f64)>,
}

impl Track {
    pub fn start(t: f64, z: (f64, f64), r: f64, cfg: &TrackCfg) -> Track {
        Track {
            ax: Axis::new(z.0, r, cfg.var_v),
            ay: Axis::new(z.1, r, cfg.var_v),
            t,
            accepted: 1,
            rejects: 0,
            pending: None,
        }
    }

    pub fn confirmed(&self, cfg: &TrackCfg) -> bool {
        self.accepted >= cfg.confirm
    }

    /// Folds in a fix `z` taken at `t` with variance `r` (the phone's reported accuracy,
    /// squared): predict to `t`, gate, update or reject.
    pub fn step(&mut self, t: f64, z: (f64, f64), r: f64, cfg: &TrackCfg) -> Outcome {
        let dt = (t - self.t).max(0.0);
        let (mut ax, mut ay) = (self.ax, self.ay);
        ax.predict(dt, cfg.q);
        ay.predict(dt, cfg.q);
        let (nx, sx) = ax.innovation(z.0, r);
        let (ny, sy) = ay.innovation(z.1, r);
        if nx * nx / sx + ny * ny / sy > cfg.gate {
            let agrees = self.pending.is_some_and(|p| Self::agree(p, (t, z.0, z.1, r), cfg));
            self.rejects = if self.pending.is_none() || agrees { self.rejects + 1 } else { 1 };
            if self.rejects >= cfg.max_rejects && agrees {
                *self = Track::start(t, z, r, cfg);
                return Outcome::Restarted;
            }
            self.pending = Some((t, z.0, z.1, r));
            return Outcome::Rejected;
        }
        let informative = ax.p[0] / (ax.p[0] + r) >= cfg.min_gain;
        ax.update(z.0, r);
        ay.update(z.1, r);
        let accepted = self.accepted + u32::from(informative);
        *self = Track { ax, ay, t, accepted, rejects: 0, pending: None };
        Outcome::Accepted
    }

    /// Whether two fixes could both be true: per axis, their gap is within the gate given
    /// both accuracies and a vehicle's plausible speed (`var_v`) over the time between.
    fn agree(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64), cfg: &TrackCfg) -> bool {
        let dt = (b.0 - a.0).abs();
        let s = a.3 + b.3 + cfg.var_v * dt * dt;
        let (dx, dy) = (b.1 - a.1, b.2 - a.2);
        (dx * dx + dy * dy) / s <= cfg.gate
    }

    /// The standard deviation of the position estimate, metres (the larger axis).
    pub fn sd_m(&self) -> f64 {
        libm::sqrt(self.ax.p[0].max(self.ay.p[0]))
    }

    /// The estimated position at `t` (dead reckoning from the last state).
    pub fn at(&self, t: f64) -> (f64, f64) {
        let dt = (t - self.t).max(0.0);
        (self.ax.x + self.ax.v * dt, self.ay.x + self.ay.v * dt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    /// Weighted least-squares line `x(t) = a + b·t` through `(t, z, r)` by the normal
    /// equations: the brute-force twin of a filter with no process noise.
    fn line_fit(pts: &[(f64, f64, f64)]) -> (f64, f64) {
        let (mut s, mut st, mut stt, mut sz, mut stz) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(t, z, r) in pts {
            let w = 1.0 / r;
            s += w;
            st += w * t;
            stt += w * t * t;
            sz += w * z;
            stz += w * t * z;
        }
        let det = s * stt - st * st;
        ((stt * sz - st * stz) / det, (s * stz - st * sz) / det)
    }

    #[test]
    fn without_process_noise_it_is_the_least_squares_line() {
        let mut rng = Prng::new(5);
        for case in 0..200 {
            let n = 2 + rng.below(20) as usize;
            let (a, b) = (rng.unit() * 1_000.0, rng.unit() * 30.0 - 15.0);
            let mut t = 0.0;
            let mut pts = Vec::new();
            for _ in 0..n {
                t += 0.2 + rng.unit();
                let r = 25.0 + rng.unit() * 900.0;
                pts.push((t, a + b * t + (rng.unit() - 0.5) * 80.0, r));
            }
            // A diffuse prior: the first fix with an enormous variance.
            let mut ax = Axis::new(0.0, 1e12, 1e12);
            let mut last = 0.0;
            for &(t, z, r) in &pts {
                ax.predict(t - last, 0.0);
                ax.update(z, r);
                last = t;
            }
            let (fa, fb) = line_fit(&pts);
            let want = fa + fb * last;
            assert!((ax.x - want).abs() < 1e-3, "case {case}: filter {} vs least squares {want}", ax.x);
            assert!((ax.v - fb).abs() < 1e-4, "case {case}: velocity {} vs slope {fb}", ax.v);
        }
    }

    #[test]
    fn a_hand_worked_step() {
        // x = 0, v = 10, P = diag(100, 25); 1 s later with q = 0: x = 10,
        // P = [[100 + 25, 25], [25, 25]]. A fix z = 20 with r = 125: S = 250, K = (0.5, 0.1),
        // x = 15, v = 11, P = [[62.5, 12.5], [12.5, 22.5]].
        let mut ax = Axis { x: 0.0, v: 10.0, p: [100.0, 0.0, 25.0] };
        ax.predict(1.0, 0.0);
        assert_eq!((ax.x, ax.p), (10.0, [125.0, 25.0, 25.0]));
        ax.update(20.0, 125.0);
        assert!((ax.x - 15.0).abs() < 1e-12 && (ax.v - 11.0).abs() < 1e-12);
        assert!((ax.p[0] - 62.5).abs() < 1e-12 && (ax.p[1] - 12.5).abs() < 1e-12 && (ax.p[2] - 22.5).abs() < 1e-12);
    }

    #[test]
    fn an_outlier_is_gated_and_a_lost_track_restarts() {
        let cfg = TrackCfg::default();
        let r = 30.0 * 30.0;
        let mut tr = Track::start(0.0, (0.0, 0.0), r, &cfg);
        for i in 1..10 {
            assert_eq!(tr.step(f64::from(i), (10.0 * f64::from(i), 0.0), r, &cfg), Outcome::Accepted);
        }
        assert!(tr.confirmed(&cfg));
        // A fix 1 km off is refused and the estimate does not move.
        let before = tr.at(10.0);
        assert_eq!(tr.step(10.0, (1_100.0, 0.0), r, &cfg), Outcome::Rejected);
        assert_eq!(tr.at(10.0), before);
        assert!((before.0 - 100.0).abs() < 15.0);
        // A good fix next is taken (and clears the count of refusals).
        assert_eq!(tr.step(11.0, (110.0, 0.0), r, &cfg), Outcome::Accepted);
        // The vehicle really is elsewhere: after `max_rejects` refusals the track restarts.
        assert_eq!(tr.step(12.0, (5_000.0, 0.0), r, &cfg), Outcome::Rejected);
        assert_eq!(tr.step(13.0, (5_010.0, 0.0), r, &cfg), Outcome::Restarted);
        assert!(!tr.confirmed(&cfg));
        assert_eq!(tr.at(13.0), (5_010.0, 0.0));
    }

    #[test]
    fn two_disagreeing_rejects_restart_nothing() {
        let cfg = TrackCfg::default();
        let r = 25.0 * 25.0;
        let mut tr = Track::start(0.0, (0.0, 0.0), r, &cfg);
        for i in 1..10 {
            tr.step(f64::from(i), (10.0 * f64::from(i), 0.0), r, &cfg);
        }
        // The vehicle was really elsewhere (a parallel street the track confused it with),
        // then a multipath outlier a kilometre off follows: the two rejected fixes do not
        // agree, so the track is not restarted at the outlier.
        assert_eq!(tr.step(10.0, (100.0, 400.0), r, &cfg), Outcome::Rejected);
        assert_eq!(tr.step(11.0, (1_200.0, -900.0), r, &cfg), Outcome::Rejected);
        assert!(tr.confirmed(&cfg));
        assert!(tr.at(11.0).0 < 200.0, "{:?}", tr.at(11.0));
        // Two true fixes in a row agree with each other: the track restarts there.
        assert_eq!(tr.step(12.0, (100.0, 420.0), r, &cfg), Outcome::Rejected);
        assert_eq!(tr.step(13.0, (100.0, 430.0), r, &cfg), Outcome::Restarted);
        assert_eq!(tr.at(13.0), (100.0, 430.0));
    }

    #[test]
    fn wide_fixes_do_not_confirm_a_track() {
        let cfg = TrackCfg::default();
        // Started at a fix claiming 25 m, then fixes claiming 250 m, 600 m away: the gate
        // is wide enough to take them, but each moves the estimate a few percent.
        let mut tr = Track::start(0.0, (0.0, 0.0), 625.0, &cfg);
        for i in 1..4 {
            assert_eq!(tr.step(f64::from(i), (600.0, 0.0), 62_500.0, &cfg), Outcome::Accepted);
        }
        assert!(!tr.confirmed(&cfg), "burst fixes vouched for a track: {tr:?}");
        // Informative fixes confirm it.
        let mut ok = Track::start(0.0, (0.0, 0.0), 625.0, &cfg);
        for i in 1..3 {
            assert_eq!(ok.step(f64::from(i), (0.0, 0.0), 625.0, &cfg), Outcome::Accepted);
        }
        assert!(ok.confirmed(&cfg));
        assert!(ok.sd_m() < 25.0);
    }
}
