//! Renderers for the view shapes of `sdlab_core::view`, plus the charts and the sequence
//! diagram the playground shares. Each shape has one component in its own file and each
//! component takes plain view data as props; none knows which system produced it.
//!
//! Every renderer splits into a pure layout function (tested natively) and a thin Yew
//! component that memoises the layout on its props, because the playground re-renders
//! several times a second. Drawings are SVG with a viewBox (sharp at any size), colours
//! come from classes in `static/views.css` (CSS variables, so dark mode follows), and
//! every SVG is `role="img"` with an `aria-label` that says what it shows in words.

pub mod docs;
pub mod line_chart;
pub mod log;
pub mod map;
pub mod panel;
pub mod ring;
pub mod scale;
pub mod sequence;
pub mod series;
pub mod table;
pub mod timeline;
pub mod tree;

pub use docs::DocsView;
pub use line_chart::LineChart;
pub use log::LogView;
pub use map::MapPlot;
pub use panel::{ViewList, ViewPanel};
pub use ring::RingView;
pub use sequence::SequenceDiagram;
pub use series::SeriesChart;
pub use table::TableView;
pub use timeline::TimelineView;
pub use tree::TreeView;
