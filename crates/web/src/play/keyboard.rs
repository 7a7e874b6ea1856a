//! Keyboard shortcuts for the playground: Space play/pause, → step, ← back 100 ms, + / −
//! speed, ? help. Keys typed into a form field are left alone.

use crate::play::controls::SPEEDS;
use crate::play::live::{with_live, Shared};
use sdlab_core::sim::time::SimTime;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Whether the key went to a text field (shortcuts must not steal typing).
pub fn typing(e: &KeyboardEvent) -> bool {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

/// Applies a keyboard shortcut; false when the key is not one.
pub fn shortcut(shared: &Shared, key: &str) -> bool {
    let mut handled = true;
    with_live(shared, |l| match key {
        " " => {
            if l.player.seeking().is_some() {
                l.player.cancel_seek();
                l.refresh();
            } else if !l.player.finished() {
                l.playing = !l.playing;
                l.last_frame = None;
            }
        }
        "ArrowRight" => {
            l.playing = false;
            l.player.cancel_seek();
            l.player.step();
            l.refresh();
        }
        "ArrowLeft" => {
            let back = l.player.now().micros().saturating_sub(100_000);
            l.seek(SimTime(back / 1_000 * 1_000));
        }
        "+" | "=" => l.speed_index = (l.speed_index + 1).min(SPEEDS.len() - 1),
        "-" | "_" => l.speed_index = l.speed_index.saturating_sub(1),
        "?" => l.help_open = !l.help_open,
        "Escape" => l.help_open = false,
        _ => handled = false,
    });
    handled
}
