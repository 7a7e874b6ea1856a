//! A system's own series (queue depth, replica lag, tokens left) drawn with the shared
//! [`LineChart`], so system series and the playground's built-in charts look alike.

use super::line_chart::LineChart;
use sdlab_core::view::SeriesView;
use yew::prelude::*;

#[derive(Properties, PartialEq, Clone)]
pub struct SeriesProps {
    pub series: SeriesView,
    /// The playhead, in ms from the start of the run.
    #[prop_or_default]
    pub cursor_ms: Option<f64>,
}

#[component]
pub fn SeriesChart(props: &SeriesProps) -> Html {
    let s = &props.series;
    let lines =
        use_memo(s.lines.clone(), |lines| lines.iter().map(|l| (l.name.clone(), l.values.clone())).collect::<Vec<_>>());
    html! {
        <LineChart title={s.title.clone()} unit={s.unit.clone()} interval_ms={s.interval_ms}
            lines={(*lines).clone()} cursor_ms={props.cursor_ms} />
    }
}
