//! The page's handle on the sweep worker: a `web_sys::Worker` plus the two closures it
//! calls back. Dropping the handle terminates the worker — that is how Cancel works, since
//! a sweep is a tight synchronous loop that never stops to read a "cancel" message.
//!
//! The real worker is a module script (`static/explore-worker.js`) that imports the page's
//! own JS glue and wasm and calls `explore_worker_start`; tests pass stand-in classic
//! workers instead. Instantiation is asynchronous, so a message posted right after
//! `new Worker` would arrive before the handler exists and be dropped: the handle queues
//! what it sends until the worker says `ready`.

use super::protocol::{FromWorker, ToWorker};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, Event, MessageEvent, Worker};

/// Means "the real sweep worker": a module worker running the page's own wasm.
pub const DEFAULT_WORKER_URL: &str = "auto";

/// The real worker's URL: `explore-worker.js` told where the page's glue and wasm are
/// (read from the preload links trunk writes, since their names carry content hashes).
fn module_worker_url() -> Result<String, String> {
    let doc = gloo::utils::document();
    let href = |sel: &str| doc.query_selector(sel).ok().flatten().and_then(|e| e.get_attribute("href"));
    let js = href("link[rel=modulepreload]").ok_or("the page's script link is missing")?;
    let wasm = href("link[rel=preload][as=fetch]").ok_or("the page's wasm link is missing")?;
    let enc = |s: &str| String::from(js_sys::encode_uri_component(s));
    Ok(format!("./explore-worker.js?js={}&wasm={}", enc(&js), enc(&wasm)))
}

pub struct SweepWorker {
    worker: Worker,
    /// Messages waiting for `ready`; `None` once the worker is ready.
    pending: Rc<RefCell<Option<Vec<String>>>>,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(Event)>,
}

impl SweepWorker {
    /// Starts a worker from `url`. Every message it sends goes to `on_message`; if it dies
    /// (a script that fails to load, a panic in the sweep) `on_error` gets a description.
    pub fn spawn(
        url: &str,
        on_message: impl Fn(FromWorker) + 'static,
        on_error: impl Fn(String) + 'static,
    ) -> Result<SweepWorker, String> {
        let worker = if url == DEFAULT_WORKER_URL {
            let opts = web_sys::WorkerOptions::new();
            opts.set_type(web_sys::WorkerType::Module);
            Worker::new_with_options(&module_worker_url()?, &opts)
        } else {
            Worker::new(url)
        }
        .map_err(|e| format!("the sweep worker could not be created: {e:?}"))?;
        let on_error = Rc::new(on_error);
        let pending: Rc<RefCell<Option<Vec<String>>>> = Rc::new(RefCell::new(Some(Vec::new())));
        let onmessage = {
            let (on_error, pending, target) = (on_error.clone(), pending.clone(), worker.clone());
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                match e.data().as_string().map(|t| FromWorker::parse(&t)) {
                    Some(Ok(FromWorker::Ready)) => {
                        for text in pending.borrow_mut().take().unwrap_or_default() {
                            if let Err(e) = target.post_message(&JsValue::from_str(&text)) {
                                on_error(format!("the sweep worker could not be reached: {e:?}"));
                            }
                        }
                    }
                    Some(Ok(msg)) => on_message(msg),
                    Some(Err(why)) => on_error(why),
                    None => on_error("the sweep worker sent a message that is not text".into()),
                }
            })
        };
        let onerror = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            // Keep the browser from also reporting it as an uncaught error: the panel says it.
            e.prevent_default();
            let detail = e.dyn_ref::<ErrorEvent>().map(|e| e.message()).filter(|m| !m.is_empty());
            on_error(detail.unwrap_or_else(|| "the worker script failed to load or start".into()));
        });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        Ok(SweepWorker { worker, pending, _onmessage: onmessage, _onerror: onerror })
    }

    /// Posts now, or as soon as the worker is ready.
    pub fn send(&self, msg: &ToWorker) -> Result<(), String> {
        if let Some(queue) = self.pending.borrow_mut().as_mut() {
            queue.push(msg.to_json());
            return Ok(());
        }
        self.worker
            .post_message(&JsValue::from_str(&msg.to_json()))
            .map_err(|e| format!("the sweep worker could not be reached: {e:?}"))
    }
}

impl Drop for SweepWorker {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}
