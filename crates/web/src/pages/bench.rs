//! `#/bench?nodes=N&window=W&speed=S`: the animation benchmark. It runs the kernel's
//! message-heavy world (`sim::pingpong`: N nodes, W requests each in flight, so N×W
//! messages on the wire) through the same topology SVG and canvas layer as the system
//! page, and reports frame intervals and per-frame work. `cargo xtask bench` reads the
//! figures; they are measurements, never pass/fail tests.

use crate::play::topology::{draw_flights, TopologyView, Trails};
use sdlab_core::sim::pingpong;
use sdlab_core::sim::time::{SimDuration, SimTime};
use sdlab_core::system::{Run, Simulation};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BenchProps {
    pub query: Option<String>,
}

fn arg(query: &Option<String>, key: &str, default: f64) -> f64 {
    query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(default)
}

struct State {
    sim: Box<dyn Simulation>,
    trails: Trails,
    last: Option<f64>,
    intervals: Vec<f64>,
    work: Vec<f64>,
    drawn: usize,
    speed: f64,
}

fn percentile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s[((q * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1]
}

#[component]
pub fn BenchPage(props: &BenchProps) -> Html {
    let nodes = arg(&props.query, "nodes", 100.0).clamp(2.0, 512.0) as u32;
    let window = arg(&props.query, "window", 20.0).clamp(1.0, 64.0) as u32;
    let speed = arg(&props.query, "speed", 0.01).clamp(0.0001, 1000.0);
    let canvas = use_node_ref();
    let force = use_force_update();
    let state = use_mut_ref(|| State {
        sim: Run::boxed(pingpong::world(1, nodes, window, 600_000), |_| Vec::new()),
        trails: Trails::default(),
        last: None,
        intervals: Vec::new(),
        work: Vec::new(),
        drawn: 0,
        speed,
    });
    let topology = use_memo((), {
        let state = state.clone();
        move |_| state.borrow().sim.topology()
    });
    {
        let (state, canvas, topology, force) = (state.clone(), canvas.clone(), topology.clone(), force.clone());
        use_effect_with((), move |_| {
            let stop = Rc::new(RefCell::new(false));
            let handle: Rc<RefCell<Option<gloo::render::AnimationFrame>>> = Rc::new(RefCell::new(None));
            fn frame(
                ts: f64,
                state: Rc<RefCell<State>>,
                canvas: NodeRef,
                topology: Rc<sdlab_core::view::Topology>,
                force: UseForceUpdateHandle,
                handle: Rc<RefCell<Option<gloo::render::AnimationFrame>>>,
                stop: Rc<RefCell<bool>>,
            ) {
                if *stop.borrow() {
                    return;
                }
                let perf = gloo::utils::window().performance();
                let t0 = perf.as_ref().map_or(0.0, |p| p.now());
                {
                    let mut s = state.borrow_mut();
                    if let Some(last) = s.last {
                        let dt = ts - last;
                        s.intervals.push(dt);
                        let target = s.sim.now() + SimDuration::from_ms_f64(dt.min(100.0) * s.speed);
                        let cap = s.sim.events() + 50_000;
                        s.sim.run_until_capped(target.max(SimTime(1)), cap);
                    }
                    s.last = Some(ts);
                    let flights = s.sim.in_flight(4_000);
                    let now = s.sim.now();
                    let shown = s.trails.update(flights, now, ts);
                    s.drawn = draw_flights(&canvas, &topology, &shown);
                    let t1 = perf.as_ref().map_or(0.0, |p| p.now());
                    s.work.push(t1 - t0);
                    if s.intervals.len().is_multiple_of(60) {
                        force.force_update();
                    }
                }
                let next = handle.clone();
                let h = gloo::render::request_animation_frame(move |ts| {
                    frame(ts, state, canvas, topology, force, next, stop)
                });
                *handle.borrow_mut() = Some(h);
            }
            let h = {
                let handle2 = handle.clone();
                let stop2 = stop.clone();
                gloo::render::request_animation_frame(move |ts| {
                    frame(ts, state, canvas, topology, force, handle2, stop2)
                })
            };
            *handle.borrow_mut() = Some(h);
            move || {
                *stop.borrow_mut() = true;
                handle.borrow_mut().take();
            }
        });
    }
    let s = state.borrow();
    // Skip the first second of frames (start-up, JIT) when summarising.
    let intervals: Vec<f64> = s.intervals.iter().skip(60).copied().collect();
    let work: Vec<f64> = s.work.iter().skip(60).copied().collect();
    html! {
        <section class="bench">
            <h1>{ format!("Animation benchmark: {nodes} nodes, {} messages in flight", nodes * window) }</h1>
            <dl class="run-summary" data-testid="bench-stats" data-frames={intervals.len().to_string()}
                data-p50={format!("{:.2}", percentile(&intervals, 0.5))} data-p95={format!("{:.2}", percentile(&intervals, 0.95))}
                data-work-p95={format!("{:.2}", percentile(&work, 0.95))} data-drawn={s.drawn.to_string()}>
                <dt>{ "frames" }</dt><dd>{ intervals.len() }</dd>
                <dt>{ "frame interval p50 / p95" }</dt><dd>{ format!("{:.2} / {:.2} ms", percentile(&intervals, 0.5), percentile(&intervals, 0.95)) }</dd>
                <dt>{ "work per frame p95" }</dt><dd>{ format!("{:.2} ms", percentile(&work, 0.95)) }</dd>
                <dt>{ "messages drawn" }</dt><dd>{ s.drawn }</dd>
            </dl>
            <TopologyView topology={(*topology).clone()} selected={None} on_select={Callback::noop()} canvas={canvas.clone()} />
        </section>
    }
}
