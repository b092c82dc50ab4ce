//! `POST /api/session` (log in) and `POST /api/logout`, and the `HttpOnly` cookie that
//! carries the session token to the page render and the Socket.IO handshake.

use axum::body::Bytes;
use axum::extract::{Extension, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{AppState, ClientAddress};
use crate::cookie::{session_token, SESSION_COOKIE};
use crate::hub::CreateSessionError;
use crate::storage::{SessionToken, SESSION_LIFETIME};

/// The answer to a log-in.
#[derive(Debug, serde::Serialize)]
struct LoggedIn<'a> {
    name: &'a str,
    #[serde(rename = "userId")]
    user_id: u64,
}

/// How long the browser keeps the session cookie: as long as an unused session lives
/// ([`SESSION_LIFETIME`]). Every page load and Socket.IO handshake that carries it renews
/// it ([`renew_session_cookie`]), so it lasts while it is used.
const COOKIE_MAX_AGE: std::time::Duration = SESSION_LIFETIME;

/// Whether the site is served over HTTPS (`--public-url https://...`): the cookie is then
/// `Secure` whatever a request says. Otherwise it is when a proxy says the request came
/// over HTTPS (`X-Forwarded-Proto: https`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CookiePolicy {
    pub https: bool,
}

impl CookiePolicy {
    fn secure(self, headers: &HeaderMap) -> bool {
        self.https
            || headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
    }

    /// The `Set-Cookie` value that gives the browser `token` for another lifetime.
    fn set_cookie(self, token: &SessionToken, headers: &HeaderMap) -> HeaderValue {
        let cookie = format!(
            "{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{}",
            token.as_str(),
            COOKIE_MAX_AGE.as_secs(),
            if self.secure(headers) { "; Secure" } else { "" }
        );
        // A token is base64url: always a valid header value; a client's token that is
        // not one is not renewed.
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| clear_cookie())
    }
}

/// Middleware: a page load or a Socket.IO handshake that carried the session cookie, and
/// was served, renews it (the server decides whether the session is alive; a dead one
/// is refused as before).
pub async fn renew_session_cookie(
    State(policy): State<CookiePolicy>,
    request: Request,
    next: Next,
) -> Response {
    let renews = request.method() == Method::GET && is_page_or_handshake(request.uri());
    let token = renews
        .then(|| session_token(request.headers()))
        .flatten()
        .filter(|token| HeaderValue::from_str(token.as_str()).is_ok());
    let headers = renews.then(|| request.headers().clone());
    let mut response = next.run(request).await;
    let served =
        response.status().is_success() || response.status() == StatusCode::SWITCHING_PROTOCOLS;
    if let (Some(token), Some(headers), true) = (token, headers, served) {
        if !response.headers().contains_key(header::SET_COOKIE) {
            let cookie = policy.set_cookie(&token, &headers);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
    }
    response
}

/// A page, or the first request of a Socket.IO connection (no `sid` yet).
fn is_page_or_handshake(uri: &Uri) -> bool {
    let path = uri.path();
    if super::is_socket_io(path) {
        return !uri
            .query()
            .unwrap_or_default()
            .split('&')
            .any(|pair| pair.starts_with("sid="));
    }
    path == "/" || path == "/rooms" || path.starts_with("/r/") || path.starts_with("/dm/")
}

fn clear_cookie() -> HeaderValue {
    const CLEARED: &str = "chat_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0";
    debug_assert!(CLEARED.starts_with(SESSION_COOKIE));
    HeaderValue::from_static(CLEARED)
}

/// How the client talks: a script (JSON in, JSON out) or a plain HTML form (redirects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Script,
    Form,
}

impl Caller {
    fn of(headers: &HeaderMap) -> Self {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("application/x-www-form-urlencoded") {
            Self::Form
        } else {
            Self::Script
        }
    }
}

/// A refused request: JSON for scripts, a redirect to the page (which shows the error)
/// for forms.
fn refuse(caller: Caller, status: StatusCode, reason: &'static str, message: &str) -> Response {
    crate::metrics::refused(reason);
    match caller {
        Caller::Script => {
            (status, Json(json!({"reason": reason, "message": message}))).into_response()
        }
        Caller::Form => Redirect::to(&format!("/?login-error={reason}")).into_response(),
    }
}

/// A field of a form body (`application/x-www-form-urlencoded`).
pub(super) fn form_field(body: &[u8], key: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, value)| value)
}

/// Where a form asks to go after logging in: a path of this site (never another site's).
fn next_page(body: &[u8]) -> String {
    form_field(body, "next")
        .filter(|next| {
            // Browsers drop tabs and newlines from a `Location`: `/\t/x` would become `//x`.
            next.starts_with('/')
                && !next.starts_with("//")
                && !next.contains(|c: char| c == '\\' || c.is_whitespace() || c.is_control())
        })
        .unwrap_or_else(|| "/".to_owned())
}

/// `POST /api/session`: `{"name": ...}` or `name=...` (and `next=<path>`).
pub async fn create(
    State(state): State<AppState>,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let address = address.map(|Extension(ClientAddress(address))| address);
    let caller = Caller::of(&headers);
    let name = match caller {
        Caller::Script => serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|mut v| v.get_mut("name").map(Value::take)),
        Caller::Form => form_field(&body, "name").map(Value::String),
    };
    let Some(name) = name else {
        return refuse(
            caller,
            StatusCode::BAD_REQUEST,
            "badRequest",
            "Send a name.",
        );
    };
    match state.hub.create_session(name, address).await {
        Ok((name, user, token)) => {
            let cookie = [(
                header::SET_COOKIE,
                state.cookies.set_cookie(&token, &headers),
            )];
            match caller {
                Caller::Script => {
                    let body = LoggedIn {
                        name: &name,
                        user_id: user.wire(),
                    };
                    (cookie, Json(body)).into_response()
                }
                Caller::Form => (cookie, Redirect::to(&next_page(&body))).into_response(),
            }
        }
        Err(CreateSessionError::InvalidName) => refuse(
            caller,
            StatusCode::BAD_REQUEST,
            "invalidName",
            "A name has 3 to 10 characters.",
        ),
        Err(CreateSessionError::NameTaken) => refuse(
            caller,
            StatusCode::CONFLICT,
            "nameTaken",
            "Someone online has this name.",
        ),
        Err(CreateSessionError::RateLimited(retry)) => {
            crate::metrics::refused("rateLimited");
            tracing::info!(?address, "too many log-ins from one address");
            let ms = retry.ms();
            let wait = [(header::RETRY_AFTER, ms.div_ceil(1000).to_string())];
            match caller {
                Caller::Script => {
                    let body = json!({
                        "reason": "rateLimited",
                        "message": "Too many log-ins from your address; try again shortly.",
                        "retryAfterMs": ms,
                    });
                    (StatusCode::TOO_MANY_REQUESTS, wait, Json(body)).into_response()
                }
                Caller::Form => (wait, Redirect::to("/?login-error=rateLimited")).into_response(),
            }
        }
        Err(CreateSessionError::Busy) => {
            crate::metrics::refused("busy");
            refuse(
                caller,
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "The server is busy; try again.",
            )
        }
        Err(error) => {
            tracing::error!(%error, "cannot create a session");
            refuse(
                caller,
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Cannot log in right now; try again.",
            )
        }
    }
}

/// `POST /api/logout`: ends the cookie's session, if any, and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let caller = Caller::of(&headers);
    if let Some(token) = session_token(&headers) {
        state.hub.logout(token).await;
    }
    let cookie = [(header::SET_COOKIE, clear_cookie())];
    match caller {
        Caller::Script => (cookie, Json(json!({}))).into_response(),
        Caller::Form => (cookie, Redirect::to("/")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cookie::tests::headers;

    #[test]
    fn a_form_goes_on_to_a_page_of_this_site_only() {
        for (next, to) in [
            ("%2Fr%2Frust", "/r/rust"),
            ("%2Fdm%2FBob%3Fx%3D1", "/dm/Bob?x=1"),
            ("https%3A%2F%2Fevil.example", "/"),
            ("%2F%2Fevil.example", "/"),
            ("%2F%5Cevil.example", "/"),
            // Browsers drop tabs and newlines from a Location: these would become //evil.
            ("%2F%09%2Fevil.example", "/"),
            ("%2F%0A%2Fevil.example", "/"),
            ("%2F%0D%2Fevil.example", "/"),
            ("%2F+%2Fevil.example", "/"),
        ] {
            let body = format!("name=Ann&next={next}");
            assert_eq!(next_page(body.as_bytes()), to, "next={next}");
        }
        assert_eq!(next_page(b"name=Ann"), "/");
    }

    #[test]
    fn the_cookie_is_http_only_lasts_a_session_lifetime_and_is_secure_over_https() {
        let token = SessionToken::from_client("abc");
        let plain = CookiePolicy::default().set_cookie(&token, &HeaderMap::new());
        assert_eq!(
            plain.to_str().ok(),
            Some("chat_session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=2592000")
        );
        let proxied = CookiePolicy::default().set_cookie(
            &token,
            &headers(&[(
                header::HeaderName::from_static("x-forwarded-proto"),
                "https",
            )]),
        );
        assert!(proxied.to_str().is_ok_and(|c| c.ends_with("; Secure")));
        let public = CookiePolicy { https: true }.set_cookie(&token, &HeaderMap::new());
        assert!(
            public.to_str().is_ok_and(|c| c.ends_with("; Secure")),
            "--public-url https"
        );
    }

    #[test]
    fn pages_and_handshakes_renew_the_cookie_nothing_else_does() {
        for renews in [
            "/",
            "/r/rust",
            "/dm/Ann",
            "/rooms",
            "/socket.io/?EIO=4&transport=websocket",
        ] {
            assert!(
                is_page_or_handshake(&renews.parse().expect("uri")),
                "{renews}"
            );
        }
        for not in [
            "/favicon.svg",
            "/pkg/chat.js",
            "/socket.io/?EIO=4&transport=polling&sid=x",
            "/healthz",
        ] {
            assert!(!is_page_or_handshake(&not.parse().expect("uri")), "{not}");
        }
    }
}
