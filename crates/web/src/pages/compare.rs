//! Compare mode: one system, two scenarios side by side — by default the naive strategy
//! against the first robust one, on the same seed, so the difference a design choice makes
//! is the only difference. Both runs go to their end (systems are small), then the page
//! diffs their metrics and checks and shows each trace hash. A strategy picker per side
//! swaps that side's strategy and keeps its seed; the new pair is written back into the
//! address bar so the comparison can be shared.
//!
//! A link that does not open shows its error and its raw text, and that side falls back to
//! its default.

use crate::explore::diff::{check_rows, metric_rows, CheckRow};
use crate::route::Route;
use sdlab_core::catalog;
use sdlab_core::scenario::Scenario;
use sdlab_core::system::{run_validated, RunReport};
use sdlab_core::system::{BuildOptions, SystemDef};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct CompareProps {
    pub id: String,
    /// Scenario link of the left side (A).
    pub a: Option<String>,
    /// Scenario link of the right side (B).
    pub b: Option<String>,
}

/// One side as opened: the scenario, and why its link was not used (if it was not).
#[derive(Clone, Debug)]
struct Opened {
    scenario: Scenario,
    error: Option<String>,
}

fn decode(def: &SystemDef, link: Option<&str>) -> Option<Result<Scenario, String>> {
    link.map(|l| match sdlab_core::run::open_link(l) {
        Ok(s) if s.def.id == def.id => Ok(s),
        Ok(s) => Err(format!("the link is for {}, not {}", s.def.id, def.id)),
        Err(e) => Err(e.to_string()),
    })
}

fn with_strategy(base: &Scenario, robust: bool) -> Scenario {
    let mut s = base.clone();
    if let Some(st) = base.def.strategies.iter().find(|st| st.robust == robust) {
        s.strategy = st;
    }
    s
}

/// Opens both sides. A missing (or broken) side is the other side's scenario with the
/// naive (A) or first robust (B) strategy, so the seed stays the same.
fn open_pair(id: &str, a: Option<&str>, b: Option<&str>) -> Result<(Opened, Opened), String> {
    let def = catalog::find(id).ok_or_else(|| format!("There is no system called {id:?} in the catalog."))?;
    let default = sdlab_core::run::open(&def.default_spec()).map_err(|e| e.to_string())?;
    let (ra, rb) = (decode(def, a), decode(def, b));
    let ok = |r: &Option<Result<Scenario, String>>| r.as_ref().and_then(|r| r.as_ref().ok()).cloned();
    let err = |r: &Option<Result<Scenario, String>>| r.as_ref().and_then(|r| r.as_ref().err()).cloned();
    let base = ok(&ra).or_else(|| ok(&rb)).unwrap_or(default);
    let sa = ok(&ra).unwrap_or_else(|| with_strategy(&base, false));
    let sb = ok(&rb).unwrap_or_else(|| with_strategy(&base, true));
    Ok((Opened { scenario: sa, error: err(&ra) }, Opened { scenario: sb, error: err(&rb) }))
}

fn run(s: &Scenario) -> Result<RunReport, String> {
    run_validated(s, &BuildOptions::default()).map_err(|e| e.to_string())
}

/// Writes the current pair into the address bar without a navigation (no `hashchange`).
fn remember(id: &str, a: &Scenario, b: &Scenario) {
    let href = Route::Compare { id: id.to_string(), a: Some(a.link()), b: Some(b.link()) }.href();
    if let Ok(history) = gloo::utils::window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href));
    }
}

#[component]
pub fn ComparePage(props: &CompareProps) -> Html {
    let opened = use_memo((props.id.clone(), props.a.clone(), props.b.clone()), |(id, a, b)| {
        open_pair(id, a.as_deref(), b.as_deref())
    });
    // Strategy picks made on this page, cleared when the route brings a new pair.
    let picks = use_state_eq(|| [None::<&'static str>; 2]);
    {
        let picks = picks.clone();
        use_effect_with((props.id.clone(), props.a.clone(), props.b.clone()), move |_| picks.set([None, None]));
    }
    let (oa, ob) = match &*opened {
        Ok(pair) => pair.clone(),
        Err(msg) => {
            return html! { <section class="notice" data-testid="not-found"><h2>{ "Unknown system" }</h2><p>{ msg }</p><a href="#/">{ "Back to the catalog" }</a></section> }
        }
    };
    let pick = |o: &Opened, i: usize| {
        let mut s = o.scenario.clone();
        if let Some(st) = picks[i].and_then(|id| s.def.strategy(id)) {
            s.strategy = st;
        }
        s
    };
    let sides = [pick(&oa, 0), pick(&ob, 1)];
    let reports = use_memo((sides[0].link(), sides[1].link()), |_| (run(&sides[0]), run(&sides[1])));
    let def = sides[0].def;

    let on_pick = |i: usize| {
        let (picks, sides, id) = (picks.clone(), sides.clone(), props.id.clone());
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let Some(st) = def.strategy(&value) else { return };
            let mut next = *picks;
            next[i] = Some(st.id);
            picks.set(next);
            let mut pair = sides.clone();
            pair[i].strategy = st;
            remember(&id, &pair[0], &pair[1]);
        })
    };
    let raw = [props.a.clone(), props.b.clone()];
    let errors = [oa.error.clone(), ob.error.clone()];
    let (ra, rb) = (&reports.0, &reports.1);
    html! {
        <section class="compare" data-testid="compare">
            <h1>{ format!("Compare: {}", def.title) }</h1>
            <p class="compare-seed" data-testid="compare-seed">{
                if sides[0].seed == sides[1].seed {
                    format!("Both sides run seed {}.", sides[0].seed)
                } else {
                    format!("The sides run different seeds ({} and {}).", sides[0].seed, sides[1].seed)
                }
            }</p>
            <div class="compare-sides">
                { for (0..2).map(|i| side_card(i, &sides[i], if i == 0 { ra } else { rb }, errors[i].as_deref(), raw[i].as_deref(), on_pick(i))) }
            </div>
            if let (Ok(a), Ok(b)) = (ra, rb) {
                { metrics_table(a, b) }
                { checks_table(&check_rows(a, b)) }
            }
        </section>
    }
}

const SIDE_NAMES: [&str; 2] = ["A", "B"];

fn side_card(
    i: usize,
    s: &Scenario,
    report: &Result<RunReport, String>,
    error: Option<&str>,
    raw: Option<&str>,
    onchange: Callback<Event>,
) -> Html {
    let name = SIDE_NAMES[i];
    let select_id = format!("compare-strategy-{}", name.to_lowercase());
    let open = Route::System { id: s.def.id.to_string(), link: Some(s.link()) }.href();
    html! {
        <article class={classes!("compare-side", if s.strategy.robust { "robust" } else { "naive" })} data-testid={format!("side-{}", name.to_lowercase())}>
            <h2>{ format!("Side {name}") }</h2>
            if let Some(err) = error {
                <div class="link-error" role="alert" data-testid="link-error">
                    <strong>{ format!("Side {name}'s link could not be opened: ") }</strong>{ err }
                    <p>{ "A default is shown instead. The link you opened:" }</p>
                    <textarea readonly=true rows="3" aria-label={format!("Side {name} link as received")} data-testid="raw-link" value={raw.unwrap_or_default().to_string()} />
                </div>
            }
            <label for={select_id.clone()}>{ "Strategy" }</label>
            <select id={select_id} {onchange} aria-label={format!("Strategy for side {name}")} data-testid="strategy-picker">
                { for s.def.strategies.iter().map(|st| html! {
                    <option value={st.id} selected={st.id == s.strategy.id}>
                        { format!("{}{}", st.title, if st.robust { " (robust)" } else { " (naive)" }) }
                    </option>
                }) }
            </select>
            <p class="compare-summary">{ s.strategy.summary }</p>
            { match report {
                Ok(r) => html! {
                    <dl class="run-summary">
                        <dt>{ "Trace hash" }</dt><dd data-testid="trace-hash">{ &r.trace_hash }</dd>
                        <dt>{ "Events" }</dt><dd>{ r.events }</dd>
                        <dt>{ "Checks" }</dt><dd data-testid="verdict">{ if r.all_ok() { "all pass" } else { "some fail" } }</dd>
                    </dl>
                },
                Err(e) => html! { <p class="explore-error" role="alert">{ format!("This side could not run: {e}") }</p> },
            } }
            <a href={open} data-testid="open-side">{ format!("Open side {name} on its own") }</a>
        </article>
    }
}

fn metrics_table(a: &RunReport, b: &RunReport) -> Html {
    html! {
        <table class="compare-metrics" data-testid="compare-metrics">
            <caption>{ "Metrics (Δ is B − A)" }</caption>
            <thead><tr><th scope="col">{ "Metric" }</th><th scope="col">{ "A" }</th><th scope="col">{ "B" }</th><th scope="col">{ "Δ" }</th></tr></thead>
            <tbody>
                { for metric_rows(a, b).iter().map(|r| html! {
                    <tr data-metric={r.name.clone()} class={classes!((r.delta() != 0.0).then_some("changed"))}>
                        <th scope="row">{ &r.name }</th>
                        <td>{ r.fmt(r.a) }</td>
                        <td>{ r.fmt(r.b) }</td>
                        <td class="delta">{ r.fmt_delta() }</td>
                    </tr>
                }) }
            </tbody>
        </table>
    }
}

fn verdict(c: &Option<(bool, String)>) -> Html {
    match c {
        Some((true, d)) => {
            html! { <td class="ok">{ "✓ pass" }<span class="compare-detail">{ format!(" — {d}") }</span></td> }
        }
        Some((false, d)) => {
            html! { <td class="bad">{ "✗ fail" }<span class="compare-detail">{ format!(" — {d}") }</span></td> }
        }
        None => html! { <td class="absent">{ "—" }</td> },
    }
}

fn checks_table(rows: &[CheckRow]) -> Html {
    html! {
        <table class="compare-checks" data-testid="compare-checks">
            <caption>{ "Checks (rows that differ are highlighted)" }</caption>
            <thead><tr><th scope="col">{ "Check" }</th><th scope="col">{ "A" }</th><th scope="col">{ "B" }</th></tr></thead>
            <tbody>
                { for rows.iter().map(|r| html! {
                    <tr data-check={r.name.clone()} data-differs={r.differs().to_string()} class={classes!(r.differs().then_some("differs"))}>
                        <th scope="row">{ &r.name }{ if r.differs() { " (differs)" } else { "" } }</th>
                        { verdict(&r.a) }
                        { verdict(&r.b) }
                    </tr>
                }) }
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdlab_core::catalog::CATALOG;

    #[test]
    fn defaults_are_naive_against_robust_on_one_seed() {
        for def in CATALOG {
            let (a, b) = open_pair(def.id, None, None).unwrap();
            assert!(!a.scenario.strategy.robust && b.scenario.strategy.robust, "{}", def.id);
            assert_eq!(a.scenario.seed, b.scenario.seed);
        }
    }

    #[test]
    fn one_link_sets_the_seed_for_both_and_a_bad_link_is_reported() {
        let def = &CATALOG[0];
        let mut spec = def.default_spec();
        spec.seed = 42;
        let link = sdlab_core::run::open(&spec).unwrap().link();
        let (a, b) = open_pair(def.id, Some(&link), Some("v1.broken")).unwrap();
        assert_eq!((a.scenario.seed, b.scenario.seed), (42, 42));
        assert!(a.error.is_none() && b.error.is_some());
        assert!(b.scenario.strategy.robust);
        assert!(open_pair("nope", None, None).is_err());
    }
}
