//! HTTP: the server-rendered page, the session endpoints, the site's static files and the
//! Socket.IO endpoint, in one axum router.

mod assets;
mod page;
mod session;

pub use assets::SiteAssets;
pub use session::{session_token, SESSION_COOKIE};

use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use socketioxide::layer::SocketIoLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::hub::ChatHub;
use crate::storage::Store;

/// What the HTTP handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub options: LeptosOptions,
    pub hub: ChatHub,
    pub store: Store,
}

/// The whole site. `/socket.io/` is answered by `socket_layer`, `/` by the Leptos app
/// (server-side rendered, with the recent history), `/api/` by the session endpoints,
/// everything else from the files compiled into the binary.
pub fn router(state: AppState, socket_layer: SocketIoLayer) -> Router {
    let site = Router::new()
        .route(
            "/",
            // The page names the current bundle and shows live data: always revalidate it.
            get(page::render).layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            )),
        )
        .route("/api/session", post(session::create))
        .route("/api/logout", post(session::logout))
        .fallback(assets::serve)
        .with_state(state)
        // Compresses the page; precompressed assets already carry Content-Encoding and are
        // passed through as they are.
        .layer(CompressionLayer::new());
    // `Router::layer` wraps every route and the fallback separately, and each
    // `SocketIoLayer::layer` call makes an Engine.IO server with its own sessions: polling
    // requests after the handshake would land on another one ("Session ID unknown"). So
    // the whole site becomes one service, wrapped once.
    Router::new().fallback_service(site).layer(socket_layer)
}
