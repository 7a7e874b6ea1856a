//! The catalog: every system in sdlab-core's catalog as a card, grouped by theme, with a
//! search box that filters by title, id or question.

use sdlab_core::catalog::{SystemDef, CATALOG};
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

fn card(def: &SystemDef) -> Html {
    let naive = def.strategies.iter().filter(|s| !s.robust).count();
    let robust = def.strategies.len() - naive;
    html! {
        <li>
            <a class="card" href={format!("#/s/{}", def.id)} data-testid="system-card" data-system={def.id}>
                <span class="num">{ def.number }</span>
                <strong>{ def.title }</strong>
                <span class="question">{ def.question }</span>
                <span class="meta">{ format!("{} strategies ({naive} naive, {robust} robust) · {} checks", def.strategies.len(), def.checks.len()) }</span>
            </a>
        </li>
    }
}
