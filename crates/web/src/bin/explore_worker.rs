//! The sweep worker: a second wasm binary that trunk builds as a Web Worker
//! (`data-type="worker"`, wasm-bindgen's `no-modules` target, loaded through trunk's loader
//! shim). It answers each `start` message by running the sweep in
//! `sdlab_web::explore::sweep`, posting every message back as a JSON string. Running it
//! off the main thread keeps the page responsive; a sweep never yields, so the page
//! cancels it by terminating the worker.
//!
//! A panic posts an `error` message first and then traps, which the page sees as the
//! worker's `error` event and answers by starting a fresh worker.

#[cfg(target_arch = "wasm32")]
mod worker {
    use sdlab_web::explore::protocol::{FromWorker, ToWorker};
    use sdlab_web::explore::sweep::sweep;
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

    pub fn start() {
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
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    worker::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("explore_worker runs inside a browser Web Worker; natively, use `sdlab explore`.");
}
