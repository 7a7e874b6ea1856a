//! The flag model and its evaluation, the part every SDK embeds. A flag has variants, an
//! on/off switch, individual targets, rules over user attributes and segments, and a
//! fallthrough: a percentage rollout that puts a user "in" when their bucket is below
//! the percentage and, once in, picks a variant by weight.
//!
//! Bucketing (`hashed`): `bucket = murmur3("<salt>:<user>") mod 10 000`, in basis points;
//! the user is in iff `bucket < pct_bp`. Growing the percentage only adds users: every
//! user already in keeps a bucket below the new, larger bound. The variant comes from a
//! second, independent hash (`"<salt>.variant:<user>"`) against the cumulative weights,
//! so growing the allocation of an experiment never moves a user between its arms.
//! Changing the weights does (that is a new experiment, and the stability check knows it).

use crate::blocks::murmur3::murmur3_32;

/// Basis points: 10 000 = 100 %.
pub const FULL: u32 = 10_000;

/// A user attribute a rule can test. Attributes are derived from the user id (the
/// simulation has no user database): stable for the whole run.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Clause {
    /// The user is in segment `n` of the store's segments.
    InSegment(u8),
    /// The user's country is `n` (an index into [`COUNTRIES`]).
    CountryIs(u8),
    /// The user is on the enterprise plan.
    Enterprise,
}

pub const COUNTRIES: [&str; 4] = ["NL", "US", "IN", "BR"];

/// "If the user matches `clause`, serve `variant`."
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Rule {
    pub clause: Clause,
    pub variant: u8,
}

/// A reusable group of users: an explicit include list plus an attribute rule.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Segment {
    pub name: &'static str,
    pub include: Vec<u32>,
    pub country: Option<u8>,
}

impl Segment {
    pub fn contains(&self, user: u32) -> bool {
        self.include.contains(&user) || self.country.is_some_and(|c| country_of(user) == c)
    }
}

/// One flag as the store holds it at some version.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct FlagConfig {
    pub key: &'static str,
    pub variants: Vec<&'static str>,
    pub enabled: bool,
    /// Served when the flag is off, when a user is outside the rollout, and by an SDK
    /// that cannot trust its cache (the default in the application's code).
    pub off_variant: u8,
    /// Individual targets: user → variant.
    pub targets: Vec<(u32, u8)>,
    pub rules: Vec<Rule>,
    /// The fallthrough rollout: share of users in, in basis points.
    pub pct_bp: u32,
    /// Weights of the variants for users in the rollout (basis points, summing to 10 000).
    pub weights: Vec<u32>,
    /// The salt of the bucket hash (the flag key unless a rollout is re-randomised).
    pub salt: &'static str,
    /// A kill-switch flag: an SDK whose cache is unconfirmed for its lease serves
    /// `off_variant` rather than a possibly killed feature.
    pub fail_closed: bool,
}

impl FlagConfig {
    pub fn variant_name(&self, v: u8) -> &'static str {
        self.variants.get(v as usize).copied().unwrap_or("?")
    }
}

/// Why a variant was served (LaunchDarkly calls it the evaluation reason).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Reason {
    /// The flag is switched off.
    Off,
    /// The user is an individual target.
    Target,
    /// Rule `n` matched.
    Rule(u8),
    /// The fallthrough rollout: `true` if the user is in it.
    Rollout(bool),
    /// The SDK served the code default: no cache yet, or (fail-closed flags) a cache it
    /// could not confirm within its lease.
    Fallback,
}

impl Reason {
    pub fn label(self) -> String {
        match self {
            Reason::Off => "off".into(),
            Reason::Target => "target".into(),
            Reason::Rule(n) => format!("rule {n}"),
            Reason::Rollout(true) => "rollout in".into(),
            Reason::Rollout(false) => "rollout out".into(),
            Reason::Fallback => "fallback".into(),
        }
    }
}

/// How the rollout decides "in or out" (the strategy axis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucketing {
    /// A hash of salt and user: the same answer every time for the same config.
    Hashed,
    /// A coin flip per request with the rollout's probability (the naive design).
    Random,
}

fn hash_of(salt: &str, tag: &str, user: u32) -> u32 {
    let text = format!("{salt}{tag}:{user}");
    murmur3_32(text.as_bytes(), 0)
}

/// The user's rollout bucket for `salt`, in `0..10 000`.
pub fn bucket(salt: &str, user: u32) -> u32 {
    hash_of(salt, "", user) % FULL
}

/// The user's point on the variant-weight line for `salt`, in `0..10 000`.
pub fn variant_point(salt: &str, user: u32) -> u32 {
    hash_of(salt, ".variant", user) % FULL
}

/// The variant whose cumulative weight range holds `point`.
pub fn pick_variant(weights: &[u32], point: u32) -> u8 {
    let mut acc = 0;
    for (i, &w) in weights.iter().enumerate() {
        acc += w;
        if point < acc {
            return i as u8;
        }
    }
    weights.len().saturating_sub(1) as u8
}

pub fn country_of(user: u32) -> u8 {
    (murmur3_32(&user.to_le_bytes(), 0x00c0_ffee) % COUNTRIES.len() as u32) as u8
}

pub fn is_enterprise(user: u32) -> bool {
    user % 10 == 7
}

fn matches(clause: Clause, user: u32, segments: &[Segment]) -> bool {
    match clause {
        Clause::InSegment(s) => segments.get(s as usize).is_some_and(|seg| seg.contains(user)),
        Clause::CountryIs(c) => country_of(user) == c,
        Clause::Enterprise => is_enterprise(user),
    }
}

/// Evaluates `flag` for `user`. `coin` is consulted only by [`Bucketing::Random`]: a
/// uniform draw in `0..10 000` per call.
pub fn evaluate(
    flag: &FlagConfig,
    segments: &[Segment],
    user: u32,
    bucketing: Bucketing,
    mut coin: impl FnMut() -> u32,
) -> (u8, Reason) {
    if !flag.enabled {
        return (flag.off_variant, Reason::Off);
    }
    if let Some(&(_, v)) = flag.targets.iter().find(|(u, _)| *u == user) {
        return (v, Reason::Target);
    }
    for (i, r) in flag.rules.iter().enumerate() {
        if matches(r.clause, user, segments) {
            return (r.variant, Reason::Rule(i as u8));
        }
    }
    let (b, point) = match bucketing {
        Bucketing::Hashed => (bucket(flag.salt, user), variant_point(flag.salt, user)),
        Bucketing::Random => (coin(), coin()),
    };
    if b < flag.pct_bp {
        (pick_variant(&flag.weights, point), Reason::Rollout(true))
    } else {
        (flag.off_variant, Reason::Rollout(false))
    }
}

/// Flag indices.
pub const CHECKOUT: u8 = 0;
pub const SEARCH: u8 = 1;
pub const RECS: u8 = 2;

/// The segments the store starts with (never changed by the plan).
pub fn initial_segments() -> Vec<Segment> {
    vec![
        Segment { name: "employees", include: (0..20).collect(), country: None },
        Segment { name: "beta-nl", include: vec![101, 202, 303], country: Some(0) },
    ]
}

/// The flags the store starts with, versions 1..=3.
///
/// - `new-checkout`: a release flag rolled out by percentage; employees always get it,
///   user 42 (a customer who asked) never does.
/// - `search-v2`: an A/B/C experiment over a share of traffic; enterprise users are kept
///   on control.
/// - `recs-model`: an operational flag everyone has, the one the kill switch turns off.
pub fn initial_flags() -> Vec<FlagConfig> {
    vec![
        FlagConfig {
            key: "new-checkout",
            variants: vec!["off", "on"],
            enabled: true,
            off_variant: 0,
            targets: vec![(42, 0)],
            rules: vec![Rule { clause: Clause::InSegment(0), variant: 1 }],
            pct_bp: 0,
            weights: vec![0, FULL],
            salt: "new-checkout",
            fail_closed: false,
        },
        FlagConfig {
            key: "search-v2",
            variants: vec!["control", "treatment-a", "treatment-b"],
            enabled: true,
            off_variant: 0,
            targets: Vec::new(),
            rules: vec![
                Rule { clause: Clause::Enterprise, variant: 0 },
                Rule { clause: Clause::InSegment(1), variant: 1 },
            ],
            pct_bp: 2_000,
            weights: vec![5_000, 2_500, 2_500],
            salt: "search-v2",
            fail_closed: false,
        },
        FlagConfig {
            key: "recs-model",
            variants: vec!["off", "on"],
            enabled: true,
            off_variant: 0,
            targets: Vec::new(),
            rules: Vec::new(),
            pct_bp: FULL,
            weights: vec![0, FULL],
            salt: "recs-model",
            fail_closed: true,
        },
    ]
}
