//! The catalog: every system, in the order users see them (grouped by theme, in the order
//! of SYSTEMS.md). Adding a system is its folder under `systems/` plus one line here; the
//! conformance suite (`tests/conformance/`) iterates this list, so the new system is
//! covered from that line on.

use crate::system::SystemDef;

/// Every system, in catalog order.
pub static CATALOG: &[SystemDef] = &[
    crate::systems::url_shortener::DEF,
    crate::systems::rate_limiter::DEF,
    crate::systems::distributed_cache::DEF,
    crate::systems::chat::DEF,
    crate::systems::video_streaming::DEF,
    crate::systems::notifications::DEF,
    crate::systems::pub_sub::DEF,
    crate::systems::iot_ingestion::DEF,
    crate::systems::event_driven::DEF,
    crate::systems::distributed_lock::DEF,
    crate::systems::cron_scheduler::DEF,
    crate::systems::distributed_transactions::DEF,
    crate::systems::task_scheduler::DEF,
    crate::systems::config_service::DEF,
    crate::systems::object_storage::DEF,
    crate::systems::time_series_db::DEF,
    crate::systems::metadata_catalog::DEF,
    crate::systems::distributed_tracing::DEF,
    crate::systems::ride_sharing::DEF,
    crate::systems::payment_gateway::DEF,
    crate::systems::feature_flags::DEF,
    crate::systems::geo_search::DEF,
    crate::systems::multi_tenant_saas::DEF,
    crate::systems::checkout::DEF,
];

pub fn find(id: &str) -> Option<&'static SystemDef> {
    CATALOG.iter().find(|d| d.id == id)
}
