//! A table view: a real `<table>` with a caption and column headers, so screen readers
//! announce cells with their column. Wide tables scroll sideways inside a focusable
//! region (keyboard users can scroll it too) instead of stretching the page. Short rows
//! are padded with empty cells so columns stay aligned.

use sdlab_core::view::Table;
use yew::prelude::*;

#[derive(Properties, PartialEq, Clone)]
pub struct TableProps {
    pub table: Table,
}

#[component]
pub fn TableView(props: &TableProps) -> Html {
    let t = &props.table;
    let width = t.columns.len().max(t.rows.iter().map(Vec::len).max().unwrap_or(0));
    let label = if t.title.is_empty() { "Table".to_string() } else { t.title.clone() };
    html! {
        <div class="vw vw-table-wrap" data-shape="table" role="region" tabindex="0" aria-label={label}>
            <table class="vw-table">
                <caption class="vw-title">{ t.title.clone() }</caption>
                <thead>
                    <tr>
                        { for (0..width).map(|i| html! {
                            <th scope="col">{ t.columns.get(i).cloned().unwrap_or_default() }</th>
                        }) }
                    </tr>
                </thead>
                <tbody>
                    if t.rows.is_empty() {
                        <tr><td class="vw-empty" colspan={width.max(1).to_string()}>{ "No rows" }</td></tr>
                    }
                    { for t.rows.iter().map(|row| html! {
                        <tr>
                            { for (0..width).map(|i| html! { <td>{ row.get(i).cloned().unwrap_or_default() }</td> }) }
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}
