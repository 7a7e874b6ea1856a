//! Transport controls: play/pause, step, reset, speed (0.1×–1000×), seed, strategy, and
//! the share button. Every control has an accessible name and a stable `data-testid`.

use super::whole_number;
use sdlab_core::system::StrategyDef;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Speeds offered, as multiples of real time.
pub const SPEEDS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 100.0, 1000.0];

pub fn speed_label(s: f64) -> String {
    if s < 1.0 {
        format!("{s}×")
    } else {
        format!("{s:.0}×")
    }
}

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub playing: bool,
    pub finished: bool,
    pub speed_index: usize,
    pub seed: u64,
    pub strategy: AttrValue,
    pub strategies: &'static [StrategyDef],
    pub on_toggle: Callback<()>,
    pub on_step: Callback<()>,
    pub on_reset: Callback<()>,
    pub on_speed: Callback<usize>,
    pub on_seed: Callback<u64>,
    pub on_strategy: Callback<String>,
    pub on_share: Callback<()>,
}

#[component]
pub fn Controls(p: &ControlsProps) -> Html {
    let toggle = p.on_toggle.reform(|_: MouseEvent| ());
    let step = p.on_step.reform(|_: MouseEvent| ());
    let reset = p.on_reset.reform(|_: MouseEvent| ());
    let share = p.on_share.reform(|_: MouseEvent| ());
    let speed = p.on_speed.reform(|e: InputEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        input.value().parse::<usize>().unwrap_or(3)
    });
    let seed_error = use_state(|| None::<String>);
    let seed = {
        let (on_seed, seed_error) = (p.on_seed.clone(), seed_error.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            match whole_number::parse(&input.value(), 0, sdlab_core::scenario::MAX_SEED, "a seed") {
                Ok(v) => {
                    seed_error.set(None);
                    on_seed.emit(v);
                }
                Err(e) => seed_error.set(Some(e)),
            }
        })
    };
    let strategy = p.on_strategy.reform(|e: Event| {
        let select: HtmlSelectElement = e.target_unchecked_into();
        select.value()
    });
    let play_label = if p.playing {
        "Pause"
    } else if p.finished {
        "Finished"
    } else {
        "Play"
    };
    html! {
        <div class="controls" role="toolbar" aria-label="Simulation controls">
            <button class="primary" onclick={toggle} data-testid="play-toggle" aria-pressed={p.playing.to_string()}
                    aria-label={format!("{play_label} (Space)")} disabled={p.finished && !p.playing}>
                { if p.playing { pause_icon() } else { play_icon() } }
                { if p.playing { " Pause" } else { " Play" } }
            </button>
            <button onclick={step} data-testid="step" aria-label="Step one event (→)" disabled={p.finished}>{ "Step ›" }</button>
            <button onclick={reset} data-testid="reset" aria-label="Reset to time zero">{ "Reset" }</button>
            <label class="speed">
                <span>{ "Speed " }<output data-testid="speed-value">{ speed_label(SPEEDS[p.speed_index.min(SPEEDS.len() - 1)]) }</output></span>
                <input type="range" min="0" max={(SPEEDS.len() - 1).to_string()} step="1" value={p.speed_index.to_string()}
                       oninput={speed} data-testid="speed" aria-label="Speed (+ / −)"
                       aria-valuetext={speed_label(SPEEDS[p.speed_index.min(SPEEDS.len() - 1)])} />
            </label>
            <label class="seed">
                <span>{ "Seed" }</span>
                <input type="number" min="0" value={p.seed.to_string()} onchange={seed} data-testid="seed" aria-label="Seed"
                       aria-invalid={seed_error.is_some().to_string()} />
            </label>
            if let Some(e) = &*seed_error { <p class="param-error" role="alert" data-testid="seed-error">{ e }</p> }
            <label class="strategy">
                <span>{ "Strategy" }</span>
                <select onchange={strategy} data-testid="strategy" aria-label="Strategy">
                    { for p.strategies.iter().map(|s| html! {
                        <option value={s.id} selected={s.id == p.strategy.as_str()}>
                            { format!("{}{}", s.title, if s.robust { " (robust)" } else { " (naive)" }) }
                        </option>
                    }) }
                </select>
            </label>
            <button onclick={share} data-testid="copy-link" aria-label="Copy a link to this exact run">{ "Copy link" }</button>
        </div>
    }
}

/// Play and pause as inline SVG: the ⏸ character is missing from the fonts headless
/// Chromium has here and showed as an empty box.
fn play_icon() -> Html {
    html! {
        <svg class="icon" viewBox="0 0 10 10" width="10" height="10" aria-hidden="true"><path d="M1 0.5 L9.5 5 L1 9.5 Z" fill="currentColor" /></svg>
    }
}

fn pause_icon() -> Html {
    html! {
        <svg class="icon" viewBox="0 0 10 10" width="10" height="10" aria-hidden="true">
            <rect x="1" y="0.5" width="3" height="9" fill="currentColor" />
            <rect x="6" y="0.5" width="3" height="9" fill="currentColor" />
        </svg>
    }
}
