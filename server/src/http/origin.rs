//! Who may talk to us: every Socket.IO request (the handshake on either transport and
//! each request after it) and every state-changing request (anything but `GET`, `HEAD`
//! and `OPTIONS`) must come from an allowed origin. A browser names the page's origin in
//! `Origin`; without it, in `Sec-Fetch-Site`. A request with neither comes from a program,
//! not a page another site shows, and goes through.
//!
//! Allowed: the origins of `--allowed-origins`, or, without any, this server's own (the
//! `Origin` naming the host the request was sent to).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The origins allowed to make requests that change something.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins {
    /// `scheme://host[:port]`, lowercased; empty: this server's own origin only.
    listed: Vec<String>,
    /// The site's public origin (`--public-url`), its own whatever `Host` says.
    public: Option<String>,
}

/// An origin in `--allowed-origins` that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an origin (scheme://host[:port], nothing after it): {0:?}")]
pub struct BadOrigin(String);

impl AllowedOrigins {
    /// From `scheme://host[:port]` entries (a trailing `/` is dropped); none: same origin.
    pub fn new<S: AsRef<str>>(origins: &[S]) -> Result<Self, BadOrigin> {
        let listed = origins
            .iter()
            .map(|origin| parse_origin(origin.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            listed,
            public: None,
        })
    }

    /// Also allows `public_url`'s origin, whatever the list and `Host` say (a proxy in
    /// front may send its own `Host`).
    pub fn with_public_url(mut self, public_url: Option<&str>) -> Result<Self, BadOrigin> {
        self.public = public_url.map(parse_origin).transpose()?;
        Ok(self)
    }

    /// Whether a request with these headers may go on.
    pub fn permits(&self, headers: &HeaderMap) -> bool {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        match text("origin") {
            Some(origin) => self.allows(origin, text("host")),
            // No `Origin`: a browser that sends `Sec-Fetch-Site` says whose page asked.
            None => text("sec-fetch-site").is_none_or(|site| site != "cross-site"),
        }
    }

    fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        if self.public.as_ref() == Some(&origin) {
            return true;
        }
        if !self.listed.is_empty() {
            return self.listed.contains(&origin);
        }
        // Same origin: the origin names the host (and port) the request was sent to.
        let origin_host = origin.split_once("://").map(|(_, host)| host);
        match (origin_host, host) {
            (Some(origin_host), Some(host)) => origin_host.eq_ignore_ascii_case(host.trim()),
            _ => false,
        }
    }
}

/// `scheme://host[:port]`, lowercased, from an origin or a URL without a path.
fn parse_origin(origin: &str) -> Result<String, BadOrigin> {
    let origin = origin.trim().trim_end_matches('/');
    let valid = origin.split_once("://").is_some_and(|(scheme, host)| {
        matches!(scheme, "http" | "https")
            && !host.is_empty()
            && !host.contains(['/', '?', '#', '@', ' '])
    });
    valid
        .then(|| origin.to_ascii_lowercase())
        .ok_or_else(|| BadOrigin(origin.to_owned()))
}

/// Middleware: refuses Socket.IO and state-changing requests from other origins with
/// `403 {"reason": "crossOrigin"}`.
pub async fn refuse_other_origins(
    State(allowed): State<Arc<AllowedOrigins>>,
    request: Request,
    next: Next,
) -> Response {
    let checked = super::is_socket_io(request.uri().path())
        || !matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
    if checked && !allowed.permits(request.headers()) {
        crate::metrics::refused("crossOrigin");
        tracing::info!(
            origin = ?request.headers().get(header::ORIGIN),
            path = request.uri().path(),
            "refused a request from another origin"
        );
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"reason": "crossOrigin", "message": "Cross-site requests are refused."})),
        )
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("a header value"));
        }
        map
    }

    #[test]
    fn by_default_only_the_servers_own_origin() {
        let same = AllowedOrigins::default();
        let host = ("host", "chat.example:3000");
        assert!(same.permits(&headers(&[host, ("origin", "http://chat.example:3000")])));
        assert!(same.permits(&headers(&[host, ("origin", "https://CHAT.example:3000")])));
        assert!(!same.permits(&headers(&[host, ("origin", "http://evil.example")])));
        assert!(!same.permits(&headers(&[host, ("origin", "http://chat.example:3001")])));
        assert!(!same.permits(&headers(&[host, ("origin", "null")])));
        assert!(
            !same.permits(&headers(&[("origin", "http://chat.example:3000")])),
            "no Host"
        );
    }

    #[test]
    fn without_an_origin_sec_fetch_site_decides() {
        let same = AllowedOrigins::default();
        let host = ("host", "chat.example");
        assert!(same.permits(&headers(&[host])), "a program, not a page");
        assert!(same.permits(&headers(&[host, ("sec-fetch-site", "same-origin")])));
        assert!(
            same.permits(&headers(&[host, ("sec-fetch-site", "none")])),
            "typed in"
        );
        assert!(!same.permits(&headers(&[host, ("sec-fetch-site", "cross-site")])));
    }

    #[test]
    fn a_list_allows_exactly_its_origins() {
        let listed = AllowedOrigins::new(&["https://chat.example/", "http://localhost:8080"])
            .expect("valid");
        let host = ("host", "internal:3000");
        assert!(listed.permits(&headers(&[host, ("origin", "https://chat.example")])));
        assert!(listed.permits(&headers(&[host, ("origin", "http://localhost:8080")])));
        assert!(
            !listed.permits(&headers(&[host, ("origin", "http://chat.example")])),
            "scheme"
        );
        assert!(
            !listed.permits(&headers(&[host, ("origin", "http://internal:3000")])),
            "not listed"
        );
    }

    #[test]
    fn the_public_url_is_our_own_origin_too() {
        let behind = AllowedOrigins::default()
            .with_public_url(Some("https://chat.example/"))
            .expect("valid");
        let proxy_host = ("host", "10.0.0.5:3000");
        assert!(behind.permits(&headers(&[proxy_host, ("origin", "https://chat.example")])));
        assert!(!behind.permits(&headers(&[proxy_host, ("origin", "https://evil.example")])));
        let with_a_list = AllowedOrigins::new(&["https://other.example"])
            .and_then(|o| o.with_public_url(Some("https://chat.example")))
            .expect("valid");
        assert!(with_a_list.permits(&headers(&[proxy_host, ("origin", "https://chat.example")])));
        assert!(with_a_list.permits(&headers(&[proxy_host, ("origin", "https://other.example")])));
    }

    #[test]
    fn what_is_not_an_origin_is_refused() {
        for bad in [
            "chat.example",
            "ftp://chat.example",
            "https://",
            "https://a/b",
            "https://u@a",
        ] {
            assert!(AllowedOrigins::new(&[bad]).is_err(), "{bad}");
        }
    }
}
