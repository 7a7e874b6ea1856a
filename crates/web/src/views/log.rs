//! Append-only logs side by side (replica logs, partitions of a topic). Each lane is an
//! ordered list; entries before the lane's commit index are marked committed, and a rule
//! is drawn where the committed prefix ends, so a lagging or diverging replica shows at a
//! glance. Long lanes show only their last [`SHOWN`] entries, numbered by their real
//! index, so the DOM stays small however long the run.

use sdlab_core::view::{Log, LogLane};
use yew::prelude::*;

/// Entries drawn per lane; older ones are summarised as a count.
pub const SHOWN: usize = 200;

#[derive(Properties, PartialEq, Clone)]
pub struct LogProps {
    pub log: Log,
}

fn lane(l: &LogLane) -> Html {
    let total = l.entries.len();
    let committed = l.committed.min(total);
    let first = total.saturating_sub(SHOWN);
    let status = format!("{committed} of {total} committed");
    html! {
        <section class="vw-lane" aria-label={format!("{}: {status}", l.name)}>
            <h4 class="vw-lane-name">{ l.name.clone() }<span class="vw-latest">{ status }</span></h4>
            if first > 0 {
                <p class="vw-hint">{ format!("{first} earlier entries not shown") }</p>
            }
            // Long entries scroll sideways in a narrow lane: focusable, so the keyboard can too.
            <ol class="vw-entries" start={(first + 1).to_string()} tabindex="0" aria-label={format!("{} entries", l.name)}>
                { for l.entries.iter().enumerate().skip(first).map(|(i, e)| {
                    let done = i < committed;
                    html! {
                        <li class={classes!(if done { "vw-committed" } else { "vw-pending" }, (i + 1 == committed).then_some("vw-commit-edge"))}
                            data-committed={done.to_string()}>
                            { e.clone() }
                        </li>
                    }
                }) }
            </ol>
        </section>
    }
}

#[component]
pub fn LogView(props: &LogProps) -> Html {
    let log = &props.log;
    html! {
        <figure class="vw vw-log" data-shape="log">
            <figcaption class="vw-title">{ log.title.clone() }</figcaption>
            <div class="vw-lanes">
                if log.lanes.is_empty() { <p class="vw-hint">{ "No logs yet" }</p> }
                { for log.lanes.iter().map(lane) }
            </div>
        </figure>
    }
}
