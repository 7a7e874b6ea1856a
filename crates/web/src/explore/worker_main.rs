//! The sweep's side of the worker. The page starts a module worker
//! (`static/explore-worker.js`) that loads the page's *own* wasm and calls
//! [`explore_worker_start`], so the sweep ships no second binary. Each `start` message runs
//! the sweep in [`super::sweep`], posting every message back as a JSON string; a sweep
//! never yields, so the page cancels it by terminating the worker.
//!
//! A panic posts an `error` message first and then traps, which the page sees as the
//! worker's `error` event and answers by starting a fresh worker.

use super::protocol::{FromWorker, ToWorker};
use super::sweep::sweep;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(msg: FromWorker) {
    // If posting fails the page is gone; there is no one left to tell.
    let _ = scope().post_message(&JsValue::from_str(&msg.to_json()));
}

/// Installs the message handler and tells the page the worker is ready.
#[wasm_bindgen]
pub fn explore_worker_start() {
    std::panic::set_hook(Box::new(|info| {
        post(FromWorker::Error { message: format!("the sweep crashed: {info}") });
        console_error_panic_hook::hook(info);
    }));
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| {
        let text = e.data().as_string().unwrap_or_default();
        match ToWorker::parse(&text) {
            Ok(ToWorker::Start { spec, from, count, swarm }) => sweep(&spec, from, count, swarm, &mut post),
            Err(message) => post(FromWorker::Error { message }),
        }
    });
    scope().set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    // The handler lives as long as the worker does.
    onmessage.forget();
    post(FromWorker::Ready);
}
