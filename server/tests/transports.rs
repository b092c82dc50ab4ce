//! HTTP long-polling, the transport official clients start with, next to WebSocket.

mod support;

use app::protocol::{ClientEvent, ServerEvent};
use support::polling::PollingClient;
use support::{chat, Client, TestServer};

#[tokio::test]
async fn polling_and_websocket_clients_chat_together() {
    let server = TestServer::start().await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let bob = PollingClient::connect(&server).await;
    bob.emit(ClientEvent::login("Bob")).await;
    assert_eq!(
        bob.events(2).await,
        vec![
            ServerEvent::Welcome("Bob".into()),
            ServerEvent::UserJoined("Bob".into())
        ]
    );
    ann.expect(ServerEvent::UserJoined("Bob".into())).await;

    bob.emit(ClientEvent::chat("over polling")).await;
    ann.expect(chat("Bob", "over polling")).await;
    ann.emit(ClientEvent::chat("over websocket")).await;
    assert_eq!(
        unstored(bob.events(2).await),
        vec![chat("Bob", "over polling"), chat("Ann", "over websocket")]
    );
}

#[tokio::test]
async fn a_polling_client_gets_a_whole_burst_in_order() {
    let server = TestServer::start().await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let watcher = PollingClient::connect(&server).await;
    const BURST: usize = 500;
    for i in 0..BURST {
        ann.emit(ClientEvent::chat(&i.to_string())).await;
    }
    let expected: Vec<ServerEvent> = (0..BURST).map(|i| chat("Ann", &i.to_string())).collect();
    assert_eq!(unstored(watcher.events(BURST).await), expected);
}

/// Checks that the chats carry strictly increasing ids, then clears ids and times so the
/// events compare with [`chat`].
fn unstored(events: Vec<ServerEvent>) -> Vec<ServerEvent> {
    let mut last = 0;
    events
        .into_iter()
        .map(|event| match event {
            ServerEvent::Chat(mut message) => {
                assert!(
                    message.id > last,
                    "ids must increase: {} after {last}",
                    message.id
                );
                assert!(message.sent_at > 0);
                last = message.id;
                message.id = 0;
                message.sent_at = 0;
                ServerEvent::Chat(message)
            }
            other => other,
        })
        .collect()
}
