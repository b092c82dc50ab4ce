//! Who may talk to the server, against a real one over raw HTTP: pages of other origins
//! are refused on Socket.IO (both transports) and on every state-changing request,
//! malformed WebSocket handshakes get the HTTP error RFC 6455 says, and every response
//! carries the headers that limit what a browser does with it.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use server::config::Cli;
use support::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const POLLING: &str = "/socket.io/?EIO=4&transport=polling";
const WEBSOCKET: &str = "/socket.io/?EIO=4&transport=websocket";
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// Sends `request` (its head ends with a blank line) and returns the response's head and
/// as much of its body as came with it, lowercased, without waiting for the connection to
/// close (a WebSocket stays open).
async fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("an answer in time")
            .expect("read");
        response.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&response);
        if read == 0 || text.contains("\r\n\r\n") {
            return text.to_ascii_lowercase();
        }
    }
}

fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code")
}

fn get(addr: SocketAddr, path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n")
}

fn upgrade(addr: SocketAddr, version: &str, key: &str, extra: &str) -> String {
    format!(
        "GET {WEBSOCKET} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: {version}\r\nSec-WebSocket-Key: {key}\r\n{extra}\r\n"
    )
}

fn post_session(addr: SocketAddr, extra: &str) -> String {
    let body = r#"{"name":"Ann"}"#;
    format!(
        "POST /api/session HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{extra}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn other_origins_are_refused_on_socket_io_and_on_every_change() {
    let server = TestServer::start().await;
    let addr = server.addr;
    let own = format!("Origin: http://{addr}\r\n");
    let evil = "Origin: https://evil.example\r\n";

    // The Socket.IO handshake, polling: the page's own origin, or a program without one.
    assert_eq!(
        status(&exchange(addr, &get(addr, POLLING, &own)).await),
        200
    );
    assert_eq!(status(&exchange(addr, &get(addr, POLLING, "")).await), 200);
    let refused = exchange(addr, &get(addr, POLLING, evil)).await;
    assert_eq!(status(&refused), 403, "{refused}");
    assert!(refused.contains("crossorigin"), "says why: {refused}");
    // engineioxide also answers `/socket.io` without the slash.
    let unslashed = "/socket.io?EIO=4&transport=polling";
    assert_eq!(
        status(&exchange(addr, &get(addr, unslashed, evil)).await),
        403
    );
    // ... and over WebSocket.
    assert_eq!(
        status(&exchange(addr, &upgrade(addr, "13", KEY, &own)).await),
        101
    );
    assert_eq!(
        status(&exchange(addr, &upgrade(addr, "13", KEY, evil)).await),
        403
    );

    // A change (a log-in) from another site's page, by `Origin` or by `Sec-Fetch-Site`.
    assert_eq!(
        status(&exchange(addr, &post_session(addr, evil)).await),
        403
    );
    let cross_site = "Sec-Fetch-Site: cross-site\r\n";
    assert_eq!(
        status(&exchange(addr, &post_session(addr, cross_site)).await),
        403
    );
    let refused_name = server.store.active_user("Ann").await.expect("storage");
    assert!(refused_name.is_none(), "a refused log-in changes nothing");
    let same_site = "Sec-Fetch-Site: same-origin\r\n";
    assert_eq!(
        status(&exchange(addr, &post_session(addr, same_site)).await),
        200
    );

    // Reading is not refused: another site may link to a page.
    assert_eq!(status(&exchange(addr, &get(addr, "/", evil)).await), 200);
}

#[tokio::test]
async fn allowed_origins_are_exactly_those_listed() {
    let server = TestServer::start_with(Cli {
        allowed_origins: Some(vec!["https://chat.example".into()]),
        ..Cli::default()
    })
    .await;
    let addr = server.addr;
    let listed = "Origin: https://chat.example\r\n";
    assert_eq!(
        status(&exchange(addr, &get(addr, POLLING, listed)).await),
        200
    );
    let own = format!("Origin: http://{addr}\r\n");
    assert_eq!(
        status(&exchange(addr, &get(addr, POLLING, &own)).await),
        403,
        "a list replaces the default"
    );
}

#[tokio::test]
async fn malformed_websocket_handshakes_get_an_http_error() {
    let server = TestServer::start().await;
    let addr = server.addr;
    let old = exchange(addr, &upgrade(addr, "8", KEY, "")).await;
    assert_eq!(status(&old), 426, "{old}");
    assert!(
        old.contains("sec-websocket-version: 13"),
        "says which: {old}"
    );
    for key in ["", "not*base64", "c2hvcnQ="] {
        let bad = exchange(addr, &upgrade(addr, "13", key, "")).await;
        assert_eq!(status(&bad), 400, "key {key:?}: {bad}");
    }
    let good = exchange(addr, &upgrade(addr, "13", KEY, "")).await;
    assert_eq!(status(&good), 101, "{good}");
}

#[tokio::test]
async fn every_response_limits_what_a_browser_does_with_it() {
    let server = TestServer::start().await;
    let page = support::http_get(&server, "/", None).await;
    let (head, body) = page.split_once("\r\n\r\n").expect("a head");
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let policy = header("content-security-policy").expect("a content security policy");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("object-src 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy
        .split_once("'nonce-")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(nonce, _)| nonce.to_owned())
        .expect("scripts by nonce");
    assert!(nonce.len() >= 16, "a real nonce: {nonce}");
    // The page's inline scripts carry it: they alone run.
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "{body}");
    let again = support::http_get(&server, "/", None).await;
    assert!(!again.contains(&nonce), "a fresh nonce for each page");

    let asset = exchange(server.addr, &get(server.addr, "/favicon.svg", "")).await;
    for response in [page.to_ascii_lowercase(), asset] {
        assert!(
            response.contains("x-content-type-options: nosniff"),
            "{response}"
        );
        assert!(
            response.contains("referrer-policy: same-origin"),
            "{response}"
        );
        assert!(response.contains("x-frame-options: deny"), "{response}");
    }
}

#[tokio::test]
async fn the_session_cookie_lasts_a_session_lifetime_renewed_on_use_and_secure_over_https() {
    let server = TestServer::start_with(Cli {
        public_url: Some("https://chat.example".into()),
        ..Cli::default()
    })
    .await;
    let addr = server.addr;
    let cookie = support::session_cookie(&server, "Ann").await;
    let with_cookie = format!("Cookie: {cookie}\r\n");
    let renewed = format!(
        "set-cookie: {}; httponly; samesite=lax; path=/; max-age=2592000; secure",
        cookie.to_ascii_lowercase()
    );
    // A page load and a handshake renew it, for 30 days, `Secure` (the site is HTTPS).
    let page = exchange(addr, &get(addr, "/", &with_cookie)).await;
    assert!(page.contains(&renewed), "{page}");
    let handshake = exchange(addr, &upgrade(addr, "13", KEY, &with_cookie)).await;
    assert_eq!(status(&handshake), 101);
    assert!(handshake.contains(&renewed), "{handshake}");
    // Nothing else sets it: a file, a request without the cookie.
    let file = exchange(addr, &get(addr, "/favicon.svg", &with_cookie)).await;
    assert!(!file.contains("set-cookie"), "{file}");
    let anonymous = exchange(addr, &get(addr, "/", "")).await;
    assert!(!anonymous.contains("set-cookie"), "{anonymous}");
    // The public origin is our own, whatever Host says.
    let public = "Origin: https://chat.example\r\n";
    assert_eq!(
        status(&exchange(addr, &get(addr, POLLING, public)).await),
        200
    );
}
