//! A database's run queue, in two disciplines. FIFO serves requests in arrival order: a
//! tenant that sends ten times more gets ten times the server, and everyone behind it
//! waits. Fair queueing keeps one queue per tenant and serves them round-robin (deficit
//! round-robin with unit costs, Shreedhar & Varghese 1995, which for equal-cost requests
//! is plain round-robin over the non-empty queues): a tenant's wait depends on its own
//! backlog and the number of active tenants, not on how much the loudest one sends.
//!
//! Both are capped (per tenant and in total) so a flood is refused at the door instead of
//! growing memory.

use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Debug)]
pub struct RunQueue<T> {
    fair: bool,
    per_tenant_cap: usize,
    total_cap: usize,
    fifo: VecDeque<(u32, T)>,
    queues: BTreeMap<u32, VecDeque<T>>,
    /// The tenant served last (round-robin resumes after it).
    cursor: Option<u32>,
    len: usize,
}

impl<T> RunQueue<T> {
    pub fn new(fair: bool, per_tenant_cap: usize, total_cap: usize) -> RunQueue<T> {
        RunQueue {
            fair,
            per_tenant_cap,
            total_cap,
            fifo: VecDeque::new(),
            queues: BTreeMap::new(),
            cursor: None,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queued requests of one tenant.
    pub fn len_of(&self, tenant: u32) -> usize {
        if self.fair {
            self.queues.get(&tenant).map_or(0, VecDeque::len)
        } else {
            self.fifo.iter().filter(|(t, _)| *t == tenant).count()
        }
    }

    /// Queues `item` for `tenant`; gives it back when a cap is reached.
    pub fn push(&mut self, tenant: u32, item: T) -> Result<(), T> {
        if self.len >= self.total_cap {
            return Err(item);
        }
        if self.fair {
            let q = self.queues.entry(tenant).or_default();
            if q.len() >= self.per_tenant_cap {
                return Err(item);
            }
            q.push_back(item);
        } else {
            self.fifo.push_back((tenant, item));
        }
        self.len += 1;
        Ok(())
    }

    /// The next request to serve and its tenant.
    pub fn pop(&mut self) -> Option<(u32, T)> {
        if !self.fair {
            let out = self.fifo.pop_front();
            if out.is_some() {
                self.len -= 1;
            }
            return out;
        }
        let after = self.cursor.map_or(0, |c| c.saturating_add(1));
        let next = self
            .queues
            .range(after..)
            .chain(self.queues.range(..after))
            .find(|(_, q)| !q.is_empty())
            .map(|(t, _)| *t)?;
        let q = self.queues.get_mut(&next)?;
        let item = q.pop_front()?;
        if q.is_empty() {
            self.queues.remove(&next);
        }
        self.cursor = Some(next);
        self.len -= 1;
        Some((next, item))
    }

    /// Drops everything (a crash loses the queue).
    pub fn clear(&mut self) {
        self.fifo.clear();
        self.queues.clear();
        self.cursor = None;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round-robin against a brute-force twin: the tenants served, in order, are the
    /// non-empty queues visited cyclically from the one after the last served.
    #[test]
    fn fair_queue_serves_tenants_round_robin_and_fifo_in_arrival_order() {
        let arrivals = [(0u32, 1), (0, 2), (0, 3), (0, 4), (5, 10), (2, 20), (5, 11)];
        let mut fair = RunQueue::new(true, 10, 100);
        let mut fifo = RunQueue::new(false, 10, 100);
        for (t, x) in arrivals {
            fair.push(t, x).unwrap();
            fifo.push(t, x).unwrap();
        }
        let order: Vec<i32> = std::iter::from_fn(|| fair.pop().map(|(_, x)| x)).collect();
        assert_eq!(order, vec![1, 20, 10, 2, 11, 3, 4]);
        let order: Vec<i32> = std::iter::from_fn(|| fifo.pop().map(|(_, x)| x)).collect();
        assert_eq!(order, vec![1, 2, 3, 4, 10, 20, 11]);
    }

    #[test]
    fn caps_refuse_instead_of_growing() {
        let mut q = RunQueue::new(true, 2, 3);
        assert!(q.push(1, ()).is_ok() && q.push(1, ()).is_ok());
        assert!(q.push(1, ()).is_err(), "per-tenant cap");
        assert!(q.push(2, ()).is_ok());
        assert!(q.push(3, ()).is_err(), "total cap");
        assert_eq!(q.len(), 3);
    }
}
