//! The live playground: a [`player::Player`] owns the running simulation and its
//! snapshots; the components here draw it and turn clicks into scenario changes.

pub mod player;
