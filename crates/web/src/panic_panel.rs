//! A panic must never leave a blank page. The hook logs the panic to the console (through
//! `console_error_panic_hook`) and then writes an error panel straight into the DOM —
//! without Yew, which may be the thing that died — with the message and a reload link.

use std::panic;

pub fn install() {
    panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show(&info.to_string());
    }));
}

/// Replaces the page content with an error panel (also used for fatal startup errors).
pub fn show(message: &str) {
    let doc = gloo::utils::document();
    let Ok(panel) = doc.create_element("section") else { return };
    panel.set_class_name("error-panel");
    let _ = panel.set_attribute("data-testid", "error-panel");
    let _ = panel.set_attribute("role", "alert");
    let Ok(h) = doc.create_element("h2") else { return };
    h.set_text_content(Some("Something went wrong inside sdlab"));
    let Ok(p) = doc.create_element("p") else { return };
    p.set_text_content(Some("The simulation stopped because of an internal error. Your link is unchanged: copy it from the address bar, reload, or report the message below."));
    let Ok(pre) = doc.create_element("pre") else { return };
    pre.set_text_content(Some(message));
    let Ok(a) = doc.create_element("a") else { return };
    let _ = a.set_attribute("href", "#/");
    a.set_text_content(Some("Back to the catalog (reload the page first)"));
    for child in [&h, &p, &pre, &a] {
        let _ = panel.append_child(child);
    }
    if let Some(body) = doc.body() {
        let _ = body.append_child(&panel);
    }
}
