//! HTTP: the server-rendered pages and their forms (the chat without JavaScript), the
//! session endpoints, the health endpoints, the site's static files and the Socket.IO
//! endpoint, in one axum router; in front of them, who may talk to us (`origin`,
//! `websocket_upgrade`) and what a browser may do with the answers (`security`).

mod assets;
mod client_address;
mod forms;
mod health;
mod origin;
mod owned_head;
mod page;
mod security;
mod session;
mod websocket_upgrade;

pub use assets::SiteAssets;
pub use client_address::{BadProxy, ClientAddress, TrustedProxies};
pub use health::Draining;
pub use origin::{AllowedOrigins, BadOrigin};
pub use session::CookiePolicy;

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use socketioxide::adapter::Adapter;
use socketioxide::layer::SocketIoLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::hub::ChatHub;
use crate::storage::Store;

/// Whether `path` is Socket.IO's: engineioxide answers `/socket.io` and everything
/// under `/socket.io/`.
pub(crate) fn is_socket_io(path: &str) -> bool {
    path == "/socket.io" || path.starts_with("/socket.io/")
}

/// What the HTTP handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub options: LeptosOptions,
    pub hub: ChatHub,
    pub store: Store,
    pub draining: Draining,
    /// The Redis this server shares broadcasts through, if any (for `/readyz`).
    pub redis: Option<crate::cluster::ReconnectingDriver>,
    /// Who may make Socket.IO and state-changing requests.
    pub origins: Arc<AllowedOrigins>,
    /// Whose `X-Forwarded-For` names the client.
    pub proxies: Arc<TrustedProxies>,
    /// How the session cookie is set.
    pub cookies: CookiePolicy,
    /// What `GET /metrics` shows (recorded with `--metrics` or an admin token); `None`:
    /// it is not served.
    pub metrics: Option<&'static metrics_exporter_prometheus::PrometheusHandle>,
    /// `--metrics`: to anyone; otherwise only with the admin token.
    pub metrics_public: bool,
    /// Who may administer (`/metrics` with the admin token).
    pub admin: crate::admin_token::AdminAccess,
}

/// The whole site. `/socket.io/` is answered by `socket_layer`; `/`, `/r/<room>`,
/// `/dm/<name>` and `/rooms` by the Leptos app (server-side rendered); their forms,
/// `/api/`, `/healthz` and `/readyz` by the handlers here; everything else from the files
/// compiled into the binary. In front of all: malformed WebSocket handshakes and requests
/// from other origins are refused, and every response says how a browser may use it.
pub fn router<A: Adapter>(state: AppState, socket_layer: SocketIoLayer<A>) -> Router {
    let pages = Router::new()
        .route("/", get(page::lobby))
        .route("/r/{room}", get(page::room))
        .route("/dm/{name}", get(page::direct))
        .route("/rooms", get(page::rooms))
        // The pages name the current bundle and show live data: always revalidate them;
        // and they are the reader's own (they renew the session cookie): never in a
        // shared cache.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, private"),
        ));
    let origins = state.origins.clone();
    let proxies = state.proxies.clone();
    let cookies = state.cookies;
    let site = Router::new()
        .merge(pages)
        .route("/r/{room}/messages", post(forms::post_to_room))
        .route("/r/{room}/join", post(forms::join))
        .route("/r/{room}/leave", post(forms::leave))
        .route("/dm/{name}/messages", post(forms::post_to_direct))
        .route("/rooms/join", post(forms::join_by_name))
        .route("/api/session", post(session::create))
        .route("/api/logout", post(session::logout))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(assets::serve)
        .with_state(state)
        // Compresses the page; precompressed assets already carry Content-Encoding and are
        // passed through as they are.
        .layer(CompressionLayer::new());
    // `Router::layer` wraps every route and the fallback separately, and each
    // `SocketIoLayer::layer` call makes an Engine.IO server with its own sessions: polling
    // requests after the handshake would land on another one ("Session ID unknown"). So
    // the whole site becomes one service, wrapped once.
    // Layers run outside in: the last one added first. So the headers are on every
    // response, refusals included, and nothing refused reaches Socket.IO.
    let [nosniff, referrer, frames] = security::every_response();
    Router::new()
        .fallback_service(site)
        .layer(socket_layer)
        .layer(axum::middleware::from_fn_with_state(
            cookies,
            session::renew_session_cookie,
        ))
        .layer(axum::middleware::map_request(
            owned_head::own_socket_io_head,
        ))
        .layer(axum::middleware::from_fn(
            websocket_upgrade::refuse_malformed,
        ))
        .layer(axum::middleware::from_fn_with_state(
            origins,
            origin::refuse_other_origins,
        ))
        .layer(axum::middleware::from_fn_with_state(
            proxies,
            client_address::note_client_address,
        ))
        .layer(nosniff)
        .layer(referrer)
        .layer(frames)
        // One span per request: what is logged while serving it says which request.
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
}

fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!("request", method = %request.method(), path = request.uri().path())
}
