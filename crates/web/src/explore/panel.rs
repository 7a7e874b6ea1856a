//! `ExplorePanel`: "find a failing seed". The user picks how many seeds to sweep (and
//! whether each seed also draws its own faults, "swarm"); the sweep runs in a Web Worker
//! so the page stays responsive, with a progress bar and a Cancel button that terminates
//! the worker. The first failing seed comes back as a link that replays it.

use super::client::{SweepWorker, DEFAULT_WORKER_URL};
use super::protocol::ToWorker;
use super::state::{Action, SweepState};
use super::sweep::MAX_SEEDS;
use crate::route::Route;
use sdlab_core::scenario::{ScenarioSpec, MAX_SEED};
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ExploreProps {
    /// The scenario to sweep; its seed is where the sweep starts.
    pub spec: ScenarioSpec,
    /// The worker script; tests point it at a stand-in.
    #[prop_or(AttrValue::Static(DEFAULT_WORKER_URL))]
    pub worker_url: AttrValue,
}

type Slot = Rc<RefCell<Option<SweepWorker>>>;

fn spawn(url: &str, dispatch: UseReducerDispatcher<SweepState>) -> Result<SweepWorker, String> {
    let on_error = dispatch.clone();
    SweepWorker::spawn(
        url,
        move |m| dispatch.dispatch(Action::Message(m)),
        move |why| on_error.dispatch(Action::WorkerDied(why)),
    )
}

/// A whole-number field: a value in range is taken, anything else shows why in `error`.
fn number_input(
    set: impl Fn(u64) + 'static,
    min: u64,
    max: u64,
    what: &'static str,
    error: UseStateHandle<Option<String>>,
) -> Callback<Event> {
    Callback::from(move |e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        match crate::play::whole_number::parse(&input.value(), min, max, what) {
            Ok(v) => {
                error.set(None);
                set(v);
            }
            Err(e) => error.set(Some(e)),
        }
    })
}

#[component]
pub fn ExplorePanel(props: &ExploreProps) -> Html {
    let state = use_reducer(SweepState::default);
    let slot: Slot = use_mut_ref(|| None).clone();
    let count = use_state(|| 100u64);
    let from = use_state_eq(|| props.spec.seed);
    let swarm = use_state(|| false);
    let input_error = use_state(|| None::<String>);

    // After a worker dies: drop it (outside its own callback) and start a fresh one.
    {
        let slot = slot.clone();
        let dispatch = state.dispatcher();
        let url = props.worker_url.clone();
        let should_restart = state.should_restart();
        use_effect_with(state.deaths, move |deaths| {
            if *deaths > 0 {
                let fresh = if should_restart { spawn(&url, dispatch).ok() } else { None };
                *slot.borrow_mut() = fresh;
            }
        });
    }
    // A new scenario starts from its own seed; a sweep of the old one is stopped.
    {
        let (slot, from, dispatch) = (slot.clone(), from.clone(), state.dispatcher());
        let running = state.running;
        use_effect_with(props.spec.clone(), move |spec| {
            from.set(spec.seed);
            if running {
                drop(slot.borrow_mut().take());
                dispatch.dispatch(Action::Cancelled);
            }
        });
    }
    // Leaving the page ends any sweep.
    {
        let slot = slot.clone();
        use_effect_with((), move |_| move || drop(slot.borrow_mut().take()));
    }

    let onfind = {
        let (slot, state, spec, url) = (slot.clone(), state.clone(), props.spec.clone(), props.worker_url.clone());
        let (count, from, swarm) = (*count, *from, *swarm);
        Callback::from(move |_: MouseEvent| {
            let mut guard = slot.borrow_mut();
            if guard.is_none() {
                match spawn(&url, state.dispatcher()) {
                    Ok(w) => *guard = Some(w),
                    Err(why) => return state.dispatch(Action::Failed(why)),
                }
            }
            let total = count.min(MAX_SEED - from.min(MAX_SEED) + 1);
            state.dispatch(Action::Started { from, total });
            let msg = ToWorker::Start { spec: spec.clone(), from, count, swarm };
            if let Some(Err(why)) = guard.as_ref().map(|w| w.send(&msg)) {
                state.dispatch(Action::Failed(why));
            }
        })
    };
    let oncancel = {
        let (slot, state) = (slot.clone(), state.clone());
        Callback::from(move |_: MouseEvent| {
            drop(slot.borrow_mut().take());
            state.dispatch(Action::Cancelled);
        })
    };
    let ontoggle = {
        let swarm = swarm.clone();
        Callback::from(move |e: Event| swarm.set(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };

    let s = &*state;
    let progress_text = format!("{} of {} seeds", s.done, s.total);
    html! {
        <section class="explore" aria-labelledby="explore-title" data-testid="explore">
            <h2 id="explore-title">{ "Find a failing seed" }</h2>
            <p class="explore-hint">{ "Runs this scenario under many seeds in a background worker and stops at the first seed where a check fails." }</p>
            <div class="explore-controls">
                <label>
                    <span>{ "Seeds to try" }</span>
                    <input type="number" min="1" max={MAX_SEEDS.to_string()} value={count.to_string()}
                        onchange={number_input({ let c = count.clone(); move |v| c.set(v) }, 1, MAX_SEEDS, "the number of seeds", input_error.clone())} disabled={s.running} data-testid="explore-count" />
                </label>
                <label>
                    <span>{ "First seed" }</span>
                    <input type="number" min="0" max={MAX_SEED.to_string()} value={from.to_string()}
                        onchange={number_input({ let f = from.clone(); move |v| f.set(v) }, 0, MAX_SEED, "the first seed", input_error.clone())} disabled={s.running} data-testid="explore-from" />
                </label>
                <label class="explore-swarm">
                    <input type="checkbox" checked={*swarm} onchange={ontoggle} disabled={s.running} data-testid="explore-swarm" />
                    <span>{ "Swarm: each seed also draws its own faults" }</span>
                </label>
                <button class="primary" onclick={onfind} disabled={s.running || input_error.is_some()} data-testid="explore-find">{ "Find a failing seed" }</button>
                <button onclick={oncancel} disabled={!s.running} data-testid="explore-cancel">{ "Cancel" }</button>
            </div>
            if let Some(e) = &*input_error { <p class="param-error" role="alert" data-testid="explore-input-error">{ e }</p> }
            if s.running || s.total > 0 {
                <progress class="explore-progress" max={s.total.max(1).to_string()} value={s.done.to_string()}
                    aria-label="Sweep progress" aria-valuetext={progress_text.clone()} data-testid="explore-progress" />
            }
            <p class="explore-status" aria-live="polite" data-testid="explore-status">{ status_line(s, &progress_text) }</p>
            if let Some(notice) = &s.notice {
                <p class="explore-notice" role="status" data-testid="explore-notice">{ notice }</p>
            }
            if let Some(err) = &s.error {
                <p class="explore-error" role="alert" data-testid="explore-error">{ err }</p>
            }
            if let Some(hit) = &s.hit {
                <div class="explore-hit" data-testid="explore-hit" data-seed={hit.seed.to_string()}>
                    <p><strong>{ format!("Seed {} fails “{}”", hit.seed, hit.check) }</strong>{ " — " }{ &hit.detail }</p>
                    <a href={Route::System { id: props.spec.system.clone(), link: Some(hit.link.clone()) }.href()} data-testid="explore-hit-link">
                        { format!("Open seed {} on its own", hit.seed) }
                    </a>
                </div>
            }
        </section>
    }
}

fn status_line(s: &SweepState, progress: &str) -> String {
    if s.running {
        format!("Sweeping… {progress}")
    } else if s.cancelled {
        format!("Cancelled after {progress}.")
    } else if s.hit.is_some() {
        format!("Found a failing seed after {progress}.")
    } else if s.finished {
        format!("No check failed on seeds {} to {}.", s.from, s.from + s.total.saturating_sub(1))
    } else {
        String::new()
    }
}
