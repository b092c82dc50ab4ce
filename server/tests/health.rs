//! `/healthz` and `/readyz`, against a real server: ready while it can serve a chat, not
//! ready (503, with the reason) once its database stops answering, alive throughout.

mod support;

use support::{http_get, TestServer};

/// The status code and the body of a response.
fn status_and_body(response: &str) -> (u16, &str) {
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    (status, body)
}

#[tokio::test]
async fn ready_while_the_database_answers_alive_throughout() {
    let server = TestServer::start().await;
    let healthz = http_get(&server, "/healthz", None).await;
    assert_eq!(status_and_body(&healthz), (200, "ok"));
    let readyz = http_get(&server, "/readyz", None).await;
    assert_eq!(status_and_body(&readyz), (200, "ready"));
    assert!(
        readyz
            .to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "never cached: {readyz}"
    );

    server.store.close().await;
    let readyz = http_get(&server, "/readyz", None).await;
    assert_eq!(status_and_body(&readyz), (503, "database unreachable"));
    let healthz = http_get(&server, "/healthz", None).await;
    assert_eq!(status_and_body(&healthz), (200, "ok"), "still alive");
}
