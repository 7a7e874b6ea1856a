//! Dispatch from a [`View`] to its renderer, and a list of views. This is the only place
//! that matches on the shape enum, so a new shape in core means one new arm here.

use super::{
    docs::DocsView, log::LogView, map::MapPlot, ring::RingView, series::SeriesChart, table::TableView,
    timeline::TimelineView, tree::TreeView,
};
use sdlab_core::view::View;
use yew::prelude::*;

#[derive(Properties, PartialEq, Clone)]
pub struct ViewPanelProps {
    pub view: View,
    /// Playhead for time-based shapes (series), in ms from the start of the run.
    #[prop_or_default]
    pub cursor_ms: Option<f64>,
}

#[component]
pub fn ViewPanel(props: &ViewPanelProps) -> Html {
    match &props.view {
        View::Ring(r) => html! { <RingView ring={r.clone()} /> },
        View::Table(t) => html! { <TableView table={t.clone()} /> },
        View::Log(l) => html! { <LogView log={l.clone()} /> },
        View::Map(m) => html! { <MapPlot map={m.clone()} /> },
        View::Tree(t) => html! { <TreeView tree={t.clone()} /> },
        View::Docs(d) => html! { <DocsView docs={d.clone()} /> },
        View::Timeline(t) => html! { <TimelineView timeline={t.clone()} /> },
        View::Series(s) => html! { <SeriesChart series={s.clone()} cursor_ms={props.cursor_ms} /> },
    }
}

#[derive(Properties, PartialEq, Clone)]
pub struct ViewListProps {
    pub views: Vec<View>,
    #[prop_or_default]
    pub cursor_ms: Option<f64>,
}

/// Whether a view needs the whole row: timelines read left to right over time, tables with
/// many columns would otherwise hide their right half behind a sideways scroll, and logs
/// with many lanes would stack into a tower.
fn spans_full_width(view: &View) -> bool {
    match view {
        View::Timeline(_) => true,
        View::Table(t) => t.columns.len() > 4,
        // Many lanes (a dozen partition replicas) lay out side by side instead of in a tower.
        View::Log(l) => l.lanes.len() > 4,
        _ => false,
    }
}

/// The system's views in the order it gives them, each in its own panel. Panels are keyed
/// by position: a system returns the same views in the same order at every step, so each
/// renderer keeps its memoised geometry from frame to frame.
#[component]
pub fn ViewList(props: &ViewListProps) -> Html {
    html! {
        <div class="vw-list">
            if props.views.is_empty() { <p class="vw-hint">{ "This system has no extra views." }</p> }
            { for props.views.iter().enumerate().map(|(i, v)| html! {
                <div class={classes!("vw-panel", spans_full_width(v).then_some("vw-wide"))} key={i}><ViewPanel view={v.clone()} cursor_ms={props.cursor_ms} /></div>
            }) }
        </div>
    }
}
