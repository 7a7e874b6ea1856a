//! The live playground: a [`player::Player`] owns the running simulation and its
//! snapshots; the components here draw it and turn clicks into scenario changes.

pub mod charts;
pub mod checks;
pub mod controls;
pub mod event_log;
pub mod export;
pub mod fault_panel;
pub mod keyboard;
pub mod live;
pub mod params_form;
pub mod player;
pub mod topology;
pub mod whole_number;
