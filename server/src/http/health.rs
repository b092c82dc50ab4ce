//! Health endpoints for load balancers and supervisors: `/healthz` says the process
//! answers; `/readyz` says it can serve a chat now: not shutting down, its hub running,
//! its Redis (when it has one) and its database answering. Neither is cached, and neither needs a session.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// How long `/readyz` waits for the database before it says it is not ready.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// Set once the server has begun shutting down: `/readyz` fails from then on, so a load
/// balancer sends nobody new while the sockets are closed.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn started(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `GET /healthz`: 200 `ok` while the process serves HTTP at all.
pub async fn healthz() -> Response {
    answer(StatusCode::OK, "ok")
}

/// `GET /metrics`: the Prometheus text exposition, to anyone with `--metrics`, else to
/// `Authorization: Bearer <admin token>` (`401` without it); `404` with neither
/// configured.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match state.metrics {
        Some(_) if !state.metrics_public && !state.admin.admits(bearer) => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            "unauthorized\n",
        )
            .into_response(),
        Some(handle) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            handle.render(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /readyz`: 200 `ready`, or 503 and the reason (`draining`, `chat hub stopped`,
/// `redis unreachable`, `database unreachable`).
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.draining.started() {
        return answer(StatusCode::SERVICE_UNAVAILABLE, "draining");
    }
    if !state.hub.is_running() {
        return answer(StatusCode::SERVICE_UNAVAILABLE, "chat hub stopped");
    }
    if let Some(redis) = &state.redis {
        // The driver reconnects by itself; meanwhile this server hears no other server.
        if let Err(error) = redis.ping().await {
            tracing::warn!(%error, "not ready: Redis does not answer");
            return answer(StatusCode::SERVICE_UNAVAILABLE, "redis unreachable");
        }
    }
    match tokio::time::timeout(DATABASE_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => answer(StatusCode::OK, "ready"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            answer(StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
        Err(_) => {
            tracing::warn!(timeout = ?DATABASE_TIMEOUT, "not ready: the database is too slow");
            answer(StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

fn answer(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        text,
    )
        .into_response()
}
