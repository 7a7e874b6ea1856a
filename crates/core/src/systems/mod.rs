//! One module per system in the catalog.

pub mod chat;
pub mod checkout;
pub mod config_service;
pub mod cron_scheduler;
pub mod distributed_cache;
pub mod distributed_lock;
pub mod distributed_tracing;
pub mod distributed_transactions;
pub mod event_driven;
pub mod feature_flags;
pub mod geo_search;
pub mod iot_ingestion;
pub mod metadata_catalog;
pub mod multi_tenant_saas;
pub mod notifications;
pub mod object_storage;
pub mod payment_gateway;
pub mod pub_sub;
pub mod rate_limiter;
pub mod ride_sharing;
pub mod task_scheduler;
pub mod time_series_db;
pub mod url_shortener;
pub mod video_streaming;
