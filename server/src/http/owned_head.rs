//! The Socket.IO endpoint's requests, with their head (URI and header values) copied out of
//! the connection's read buffer.
//!
//! hyper parses a request head in place: every header value and the URI are slices of the
//! connection's read buffer (8 to 16 KiB), which stays allocated while any of them lives.
//! socketioxide keeps a socket's handshake request for the socket's whole life, so without
//! the copy each open connection would pin that whole buffer to hold a few hundred bytes.
//! axum's router keeps a copy of the URI too (its `OriginalUri`), so that one is replaced as
//! well.

use axum::extract::{OriginalUri, Request};
use axum::http::{HeaderMap, HeaderValue, Uri};

/// `request`, with its head in allocations of its own if it is for Socket.IO.
pub async fn own_socket_io_head(mut request: Request) -> Request {
    if super::is_socket_io(request.uri().path()) {
        let (uri, headers) = owned_head(request.uri(), request.headers());
        if let Some(original) = request.extensions_mut().get_mut::<OriginalUri>() {
            *original = OriginalUri(uri.clone());
        }
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
    }
    request
}

/// Copies of `uri` and `headers` that share no buffer with them.
fn owned_head(uri: &Uri, headers: &HeaderMap) -> (Uri, HeaderMap) {
    // Parsing a string copies it; a URI that was parsed once parses again.
    let uri = uri.to_string().parse().unwrap_or_else(|error| {
        tracing::warn!(%error, "a request's URI did not parse again; kept as it was");
        uri.clone()
    });
    let mut owned = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        // Header names are copied by hyper already; values are slices of the buffer.
        match HeaderValue::from_bytes(value.as_bytes()) {
            Ok(mut copy) => {
                copy.set_sensitive(value.is_sensitive());
                owned.append(name.clone(), copy);
            }
            // It was a valid value once; it cannot fail, but if it did, keep the slice.
            Err(_) => {
                owned.append(name.clone(), value.clone());
            }
        }
    }
    (uri, owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn the_copy_keeps_every_header_and_the_uri() {
        let uri: Uri = "/socket.io/?EIO=4&transport=websocket".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("chat_session=abc"));
        headers.append(header::COOKIE, HeaderValue::from_static("other=1"));
        headers.append("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        let mut secret = HeaderValue::from_static("Bearer t");
        secret.set_sensitive(true);
        headers.append(header::AUTHORIZATION, secret);

        let (owned_uri, owned) = owned_head(&uri, &headers);

        assert_eq!(owned_uri, uri);
        assert_eq!(owned, headers);
        let cookies: Vec<_> = owned.get_all(header::COOKIE).iter().collect();
        assert_eq!(
            cookies,
            ["chat_session=abc", "other=1"],
            "order and repeats kept"
        );
        assert!(owned[header::AUTHORIZATION].is_sensitive());
    }
}
