//! The shared live charts every system gets from the standard request path: throughput,
//! p50/p99 latency and error rate per interval, drawn with the views' `LineChart` with the
//! playhead as a cursor.

use crate::views::LineChart;
use sdlab_core::metrics::{Metrics, ERRORS, REQUESTS};
use yew::prelude::*;

/// Named lines of one chart.
pub type Lines = Vec<(String, Vec<f64>)>;
/// One chart: title, unit, lines.
pub type Chart = (&'static str, &'static str, Lines);

/// The three shared charts.
pub fn shared_series(m: &Metrics) -> Vec<Chart> {
    let interval_s = m.series.interval_ms as f64 / 1_000.0;
    let requests = m.series.get(REQUESTS).unwrap_or(&[]);
    let errors = m.series.get(ERRORS).unwrap_or(&[]);
    let throughput: Vec<f64> = requests.iter().map(|r| r / interval_s).collect();
    let error_pct: Vec<f64> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| if *r > 0.0 { 100.0 * errors.get(i).copied().unwrap_or(0.0) / r } else { 0.0 })
        .collect();
    let p50: Vec<f64> = m.latency_by_interval.iter().map(|h| h.quantile(0.5) as f64 / 1_000.0).collect();
    let p99: Vec<f64> = m.latency_by_interval.iter().map(|h| h.quantile(0.99) as f64 / 1_000.0).collect();
    vec![
        ("Throughput", "req/s", vec![("completed".to_string(), throughput)]),
        ("Latency", "ms", vec![("p50".to_string(), p50), ("p99".to_string(), p99)]),
        ("Error rate", "%", vec![("errors".to_string(), error_pct)]),
    ]
}

#[derive(Properties, PartialEq)]
pub struct ChartsProps {
    pub series: Vec<Chart>,
    pub interval_ms: u64,
    pub cursor_ms: f64,
}

#[component]
pub fn SharedCharts(p: &ChartsProps) -> Html {
    html! {
        <section class="charts" aria-label="Live charts">
            { for p.series.iter().map(|(title, unit, lines)| html! {
                <LineChart title={*title} unit={*unit} interval_ms={p.interval_ms} lines={lines.clone()} cursor_ms={Some(p.cursor_ms)} />
            }) }
        </section>
    }
}
