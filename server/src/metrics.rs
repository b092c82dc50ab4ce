//! What the server counts, for `GET /metrics` (Prometheus text format, behind
//! `--metrics`). The names, each with the `chat_` prefix:
//!
//! - `connections_open{transport}`: Socket.IO connections open, by the transport they
//!   connected with (`websocket`, `polling`);
//! - `users_online`: users logged in on this server (online or away);
//! - `messages_stored_total`; `deliveries_total` (events sent to sockets);
//! - `refused_total{reason}`: requests refused, by reason (`rateLimited`,
//!   `crossOrigin`, `tooManyConnections`, `notMember`, ...);
//! - `packets_dropped_total`: events a socket missed because its queue was full (it is
//!   then disconnected);
//! - `storage_seconds{operation}` and `hub_queue_wait_seconds`: histograms of the time
//!   the database takes, and of the time an event waits in the hub's queue.
//!
//! The `metrics` macros record into one process-wide recorder, installed by [`init`].

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const CONNECTIONS_OPEN: &str = "chat_connections_open";
pub const USERS_ONLINE: &str = "chat_users_online";
pub const MESSAGES_STORED: &str = "chat_messages_stored_total";
pub const DELIVERIES: &str = "chat_deliveries_total";
pub const REFUSED: &str = "chat_refused_total";
pub const PACKETS_DROPPED: &str = "chat_packets_dropped_total";
pub const STORAGE_SECONDS: &str = "chat_storage_seconds";
pub const HUB_QUEUE_WAIT_SECONDS: &str = "chat_hub_queue_wait_seconds";

/// Bucket bounds, in seconds: from 50 µs (the hub's queue when idle) to 5 s (the pool's
/// timeout while the database is down).
const BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder (once per process; later calls return the same handle).
/// `None` if another recorder was installed first (then nothing is exposed).
pub fn init() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .and_then(|builder| builder.install_recorder());
            match built {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::error!(%error, "cannot record metrics");
                    None
                }
            }
        })
        .as_ref()
}

/// One refusal, by its reason.
pub fn refused(reason: &'static str) {
    metrics::counter!(REFUSED, "reason" => reason).increment(1);
}

/// How long a database operation took.
pub fn storage(operation: &'static str, took: Duration) {
    metrics::histogram!(STORAGE_SECONDS, "operation" => operation).record(took);
}
