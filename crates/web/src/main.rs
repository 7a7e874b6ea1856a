//! Entry point trunk builds: installs the panic panel and mounts the app. The same wasm
//! also runs inside the seed-sweep worker, where there is no window and nothing to mount:
//! the worker script calls `explore_worker_start` itself.

fn main() {
    if web_sys::window().is_some() {
        sdlab_web::start();
    }
}
