//! The network between nodes: per-message latency drawn from a distribution, loss,
//! duplication, optional reordering, partitions (including one-way ones) and clogged
//! links. Links are FIFO by default, as TCP connections are; turning `fifo` off lets
//! jitter reorder messages, which is what datagrams and retried RPCs see.
//!
//! Routing is a pure function of the link state and the network's own random stream, so
//! adding a node's random draw never changes a delivery time.

use super::rng::Prng;
use super::time::{SimDuration, SimTime};
use super::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How long a message takes on a link.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Latency {
    Fixed {
        us: u64,
    },
    Uniform {
        min_us: u64,
        max_us: u64,
    },
    /// A floor plus an exponential tail: the usual shape of datacentre RPC latency.
    Exponential {
        base_us: u64,
        mean_extra_us: u64,
    },
}

impl Latency {
    pub fn sample(&self, rng: &mut Prng) -> SimDuration {
        match *self {
            Latency::Fixed { us } => SimDuration(us),
            Latency::Uniform { min_us, max_us } => SimDuration(rng.between(min_us, max_us)),
            Latency::Exponential {
                base_us,
                mean_extra_us,
            } => SimDuration(base_us + rng.exponential(mean_extra_us as f64) as u64),
        }
    }

    /// Typical one-way latency in microseconds (for back-of-the-envelope figures).
    pub fn mean_us(&self) -> f64 {
        match *self {
            Latency::Fixed { us } => us as f64,
            Latency::Uniform { min_us, max_us } => (min_us + max_us) as f64 / 2.0,
            Latency::Exponential {
                base_us,
                mean_extra_us,
            } => (base_us + mean_extra_us) as f64,
        }
    }
}

/// Behaviour of a directed link.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkConfig {
    pub latency: Latency,
    pub loss: f64,
    pub duplicate: f64,
    pub fifo: bool,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency: Latency::Exponential {
                base_us: 500,
                mean_extra_us: 200,
            },
            loss: 0.0,
            duplicate: 0.0,
            fifo: true,
        }
    }
}

/// Why a message never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    Partition,
    Loss,
    NodeDown,
}

/// The fate of one sent message: up to two arrival times (two when duplicated).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Route {
    Dropped(DropReason),
    Arrives(SimTime, Option<SimTime>),
}

/// Link state for a world of `n` nodes.
#[derive(Clone)]
pub struct Network {
    n: usize,
    default: LinkConfig,
    overrides: BTreeMap<(NodeId, NodeId), LinkConfig>,
    blocked: BTreeSet<(NodeId, NodeId)>,
    clogged: BTreeMap<(NodeId, NodeId), SimDuration>,
    extra_loss: f64,
    /// Last arrival time per directed link, row-major `from * n + to`, for FIFO links.
    last_arrival: Vec<SimTime>,
    rng: Prng,
}

impl Network {
    pub fn new(n: usize, default: LinkConfig, rng: Prng) -> Network {
        Network {
            n,
            default,
            overrides: BTreeMap::new(),
            blocked: BTreeSet::new(),
            clogged: BTreeMap::new(),
            extra_loss: 0.0,
            last_arrival: vec![SimTime::ZERO; n * n],
            rng,
        }
    }

    pub fn default_link(&self) -> LinkConfig {
        self.default
    }

    /// Gives one directed link its own behaviour (say, a cross-region hop).
    pub fn set_link(&mut self, from: NodeId, to: NodeId, cfg: LinkConfig) {
        self.overrides.insert((from, to), cfg);
    }

    pub fn link(&self, from: NodeId, to: NodeId) -> LinkConfig {
        if self.overrides.is_empty() {
            return self.default;
        }
        self.overrides
            .get(&(from, to))
            .copied()
            .unwrap_or(self.default)
    }

    pub fn block(&mut self, from: NodeId, to: NodeId) {
        self.blocked.insert((from, to));
    }

    pub fn heal(&mut self) {
        self.blocked.clear();
    }

    pub fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        !self.blocked.is_empty() && self.blocked.contains(&(from, to))
    }

    pub fn has_partitions(&self) -> bool {
        !self.blocked.is_empty()
    }

    pub fn clog(&mut self, from: NodeId, to: NodeId, extra: SimDuration) {
        self.clogged.insert((from, to), extra);
    }

    pub fn unclog(&mut self, from: NodeId, to: NodeId) {
        self.clogged.remove(&(from, to));
    }

    pub fn clog_of(&self, from: NodeId, to: NodeId) -> Option<SimDuration> {
        if self.clogged.is_empty() {
            None
        } else {
            self.clogged.get(&(from, to)).copied()
        }
    }

    pub fn set_loss(&mut self, rate: f64) {
        self.extra_loss = rate.clamp(0.0, 1.0);
    }

    /// Decides when (and whether) a message sent now from `from` to `to` arrives.
    pub fn route(&mut self, now: SimTime, from: NodeId, to: NodeId) -> Route {
        if from == to {
            return Route::Arrives(now, None);
        }
        if self.is_blocked(from, to) {
            return Route::Dropped(DropReason::Partition);
        }
        let cfg = self.link(from, to);
        let loss = cfg.loss.max(self.extra_loss);
        if loss > 0.0 && self.rng.chance(loss) {
            return Route::Dropped(DropReason::Loss);
        }
        let first = self.arrival(now, from, to, &cfg);
        let second = if cfg.duplicate > 0.0 && self.rng.chance(cfg.duplicate) {
            Some(self.arrival(now, from, to, &cfg))
        } else {
            None
        };
        Route::Arrives(first, second)
    }

    fn arrival(&mut self, now: SimTime, from: NodeId, to: NodeId, cfg: &LinkConfig) -> SimTime {
        let mut at = now + cfg.latency.sample(&mut self.rng);
        if let Some(extra) = self.clog_of(from, to) {
            at += extra;
        }
        if cfg.fifo {
            let slot = from as usize * self.n + to as usize;
            if let Some(last) = self.last_arrival.get_mut(slot) {
                if at < *last {
                    at = *last;
                }
                *last = at;
            }
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> Network {
        Network::new(3, LinkConfig::default(), Prng::new(9))
    }

    #[test]
    fn one_way_partition_blocks_one_direction() {
        let mut n = net();
        n.block(0, 1);
        assert_eq!(
            n.route(SimTime::ZERO, 0, 1),
            Route::Dropped(DropReason::Partition)
        );
        assert!(matches!(n.route(SimTime::ZERO, 1, 0), Route::Arrives(..)));
        n.heal();
        assert!(matches!(n.route(SimTime::ZERO, 0, 1), Route::Arrives(..)));
    }

    #[test]
    fn fifo_links_never_reorder() {
        let mut n = net();
        let mut last = SimTime::ZERO;
        for t in 0..500 {
            if let Route::Arrives(at, _) = n.route(SimTime(t), 0, 2) {
                assert!(at >= last);
                last = at;
            }
        }
    }

    #[test]
    fn non_fifo_links_reorder_under_jitter() {
        let cfg = LinkConfig {
            fifo: false,
            ..LinkConfig::default()
        };
        let mut n = Network::new(2, cfg, Prng::new(1));
        let arrivals: Vec<SimTime> = (0..200)
            .filter_map(|t| match n.route(SimTime(t * 10), 0, 1) {
                Route::Arrives(at, _) => Some(at),
                Route::Dropped(_) => None,
            })
            .collect();
        assert!(
            arrivals.windows(2).any(|w| w[1] < w[0]),
            "expected some reordering"
        );
    }

    #[test]
    fn clog_adds_delay_and_loss_drops() {
        let mut n = net();
        n.clog(0, 1, SimDuration::from_ms(100));
        match n.route(SimTime::ZERO, 0, 1) {
            Route::Arrives(at, _) => assert!(at >= SimTime::from_ms(100)),
            other => panic!("{other:?}"),
        }
        n.set_loss(1.0);
        assert_eq!(
            n.route(SimTime::ZERO, 1, 0),
            Route::Dropped(DropReason::Loss)
        );
    }
}
