//! The rooms protocol's requests, made and awaited the way a client does.

use app::protocol::ServerEvent;
use serde_json::{json, Value};

use super::{session_cookie, Client, TestServer};

/// A rooms-protocol client of a new session named `name`.
pub async fn session_user(server: &TestServer, name: &str) -> (Client, String) {
    let cookie = session_cookie(server, name).await;
    let mut client = Client::connect_rooms(server, name, Some(&cookie)).await;
    client
        .until(|e| matches!(e, ServerEvent::Welcome(n) if n == name))
        .await;
    (client, cookie)
}

pub async fn join(client: &mut Client, room: &str) -> Value {
    let reply = client.call("join_room", json!({ "room": room })).await;
    assert_eq!(reply["ok"], json!(true), "{reply}");
    reply
}

pub async fn send(client: &mut Client, room: &str, text: &str) -> u64 {
    let reply = client
        .call("send_message", json!({ "room": room, "message": text }))
        .await;
    assert_eq!(reply["status"], json!("delivered"), "{reply}");
    reply["id"].as_u64().expect("an id")
}

pub async fn dm(client: &mut Client, to: &str, text: &str) -> u64 {
    let reply = client
        .call(
            "private_message",
            json!({ "toUsername": to, "message": text }),
        )
        .await;
    assert_eq!(reply["status"], json!("delivered"), "{reply}");
    reply["id"].as_u64().expect("an id")
}

pub fn room_message(event: &ServerEvent, room: &str, text: &str) -> bool {
    matches!(event, ServerEvent::ReceiveMessage(m) if m.room == room && m.message == text)
}

pub fn direct_message(event: &ServerEvent, text: &str) -> bool {
    matches!(event, ServerEvent::PrivateMessage(m) if m.message == text)
}

/// Events arriving until things are quiet.
pub async fn drain_quietly(client: &mut Client) -> Vec<ServerEvent> {
    let mut events = Vec::new();
    while let Some(event) = client.next_event_within(super::SILENCE).await {
        events.push(event);
    }
    events
}
