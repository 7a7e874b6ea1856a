//! Tests of the object store.
use super::*;
