//! One module per system in the catalog.

pub mod cron_scheduler;
pub mod distributed_cache;
pub mod distributed_lock;
pub mod distributed_transactions;
pub mod pub_sub;
pub mod rate_limiter;
pub mod url_shortener;
