//! One module per system in the catalog.

pub mod url_shortener;
