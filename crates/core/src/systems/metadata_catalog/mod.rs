//! Metadata catalog (catalog entry 30): the catalog of a data lake. Datasets are tables laid
//! out as Apache Iceberg lays them out — immutable metadata files, one per version, and a
//! pointer to the current one — with a schema registry per table (Avro schemas, evolved
//! under Confluent's compatibility levels), partitions, a lineage graph between datasets,
//! a search index over names, columns and tags, and role-based access per domain.
//!
//! Four designs, each one mistake away from the robust one: a catalog that overwrites the
//! pointer instead of compare-and-swap (two racing writers: one acknowledged commit
//! vanishes from the history), a registry that accepts any schema (old files stop
//! decoding), and a front door that trusts the search index's copy of the grants (a revoked
//! user keeps finding the domain's datasets until the index catches up). The checks judge
//! the writers' own acknowledgements, real decodes and the admin's own record of grants.
//! See `explainer.md`.

pub mod admin;
pub mod catalog;
pub mod checks;
pub mod index;
pub mod msg;
pub mod node;
pub mod table;
pub mod user;
pub mod views;
pub mod writer;

#[cfg(test)]
mod tests;

use crate::blocks::avro_schema::Compatibility;
use crate::check::{CheckKind, Property};
use crate::scenario::estimate::{self, Estimate};
use crate::scenario::params::{ParamSpec, Params};
use crate::scenario::Scenario;
use crate::sim::fault::{Fault, TimedFault};
use crate::sim::rng::Prng;
use crate::sim::swarm::FaultKind;
use crate::sim::workload::{Arrival, WorkloadSpec};
use crate::sim::world::{BuildError, NodeSpec, World};
use crate::system::{self, BuildOptions, CheckDef, Simulation, StrategyDef, SystemDef};
use catalog::DOMAINS;
use msg::Obs;
use node::Node;
use std::collections::BTreeSet;

pub const EXPLAINER: &str = include_str!("explainer.md");

/// Which design the run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    LastWriteWins,
    NoCompatCheck,
    IndexAcl,
    Robust,
}

impl Strategy {
    /// The design a strategy id names; `None` for an id with no arm here.
    pub fn from_id(id: &str) -> Option<Strategy> {
        Some(match id {
            "last-write-wins" => Strategy::LastWriteWins,
            "no-compat-check" => Strategy::NoCompatCheck,
            "index-acl" => Strategy::IndexAcl,
            "cas-compat-acl" => Strategy::Robust,
            _ => return None,
        })
    }

    pub fn cas(self) -> bool {
        self != Strategy::LastWriteWins
    }

    pub fn compat_checked(self) -> bool {
        self != Strategy::NoCompatCheck
    }

    pub fn recheck_acl(self) -> bool {
        self != Strategy::IndexAcl
    }
}

const STRATEGIES: &[StrategyDef] = &[
    StrategyDef {
        id: "last-write-wins",
        title: "Overwrite the pointer",
        robust: false,
        summary: "A commit sets the table's current-metadata pointer to the writer's new version, whatever it points to now. Two writers that loaded the same version both succeed; the second one's version does not contain the first one's snapshot, so an acknowledged commit drops out of the history.",
    },
    StrategyDef {
        id: "no-compat-check",
        title: "No compatibility check",
        robust: false,
        summary: "Compare-and-swap commits, but the schema registry accepts any new version. A required column added without a default, a narrowed or retyped column: files written before the change no longer decode with the table's schema, and readers on the old schema cannot read the new files.",
    },
    StrategyDef {
        id: "index-acl",
        title: "Trust the search index's grants",
        robust: false,
        summary: "Commits and schemas as in the robust design, but search answers come straight from the search index, filtered by the copy of the roles it follows from the change log. Right after a revocation the index has not heard of it: the user still finds the domain's datasets.",
    },
    StrategyDef {
        id: "cas-compat-acl",
        title: "CAS + rebase, compatibility, access at query time",
        robust: true,
        summary: "The pointer moves by compare-and-swap; a writer that loses the race reloads, rebases its append on the new version and retries (and asks whether an unanswered commit landed before retrying). New schemas must be fully compatible with every version (transitively). Every answer is filtered with the catalog's current grants.",
    },
];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("writers", "Writers", "jobs", 1, 8, 3, "Ingestion and transformation jobs committing to tables."),
    ParamSpec::int("datasets", "Datasets", "tables", 2, 32, 8, "Tables in the catalog (a lineage DAG among them)."),
    ParamSpec::int("users", "Users", "users", 1, 16, 4, "Analysts searching, opening and reading datasets."),
    ParamSpec::int("commits_per_s", "Commits", "per writer per s", 1, 50, 5, "How often each job starts a commit."),
    ParamSpec::int(
        "write_ms",
        "Write time",
        "ms",
        0,
        500,
        40,
        "Time between loading a table and committing to it (writing the data file).",
    ),
    ParamSpec::int(
        "commit_timeout_ms",
        "Commit timeout",
        "ms",
        50,
        2_000,
        300,
        "A writer asks again after this long without an answer.",
    ),
    ParamSpec::int(
        "schema_change_pct",
        "Schema changes",
        "% of commits",
        0,
        50,
        10,
        "Commits that ship a schema change (drawn from nine kinds, three of them fully compatible).",
    ),
    ParamSpec::choice(
        "compatibility",
        "Compatibility level",
        &["backward", "forward", "full"],
        "full",
        "What the registry demands of a new schema against every earlier one (Confluent's levels, transitive).",
    ),
    ParamSpec::int(
        "schema_cache_ms",
        "Reader schema cache",
        "ms",
        0,
        10_000,
        1_500,
        "How long a user's query engine keeps reading with the schema it fetched.",
    ),
    ParamSpec::int(
        "ops_per_s",
        "User requests",
        "requests/s",
        1,
        1_600,
        40,
        "Searches, gets and reads across all users, for the first 8 s.",
    ),
    ParamSpec::int(
        "acl_change_ms",
        "Role changes every",
        "ms",
        50,
        5_000,
        400,
        "The admin grants or revokes one role this often.",
    ),
    ParamSpec::int(
        "index_poll_ms",
        "Index poll interval",
        "ms",
        10,
        5_000,
        500,
        "The search index pulls the catalog's change log this often.",
    ),
    ParamSpec::int(
        "catalog_down_ms",
        "Catalog crash",
        "ms",
        0,
        3_000,
        300,
        "Default faults: the catalog server crashes at 3 s and is down this long.",
    ),
    ParamSpec::int(
        "writer_down_ms",
        "Writer crash",
        "ms",
        0,
        3_000,
        500,
        "Default faults: writer 0 crashes mid-commit at 5 s and is down this long.",
    ),
    ParamSpec::int(
        "partition_ms",
        "Partition",
        "ms",
        0,
        3_000,
        600,
        "Default faults: writer 1 is cut off from the catalog at 2 s for this long.",
    ),
    ParamSpec::int(
        "index_lag_ms",
        "Index lag",
        "ms",
        0,
        3_000,
        1_000,
        "Default faults: from 4 s to 6 s the index's link to the catalog is this much slower.",
    ),
];

const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "no-lost-update",
        kind: CheckKind::Safety,
        description: "Every commit a writer was told succeeded stays in its table's history: the chain of metadata files from the current pointer back, rebuilt from the catalog's pointer swaps.",
    },
    CheckDef {
        name: "incompatible-schema-rejected",
        kind: CheckKind::Safety,
        description: "No data file becomes unreadable: every file a reader fetched decodes (Avro resolution) with the schema the reader used, and a table's latest files decode with each schema version registered after them.",
    },
    CheckDef {
        name: "no-unauthorized-view",
        kind: CheckKind::Safety,
        description: "No user is shown a dataset whose domain they held no role for at any moment between sending the request and getting the answer, by the admin's own record (a grant counts from when it was sent, a revocation from when it was acknowledged).",
    },
];

const SWARM: &[FaultKind] =
    &[FaultKind::Crash, FaultKind::Pause, FaultKind::Skew, FaultKind::Partition, FaultKind::Clog, FaultKind::Loss];

/// The heaviest user request rate a link may ask for.
pub const MAX_OPS_PER_S: f64 = 1_600.0;
/// Length of the default workload.
pub const ACTIVE_MS: u64 = 8_000;
const TAGS: [&str; 6] = ["pii", "gold", "raw", "daily", "curated", "finance"];
const NOUNS: [&str; 8] = ["orders", "events", "payments", "users", "sessions", "invoices", "stock", "clicks"];

pub const DEF: SystemDef = SystemDef {
    id: "metadata-catalog",
    number: 30,
    title: "Metadata catalog",
    theme: "Data",
    question: "How do you build the catalog of a data lake — tables with versions and schemas, lineage, search, access control — so that concurrent commits never lose one another, schema changes never strand old data, and a revoked user sees nothing more?",
    strategies: STRATEGIES,
    params: PARAMS,
    checks: CHECKS,
    swarm_faults: SWARM,
    drain_ms: 4_000,
    default_workload,
    default_faults,
    swarm_targets,
    build,
    explainer: EXPLAINER,
    estimates,
};

fn default_workload(p: &Params) -> WorkloadSpec {
    WorkloadSpec {
        arrival: Arrival::Open,
        rate_per_s: p.int("ops_per_s") as f64,
        think_ms: 0,
        duration_ms: ACTIVE_MS,
        keys: p.int("datasets") as u64,
        zipf_s: 0.0,
        bursts: Vec::new(),
    }
}

/// A partition of one writer from the catalog, a catalog crash, a writer crash in the
/// middle of a commit, and a slow link to the search index. A zero length leaves one out.
fn default_faults(p: &Params) -> Vec<TimedFault> {
    let mut out = Vec::new();
    let cut = p.int("partition_ms") as u64;
    if cut > 0 && p.int("writers") > 1 {
        out.push(TimedFault {
            at_ms: 2_000,
            fault: Fault::Partition { a: vec!["writer-1".into()], b: vec!["catalog".into()], one_way: false },
        });
        out.push(TimedFault { at_ms: 2_000 + cut, fault: Fault::Heal });
    }
    let down = p.int("catalog_down_ms") as u64;
    if down > 0 {
        out.push(TimedFault { at_ms: 3_000, fault: Fault::Crash { node: "catalog".into() } });
        out.push(TimedFault { at_ms: 3_000 + down, fault: Fault::Restart { node: "catalog".into() } });
    }
    let lag = p.int("index_lag_ms") as u64;
    if lag > 0 {
        let (from, to) = ("catalog".to_string(), "index".to_string());
        out.push(TimedFault { at_ms: 4_000, fault: Fault::Clog { from: from.clone(), to: to.clone(), extra_ms: lag } });
        out.push(TimedFault { at_ms: 6_000, fault: Fault::Unclog { from, to } });
    }
    let wdown = p.int("writer_down_ms") as u64;
    if wdown > 0 {
        out.push(TimedFault { at_ms: 5_000, fault: Fault::Crash { node: "writer-0".into() } });
        out.push(TimedFault { at_ms: 5_000 + wdown, fault: Fault::Restart { node: "writer-0".into() } });
    }
    out.sort_by_key(|f| f.at_ms);
    out
}

fn swarm_targets(_p: &Params) -> Vec<String> {
    ["writer-0", "user-0", "catalog", "index"].map(String::from).to_vec()
}

fn build(scenario: &Scenario, opts: &BuildOptions) -> Result<Box<dyn Simulation>, BuildError> {
    let (specs, props) = parts(scenario)?;
    system::assemble(scenario, opts, specs, props, views::views)
}

pub fn build_world(scenario: &Scenario, opts: &BuildOptions) -> Result<World<Node>, BuildError> {
    let (specs, props) = parts(scenario)?;
    system::world(scenario, opts, specs, props)
}

type Parts = (Vec<NodeSpec<Node>>, Vec<Box<dyn Property<Obs>>>);

/// The tables a seed starts with: names, domains, tags and the lineage DAG (each table
/// after the first two derives from one or two earlier ones).
pub fn make_tables(n: u32, rng: &mut Prng) -> Vec<table::Table> {
    (0..n)
        .map(|i| {
            let domain = (i % DOMAINS.len() as u32) as u8;
            let noun = NOUNS[rng.below(NOUNS.len() as u64) as usize];
            let mut tags: Vec<&'static str> = TAGS.iter().copied().filter(|_| rng.chance(0.3)).collect();
            if tags.is_empty() {
                tags.push(TAGS[i as usize % TAGS.len()]);
            }
            let mut upstream = Vec::new();
            if i >= 2 {
                let a = rng.below(u64::from(i)) as u32;
                upstream.push(a);
                if rng.chance(0.4) {
                    let b = rng.below(u64::from(i)) as u32;
                    if b != a {
                        upstream.push(b);
                    }
                }
                upstream.sort_unstable();
            }
            table::Table {
                name: format!("{}.{noun}_{i}", DOMAINS[domain as usize]),
                domain,
                tags,
                upstream,
                metas: Vec::new(),
                current: None,
                schemas: vec![writer::initial_schema()],
                on_chain: BTreeSet::new(),
            }
        })
        .collect()
}

/// Node ids: writers `0..w`, users `w..w+u`, then the admin, the catalog and the index.
fn parts(scenario: &Scenario) -> Result<Parts, BuildError> {
    let p = &scenario.params;
    let strategy = Strategy::from_id(scenario.strategy.id)
        .ok_or_else(|| BuildError(format!("metadata-catalog has no strategy {:?}", scenario.strategy.id)))?;
    let level = Compatibility::from_id(p.choice("compatibility"))
        .ok_or_else(|| BuildError(format!("no compatibility level {:?}", p.choice("compatibility"))))?;
    let (writers, users, datasets) = (p.int("writers") as u32, p.int("users") as u32, p.int("datasets") as u32);
    let (catalog, index) = (writers + users + 1, writers + users + 2);
    let root = Prng::new(scenario.seed);
    let tables = make_tables(datasets, &mut root.fork("tables"));
    let mut grng = root.fork("grants");
    let mut grants = BTreeSet::new();
    for u in 0..users {
        for d in 0..DOMAINS.len() as u8 {
            if grng.chance(0.5) {
                grants.insert((u, d));
            }
        }
    }
    let until_ms = scenario.workload.duration_ms;
    let ops_per_s = scenario.workload.rate_per_s.min(MAX_OPS_PER_S);
    let mut vocabulary: BTreeSet<String> = BTreeSet::new();
    for t in &tables {
        vocabulary.extend(t.terms(DOMAINS[t.domain as usize]));
    }
    let vocabulary: Vec<String> = vocabulary.into_iter().collect();
    let domain_of: Vec<u8> = tables.iter().map(|t| t.domain).collect();
    let mut specs = Vec::new();
    for w in 0..writers {
        let cfg = writer::WriterCfg {
            index: w,
            catalog,
            datasets,
            commits_per_s: p.int("commits_per_s") as f64,
            write_ms: p.int("write_ms") as u64,
            schema_change_pct: p.int("schema_change_pct") as u64,
            timeout_ms: p.int("commit_timeout_ms") as u64,
            until_ms,
        };
        specs.push(NodeSpec::new(format!("writer-{w}"), "writer", Node::Writer(Box::new(writer::Writer::new(cfg)))));
    }
    for u in 0..users {
        let cfg = user::UserCfg {
            index: u,
            catalog,
            datasets,
            ops_per_s: ops_per_s / f64::from(users),
            schema_cache_ms: p.int("schema_cache_ms") as u64,
            vocabulary: vocabulary.clone(),
            until_ms,
        };
        specs.push(NodeSpec::new(format!("user-{u}"), "user", Node::User(Box::new(user::User::new(cfg)))));
    }
    let adm =
        admin::Admin::new(catalog, users, DOMAINS.len() as u8, p.int("acl_change_ms") as u64, grants.clone(), until_ms);
    specs.push(NodeSpec::new("admin", "admin", Node::Admin(adm)));
    let ccfg = catalog::CatalogCfg {
        cas: strategy.cas(),
        compat: strategy.compat_checked().then_some(level),
        recheck_acl: strategy.recheck_acl(),
        index,
        first_user: writers,
    };
    let cat = catalog::Catalog::new(ccfg, tables, grants.clone());
    specs.push(NodeSpec::new("catalog", "catalog", Node::Catalog(Box::new(cat))));
    let idx = index::Index::new(catalog, p.int("index_poll_ms") as u64);
    specs.push(NodeSpec::new("index", "index", Node::Index(Box::new(idx))));
    let props: Vec<Box<dyn Property<Obs>>> = vec![
        Box::new(checks::NoLostUpdate::default()),
        Box::new(checks::SchemaRejected::default()),
        Box::new(checks::NoUnauthorizedView::new(domain_of, &grants)),
    ];
    Ok((specs, props))
}

/// Back-of-the-envelope figures that follow the parameters.
fn estimates(s: &Scenario) -> Vec<Estimate> {
    let p = &s.params;
    let writers = p.int("writers") as f64;
    let datasets = p.int("datasets") as f64;
    let rate = p.int("commits_per_s") as f64;
    let window_ms = p.int("write_ms") as f64 + 2.0;
    // Another writer commits to my table while I write with probability ≈ its commit rate
    // on that table × my window.
    let others = (writers - 1.0) * rate / datasets;
    let p_conflict = 1.0 - libm::exp(-others * window_ms / 1_000.0);
    let ops = s.workload.rate_per_s.min(MAX_OPS_PER_S);
    let poll = p.int("index_poll_ms") as f64;
    let acl = p.int("acl_change_ms") as f64;
    vec![
        Estimate::new("Commits", format!("{} /s", estimate::si(writers * rate)), "writers × commits per writer"),
        Estimate::new(
            "Commits that meet a conflict",
            format!("≈ {} %", estimate::si(100.0 * p_conflict)),
            "1 − e^(−other writers' rate on the table × load-to-commit window)",
        ),
        Estimate::new(
            "Metadata files per table",
            format!("≈ {}", estimate::si(writers * rate * ACTIVE_MS as f64 / 1_000.0 / datasets)),
            "commits over the run ÷ tables (each commit writes one)",
        ),
        Estimate::new(
            "Search index staleness",
            format!("≈ {} ms", estimate::si(poll / 2.0)),
            "half the poll interval on average (plus the link's delay)",
        ),
        Estimate::new(
            "Requests right after a revocation",
            format!("≈ {}", estimate::si(ops * poll / 2.0 / 1_000.0 * (ACTIVE_MS as f64 / acl))),
            "requests/s × staleness × revocations: what the index alone would answer wrongly, at most",
        ),
    ]
}
