//! One cache node's memory: a bounded map of entries under one of three eviction
//! policies — LRU (the shared [`Lru`] block), LFU (the [`Lfu`] block) or "TTL" (the
//! [`TtlMap`] block: evict the entry closest to expiry, like Redis' `volatile-ttl`).
//! Expiry itself is judged by the node, on its own clock; an expired entry keeps its slot
//! until it is reloaded or evicted.

use super::config::Eviction;
use crate::blocks::lfu::Lfu;
use crate::blocks::lru::Lru;
use crate::blocks::ttl_map::TtlMap;
use crate::sim::time::SimTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub val: u64,
    /// Local-clock instant the entry stops being served.
    pub expires: SimTime,
    /// How long the last load took (µs): XFetch's Δ.
    pub delta_us: u64,
    /// Acknowledged to a writer but not yet in the database (write-back).
    pub dirty: bool,
}

#[derive(Clone, Debug)]
pub enum Store {
    Lru(Lru<u64, Entry>),
    Lfu(Lfu<u64, Entry>),
    Ttl(TtlMap<u64, Entry>),
}

impl Store {
    pub fn new(eviction: Eviction, cap: usize) -> Store {
        match eviction {
            Eviction::Lru => Store::Lru(Lru::new(cap)),
            Eviction::Lfu => Store::Lfu(Lfu::new(cap)),
            Eviction::Ttl => Store::Ttl(TtlMap::new(cap)),
        }
    }

    /// Looks up and counts a use.
    pub fn get(&mut self, key: u64) -> Option<Entry> {
        match self {
            Store::Lru(s) => s.get(&key).copied(),
            Store::Lfu(s) => s.get(&key).copied(),
            Store::Ttl(s) => s.get(&key).copied(),
        }
    }

    pub fn peek(&self, key: u64) -> Option<Entry> {
        match self {
            Store::Lru(s) => s.peek(&key).copied(),
            Store::Lfu(s) => s.peek(&key).copied(),
            Store::Ttl(s) => s.get(&key).copied(),
        }
    }

    /// Inserts or replaces; returns what was evicted to make room.
    pub fn put(&mut self, key: u64, e: Entry) -> Option<(u64, Entry)> {
        match self {
            Store::Lru(s) => s.put(key, e),
            Store::Lfu(s) => s.put(key, e),
            Store::Ttl(s) => s.put(key, e.expires.0, e),
        }
    }

    pub fn remove(&mut self, key: u64) -> Option<Entry> {
        match self {
            Store::Lru(s) => s.remove(&key),
            Store::Lfu(s) => s.remove(&key),
            Store::Ttl(s) => s.remove(&key),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Store::Lru(s) => s.len(),
            Store::Lfu(s) => s.len(),
            Store::Ttl(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&mut self) {
        match self {
            Store::Lru(s) => s.clear(),
            Store::Lfu(s) => s.clear(),
            Store::Ttl(s) => s.clear(),
        }
    }
}

/// Hit ratios of the three policies on an independent-reference (IRM) Zipf stream, next
/// to what theory predicts for each.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;
    use crate::sim::workload::KeySampler;

    const KEYS: u64 = 1_000;
    const CAP: usize = 100;
    /// Zipf exponent of the stream (web and CDN traces fit roughly 0.6–1.0).
    const ZIPF_S: f64 = 0.9;
    const WARM_UP: u64 = 50_000;
    const REQUESTS: u64 = 300_000;

    /// Plays the stream against one policy: a hit is any entry still held (TTLs are set
    /// so far out that only eviction removes entries), a miss loads the key. Every load
    /// gets the same TTL, so the TTL policy's "expires soonest" is "loaded longest ago".
    fn hit_ratio(eviction: Eviction) -> f64 {
        let sampler = KeySampler::new(KEYS, ZIPF_S);
        let mut rng = Prng::new(7).fork("irm");
        let mut store = Store::new(eviction, CAP);
        let (mut hits, mut counted) = (0u64, 0u64);
        for t in 0..WARM_UP + REQUESTS {
            let key = sampler.sample(&mut rng);
            let hit = store.get(key).is_some();
            if !hit {
                let e = Entry { val: 0, expires: SimTime(t + 1_000_000_000), delta_us: 0, dirty: false };
                store.put(key, e);
            }
            if t >= WARM_UP {
                counted += 1;
                hits += u64::from(hit);
            }
        }
        hits as f64 / counted as f64
    }

    fn popularity() -> Vec<f64> {
        let w: Vec<f64> = (1..=KEYS).map(|i| libm::pow(i as f64, -ZIPF_S)).collect();
        let total: f64 = w.iter().sum();
        w.into_iter().map(|x| x / total).collect()
    }

    /// Solves `occupancy(T) = CAP` for the characteristic time T by bisection, then
    /// returns the request-weighted hit probability `Σ p·h(p·T)`.
    fn characteristic(p: &[f64], h: impl Fn(f64) -> f64) -> f64 {
        let (mut lo, mut hi) = (0.0f64, 1e12f64);
        for _ in 0..200 {
            let t = (lo + hi) / 2.0;
            if p.iter().map(|&x| h(x * t)).sum::<f64>() > CAP as f64 {
                hi = t;
            } else {
                lo = t;
            }
        }
        p.iter().map(|&x| x * h(x * lo)).sum()
    }

    /// Theory, for IRM traffic:
    /// - the best any cache can do with fixed contents is to hold the CAP most popular keys
    ///   (Coffman & Denning's A0). "Perfect" LFU, whose counts outlive eviction, converges
    ///   to exactly that set. Our LFU counts only while a key is cached, so a key that was
    ///   evicted early starts again from 1 and may never get back in: it lands between LRU
    ///   and the optimum, above LRU because a one-off request never displaces a key that
    ///   has proven popular;
    /// - LRU follows Che's approximation (Che, Tung & Wang 2002): a key stays while it is
    ///   requested within a characteristic time T, `h = 1 − e^(−pT)`;
    /// - FIFO, and so TTL eviction with equal TTLs, does not promote on a hit, which
    ///   gives `h = pT / (1 + pT)` (Martina, Garetto & Leonardi 2014), below LRU for any
    ///   skewed popularity.
    #[test]
    fn zipf_hit_ratios_order_lfu_lru_ttl_as_theory_says() {
        let p = popularity();
        let optimal: f64 = p[..CAP].iter().sum();
        let che_lru = characteristic(&p, |x| 1.0 - libm::exp(-x));
        let che_fifo = characteristic(&p, |x| x / (1.0 + x));
        let (lfu, lru, ttl) = (hit_ratio(Eviction::Lfu), hit_ratio(Eviction::Lru), hit_ratio(Eviction::Ttl));
        let report = format!(
            "lfu {lfu:.4} (top-{CAP} {optimal:.4}), lru {lru:.4} (Che {che_lru:.4}), ttl {ttl:.4} (FIFO {che_fifo:.4})"
        );
        assert!(lfu > lru + 0.02 && lru > ttl + 0.02, "{report}");
        assert!(lfu <= optimal, "{report}");
        assert!((lru - che_lru).abs() < 0.01, "{report}");
        assert!((ttl - che_fifo).abs() < 0.01, "{report}");
    }
}
