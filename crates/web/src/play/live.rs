//! What lives between animation frames: the [`Player`], play state and speed, cached
//! display data, and the frame loop that advances the simulation under a per-frame event
//! budget, draws messages on the canvas every frame and asks Yew to redraw the DOM parts a
//! few times a second.

use crate::play::controls::SPEEDS;
use crate::play::event_log::important;
use crate::play::player::Player;
use crate::play::topology::{draw_flights, Selection, Trails};
use crate::route::Route;
use gloo::render::{request_animation_frame, AnimationFrame};
use sdlab_core::catalog;
use sdlab_core::scenario::{link, Scenario, ScenarioError, ScenarioSpec};
use sdlab_core::sim::time::{SimDuration, SimTime};
use sdlab_core::view::Topology;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

/// Most kernel events one animation frame may run: keeps every frame short at any speed.
pub const FRAME_EVENT_BUDGET: u64 = 30_000;
/// Milliseconds of each animation frame the simulation may use.
pub const FRAME_SIM_MS: f64 = 8.0;
/// Milliseconds of each frame a seek may use: nothing moves on the canvas meanwhile, so it
/// takes more of the frame, and still leaves the page free to answer a click on Cancel.
pub const SEEK_SLICE_MS: f64 = 12.0;
/// How often the DOM parts (topology, checks, log) redraw while playing.
const RENDER_EVERY_MS: f64 = 200.0;
/// Most messages drawn on the canvas.
const MAX_FLIGHTS: usize = 4_000;

/// Everything that lives between frames.
pub struct Live {
    pub player: Player,
    pub playing: bool,
    pub speed_index: usize,
    pub last_frame: Option<f64>,
    pub last_render: f64,
    pub topology: Topology,
    pub selected: Option<Selection>,
    pub message: String,
    pub announce: String,
    pub announced_seq: Option<u64>,
    pub capped: bool,
    pub help_open: bool,
    pub share_url: String,
    pub trails: Trails,
}

impl Live {
    pub fn new(player: Player) -> Live {
        let topology = player.sim().topology();
        Live {
            player,
            playing: false,
            speed_index: 3,
            last_frame: None,
            last_render: 0.0,
            topology,
            selected: None,
            message: String::new(),
            announce: String::new(),
            announced_seq: None,
            capped: false,
            help_open: false,
            share_url: String::new(),
            trails: Trails::default(),
        }
    }

    /// Moves the playhead to `t`: a short hop finishes within this call's time budget; a
    /// long one goes on in the frame loop with progress shown.
    pub fn seek(&mut self, t: SimTime) {
        self.playing = false;
        self.player.begin_seek(t);
        let deadline = Deadline::after(FRAME_SIM_MS);
        self.player.seek_step(|| deadline.passed());
        self.refresh();
    }

    pub fn speed(&self) -> f64 {
        SPEEDS[self.speed_index.min(SPEEDS.len() - 1)]
    }

    /// Refreshes cached display data and picks the latest important event to announce.
    pub fn refresh(&mut self) {
        self.topology = self.player.sim().topology();
        let names = self.player.sim().node_names();
        if let Some(e) = self.player.sim().recent_trace().iter().rev().find(|e| important(e)) {
            if self.announced_seq != Some(e.seq) {
                self.announced_seq = Some(e.seq);
                self.announce = crate::play::event_log::describe(e, &names);
            }
        }
    }
}

/// Opens the scenario a page was asked for, falling back to defaults on a bad link.
pub fn open(id: &str, link_text: Option<&str>) -> Result<(Scenario, Option<ScenarioError>), String> {
    let def = catalog::find(id).ok_or_else(|| format!("There is no system called {id:?} in the catalog."))?;
    let default = || sdlab_core::run::open(&def.default_spec()).map_err(|e| e.to_string());
    match link_text {
        None => Ok((default()?, None)),
        Some(l) => match sdlab_core::run::open_link(l) {
            Ok(s) if s.def.id == def.id => Ok((s, None)),
            Ok(s) => {
                let e = ScenarioError::Invalid(format!("the link is for {}, not {}", s.def.id, def.id));
                Ok((default()?, Some(e)))
            }
            Err(e) => Ok((default()?, Some(e))),
        },
    }
}

pub type Shared = Rc<RefCell<Result<Live, String>>>;

pub fn start(id: &str, link_text: Option<&str>) -> (Result<Live, String>, Option<ScenarioError>) {
    match open(id, link_text) {
        Err(e) => (Err(e), None),
        Ok((scenario, err)) => match launch(scenario) {
            Ok(live) => (Ok(live), err),
            // The link validated but its world cannot be built (a fault names a node these
            // parameters do not have): it is a bad link like any other — say why, keep the
            // text, and open the defaults.
            Err(e) if link_text.is_some() && err.is_none() => {
                let bad = ScenarioError::Invalid(format!("this scenario cannot run: {e}"));
                match open(id, None) {
                    Ok((default, _)) => (launch(default), Some(bad)),
                    Err(e) => (Err(e), Some(bad)),
                }
            }
            Err(e) => (Err(e), err),
        },
    }
}

/// Builds the player for a scenario and starts the seek to its playhead; the frame loop
/// replays to it in slices, with progress and a cancel button, so a far playhead never
/// freezes the tab.
fn launch(scenario: Scenario) -> Result<Live, String> {
    let playhead = scenario.playhead_ms;
    let mut player = Player::new(scenario)?;
    if let Some(ms) = playhead {
        player.begin_seek(SimTime::from_ms(ms));
    }
    let mut live = Live::new(player);
    live.refresh();
    Ok(live)
}

/// Navigates to a new scenario (a parameter, seed or strategy changed).
pub fn navigate(spec: &ScenarioSpec) {
    let href = Route::System { id: spec.system.clone(), link: Some(link::encode(spec)) }.href();
    let _ = gloo::utils::window().location().set_hash(&href);
}

pub fn with_live(shared: &Shared, f: impl FnOnce(&mut Live)) {
    if let Ok(live) = shared.borrow_mut().as_mut() {
        f(live);
    }
}

pub struct Loop {
    pub shared: Shared,
    pub canvas: NodeRef,
    pub force: UseForceUpdateHandle,
    pub frame: RefCell<Option<AnimationFrame>>,
    pub stopped: Cell<bool>,
    pub reduced_motion: bool,
}

pub fn schedule(l: Rc<Loop>) {
    let next = l.clone();
    let handle = request_animation_frame(move |ts| tick(next, ts));
    *l.frame.borrow_mut() = Some(handle);
}

fn tick(l: Rc<Loop>, ts: f64) {
    if l.stopped.get() {
        return;
    }
    let mut render = false;
    if let Ok(live) = l.shared.borrow_mut().as_mut() {
        let dt = live.last_frame.map_or(0.0, |t| (ts - t).clamp(0.0, 100.0));
        live.last_frame = Some(ts);
        if live.player.seeking().is_some() {
            // Replaying toward a playhead: a slice per frame, the DOM (progress bar,
            // cancel button) redrawn a few times a second and when it arrives.
            let deadline = Deadline::after(SEEK_SLICE_MS);
            let done = live.player.seek_step(|| deadline.passed());
            if done || ts - live.last_render >= RENDER_EVERY_MS {
                live.last_render = ts;
                live.refresh();
                render = true;
            }
        } else if live.playing {
            // Budget the frame by measured time (a few ms of simulation, the rest for
            // drawing), with the event cap as a backstop: expensive events mean fewer of
            // them per frame, never a dropped frame.
            // A frame that also redraws the DOM parts gives the simulation a quarter of its
            // usual time, so simulation plus redraw still fit in one vsync.
            let redraw_due = ts - live.last_render >= RENDER_EVERY_MS;
            let deadline = Deadline::after(if redraw_due { FRAME_SIM_MS / 4.0 } else { FRAME_SIM_MS });
            let step = SimDuration::from_ms_f64(dt * live.speed());
            let (_, capped) = live.player.advance_until(step, FRAME_EVENT_BUDGET, || deadline.passed());
            live.capped = capped;
            if live.player.finished() {
                live.playing = false;
                render = true;
            }
        }
        let due = ts - live.last_render >= RENDER_EVERY_MS;
        if live.playing && due {
            render = true;
        }
        if !l.reduced_motion || render || !live.playing {
            let flights = live.player.sim().in_flight(MAX_FLIGHTS);
            let now = live.player.now();
            let shown = live.trails.update(flights, now, ts);
            draw_flights(&l.canvas, &live.topology, &shown);
        }
        if render {
            live.last_render = ts;
            live.refresh();
        }
    }
    if render {
        l.force.force_update();
    }
    schedule(l);
}

/// A point on the page's clock (`performance.now()`); without one, never reached, and the
/// event caps bound the work instead.
pub struct Deadline {
    perf: Option<web_sys::Performance>,
    at: f64,
}

impl Deadline {
    pub fn after(ms: f64) -> Deadline {
        let perf = gloo::utils::window().performance();
        let at = perf.as_ref().map_or(0.0, |p| p.now()) + ms;
        Deadline { perf, at }
    }

    pub fn passed(&self) -> bool {
        self.perf.as_ref().is_some_and(|p| p.now() > self.at)
    }
}

pub fn reduced_motion() -> bool {
    gloo::utils::window().match_media("(prefers-reduced-motion: reduce)").ok().flatten().is_some_and(|m| m.matches())
}
