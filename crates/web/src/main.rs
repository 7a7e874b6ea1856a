//! Entry point trunk builds: installs the panic panel and mounts the app.

fn main() {
    sdlab_web::start();
}
