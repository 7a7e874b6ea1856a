//! Light and dark mode: the system preference by default, a toggle that overrides it, and
//! the choice remembered in local storage. The theme is a `data-theme` attribute on the
//! root element, which the stylesheets key their colours on.

use gloo::storage::{LocalStorage, Storage};

const KEY: &str = "sdlab-theme";

/// The theme in force: the saved choice, else the system's preference.
pub fn current() -> &'static str {
    match LocalStorage::get::<String>(KEY).ok().as_deref() {
        Some("dark") => "dark",
        Some("light") => "light",
        _ => {
            let dark = gloo::utils::window()
                .match_media("(prefers-color-scheme: dark)")
                .ok()
                .flatten()
                .is_some_and(|m| m.matches());
            if dark {
                "dark"
            } else {
                "light"
            }
        }
    }
}

/// Applies a theme to the page.
pub fn apply(theme: &str) {
    if let Some(root) = gloo::utils::document().document_element() {
        let _ = root.set_attribute("data-theme", theme);
    }
}

/// Flips the theme, remembers it, and returns the new one.
pub fn toggle() -> &'static str {
    let next = if current() == "dark" { "light" } else { "dark" };
    let _ = LocalStorage::set(KEY, next);
    apply(next);
    next
}
