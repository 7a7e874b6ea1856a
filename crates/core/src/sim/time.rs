//! Virtual time. Every instant in a run is a `SimTime` counted in microseconds from the
//! start of the run; nothing in core ever reads a wall clock, so a run is a pure function
//! of its scenario. `u64` microseconds last 584,000 years, far past any event budget.

use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign, Sub};

/// A point in virtual time, in microseconds since the run started.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

/// A span of virtual time, in microseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_ms(ms: u64) -> SimTime {
        SimTime(ms.saturating_mul(1_000))
    }
    pub const fn micros(self) -> u64 {
        self.0
    }
    pub fn as_ms(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
    /// Time elapsed since `earlier`, or zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_us(us: u64) -> SimDuration {
        SimDuration(us)
    }
    pub const fn from_ms(ms: u64) -> SimDuration {
        SimDuration(ms.saturating_mul(1_000))
    }
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s.saturating_mul(1_000_000))
    }
    /// Rounds a floating-point millisecond count to the nearest microsecond (negative → 0).
    pub fn from_ms_f64(ms: f64) -> SimDuration {
        if ms.is_finite() && ms > 0.0 {
            SimDuration((ms * 1_000.0).round() as u64)
        } else {
            SimDuration(0)
        }
    }
    pub const fn micros(self) -> u64 {
        self.0
    }
    pub fn as_ms(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, rhs: SimTime) -> SimDuration {
        self.since(rhs)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl std::fmt::Display for SimTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}ms", self.0 / 1_000, self.0 % 1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX + SimDuration::from_ms(1), SimTime::MAX);
        assert_eq!(SimTime(5).since(SimTime(9)), SimDuration::ZERO);
        assert_eq!(SimDuration::from_ms_f64(-3.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_ms_f64(1.2345), SimDuration(1_235));
        assert_eq!(SimTime::from_ms(12).to_string(), "12.000ms");
    }
}
