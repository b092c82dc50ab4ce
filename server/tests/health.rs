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
