//! `/healthz` and `/readyz`, against a real server: ready while it can serve a chat, not
//! ready (503, with the reason) once its database stops answering or it is shutting down,
//! alive throughout; a draining server goes on serving until its drain delay is over.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use app::protocol::ClientEvent;
use server::config::Cli;
use support::{chat, http_get, http_get_at, status_and_body, Client, TestServer};

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

/// A GET of `path` on the server at `addr`: its status code and body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = http_get_at(addr, path, None).await;
    let (status, body) = status_and_body(&response);
    (status, body.to_owned())
}

#[tokio::test]
async fn a_server_shutting_down_is_not_ready_but_serves_until_its_drain_delay_ends() {
    let cli = Cli {
        drain_delay_ms: Some(3_000),
        ..Cli::default()
    };
    let server = TestServer::start_with(cli).await;
    let addr = server.addr;
    let mut ann = Client::logged_in(&server, "Ann").await;
    assert_eq!(get(addr, "/readyz").await, (200, "ready".into()));

    let stopping = tokio::spawn(server.stop());
    loop {
        match get(addr, "/readyz").await {
            (503, body) => {
                assert_eq!(body, "draining");
                break;
            }
            (200, _) => tokio::time::sleep(Duration::from_millis(10)).await,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(get(addr, "/healthz").await, (200, "ok".into()), "alive");
    ann.emit(ClientEvent::chat("still here")).await;
    ann.expect(chat("Ann", "still here")).await;

    assert!(
        ann.is_closed_by_server().await,
        "closed once the drain is over"
    );
    stopping.await.expect("join").expect("clean stop");
}

/// The value of the first sample of `metrics` whose line starts with `series`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn metrics_count_what_happens_in_prometheus_text() {
    let server = TestServer::start_with(Cli {
        metrics: true,
        ..Cli::default()
    })
    .await;
    let before = http_get(&server, "/metrics", None).await;
    assert!(before.starts_with("HTTP/1.1 200"), "{before}");
    assert!(before.contains("text/plain; version=0.0.4"), "{before}");
    let stored_before = sample(&before, "chat_messages_stored_total").unwrap_or(0.0);

    let mut ann = Client::logged_in(&server, "Ann").await;
    ann.emit(ClientEvent::Chat("hello".into())).await;
    ann.expect(chat("Ann", "hello")).await;
    // A refusal: a page of another site.
    let cross = format!(
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {}\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n",
        server.addr
    );
    let _ = raw(server.addr, &cross).await;

    // The users-online gauge is read every second: wait for it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let after = loop {
        let now = http_get(&server, "/metrics", None).await;
        if now.contains("chat_users_online") {
            break now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no users gauge: {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stored_after = sample(&after, "chat_messages_stored_total").expect("messages stored");
    assert!(
        stored_after >= stored_before + 1.0,
        "{stored_before} then {stored_after}"
    );
    for series in [
        "chat_connections_open{transport=\"websocket\"}",
        "chat_deliveries_total",
        "chat_refused_total{reason=\"crossOrigin\"}",
        "chat_hub_queue_wait_seconds_bucket",
        "chat_storage_seconds_bucket{operation=\"append_messages\"",
    ] {
        assert!(after.contains(series), "no {series} in:\n{after}");
    }
    assert!(sample(&after, "chat_connections_open{transport=\"websocket\"}").unwrap_or(0.0) >= 1.0);

    // Without --metrics, there is nothing to see.
    let plain = TestServer::start().await;
    let (status, _) = get(plain.addr, "/metrics").await;
    assert_eq!(status, 404);
}

/// Sends `request` as it is; the response.
async fn raw(addr: SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}
