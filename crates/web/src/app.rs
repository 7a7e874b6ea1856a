//! The app shell: header, the page for the current hash route, and a footer. The route is
//! read from `location.hash` and follows `hashchange`, so links and the back button work
//! on any static host.

use crate::pages::{catalog::CatalogPage, system::SystemPage};
use crate::route::Route;
use gloo::events::EventListener;
use yew::prelude::*;

fn current_route() -> Route {
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    Route::parse(&hash)
}

#[component]
pub fn App() -> Html {
    let route = use_state(current_route);
    let theme = use_state(|| {
        let t = crate::theme::current();
        crate::theme::apply(t);
        t
    });
    let on_theme = {
        let theme = theme.clone();
        Callback::from(move |_: MouseEvent| theme.set(crate::theme::toggle()))
    };
    {
        let route = route.clone();
        use_effect_with((), move |_| {
            let listener =
                EventListener::new(&gloo::utils::window(), "hashchange", move |_| route.set(current_route()));
            move || drop(listener)
        });
    }
    let page = match &*route {
        Route::Catalog => html! { <CatalogPage /> },
        Route::System { id, link } => html! { <SystemPage id={id.clone()} link={link.clone()} /> },
        Route::Compare { id, a, b } => {
            html! { <crate::pages::compare::ComparePage id={id.clone()} a={a.clone()} b={b.clone()} /> }
        }
        Route::Method => html! { <crate::pages::method::MethodPage /> },
        Route::Bench { query } => html! { <crate::pages::bench::BenchPage query={query.clone()} /> },
        Route::NotFound(path) => html! {
            <section class="notice" data-testid="not-found"><h2>{ "No such page" }</h2><p>{ format!("Nothing lives at #{path}.") }</p><a href="#/">{ "Back to the catalog" }</a></section>
        },
    };
    html! {
        <>
            <header class="top">
                <a class="brand" href="#/">{ "sdlab" }</a>
                <span class="tagline">{ "System Design Lab — run it, break it, fix it" }</span>
                <nav class="top-nav"><a href="#/">{ "Systems" }</a><a href="#/method">{ "Interview method" }</a></nav>
                <button class="theme-toggle" onclick={on_theme} data-testid="theme-toggle"
                        aria-label={format!("Switch to {} mode", if *theme == "dark" { "light" } else { "dark" })}>
                    { if *theme == "dark" { "☀ Light" } else { "☾ Dark" } }
                </button>
            </header>
            <main id="main">{ page }</main>
        </>
    }
}
