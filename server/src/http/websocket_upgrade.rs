//! A WebSocket handshake must be one (RFC 6455, section 4.2.1): a version other than 13
//! is answered `426 Upgrade Required` with the version this server speaks, and a
//! `Sec-WebSocket-Key` that is not 16 bytes in base64 `400 Bad Request`, before
//! socketioxide would accept it.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

/// The one version of the protocol (RFC 6455).
const VERSION: &str = "13";

/// Middleware: refuses malformed WebSocket handshakes.
pub async fn refuse_malformed(request: Request, next: Next) -> Response {
    match check(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            crate::metrics::refused(match refusal {
                Refusal::UnsupportedVersion => "unsupportedWebSocketVersion",
                Refusal::MalformedKey => "malformedWebSocketKey",
            });
            tracing::info!(?refusal, "refused a malformed WebSocket handshake");
            refusal.into_response()
        }
    }
}

/// Why a handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    UnsupportedVersion,
    MalformedKey,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::UnsupportedVersion => (
                StatusCode::UPGRADE_REQUIRED,
                [(
                    header::SEC_WEBSOCKET_VERSION,
                    HeaderValue::from_static(VERSION),
                )],
                "Unsupported WebSocket version: this server speaks version 13.\n",
            )
                .into_response(),
            Self::MalformedKey => (
                StatusCode::BAD_REQUEST,
                "Sec-WebSocket-Key must be 16 bytes in base64.\n",
            )
                .into_response(),
        }
    }
}

/// `Ok` for a request that is no WebSocket handshake, or a well-formed one.
fn check(headers: &HeaderMap) -> Result<(), Refusal> {
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket"));
    if !upgrade {
        return Ok(());
    }
    let version = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok());
    if version.map(str::trim) != Some(VERSION) {
        return Err(Refusal::UnsupportedVersion);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .and_then(|key| {
            base64::engine::general_purpose::STANDARD
                .decode(key.trim())
                .ok()
        });
    match key {
        Some(bytes) if bytes.len() == 16 => Ok(()),
        _ => Err(Refusal::MalformedKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake(version: Option<&str>, key: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Some(version) = version {
            headers.insert(
                header::SEC_WEBSOCKET_VERSION,
                version.parse().expect("value"),
            );
        }
        if let Some(key) = key {
            headers.insert(header::SEC_WEBSOCKET_KEY, key.parse().expect("value"));
        }
        headers
    }

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    #[test]
    fn a_well_formed_handshake_goes_on() {
        assert_eq!(check(&handshake(Some("13"), Some(KEY))), Ok(()));
        assert_eq!(check(&HeaderMap::new()), Ok(()), "not a handshake");
    }

    #[test]
    fn another_version_is_told_which_one() {
        for version in [None, Some("8"), Some("12"), Some("14"), Some("13, 8")] {
            assert_eq!(
                check(&handshake(version, Some(KEY))),
                Err(Refusal::UnsupportedVersion),
                "{version:?}"
            );
        }
    }

    #[test]
    fn a_malformed_key_is_a_bad_request() {
        for key in [
            None,
            Some(""),
            Some("not base64!"),
            Some("c2hvcnQ="),
            Some("AAAAAAAAAAAAAAAAAAAAAAAA"),
        ] {
            assert_eq!(
                check(&handshake(Some("13"), key)),
                Err(Refusal::MalformedKey),
                "{key:?}"
            );
        }
    }
}
