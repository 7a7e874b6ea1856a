//! The system page: the live playground for one system. The scenario comes from the link
//! (or the system's defaults); a [`Player`] runs it frame by frame under a per-frame
//! event budget; the topology, checks, log and views redraw a few times a second while
//! the canvas animates messages every frame. Controls, parameters and clicked faults all
//! change the scenario, so "Copy link" always reproduces what is on screen.

use crate::markdown::Explainer;
use crate::play::charts::{shared_series, SharedCharts};
use crate::play::checks::ChecksPanel;
use crate::play::controls::{Controls, SPEEDS};
use crate::play::event_log::EventLog;
use crate::play::fault_panel::{Action, FaultPanel};
use crate::play::keyboard::{shortcut, typing};
use crate::play::live::{
    navigate, reduced_motion, schedule, start, with_live, Deadline, Live, Loop, Shared, FRAME_EVENT_BUDGET,
    FRAME_SIM_MS,
};
use crate::play::params_form::ParamsForm;
use crate::play::topology::{Selection, TopologyView};
use crate::route::Route;
use crate::views::{SequenceDiagram, ViewList};
use gloo::events::{EventListener, EventListenerOptions};
use sdlab_core::scenario::link;
use sdlab_core::scenario::params::ParamValue;
use sdlab_core::sim::time::{SimDuration, SimTime};
use sdlab_core::system::hash_hex;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub id: String,
    pub link: Option<String>,
}

#[component]
pub fn SystemPage(props: &Props) -> Html {
    let started = use_memo((props.id.clone(), props.link.clone()), |(id, l)| {
        let (live, err) = start(id, l.as_deref());
        (Rc::new(RefCell::new(live)) as Shared, err)
    });
    let shared: Shared = started.0.clone();
    let link_error = started.1.clone();
    let force = use_force_update();
    let canvas = use_node_ref();
    {
        let (shared, canvas, force) = (shared.clone(), canvas.clone(), force.clone());
        use_effect_with((props.id.clone(), props.link.clone()), move |_| {
            let l = Rc::new(Loop {
                shared,
                canvas,
                force,
                frame: RefCell::new(None),
                stopped: Cell::new(false),
                reduced_motion: reduced_motion(),
            });
            schedule(l.clone());
            move || {
                l.stopped.set(true);
                l.frame.borrow_mut().take();
            }
        });
    }
    {
        let (shared, force) = (shared.clone(), force.clone());
        use_effect_with((props.id.clone(), props.link.clone()), move |_| {
            let opts = EventListenerOptions::enable_prevent_default();
            let listener = EventListener::new_with_options(&gloo::utils::document(), "keydown", opts, move |e| {
                let Some(e) = e.dyn_ref::<KeyboardEvent>() else { return };
                if typing(e) || e.ctrl_key() || e.meta_key() || e.alt_key() {
                    return;
                }
                let handled = shortcut(&shared, &e.key());
                if handled {
                    e.prevent_default();
                    force.force_update();
                }
            });
            move || drop(listener)
        });
    }

    let borrowed = shared.borrow();
    let live = match &*borrowed {
        Ok(live) => live,
        Err(msg) => {
            return html! {
                <section class="notice" data-testid="not-found"><h2>{ "Cannot open this system" }</h2><p>{ msg }</p><a href="#/">{ "Back to the catalog" }</a></section>
            }
        }
    };
    let scenario = live.player.scenario();
    let def = scenario.def;
    let sim = live.player.sim();
    let finished = live.player.finished();
    let now_ms = live.player.now().as_ms();
    let horizon_ms = live.player.horizon().as_ms();

    let act = |f: Rc<dyn Fn(&mut Live)>| {
        let (shared, force) = (shared.clone(), force.clone());
        move || {
            with_live(&shared, |l| f(l));
            force.force_update();
        }
    };
    let on_toggle = {
        let f = act(Rc::new(|l: &mut Live| {
            if l.player.seeking().is_some() {
                l.player.cancel_seek();
                l.refresh();
            } else if !l.player.finished() {
                l.playing = !l.playing;
                l.last_frame = None;
            }
        }));
        Callback::from(move |_| f())
    };
    let on_step = {
        let f = act(Rc::new(|l: &mut Live| {
            l.playing = false;
            l.player.cancel_seek();
            l.player.step();
            l.refresh();
        }));
        Callback::from(move |_| f())
    };
    let on_reset = {
        let f = act(Rc::new(|l: &mut Live| {
            l.playing = false;
            l.player.reset();
            l.refresh();
        }));
        Callback::from(move |_| f())
    };
    let on_speed = {
        let (shared, force) = (shared.clone(), force.clone());
        Callback::from(move |i: usize| {
            with_live(&shared, |l| l.speed_index = i.min(SPEEDS.len() - 1));
            force.force_update();
        })
    };
    let spec_now = scenario.to_spec();
    let on_seed = {
        let spec = spec_now.clone();
        Callback::from(move |seed: u64| {
            let mut s = spec.clone();
            s.seed = seed;
            s.playhead_ms = None;
            navigate(&s);
        })
    };
    let on_strategy = {
        let spec = spec_now.clone();
        Callback::from(move |id: String| {
            let mut s = spec.clone();
            s.strategy = Some(id);
            s.playhead_ms = None;
            navigate(&s);
        })
    };
    let on_param = {
        let (spec, def) = (spec_now.clone(), scenario.def);
        Callback::from(move |(key, value): (&'static str, ParamValue)| {
            let mut params = spec.params.clone();
            params.insert(key.to_string(), value);
            // Default faults follow the parameters (two workers get pauses on their own
            // nodes); faults the user clicked in are kept.
            let Ok(mut s) = def.refit(&spec, params) else { return };
            s.playhead_ms = None;
            s.workload = None; // the workload follows the parameters
            navigate(&s);
        })
    };
    let on_share = {
        let (shared, force) = (shared.clone(), force.clone());
        Callback::from(move |_| {
            with_live(&shared, |l| {
                l.playing = false;
                l.player.align_to_ms();
                l.refresh();
                let link_text = l.player.share_link();
                let href = Route::System { id: l.player.scenario().def.id.to_string(), link: Some(link_text) }.href();
                let loc = gloo::utils::window().location();
                let base = format!("{}{}", loc.origin().unwrap_or_default(), loc.pathname().unwrap_or_default());
                l.share_url = format!("{base}{href}");
                if let Ok(history) = gloo::utils::window().history() {
                    let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href));
                }
                let _ = gloo::utils::window().navigator().clipboard().write_text(&l.share_url);
                l.message = "Link copied: it replays this exact run, playhead included.".into();
            });
            force.force_update();
        })
    };
    let on_select = {
        let (shared, force) = (shared.clone(), force.clone());
        Callback::from(move |s: Selection| {
            with_live(&shared, |l| l.selected = if l.selected == Some(s) { None } else { Some(s) });
            force.force_update();
        })
    };
    let on_action = {
        let (shared, force) = (shared.clone(), force.clone());
        Callback::from(move |a: Action| {
            with_live(&shared, |l| {
                let result = match a.clone() {
                    Action::Fault(f) => {
                        l.player.inject(f).map(|t| format!("Scheduled at {} ms: {}", t.at_ms, t.fault.describe()))
                    }
                    Action::Spike => {
                        l.player.spike(5.0, 1_000).map(|_| "Traffic ×5 for one second from now.".to_string())
                    }
                };
                l.message = result.unwrap_or_else(|e| format!("Could not do that: {e}"));
                // The run is rebuilt with the fault and replays to now: in this frame when it
                // is short, in the frame loop (with progress) when it is long.
                let deadline = Deadline::after(FRAME_SIM_MS);
                let replayed = l.player.seek_step(|| deadline.passed());
                if replayed && !l.playing {
                    // Show the fault take effect right away.
                    l.player.advance(SimDuration::from_ms(2), FRAME_EVENT_BUDGET);
                }
                l.refresh();
            });
            force.force_update();
        })
    };
    let on_jump = {
        let (shared, force) = (shared.clone(), force.clone());
        Callback::from(move |at_ms: f64| {
            with_live(&shared, |l| l.seek(SimTime((at_ms * 1_000.0).round() as u64)));
            force.force_update();
        })
    };
    let on_scrub = {
        let (shared, force) = (shared.clone(), force.clone());
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Ok(ms) = input.value().parse::<f64>() {
                with_live(&shared, |l| l.seek(SimTime((ms.max(0.0) * 1_000.0) as u64)));
                force.force_update();
            }
        })
    };
    let io_message = use_state(String::new);
    let reader = use_mut_ref(|| None::<gloo::file::callbacks::FileReader>);
    let on_export_json = {
        let (spec, io_message) = (spec_now.clone(), io_message.clone());
        let name = format!("{}-seed{}.json", def.id, scenario.seed);
        Callback::from(move |_: MouseEvent| {
            let result = crate::play::export::download(&name, "application/json", &spec.to_json_pretty());
            io_message.set(result.map_or_else(|e| format!("Export failed: {e}"), |_| format!("Saved {name}.")));
        })
    };
    let on_export_svg = {
        let io_message = io_message.clone();
        let name = format!("{}-topology.svg", def.id);
        Callback::from(move |_: MouseEvent| {
            let result = crate::play::export::topology_svg()
                .and_then(|svg| crate::play::export::download(&name, "image/svg+xml", &svg));
            io_message.set(result.map_or_else(|e| format!("Export failed: {e}"), |_| format!("Saved {name}.")));
        })
    };
    let on_export_png = {
        let io_message = io_message.clone();
        let name = format!("{}-topology.png", def.id);
        Callback::from(move |_: MouseEvent| {
            let result = crate::play::export::topology_png(&name);
            io_message.set(result.map_or_else(|e| format!("Export failed: {e}"), |_| format!("Saved {name}.")));
        })
    };
    let on_import = {
        let (io_message, reader) = (io_message.clone(), reader.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            let io_message = io_message.clone();
            let task = gloo::file::callbacks::read_as_text(&gloo::file::File::from(file), move |text| {
                let outcome = text
                    .map_err(|e| e.to_string())
                    .and_then(|t| link::parse_json(&t).map_err(|e| e.to_string()))
                    .and_then(|spec| sdlab_core::run::open(&spec).map(|_| spec).map_err(|e| e.to_string()));
                match outcome {
                    Ok(spec) => navigate(&spec),
                    Err(e) => io_message.set(format!("That file is not a scenario sdlab can open: {e}")),
                }
            });
            *reader.borrow_mut() = Some(task);
        })
    };
    let on_cancel_seek = {
        let f = act(Rc::new(|l: &mut Live| {
            l.player.cancel_seek();
            l.message = format!("Stopped replaying at {:.1} ms; Play goes on from here.", l.player.now().as_ms());
            l.refresh();
        }));
        Callback::from(move |_: MouseEvent| f())
    };
    let close_help = {
        let f = act(Rc::new(|l: &mut Live| l.help_open = false));
        Callback::from(move |_| f())
    };

    let estimates: Vec<(String, String)> =
        (def.estimates)(scenario).into_iter().map(|e| (e.label, format!("{} — {}", e.value, e.how))).collect();
    let recent = Rc::new(sim.recent_trace());
    let names = Rc::new(sim.node_names());
    let checks = sim.checks();
    let metrics = sim.metrics();
    let requests = metrics.counter(sdlab_core::metrics::REQUESTS);
    let errors = metrics.counter(sdlab_core::metrics::ERRORS);
    let lat = metrics.histogram(sdlab_core::metrics::LATENCY).map(|h| h.summary()).unwrap_or_default();

    html! {
        <div class="system-page">
            <header class="sys-head">
                <div>
                    <h1>{ def.title }</h1>
                    <p class="question">{ def.question }</p>
                </div>
                <nav class="sys-links">
                    <a href={Route::Compare { id: def.id.to_string(), a: None, b: None }.href()}>{ "Compare strategies" }</a>
                    <a href="#/method">{ "Interview method" }</a>
                </nav>
            </header>
            if let Some(err) = link_error {
                <div class="link-error" role="alert" data-testid="link-error">
                    <strong>{ "This link could not be opened: " }</strong>{ err.to_string() }
                    <p>{ "The default scenario is shown instead. The link as received, to copy or fix:" }</p>
                    <textarea readonly=true rows="3" aria-label="The link as received" data-testid="raw-link" value={props.link.clone().unwrap_or_default()} />
                </div>
            }
            <Controls playing={live.playing} finished={finished} speed_index={live.speed_index} seed={scenario.seed}
                      strategy={scenario.strategy.id} strategies={def.strategies}
                      {on_toggle} {on_step} {on_reset} {on_speed} {on_seed} {on_strategy} {on_share} />
            if !live.share_url.is_empty() {
                <label class="share">
                    <span>{ "Share this run" }</span>
                    <input readonly=true value={live.share_url.clone()} data-testid="share-url" aria-label="Link to this run" />
                </label>
            }
            <div class="timeline-bar">
                <label class="scrub">
                    <span class="visually-hidden">{ "Playhead" }</span>
                    <input type="range" min="0" max={format!("{horizon_ms:.0}")} step="1" value={format!("{now_ms:.0}")}
                           oninput={on_scrub} data-testid="scrubber" aria-label="Playhead (virtual time in ms)" />
                </label>
                <dl class="status">
                    <dt>{ "time" }</dt><dd data-testid="sim-time">{ format!("{now_ms:.1} ms") }</dd>
                    <dt>{ "of" }</dt><dd>{ format!("{horizon_ms:.0} ms") }</dd>
                    <dt>{ "events" }</dt><dd data-testid="events">{ sim.events() }</dd>
                    <dt>{ "trace" }</dt><dd data-testid="trace-hash">{ hash_hex(sim.trace_hash()) }</dd>
                    <dt>{ "requests" }</dt><dd>{ requests }</dd>
                    <dt>{ "errors" }</dt><dd>{ errors }</dd>
                    <dt>{ "p50 / p99" }</dt><dd>{ format!("{:.1} / {:.1} ms", lat.p50 as f64 / 1e3, lat.p99 as f64 / 1e3) }</dd>
                </dl>
                if let Some(seek) = live.player.seeking() {
                    <div class="seek-progress" role="status" data-testid="seek-progress">
                        <span>{ format!("Replaying to {:.1} ms: {:.0} %", seek.to.as_ms(), seek.progress(live.player.now(), sim.events()) * 100.0) }</span>
                        <progress max="100" value={format!("{:.0}", seek.progress(live.player.now(), sim.events()) * 100.0)} aria-label="Replay progress" />
                        <button onclick={on_cancel_seek} data-testid="seek-cancel">{ "Cancel" }</button>
                    </div>
                }
                if live.capped { <p class="hint" role="status">{ "Running as fast as this device allows: the simulation is capped per frame so the page stays responsive." }</p> }
            </div>
            <div class="play-grid">
                <div class="main-col">
                    <TopologyView topology={live.topology.clone()} selected={live.selected} on_select={on_select} canvas={canvas.clone()} />
                    <FaultPanel topology={live.topology.clone()} selected={live.selected} {on_action} message={live.message.clone()} />
                </div>
                <div class="side-col">
                    <ChecksPanel results={checks} defs={def.checks} finished={finished} {on_jump} />
                    <EventLog events={recent.clone()} names={names.clone()} announce={live.announce.clone()} />
                </div>
            </div>
            <SharedCharts series={shared_series(metrics)} interval_ms={metrics.series.interval_ms} cursor_ms={now_ms} />
            <section class="system-views" aria-labelledby="views-h">
                <h2 id="views-h">{ "Inside the system" }</h2>
                <ViewList views={sim.views()} cursor_ms={Some(now_ms)} />
            </section>
            <section class="sequence" aria-labelledby="seq-h">
                <h2 id="seq-h">{ "Recent messages" }</h2>
                <SequenceDiagram events={(*recent).clone()} names={(*names).clone()} max={50} />
            </section>
            <section class="io" aria-label="Export and import">
                <button onclick={on_export_json} data-testid="export-json">{ "Export scenario (JSON)" }</button>
                <label class="import">
                    <span>{ "Import scenario (JSON)" }</span>
                    <input type="file" accept=".json,application/json" onchange={on_import} data-testid="import-json" />
                </label>
                <button onclick={on_export_svg} data-testid="export-svg">{ "Export topology (SVG)" }</button>
                <button onclick={on_export_png} data-testid="export-png">{ "Export topology (PNG)" }</button>
                if !io_message.is_empty() { <p role="status" data-testid="io-message">{ (*io_message).clone() }</p> }
            </section>
            <crate::explore::ExplorePanel spec={spec_now.clone()} />
            <ParamsForm specs={def.params} values={scenario.params.clone()} on_change={on_param} />
            <nav class="toc" aria-label="Explainer sections">
                <span>{ "On this page:" }</span>
                { for crate::markdown::sections(def.explainer).into_iter().map(|(id, title)| {
                    // Hash routing owns the fragment, so jump by scrolling, not by href.
                    let onclick = Callback::from(move |_: MouseEvent| {
                        if let Some(el) = gloo::utils::document().get_element_by_id(&id) {
                            el.scroll_into_view();
                        }
                    });
                    html! { <button class="toc-link" {onclick}>{ title }</button> }
                }) }
            </nav>
            <section class="explainer-wrap" aria-label="How this system works">
                <Explainer markdown={def.explainer} system={def.id} estimates={estimates} />
            </section>
            if live.help_open {
                <div class="help" role="dialog" aria-modal="false" aria-labelledby="help-h" data-testid="help">
                    <h2 id="help-h">{ "Keyboard shortcuts" }</h2>
                    <dl>
                        <dt>{ "Space" }</dt><dd>{ "play / pause" }</dd>
                        <dt>{ "→" }</dt><dd>{ "step one event" }</dd>
                        <dt>{ "←" }</dt><dd>{ "back 100 ms" }</dd>
                        <dt>{ "+ / −" }</dt><dd>{ "faster / slower" }</dd>
                        <dt>{ "?" }</dt><dd>{ "this help" }</dd>
                    </dl>
                    <button onclick={close_help}>{ "Close" }</button>
                </div>
            }
        </div>
    }
}
