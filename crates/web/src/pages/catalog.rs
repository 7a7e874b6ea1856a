//! The catalog: every system in sdlab-core's catalog as a card, grouped by theme, with a
//! search box that filters by title, id or question.

use sdlab_core::catalog::CATALOG;
use sdlab_core::system::SystemDef;
use web_sys::HtmlInputElement;
use yew::prelude::*;

fn matches(def: &SystemDef, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    q.is_empty() || [def.id, def.title, def.question, def.theme].iter().any(|s| s.to_lowercase().contains(&q))
}

#[component]
pub fn CatalogPage() -> Html {
    let query = use_state(String::new);
    let oninput = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            query.set(input.value());
        })
    };
    let mut themes: Vec<&str> = Vec::new();
    for d in CATALOG {
        if !themes.contains(&d.theme) {
            themes.push(d.theme);
        }
    }
    let shown = CATALOG.iter().filter(|d| matches(d, &query)).count();
    html! {
        <section class="catalog">
            <h1>{ "Pick a system to run" }</h1>
            <label class="search">
                <span>{ "Search systems" }</span>
                <input type="search" placeholder="cache, lock, rate…" value={(*query).clone()} {oninput} data-testid="catalog-search" />
            </label>
            <p class="count" aria-live="polite">{ format!("{shown} of {} systems", CATALOG.len()) }</p>
            { for themes.iter().map(|theme| {
                let cards: Vec<&SystemDef> = CATALOG.iter().filter(|d| d.theme == *theme && matches(d, &query)).collect();
                if cards.is_empty() { return html! {}; }
                html! {
                    <div class="theme">
                        <h2>{ *theme }</h2>
                        <ul class="cards">{ for cards.iter().map(|d| card(d)) }</ul>
                    </div>
                }
            }) }
        </section>
    }
}

/// A small live diagram of the system: its default scenario run for a moment, drawn as
/// nodes coloured by role and the links that carried traffic.
#[derive(Properties, PartialEq)]
struct PreviewProps {
    id: &'static str,
}

#[component]
fn Preview(p: &PreviewProps) -> Html {
    let topo = use_memo(p.id, |id| {
        let def = sdlab_core::catalog::find(id)?;
        let scenario = sdlab_core::run::open(&def.default_spec()).ok()?;
        let mut sim = scenario.build(&Default::default()).ok()?;
        sim.run_until(sdlab_core::sim::time::SimTime::from_ms(300));
        Some(sim.topology())
    });
    let Some(t) = &*topo else { return html! {} };
    let roles: Vec<&str> = t.nodes.iter().fold(Vec::new(), |mut acc, n| {
        if !acc.contains(&n.role.as_str()) {
            acc.push(n.role.as_str());
        }
        acc
    });
    let at = |id: u32| {
        t.nodes
            .get(id as usize)
            .map(|n| (10.0 + f64::from(n.x) * 180.0, 8.0 + f64::from(n.y) * 64.0))
            .unwrap_or_default()
    };
    html! {
        <svg class="preview" viewBox="0 0 200 80" role="img" aria-label={format!("Diagram: {} nodes in {} roles ({})", t.nodes.len(), roles.len(), roles.join(", "))}>
            { for t.links.iter().map(|l| { let (a, b) = (at(l.from), at(l.to)); html! {
                <line x1={a.0.to_string()} y1={a.1.to_string()} x2={b.0.to_string()} y2={b.1.to_string()} />
            } }) }
            { for t.nodes.iter().map(|n| { let (x, y) = at(n.id); let role = roles.iter().position(|r| *r == n.role).unwrap_or(0); html! {
                <circle class={format!("r{}", role % 6)} cx={x.to_string()} cy={y.to_string()} r="4" />
            } }) }
        </svg>
    }
}

fn card(def: &SystemDef) -> Html {
    let naive = def.strategies.iter().filter(|s| !s.robust).count();
    let robust = def.strategies.len() - naive;
    html! {
        <li>
            <a class="card" href={format!("#/s/{}", def.id)} data-testid="system-card" data-system={def.id}>
                <span class="num">{ def.number }</span>
                <strong>{ def.title }</strong>
                <span class="question">{ def.question }</span>
                <Preview id={def.id} />
                <span class="meta">{ format!("{} strategies ({naive} naive, {robust} robust) · {} checks", def.strategies.len(), def.checks.len()) }</span>
            </a>
        </li>
    }
}
