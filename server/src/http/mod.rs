//! HTTP: the server-rendered page, the site's static files and the Socket.IO endpoint, in
//! one axum router.

mod assets;

pub use assets::SiteAssets;

use app::shell;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use socketioxide::layer::SocketIoLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// The whole site. `/socket.io/` is answered by `socket_layer`, `/` by the Leptos app
/// (server-side rendered), everything else from the files compiled into the binary.
pub fn router(options: LeptosOptions, socket_layer: SocketIoLayer) -> Router {
    let page = leptos_axum::render_app_to_stream({
        let options = options.clone();
        move || shell(options.clone())
    });
    let site = Router::new()
        .route(
            "/",
            // The page names the current bundle: always revalidate it.
            get(page).layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            )),
        )
        .fallback(assets::serve)
        // Compresses the page; precompressed assets already carry Content-Encoding and are
        // passed through as they are.
        .layer(CompressionLayer::new());
    // `Router::layer` wraps every route and the fallback separately, and each
    // `SocketIoLayer::layer` call makes an Engine.IO server with its own sessions: polling
    // requests after the handshake would land on another one ("Session ID unknown"). So
    // the whole site becomes one service, wrapped once.
    Router::new().fallback_service(site).layer(socket_layer)
}
