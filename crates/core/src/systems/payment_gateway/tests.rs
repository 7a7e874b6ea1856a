//! Tests.

use super::*;

#[test]
fn strategy_ids_parse() {
    for s in DEF.strategies {
        assert!(Strategy::from_id(s.id).is_some());
    }
}
