//! What the UI draws, as plain data. The web crate has one renderer per shape here and
//! never sees a system's own types: adding a system means producing these shapes, not
//! touching the front end. Coordinates are abstract (0..1 or the view's own units); the
//! renderer scales them.

use serde::Serialize;

/// Nodes and links of the request-flow diagram.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Topology {
    pub nodes: Vec<TopoNode>,
    pub links: Vec<TopoLink>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopoNode {
    pub id: u32,
    pub name: String,
    pub role: String,
    /// "up", "down" or "paused".
    pub status: String,
    /// The node's own few words on its state.
    pub label: String,
    /// Whether its clock is skewed.
    pub skewed: bool,
    /// Position in [0, 1] × [0, 1].
    pub x: f32,
    pub y: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopoLink {
    pub from: u32,
    pub to: u32,
    /// "ok", "cut" (partitioned) or "clogged".
    pub state: String,
}

/// A system-specific view, in one of the shared shapes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum View {
    Ring(Ring),
    Table(Table),
    Log(Log),
    Map(MapView),
    Tree(Tree),
    Docs(Docs),
    Timeline(Timeline),
    Series(SeriesView),
}

/// Points on a hash ring (consistent hashing): node tokens and keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ring {
    pub title: String,
    /// Position in [0, 1) around the ring, owner name, and "token" or "key".
    pub points: Vec<RingPoint>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RingPoint {
    pub pos: f64,
    pub owner: String,
    pub kind: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Append-only logs side by side (replica logs, partitions).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Log {
    pub title: String,
    pub lanes: Vec<LogLane>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogLane {
    pub name: String,
    pub entries: Vec<String>,
    /// Entries before this index are committed / acknowledged.
    pub committed: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MapView {
    pub title: String,
    pub width: f64,
    pub height: f64,
    pub cells: Vec<MapCell>,
    pub points: Vec<MapPoint>,
    pub circles: Vec<MapCircle>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapCell {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub label: String,
    /// 0..1 shading.
    pub weight: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapPoint {
    pub x: f64,
    pub y: f64,
    pub label: String,
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapCircle {
    pub x: f64,
    pub y: f64,
    pub r: f64,
    pub label: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Tree {
    pub title: String,
    pub nodes: Vec<TreeNode>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TreeNode {
    pub id: String,
    pub parent: Option<String>,
    pub label: String,
}

/// Text replicas side by side (collaborative editing).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Docs {
    pub title: String,
    pub replicas: Vec<DocReplica>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DocReplica {
    pub name: String,
    pub text: String,
}

/// Lanes of spans over time (lock holders, cron fires, worker leases).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timeline {
    pub title: String,
    pub lanes: Vec<TimelineLane>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineLane {
    pub name: String,
    pub spans: Vec<Span>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Span {
    pub start_ms: f64,
    pub end_ms: f64,
    pub label: String,
    /// Style hint: "ok", "warn", "bad", "info".
    pub kind: String,
}

/// Named lines over time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SeriesView {
    pub title: String,
    pub unit: String,
    pub interval_ms: u64,
    pub lines: Vec<SeriesLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesLine {
    pub name: String,
    pub values: Vec<f64>,
}
