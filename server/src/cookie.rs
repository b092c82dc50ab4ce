//! The session cookie: its name, and the session token it carries in a request's headers.
//! Read by the pages and forms (HTTP) and by the Socket.IO handshake, set by the log-in.

use axum::http::{header, HeaderMap};

use crate::storage::SessionToken;

/// The cookie holding the session token.
pub const SESSION_COOKIE: &str = "chat_session";

/// The session token in a request's `Cookie` header(s), if any.
pub fn session_token(headers: &HeaderMap) -> Option<SessionToken> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| SessionToken::from_client(value.trim_matches('"')))
        .filter(|token| !token.as_str().is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// Request headers with these values (for the tests of what reads them).
    pub(crate) fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).expect("valid"));
        }
        map
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let map = headers(&[(header::COOKIE, "a=1; chat_session=abc ;b=2")]);
        assert_eq!(
            session_token(&map).map(|t| t.as_str().to_owned()),
            Some("abc".into())
        );
        assert!(session_token(&headers(&[(header::COOKIE, "chat_session=")])).is_none());
        assert!(session_token(&headers(&[(header::COOKIE, "other=1")])).is_none());
    }
}
