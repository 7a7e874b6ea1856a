//! The event log: recent trace events, newest last, virtualised (only the rows in view
//! are in the DOM, however long the log). Faults, notes and violations are also announced
//! through an ARIA live region — the important events, not every delivery.

use sdlab_core::trace::{TraceEvent, TraceKind};
use web_sys::HtmlElement;
use yew::prelude::*;

const ROW_PX: i32 = 22;
const VISIBLE: usize = 14;

#[derive(Properties, PartialEq)]
pub struct LogProps {
    pub events: std::rc::Rc<Vec<TraceEvent>>,
    pub names: std::rc::Rc<Vec<String>>,
    /// Text for the live region (the latest important event), if any.
    pub announce: AttrValue,
}

pub fn describe(e: &TraceEvent, names: &[String]) -> String {
    let name = |id: u32| names.get(id as usize).cloned().unwrap_or_else(|| format!("#{id}"));
    match &e.kind {
        TraceKind::Deliver { from, label, .. } => format!("{} ← {}: {label}", name(e.node), name(*from)),
        TraceKind::Timer { tag } => format!("{} timer {tag}", name(e.node)),
        TraceKind::Drop { from, to, label, reason } => {
            format!("dropped {} → {}: {label} ({reason:?})", name(*from), name(*to))
        }
        TraceKind::Fault { text } => format!("FAULT {text}"),
        TraceKind::Note { text } => format!("{}: {text}", name(e.node)),
        TraceKind::Violation { check, detail } => format!("VIOLATION {check}: {detail}"),
    }
}

/// Whether an event deserves to be announced to screen readers.
pub fn important(e: &TraceEvent) -> bool {
    matches!(e.kind, TraceKind::Fault { .. } | TraceKind::Note { .. } | TraceKind::Violation { .. })
}

#[component]
pub fn EventLog(p: &LogProps) -> Html {
    let scroll = use_state(|| None::<i32>);
    let body = use_node_ref();
    let rows_ref = use_node_ref();
    let total = p.events.len();
    // Stick to the bottom unless the user scrolled up.
    let top = scroll.unwrap_or(((total as i32 - VISIBLE as i32).max(0)) * ROW_PX);
    let first = (top / ROW_PX).max(0) as usize;
    let rows = p.events.iter().enumerate().skip(first).take(VISIBLE + 2).map(|(i, e)| {
        let class = match e.kind {
            TraceKind::Fault { .. } => "fault",
            TraceKind::Violation { .. } => "violation",
            TraceKind::Drop { .. } => "drop",
            TraceKind::Note { .. } => "note",
            _ => "",
        };
        html! {
            <li class={classes!("row", class)} data-row={i.to_string()}>
                <span class="t">{ format!("{:>9.3}", e.at.as_ms()) }</span>
                <span class="what">{ describe(e, &p.names) }</span>
            </li>
        }
    });
    let onscroll = {
        let scroll = scroll.clone();
        let body = body.clone();
        Callback::from(move |_: Event| {
            if let Some(el) = body.cast::<HtmlElement>() {
                let at_bottom = el.scroll_top() + el.client_height() >= el.scroll_height() - ROW_PX;
                scroll.set(if at_bottom { None } else { Some(el.scroll_top()) });
            }
        })
    };
    {
        let body = body.clone();
        let rows_ref = rows_ref.clone();
        let offset = first as i32 * ROW_PX;
        use_effect(move || {
            if let Some(el) = body.cast::<HtmlElement>() {
                if el.scroll_top() != top {
                    el.set_scroll_top(top);
                }
            }
            // CSSOM, not a style attribute: allowed under `style-src 'self'`.
            if let Some(ol) = rows_ref.cast::<HtmlElement>() {
                let _ = ol.style().set_property("transform", &format!("translateY({offset}px)"));
            }
        });
    }
    let height = (total.max(1) as i32) * ROW_PX;
    html! {
        <section class="event-log" aria-labelledby="log-h">
            <h2 id="log-h">{ "Event log" }<span class="count">{ format!(" (last {total})") }</span></h2>
            <div class="log-body" ref={body} {onscroll} tabindex="0" role="region" aria-label="Recent events, oldest first">
                <svg class="spacer" width="1" height={height.to_string()} aria-hidden="true"></svg>
                <ol class="rows" ref={rows_ref} start={(first + 1).to_string()}>
                    { for rows }
                </ol>
            </div>
            <p class="visually-hidden" aria-live="polite" data-testid="announcer">{ p.announce.clone() }</p>
        </section>
    }
}
