//! A leader lease with epochs and the fencing tokens built on it: the shape etcd leases,
//! ZooKeeper sessions and Chubby's sequencers give a scheduler that must be the only one
//! dispatching. The lease is judged on the granting store's own clock; every new term
//! takes the next epoch from a counter the store keeps durably, so epochs only grow, and a
//! token `epoch << 32 | n` (the term's n-th grant of work) is larger than any token of an
//! earlier term. A resource that refuses writes carrying a token lower than the highest it
//! has seen is safe from a holder that lost its lease without knowing it (Kleppmann, "How
//! to do distributed locking", 2016; Burrows, "The Chubby lock service", OSDI 2006, §2.4).
//!
//! Written for the task scheduler; the cron scheduler's coordinator uses it too.

use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;

/// The live term: who holds it, its epoch, and when it runs out on the store's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub holder: NodeId,
    pub epoch: u64,
    pub until: SimTime,
}

/// What an acquire or renew got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// A new term (a new epoch) for the asker.
    Fresh(u64),
    /// The asker's own live term, extended.
    Renewed(u64),
    /// Someone else holds a live lease.
    Busy,
}

/// One named lease. `epoch` is durable (survives a crash of the store); the live lease is
/// memory and is dropped by `forget`.
#[derive(Clone, Debug)]
pub struct LeaseTable {
    pub ttl: SimDuration,
    pub epoch: u64,
    pub lease: Option<Lease>,
}

impl LeaseTable {
    pub fn new(ttl_ms: u64) -> LeaseTable {
        LeaseTable { ttl: SimDuration::from_ms(ttl_ms), epoch: 0, lease: None }
    }

    /// The lease if it is still live at `now` (store clock).
    pub fn live(&self, now: SimTime) -> Option<Lease> {
        self.lease.filter(|l| now < l.until)
    }

    /// `renew`: the asker believes it holds the lease. A live lease of the asker is
    /// extended only on a renewal (a fresh acquire from the holder means it restarted and
    /// lost its term); any other live lease makes the asker wait.
    pub fn acquire(&mut self, from: NodeId, renew: bool, now: SimTime) -> Grant {
        match self.live(now) {
            Some(l) if l.holder == from && renew => {
                self.lease = Some(Lease { until: now + self.ttl, ..l });
                Grant::Renewed(l.epoch)
            }
            Some(l) if l.holder != from => Grant::Busy,
            _ => {
                self.epoch += 1;
                self.lease = Some(Lease { holder: from, epoch: self.epoch, until: now + self.ttl });
                Grant::Fresh(self.epoch)
            }
        }
    }

    /// Whether `from` holds the live term `epoch` at `now`.
    pub fn holds(&self, from: NodeId, epoch: u64, now: SimTime) -> bool {
        self.live(now).is_some_and(|l| l.holder == from && l.epoch == epoch)
    }

    /// A crash of the store: the live lease was memory; the epoch counter was not.
    pub fn forget(&mut self) {
        self.lease = None;
    }
}

/// The `n`-th token of term `epoch`: larger than every token of an earlier term.
pub fn token(epoch: u64, n: u64) -> u64 {
    epoch << 32 | (n & 0xffff_ffff)
}

/// "e3.7": epoch 3, seventh token of that term; "none" for 0.
pub fn token_text(t: u64) -> String {
    if t == 0 {
        "none".into()
    } else {
        format!("e{}.{}", t >> 32, t & 0xffff_ffff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_get_growing_epochs_and_a_live_lease_excludes_others() {
        let mut t = LeaseTable::new(100);
        let at = SimTime::from_ms;
        assert_eq!(t.acquire(1, false, at(0)), Grant::Fresh(1));
        assert_eq!(t.acquire(2, false, at(50)), Grant::Busy);
        assert_eq!(t.acquire(1, true, at(90)), Grant::Renewed(1));
        assert!(t.holds(1, 1, at(150)));
        assert_eq!(t.acquire(2, false, at(150)), Grant::Busy, "renewed at 90: live until 190");
        assert_eq!(t.acquire(2, false, at(190)), Grant::Fresh(2));
        assert!(!t.holds(1, 1, at(191)));
        // A holder that restarted asks afresh: a new term, even while its lease is live.
        assert_eq!(t.acquire(2, false, at(200)), Grant::Fresh(3));
        t.forget();
        assert_eq!(t.acquire(1, false, at(201)), Grant::Fresh(4), "the epoch survives a crash");
        // Every token of a later term beats every token of an earlier one.
        assert!(token(2, 1) > token(1, u32::MAX as u64));
        assert_eq!(token_text(token(3, 7)), "e3.7");
    }
}
