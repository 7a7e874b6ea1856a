//! A system page, minimal for now: it opens the scenario in the link (or the system's
//! default), runs it to the end in the browser, and shows the trace hash and the checks —
//! the same numbers `sdlab run` prints natively. A bad link shows what is wrong, keeps
//! the raw text, and falls back to the default scenario.

use sdlab_core::catalog::{self, BuildOptions};
use sdlab_core::run::{run_validated, RunReport};
use sdlab_core::scenario::{Scenario, ScenarioError};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub id: String,
    pub link: Option<String>,
}

/// The scenario to open, plus the error that made us fall back to defaults, if any.
fn open(id: &str, link: Option<&str>) -> Result<(Scenario, Option<ScenarioError>), String> {
    let def = catalog::find(id).ok_or_else(|| format!("There is no system called {id:?} in the catalog."))?;
    let default = || Scenario::from_spec(&def.default_spec()).map_err(|e| e.to_string());
    match link {
        None => Ok((default()?, None)),
        Some(l) => match Scenario::from_link(l) {
            Ok(s) if s.def.id == def.id => Ok((s, None)),
            Ok(s) => {
                Ok((default()?, Some(ScenarioError::Invalid(format!("the link is for {}, not {}", s.def.id, def.id)))))
            }
            Err(e) => Ok((default()?, Some(e))),
        },
    }
}

#[component]
pub fn SystemPage(props: &Props) -> Html {
    let opened = use_memo((props.id.clone(), props.link.clone()), |(id, link)| open(id, link.as_deref()));
    let report = use_state(|| None::<RunReport>);
    let (scenario, link_error) = match &*opened {
        Ok(pair) => pair.clone(),
        Err(msg) => {
            return html! { <section class="notice" data-testid="not-found"><h2>{ "Unknown system" }</h2><p>{ msg }</p><a href="#/">{ "Back to the catalog" }</a></section> }
        }
    };
    let onrun = {
        let report = report.clone();
        let scenario = scenario.clone();
        Callback::from(move |_| report.set(run_validated(&scenario, &BuildOptions::default()).ok()))
    };
    let def = scenario.def;
    html! {
        <section class="system">
            <h1>{ def.title }</h1>
            <p class="question">{ def.question }</p>
            if let Some(err) = link_error {
                <div class="link-error" role="alert" data-testid="link-error">
                    <strong>{ "This link could not be opened: " }</strong>{ err.to_string() }
                    <p>{ "The default scenario is shown instead. The link you opened:" }</p>
                    <textarea readonly=true rows="3" aria-label="The link as received" data-testid="raw-link" value={props.link.clone().unwrap_or_default()} />
                </div>
            }
            <p>{ format!("Strategy: {} · seed {} · {} faults", scenario.strategy.title, scenario.seed, scenario.faults.len()) }</p>
            <button class="primary" onclick={onrun} data-testid="run">{ "Run scenario" }</button>
            if let Some(r) = &*report {
                <dl class="run-summary">
                    <dt>{ "Trace hash" }</dt><dd data-testid="trace-hash">{ &r.trace_hash }</dd>
                    <dt>{ "Events" }</dt><dd>{ r.events }</dd>
                    <dt>{ "Simulated time" }</dt><dd data-testid="sim-time">{ format!("{:.1} ms", r.sim_time_ms) }</dd>
                </dl>
                <ul class="checks" data-testid="checks">
                    { for r.checks.iter().map(|c| html! {
                        <li data-check={c.name.clone()} data-ok={c.ok.to_string()} class={if c.ok { "ok" } else { "bad" }}>
                            <strong>{ if c.ok { "✓ " } else { "✗ " } }{ &c.name }</strong>{ " — " }{ &c.detail }
                        </li>
                    }) }
                </ul>
            }
            <p class="hint">{ "The same scenario gives the same trace hash natively: `sdlab run --link <link>` prints it too." }</p>
        </section>
    }
}
