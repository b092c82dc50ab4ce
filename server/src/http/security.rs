//! The headers that tell a browser what a response may do: every response says not to
//! guess its type, not to leak its address to other sites, and not to be framed; a page
//! also gets a Content-Security-Policy that runs only our own scripts: the inline ones
//! carry the page's nonce, and they load the bundle, which may load the rest.

use axum::http::{header, HeaderName, HeaderValue};
use leptos::config::LeptosOptions;
use leptos::nonce::Nonce;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of a page whose inline scripts carry `nonce`.
///
/// - scripts: only those with the nonce (the hydration script), and what they load
///   (`'strict-dynamic'`: the bundle's module and its wasm, which needs
///   `'wasm-unsafe-eval'` to be compiled);
/// - everything else from this origin only (`connect-src 'self'` includes its WebSocket);
/// - never framed, no `<base>`, no plugins, forms post only here.
///
/// Under `cargo leptos watch`, the page's live-reload script also connects to
/// cargo-leptos' WebSocket on `options`' reload port.
pub fn content_security_policy(nonce: &Nonce, options: &LeptosOptions) -> HeaderValue {
    let live_reload = match std::env::var_os("LEPTOS_WATCH") {
        Some(_) => {
            let port = options.reload_external_port.unwrap_or(options.reload_port);
            format!(" ws://*:{port} wss://*:{port}")
        }
        None => String::new(),
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'{live_reload}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    // A nonce is URL-safe base64: always a valid header value.
    HeaderValue::from_str(&policy).unwrap_or_else(|error| {
        tracing::error!(%error, "a nonce made an invalid header; serving the strictest policy");
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")
    })
}

/// The headers every response carries (unless its handler set its own).
pub fn every_response() -> [SetResponseHeaderLayer<HeaderValue>; 3] {
    [
        SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        // For browsers older than `frame-ancestors`.
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ),
    ]
}
