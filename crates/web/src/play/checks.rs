//! The checks panel: one row per property, green or red (grey when a finished run gave it
//! nothing to observe: that is no pass), with its detail. A violated
//! check names the event where it broke; clicking it moves the playhead there.

use sdlab_core::check::CheckResult;
use sdlab_core::system::CheckDef;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ChecksProps {
    pub results: Vec<CheckResult>,
    pub defs: &'static [CheckDef],
    pub finished: bool,
    /// Called with the violation's time in ms.
    pub on_jump: Callback<f64>,
}

#[component]
pub fn ChecksPanel(p: &ChecksProps) -> Html {
    html! {
        <section class="checks-panel" aria-labelledby="checks-h">
            <h2 id="checks-h">{ "Checks" }</h2>
            <ul class="checks" data-testid="checks">
                { for p.results.iter().map(|c| {
                    let def = p.defs.iter().find(|d| d.name == c.name);
                    let kind = def.map(|d| format!("{:?}", d.kind).to_lowercase()).unwrap_or_default();
                    // Held only because it saw nothing: not a pass (the CLI exits 1 on it too).
                    let idle = c.ok && p.finished && c.samples == 0;
                    let state = if !c.ok { "bad" } else if idle { "idle" } else if p.finished { "ok" } else { "pending" };
                    html! {
                        <li class={classes!(state)} data-check={c.name.clone()} data-ok={c.ok.to_string()}>
                            <div class="check-head">
                                <strong>{ if idle { "– " } else if c.ok { "✓ " } else { "✗ " } }{ &c.name }</strong>
                                <span class="kind">{ kind }</span>
                            </div>
                            if let Some(d) = def { <p class="desc">{ d.description }</p> }
                            <p class="detail">{
                                if idle { format!("not exercised: observed nothing in this run ({})", c.detail) }
                                else if c.ok && !p.finished && c.detail.is_empty() { "holding so far".to_string() }
                                else { c.detail.clone() }
                            }</p>
                            if let Some(v) = &c.violation {
                                <button class="jump" onclick={{ let cb = p.on_jump.clone(); let at = v.at_ms; Callback::from(move |_| cb.emit(at)) }}
                                        aria-label={format!("Jump to the violation of {} at {:.1} ms", c.name, v.at_ms)}>
                                    { format!("Jump to event #{} at {:.1} ms", v.seq, v.at_ms) }
                                </button>
                            }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
