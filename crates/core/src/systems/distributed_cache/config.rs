//! The knobs of one run, resolved from the scenario's parameters into plain values every
//! node carries (a copy each: nodes share nothing but messages).

use crate::blocks::hash_ring::Scheme;
use crate::scenario::params::Params;
use crate::sim::time::SimDuration;
use crate::sim::workload::WorkloadSpec;
use crate::sim::world::BuildError;
use crate::sim::NodeId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eviction {
    Lru,
    Lfu,
    /// Evict the entry that expires soonest.
    Ttl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// App reads the DB on a miss and fills; writes go to the DB, then invalidate.
    CacheAside,
    /// The cache loads misses itself; writes go to the DB, then invalidate.
    ReadThrough,
    /// Writes go through the cache node, which writes the DB before answering.
    WriteThrough,
    /// The cache acknowledges writes and flushes them to the DB later.
    WriteBack,
    /// Writes go to the DB only; cached copies age out by TTL.
    WriteAround,
}

impl Policy {
    /// Whether cache nodes load misses from the DB themselves.
    pub fn cache_loads(self) -> bool {
        matches!(self, Policy::ReadThrough | Policy::WriteThrough | Policy::WriteBack)
    }
    pub fn name(self) -> &'static str {
        match self {
            Policy::CacheAside => "cache-aside",
            Policy::ReadThrough => "read-through",
            Policy::WriteThrough => "write-through",
            Policy::WriteBack => "write-back",
            Policy::WriteAround => "write-around",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stampede {
    None,
    /// One load per key at a time; other misses wait for it (memcache-style leases).
    Coalesce,
    /// Probabilistic early recomputation (XFetch).
    EarlyExpiry,
}

/// Which owner of a key serves its reads when `replicas` > 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaReads {
    /// Any owner, picked at random: more read capacity for hot keys, but a replica serves
    /// whatever copy it last received.
    Any,
    /// The first owner only; the others stay warm for when it leaves the view.
    Primary,
}

/// When a replica's copy stops being served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyExpiry {
    /// When the primary's entry does: the copy carries the primary's expiry instant.
    Origin,
    /// A full TTL after the copy arrives, as if the replica had loaded it itself.
    OnArrival,
}

/// Largest key sample the movement check and ring view use.
pub const UNIVERSE_MAX: u64 = 2_048;

#[derive(Clone, Debug)]
pub struct Cfg {
    pub scheme: Scheme,
    pub replicas: usize,
    pub replica_reads: ReplicaReads,
    pub copy_expiry: CopyExpiry,
    pub clients: u32,
    /// Cache nodes including spares.
    pub caches: u32,
    /// Cache nodes up at the start (the first `initial` of them).
    pub initial: u32,
    pub cache_base: NodeId,
    pub db: NodeId,
    pub capacity: usize,
    pub eviction: Eviction,
    pub policy: Policy,
    pub stampede: Stampede,
    pub ttl: SimDuration,
    pub lease: SimDuration,
    pub beta: f64,
    pub flush: SimDuration,
    pub write_ratio: f64,
    pub hot_share: f64,
    pub timeout: SimDuration,
    pub db_timeout: SimDuration,
    pub db_workers: u32,
    pub db_query: SimDuration,
    pub db_capacity_qps: f64,
    pub epsilon: f64,
    pub universe: Vec<u64>,
    pub workload: WorkloadSpec,
}

impl Cfg {
    /// The configuration for a strategy id; an id with no arm here is an error, never a
    /// silent fallback to another design.
    pub fn from_params(p: &Params, strategy: &str, workload: &WorkloadSpec) -> Result<Cfg, BuildError> {
        let clients = p.int("clients") as u32;
        let initial = p.int("cache_nodes") as u32;
        let caches = initial + p.int("spares") as u32;
        let scheme = match strategy {
            "consistent" => Scheme::Ring { vnodes: p.int("vnodes") as u32 },
            "rendezvous" => Scheme::Rendezvous,
            "jump" => Scheme::Jump { buckets: caches },
            "modulo" => Scheme::Modulo,
            other => return Err(BuildError(format!("distributed-cache has no strategy {other:?}"))),
        };
        let eviction = match p.choice("eviction") {
            "lfu" => Eviction::Lfu,
            "ttl" => Eviction::Ttl,
            _ => Eviction::Lru,
        };
        let policy = match p.choice("write_policy") {
            "read-through" => Policy::ReadThrough,
            "write-through" => Policy::WriteThrough,
            "write-back" => Policy::WriteBack,
            "write-around" => Policy::WriteAround,
            _ => Policy::CacheAside,
        };
        let stampede = match p.choice("stampede") {
            "none" => Stampede::None,
            "early-expiry" => Stampede::EarlyExpiry,
            _ => Stampede::Coalesce,
        };
        let replica_reads = match p.choice("replica_reads") {
            "primary" => ReplicaReads::Primary,
            _ => ReplicaReads::Any,
        };
        let copy_expiry = match p.choice("copy_expiry") {
            "on-arrival" => CopyExpiry::OnArrival,
            _ => CopyExpiry::Origin,
        };
        let db_capacity_qps = p.float("db_capacity_qps");
        let db_query_ms = p.int("db_query_ms") as f64;
        let n = workload.keys.min(UNIVERSE_MAX);
        Ok(Cfg {
            scheme,
            replicas: p.int("replicas") as usize,
            replica_reads,
            copy_expiry,
            clients,
            caches,
            initial,
            cache_base: clients,
            db: clients + caches,
            capacity: p.int("capacity") as usize,
            eviction,
            policy,
            stampede,
            ttl: SimDuration::from_ms(p.int("ttl_ms") as u64),
            lease: SimDuration::from_ms(p.int("lease_ms") as u64),
            beta: p.float("early_beta"),
            flush: SimDuration::from_ms(p.int("flush_ms") as u64),
            write_ratio: p.float("write_ratio"),
            hot_share: p.float("hot_share"),
            timeout: SimDuration::from_ms(p.int("timeout_ms") as u64),
            db_timeout: SimDuration::from_ms(2_000),
            db_workers: ((db_capacity_qps * db_query_ms / 1_000.0).round() as u32).max(1),
            db_query: SimDuration::from_ms(p.int("db_query_ms") as u64),
            db_capacity_qps,
            epsilon: p.float("epsilon"),
            universe: (0..n).map(|i| i * workload.keys / n).collect(),
            workload: workload.clone(),
        })
    }

    /// The staleness bound the configuration promises, in µs, and how it is made up.
    pub fn staleness_bound(&self) -> (u64, String) {
        let (ttl, lease) = (self.ttl.0, self.lease.0);
        let ms = |us: u64| us / 1_000;
        let (bound, mut why) = match self.policy {
            Policy::WriteBack => (
                ttl + lease + self.flush.0,
                format!(
                    "TTL {} + lease {} + flush {} ms (write-back; holds only while no dirty entry is lost)",
                    ms(ttl),
                    ms(lease),
                    ms(self.flush.0)
                ),
            ),
            p => (ttl + lease, format!("TTL {} + lease {} ms ({})", ms(ttl), ms(lease), p.name())),
        };
        if self.replicas > 1 && self.copy_expiry == CopyExpiry::OnArrival {
            why.push_str(
                "; replica copies restart their TTL on arrival, so it holds only while copies arrive within the lease",
            );
        }
        (bound, why)
    }

    /// Whether reads may be served by a replica rather than the key's first owner.
    /// Write-back keeps the only fresh copy on the first owner, so it always reads there.
    pub fn reads_any_replica(&self) -> bool {
        self.replicas > 1 && self.replica_reads == ReplicaReads::Any && self.policy != Policy::WriteBack
    }

    pub fn cache_name(idx: u32) -> String {
        format!("cache-{idx}")
    }
}
