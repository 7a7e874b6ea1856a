//! Golden scenarios.
