//! One module per system in the catalog.
