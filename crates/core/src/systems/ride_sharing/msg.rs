//! Messages and observations of ride-sharing. Three conversations: drivers' phones stream
//! GPS fixes (with their trip status) to the location service, which dispatches reserved
//! trips back to them; the location service publishes the available supply to the
//! matchers, which reserve drivers for riders; riders' apps ask a matcher for a ride.
//!
//! The checks get their facts where they arise: the fleet reports every driver's TRUE
//! position each tick (the simulator knows it; the location service only sees noisy
//! fixes), and each dispatch and drop-off as the phone sees it; riders report when they
//! asked and what they were told, with the surge price quoted; matchers report each
//! matching decision with the riders and candidate drivers it chose among.

use super::city::Xy;
use crate::blocks::geohash::Cell;
use crate::sim::node::Message;
use std::hash::{Hash, Hasher};

/// Where a trip is, as the phone reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// Driving to the pickup corner.
    Arriving,
    /// Carrying the rider to the drop-off.
    OnTrip,
}

/// One GPS fix as a phone sends it: a position it believes, the accuracy it claims
/// (metres, one standard deviation), and what the driver is doing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fix {
    pub driver: u32,
    pub at: Xy,
    pub acc_m: f64,
    /// The trip in hand: (rider, reservation epoch, phase).
    pub trip: Option<(u64, u64, Phase)>,
    /// The last trip finished: (rider, epoch).
    pub done: Option<(u64, u64)>,
}

impl Hash for Fix {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.driver.hash(h);
        self.at.hash(h);
        self.acc_m.to_bits().hash(h);
        self.trip.hash(h);
        self.done.hash(h);
    }
}

/// A driver the location service offers: its estimated position and the epoch a
/// reservation must quote.
#[derive(Clone, Copy, Debug, PartialEq, Hash)]
pub struct Avail {
    pub driver: u32,
    pub at: Xy,
    pub epoch: u64,
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    /// Fleet → location: this tick's fixes.
    Fixes { fixes: Vec<Fix> },
    /// Location → fleet: `driver`, pick `rider` up at `pickup` (resent until the phone
    /// reports the trip).
    Dispatch { driver: u32, rider: u64, epoch: u64, pickup: Xy },
    /// Location → matcher: every driver it would dispatch now.
    Supply { drivers: Vec<Avail> },
    /// Matcher → location: give `driver` to `rider`. `blind`: write it whatever the
    /// driver's state (no compare-and-set on the epoch).
    Reserve { rider: u64, driver: u32, epoch: u64, pickup: Xy, blind: bool },
    /// Location → matcher: the rider's driver (`ok: false`: the reservation lost a race).
    Reserved { rider: u64, driver: u32, ok: bool },
    /// Riders → matcher: a ride from `at`, first asked at `since` (µs).
    Request { rider: u64, at: Xy, since_us: u64 },
    /// Matcher → riders: a driver, or `None` (no driver near), and the surge multiplier
    /// quoted (thousandths).
    Answer { rider: u64, driver: Option<u32>, surge_milli: u32 },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Fixes { fixes } => format!("{} fixes", fixes.len()),
            Msg::Dispatch { driver, rider, .. } => format!("d{driver} → pick up r{rider}"),
            Msg::Supply { drivers } => format!("{} available", drivers.len()),
            Msg::Reserve { rider, driver, epoch, blind, .. } => {
                if *blind {
                    format!("assign d{driver} to r{rider}")
                } else {
                    format!("reserve d{driver}@{epoch} for r{rider}")
                }
            }
            Msg::Reserved { rider, driver, ok } => format!("r{rider}: d{driver} {}", if *ok { "ok" } else { "taken" }),
            Msg::Request { rider, .. } => format!("r{rider} wants a ride"),
            Msg::Answer { rider, driver: Some(d), surge_milli } => {
                format!("r{rider}: d{d} ×{:.2}", f64::from(*surge_milli) / 1_000.0)
            }
            Msg::Answer { rider, driver: None, .. } => format!("r{rider}: no driver"),
        }
    }
}

/// What nodes report to the checks.
#[derive(Clone, Debug)]
pub enum Obs {
    /// Every driver's true position this tick (index = driver id).
    Truth { at: Vec<Xy> },
    /// A phone received a dispatch to `rider` (first receipt).
    Dispatched { driver: u32, rider: u64 },
    /// A phone dropped `rider` off.
    Freed { driver: u32, rider: u64 },
    /// A rider asked for a ride (first attempt), in surge cell `cell`.
    Requested { rider: u64, cell: Cell },
    /// A rider's first answer: a driver or none, and the multiplier quoted for `cell`.
    Answered { rider: u64, driver: Option<u32>, cell: Cell, surge_milli: u32 },
    /// A matcher's decision: the riders it matched among, the drivers it could choose
    /// from, and the pairs it chose.
    Batch { shard: u32, riders: Vec<(u64, Xy)>, candidates: Vec<u32>, pairs: Vec<(u64, u32)> },
}
