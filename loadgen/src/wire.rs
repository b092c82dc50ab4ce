//! The wire: connecting a WebSocket the way a Socket.IO client does (Engine.IO 4 text
//! frames, written by hand), and the frames the scenarios send and look for.

use std::net::{IpAddr, SocketAddr};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How to dial: from which local address (a loopback address of its own makes another
/// client, as the server counts its per-address limits), and with which cookie.
#[derive(Clone, Default)]
pub struct Dial {
    pub source: Option<IpAddr>,
    /// The `Cookie` header's value.
    pub cookie: Option<String>,
}

/// Why a dial or a namespace connect did not get through.
#[derive(Debug)]
pub enum Refusal {
    /// The WebSocket handshake was answered with this HTTP status.
    Status(u16),
    /// The Socket.IO connect was refused (`44{"message": ...}`): the message.
    ConnectError(String),
    /// Anything else (reset, closed, a frame that makes no sense).
    Failed(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status(status) => write!(f, "handshake answered HTTP {status}"),
            Self::ConnectError(message) => write!(f, "connect refused: {message}"),
            Self::Failed(error) => f.write_str(error),
        }
    }
}

/// `host:port` of `http://host:port/...`.
pub fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// A TCP connection to the server at `url`, from `source` if given.
pub async fn tcp(url: &str, source: Option<IpAddr>) -> Result<TcpStream, String> {
    let to = authority(url);
    let address = tokio::net::lookup_host(to)
        .await
        .map_err(|e| format!("resolve {to}: {e}"))?
        .next()
        .ok_or_else(|| format!("resolve {to}: no address"))?;
    let stream = match source {
        None => TcpStream::connect(address).await,
        Some(source) => {
            let socket = match source {
                IpAddr::V4(_) => TcpSocket::new_v4(),
                IpAddr::V6(_) => TcpSocket::new_v6(),
            }
            .map_err(|e| format!("socket: {e}"))?;
            socket
                .bind(SocketAddr::new(source, 0))
                .map_err(|e| format!("bind {source}: {e}"))?;
            socket.connect(address).await
        }
    }
    .map_err(|e| format!("connect {to}: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    Ok(stream)
}

/// Opens a WebSocket to the server at `url` (`http://host:port`), dialled as `dial` says,
/// and connects it to the default namespace; returns once the server has answered the
/// connect (`40...`).
pub async fn connect_with(url: &str, dial: &Dial) -> Result<Ws, String> {
    match connect_or_refused(url, dial).await {
        Ok(ws) => Ok(ws),
        Err(Refusal::Failed(error)) => Err(error),
        Err(refusal) => Err(format!("{url}: {refusal}")),
    }
}

/// Opens the WebSocket (Engine.IO open packet read) and connects it to the default
/// namespace, telling a refusal (HTTP status, connect error) from a failure.
pub async fn connect_or_refused(url: &str, dial: &Dial) -> Result<Ws, Refusal> {
    let mut ws = handshake(url, dial).await?;
    let failed = |e: WsError| Refusal::Failed(e.to_string());
    ws.send(Message::text("40")).await.map_err(failed)?;
    loop {
        let frame = next_text(&mut ws).await.map_err(Refusal::Failed)?;
        if frame.starts_with("40") {
            return Ok(ws);
        }
        if let Some(error) = frame.strip_prefix("44") {
            return Err(Refusal::ConnectError(connect_error_message(error)));
        }
        if frame == "2" {
            ws.send(Message::text("3")).await.map_err(failed)?;
        }
    }
}

/// The WebSocket handshake and the Engine.IO open packet.
async fn handshake(url: &str, dial: &Dial) -> Result<Ws, Refusal> {
    let ws_url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        url.replacen("http", "ws", 1).trim_end_matches('/')
    );
    let mut request = ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| Refusal::Failed(format!("{ws_url}: {e}")))?;
    if let Some(cookie) = &dial.cookie {
        let value =
            HeaderValue::from_str(cookie).map_err(|e| Refusal::Failed(format!("cookie: {e}")))?;
        request.headers_mut().insert(header::COOKIE, value);
    }
    // tungstenite zeroes its whole read buffer (128 KiB by default) on every read: with
    // hundreds of sockets that memset was half of the generator's CPU. Chat frames are
    // small.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let stream = tcp(url, dial.source).await.map_err(Refusal::Failed)?;
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(
        request,
        MaybeTlsStream::Plain(stream),
        Some(config),
    )
    .await
    .map_err(|e| match e {
        WsError::Http(response) => Refusal::Status(response.status().as_u16()),
        e => Refusal::Failed(format!("connect {ws_url}: {e}")),
    })?;
    // Engine.IO open packet.
    next_text(&mut ws).await.map_err(Refusal::Failed)?;
    Ok(ws)
}

/// The `message` of a connect error's payload (`{"message":"..."}`), or the payload.
fn connect_error_message(payload: &str) -> String {
    payload
        .split_once("\"message\":\"")
        .and_then(|(_, rest)| rest.split('"').next())
        .unwrap_or(payload)
        .to_owned()
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

/// `42<ack>["typing"]` / `42<ack>["stopTyping"]`: the lobby's typing signals (no
/// payload), with acknowledgement `ack`.
pub fn typing(typing: bool, ack: u64) -> String {
    let event = if typing { "typing" } else { "stopTyping" };
    format!("42{ack}[\"{event}\"]")
}

/// `42<ack>["history",{}]`: the lobby's newest page, with acknowledgement `ack`.
pub fn history(ack: u64) -> String {
    format!("42{ack}[\"history\",{{}}]")
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
        assert_eq!(typing(false, 3), r#"423["stopTyping"]"#);
        assert_eq!(history(7), r#"427["history",{}]"#);
    }

    #[test]
    fn connect_errors_and_addresses_are_read() {
        let payload = r#"{"message":"connectingTooFast: too many; retry in 90 ms"}"#;
        assert_eq!(
            connect_error_message(payload),
            "connectingTooFast: too many; retry in 90 ms"
        );
        assert_eq!(connect_error_message("{}"), "{}");
        assert_eq!(authority("http://127.0.0.1:3000/x"), "127.0.0.1:3000");
        assert_eq!(authority("127.0.0.1:3000"), "127.0.0.1:3000");
    }
}
