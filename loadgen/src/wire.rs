//! The wire: connecting a WebSocket the way a Socket.IO client does (Engine.IO 4 text
//! frames, written by hand), and the frames the scenarios send and look for.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to the server at `url` (`http://host:port`) and connects it to the
/// default namespace; returns once the server has answered the connect (`40...`).
pub async fn connect(url: &str) -> Result<Ws, String> {
    let ws_url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        url.replacen("http", "ws", 1).trim_end_matches('/')
    );
    // tungstenite zeroes its whole read buffer (128 KiB by default) on every read: with
    // hundreds of sockets that memset was half of the generator's CPU. Chat frames are
    // small.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(&ws_url, Some(config), true)
        .await
        .map_err(|e| format!("connect {ws_url}: {e}"))?;
    // Engine.IO open packet, then connect to the default namespace.
    next_text(&mut ws).await?;
    ws.send(Message::text("40"))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let frame = next_text(&mut ws).await?;
        if frame.starts_with("40") {
            return Ok(ws);
        }
        if frame == "2" {
            ws.send(Message::text("3"))
                .await
                .map_err(|e| e.to_string())?;
        }
    }
}

async fn next_text(ws: &mut Ws) -> Result<String, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
            Some(Ok(Message::Close(_))) | None => return Err("closed by the server".into()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
        }
    }
}

/// A JSON string literal.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `42["login","name"]`: the lobby's log-in.
pub fn login(name: &str) -> String {
    format!("42[\"login\",{}]", quoted(name))
}

/// `42["userJoined","name"]`, exactly as both servers send it.
pub fn user_joined(name: &str) -> String {
    format!("42[\"userJoined\",{}]", quoted(name))
}

/// `42["chat","text"]`: a lobby message to everyone.
pub fn chat(text: &str) -> String {
    format!("42[\"chat\",{}]", quoted(text))
}

/// `42["join_room",{"username":..,"room":..}]`: logs in (if not yet) and joins the room.
pub fn join_room(username: &str, room: &str) -> String {
    format!(
        "42[\"join_room\",{{\"username\":{},\"room\":{}}}]",
        quoted(username),
        quoted(room)
    )
}

/// `42["send_message",{"room":..,"message":..}]`: a message to a room's members.
pub fn send_message(room: &str, text: &str) -> String {
    format!(
        "42[\"send_message\",{{\"room\":{},\"message\":{}}}]",
        quoted(room),
        quoted(text)
    )
}

/// The event name of a Socket.IO event frame (`42["name",...]`), if it is one.
pub fn event_name(frame: &str) -> Option<&str> {
    let rest = frame.strip_prefix("42[\"")?;
    Some(&rest[..rest.find('"')?])
}

/// The marker a message carries: `@<sender>.<seq>.<send time ns>@`.
pub fn marker(sender: usize, seq: u64, sent_ns: u64) -> String {
    format!("@{sender}.{seq}.{sent_ns}@")
}

/// The first marker in a frame: (sender, seq, send time ns). Names and rooms of the
/// scenarios hold no `@`, so the first `@` starts the message's marker.
pub fn parse_marker(frame: &str) -> Option<(usize, u64, u64)> {
    let start = frame.find('@')? + 1;
    let end = start + frame[start..].find('@')?;
    let mut parts = frame[start..end].split('.');
    let sender = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let sent = parts.next()?.parse().ok()?;
    Some((sender, seq, sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_through_both_message_events() {
        let text = marker(7, 42, 123_456_789);
        let chat = format!(
            "42[\"chat\",{{\"sender\":\"s007\",\"message\":{},\"id\":3,\"sentAt\":1}}]",
            quoted(&text)
        );
        assert_eq!(parse_marker(&chat), Some((7, 42, 123_456_789)));
        let room = format!(
            "42[\"receive_message\",{{\"id\":1,\"username\":\"u0007\",\"message\":{},\
             \"time\":\"2026-12-01T11:43:35.123Z\",\"room\":\"r007\",\"userId\":8}}]",
            quoted(&text)
        );
        assert_eq!(parse_marker(&room), Some((7, 42, 123_456_789)));
        assert_eq!(parse_marker("42[\"chat\",\"@x.1.2@\"]"), None);
        assert_eq!(parse_marker("42[\"chat\",\"@1.2\"]"), None);
    }

    #[test]
    fn frames_are_the_servers_json() {
        assert_eq!(login("a\"b"), r#"42["login","a\"b"]"#);
        assert_eq!(
            join_room("u0001", "r001"),
            r#"42["join_room",{"username":"u0001","room":"r001"}]"#
        );
        assert_eq!(
            send_message("r001", "hi"),
            r#"42["send_message",{"room":"r001","message":"hi"}]"#
        );
        assert_eq!(event_name(r#"42["userJoined","ann"]"#), Some("userJoined"));
        assert_eq!(event_name("2"), None);
        assert_eq!(event_name("42[\"open"), None);
    }
}
