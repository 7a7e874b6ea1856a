//! Messages, labels and observations of the time-series model. Three conversations: the
//! scraper with the database (write batches and their acknowledgements, queries and their
//! answers), and the database with its disk (an I/O of so many bytes, and its
//! completion: a WAL fsync, a flushed SSTable, a compaction's output).
//!
//! The checks' record travels as observations from the scraper, which is the client and
//! the reference: every point it had acknowledged (with its value), every query it sent
//! (with the newest timestamp and the acknowledged horizon at that instant) and every
//! answer. The database reports only its on-disk footprint (real encoded bytes).

use crate::sim::node::Message;

/// A series' id; its labels follow from it ([`labels`]).
pub type SeriesId = u32;

/// One sample: series, timestamp (ms on the scrape schedule) and the value's bit pattern
/// (bits, so messages hash and NaN payloads survive).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    pub series: SeriesId,
    pub ts: i64,
    pub bits: u64,
}

/// The three label names every series carries.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Label {
    Metric,
    Host,
    Dc,
}

pub const METRICS: [&str; 3] = ["cpu_pct", "mem_mb", "http_requests_total"];
pub const DCS: [&str; 3] = ["eu", "us", "ap"];

/// A series' labels as (name, value index): metric `id % 3`, host `id / 3`, data centre
/// `(id / 3) % 3`.
pub fn labels(id: SeriesId) -> [(Label, u32); 3] {
    [(Label::Metric, id % 3), (Label::Host, id / 3), (Label::Dc, (id / 3) % 3)]
}

/// The series' name as a Prometheus-style string (what a row store repeats per point).
pub fn series_name(id: SeriesId) -> String {
    format!("{}{{host=\"h{}\",dc=\"{}\"}}", METRICS[(id % 3) as usize], id / 3, DCS[((id / 3) % 3) as usize])
}

/// Equality matchers; a series matches when it carries every one.
pub type Matchers = Vec<(Label, u32)>;

pub fn matches(id: SeriesId, m: &[(Label, u32)]) -> bool {
    let l = labels(id);
    m.iter().all(|want| l.contains(want))
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Agg {
    Sum,
    Avg,
    Min,
    Max,
    Count,
}

impl Agg {
    pub const ALL: [Agg; 5] = [Agg::Sum, Agg::Avg, Agg::Min, Agg::Max, Agg::Count];

    pub fn name(self) -> &'static str {
        match self {
            Agg::Sum => "sum",
            Agg::Avg => "avg",
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::Count => "count",
        }
    }
}

/// A window's running aggregate. Values are multiples of 0.25 far below 2⁵³, so sums are
/// exact whatever the order they are added in: a result can be compared bit for bit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Acc {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl Acc {
    pub fn add(&mut self, v: f64) {
        self.merge(&Acc { count: 1, sum: v, min: v, max: v });
    }

    pub fn merge(&mut self, o: &Acc) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *o;
            return;
        }
        self.count += o.count;
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    /// The aggregate's value (`None` for an empty window, except count: 0).
    pub fn value(&self, agg: Agg) -> Option<u64> {
        if agg == Agg::Count {
            return Some((self.count as f64).to_bits());
        }
        if self.count == 0 {
            return None;
        }
        Some(
            match agg {
                Agg::Sum => self.sum,
                Agg::Avg => self.sum / self.count as f64,
                Agg::Min => self.min,
                Agg::Max => self.max,
                Agg::Count => self.count as f64,
            }
            .to_bits(),
        )
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum QueryKind {
    /// Every matching point in `[from, to)`.
    Raw,
    /// One aggregate over all matching points per `step` window.
    Agg { agg: Agg, step: i64 },
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Query {
    pub id: u64,
    pub matchers: Matchers,
    pub from: i64,
    pub to: i64,
    pub kind: QueryKind,
}

impl Query {
    pub fn describe(&self) -> String {
        let m: Vec<String> = self
            .matchers
            .iter()
            .map(|(l, v)| match l {
                Label::Metric => format!("__name__={}", METRICS[*v as usize]),
                Label::Host => format!("host=h{v}"),
                Label::Dc => format!("dc={}", DCS[*v as usize]),
            })
            .collect();
        let what = match self.kind {
            QueryKind::Raw => "raw".to_string(),
            QueryKind::Agg { agg, step } => format!("{} step {step} ms", agg.name()),
        };
        format!("q{} {what} {{{}}} [{}, {}) ms", self.id, m.join(","), self.from, self.to)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Answer {
    /// Per series, its points in time order.
    Raw(Vec<(SeriesId, Vec<(i64, u64)>)>),
    /// Per window (its start), the aggregate's bits (`None`: no points).
    Agg(Vec<(i64, Option<u64>)>),
}

#[derive(Clone, Debug, Hash)]
pub enum Msg {
    Write {
        batch: u64,
        points: Vec<Point>,
    },
    WriteAck {
        batch: u64,
    },
    Query(Query),
    Answer {
        id: u64,
        answer: Answer,
    },
    /// Database → disk: write `bytes` (and fsync).
    Io {
        op: u64,
        bytes: u64,
    },
    /// Disk → database: the I/O is on the platter.
    IoDone {
        op: u64,
    },
}

impl Message for Msg {
    fn label(&self) -> String {
        match self {
            Msg::Write { batch, points } => format!("write b{batch} ({} points)", points.len()),
            Msg::WriteAck { batch } => format!("ack b{batch}"),
            Msg::Query(q) => q.describe(),
            Msg::Answer { id, answer: Answer::Raw(s) } => {
                format!("q{id}: {} points", s.iter().map(|x| x.1.len()).sum::<usize>())
            }
            Msg::Answer { id, answer: Answer::Agg(w) } => format!("q{id}: {} windows", w.len()),
            Msg::Io { op, bytes } => format!("io #{op} {bytes} B"),
            Msg::IoDone { op } => format!("io #{op} done"),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Obs {
    /// The scraper received the first acknowledgement of these points.
    Acked { points: Vec<Point> },
    /// The scraper sent a query. `newest`: the newest timestamp it had written;
    /// `horizon`: every point it wrote before this timestamp was acknowledged.
    QuerySent { query: Query, newest: i64, horizon: i64 },
    /// The answer reached the scraper.
    Answered { id: u64, answer: Answer },
    /// The database's live tables: real encoded bytes and the points they hold.
    Footprint { bytes: u64, points: u64 },
}
