//! Engine.IO v4 / Socket.IO v5 text frames, as sent over a WebSocket.

use engineioxide_core::OpenPacket;
use serde::Deserialize;
use serde_json::Value;

use super::json;

use crate::protocol::{ClientEvent, DecodeError, PayloadSource, ServerEvent};

/// What one frame from the server means to the client.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// Engine.IO handshake, with the heartbeat timings.
    Open(OpenPacket),
    /// Engine.IO ping: answer with [`pong`].
    Ping,
    /// Engine.IO close.
    Close,
    /// Socket.IO: connected to the namespace.
    Connected,
    /// Socket.IO: the namespace refused the connection.
    ConnectError(String),
    /// Socket.IO: the server disconnected this socket.
    Disconnected,
    /// A chat event.
    Event(ServerEvent),
    /// The acknowledgement of the request sent with this id; its arguments as JSON
    /// (decode with [`ack_payload`]).
    Ack(i64, String),
    /// Anything the client has no use for (noop, acks, upgrades).
    Ignored,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CodecError {
    Engine(String),
    SocketIo(String),
    Event(DecodeError),
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Engine(e) => write!(f, "bad Engine.IO packet: {e}"),
            Self::SocketIo(e) => write!(f, "bad Socket.IO packet: {e}"),
            Self::Event(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CodecError {}

/// Decodes one text frame from the server.
pub fn decode(frame: &str) -> Result<Incoming, CodecError> {
    // An Engine.IO v4 text packet is its type digit and its data. (engineioxide-core's
    // parser also handles base64 binary packets, which this client never receives; reading
    // the digit here keeps base64 out of the browser bundle.)
    let data = frame.get(1..).unwrap_or_default();
    match frame.as_bytes().first() {
        Some(b'0') => json::from_str(data)
            .map(Incoming::Open)
            .map_err(|_| CodecError::Engine("bad handshake".into())),
        Some(b'1') => Ok(Incoming::Close),
        Some(b'2') => Ok(Incoming::Ping),
        Some(b'4') => decode_socket_io(data),
        // Pong, upgrade, noop.
        Some(b'3' | b'5' | b'6') => Ok(Incoming::Ignored),
        _ => Err(CodecError::Engine("unknown packet type".into())),
    }
}

/// A Socket.IO v5 text packet: `<type>[/<namespace>,][<ack id>][<JSON>]`. Parsed by hand:
/// the client only needs text packets of the root namespace, and socketioxide's general
/// parser would add a fifth to the browser bundle.
fn decode_socket_io(packet: &str) -> Result<Incoming, CodecError> {
    let malformed = |what: &str| CodecError::SocketIo(format!("malformed packet: {what}"));
    let kind = *packet
        .as_bytes()
        .first()
        .ok_or_else(|| malformed("empty"))?;
    let mut rest = packet.get(1..).unwrap_or_default();
    if let Some(namespaced) = rest.strip_prefix('/') {
        let (namespace, after) = namespaced.split_once(',').unwrap_or((namespaced, ""));
        if !namespace.is_empty() {
            // Another namespace: not the chat's.
            return Ok(Incoming::Ignored);
        }
        rest = after;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (ack, json) = rest.split_at(digits);
    match kind {
        b'0' => Ok(Incoming::Connected),
        b'1' => Ok(Incoming::Disconnected),
        b'2' => {
            let elements = split_array(json).ok_or_else(|| malformed("not an event array"))?;
            let (name, arguments) = elements
                .split_first()
                .ok_or_else(|| malformed("no event name"))?;
            let name: String = parse(name).map_err(|_| malformed("no event name"))?;
            match ServerEvent::decode_rooms(&name, Arguments(arguments)) {
                Ok(event) => Ok(Incoming::Event(event)),
                // The lobby protocol's events: this client never asks for them.
                Err(DecodeError::UnknownEvent(_)) => Ok(Incoming::Ignored),
                Err(error) => Err(CodecError::Event(error)),
            }
        }
        b'3' => ack
            .parse()
            .map(|id| Incoming::Ack(id, json.to_owned()))
            .map_err(|_| malformed("acknowledgement without an id")),
        b'4' => {
            #[derive(Deserialize)]
            struct ConnectError {
                message: String,
            }
            let message = json::from_str::<ConnectError>(json)
                .map(|e| e.message)
                .unwrap_or_else(|_| json.to_owned());
            Ok(Incoming::ConnectError(message))
        }
        // Binary events and acknowledgements: the chat never sends them.
        b'5' | b'6' => Ok(Incoming::Ignored),
        _ => Err(malformed("unknown type")),
    }
}

/// The JSON texts of the elements of a JSON array, unparsed: the arguments of a packet,
/// each decoded straight into its type afterwards. `None` when `json` is not an array.
fn split_array(json: &str) -> Option<Vec<&str>> {
    let inner = json.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut elements = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut start) = (0usize, false, false, 0);
    for (at, byte) in inner.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.checked_sub(1)?,
            b',' if depth == 0 => {
                elements.push(inner[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    if in_string || depth != 0 {
        return None;
    }
    let last = inner[start..].trim();
    if !last.is_empty() || !elements.is_empty() {
        elements.push(last);
    }
    elements.iter().all(|e| !e.is_empty()).then_some(elements)
}

/// Parses one JSON value.
fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, ()> {
    json::from_str(json).map_err(|_| ())
}

/// The first argument of an acknowledgement, as the type the request expects.
pub fn ack_payload<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, CodecError> {
    let unexpected = || CodecError::SocketIo("unexpected acknowledgement".into());
    let elements = split_array(json).ok_or_else(unexpected)?;
    parse(elements.first().ok_or_else(unexpected)?).map_err(|()| unexpected())
}

/// The frame for an event with one argument, asking for an acknowledgement with `ack`.
pub fn encode_with_ack<T: serde::Serialize>(
    name: &str,
    argument: &T,
    ack: i64,
) -> Result<String, CodecError> {
    let json = json::to_string(&(name, argument))
        .map_err(|_| CodecError::SocketIo("unencodable event".into()))?;
    Ok(format!("42{ack}{json}"))
}

/// The frame that answers a ping.
pub fn pong() -> String {
    "3".to_owned()
}

/// The frame that connects to the chat's namespace (the root one), speaking the rooms
/// protocol (`auth: {"protocol": "rooms"}`).
pub fn connect() -> Result<String, CodecError> {
    Ok(format!(
        r#"40{{"protocol":"{}"}}"#,
        crate::protocol::ROOMS_PROTOCOL
    ))
}

/// The frame for an event with one argument and no acknowledgement.
pub fn encode_event<T: serde::Serialize>(name: &str, argument: &T) -> Result<String, CodecError> {
    let json = json::to_string(&(name, argument))
        .map_err(|_| CodecError::SocketIo("unencodable event".into()))?;
    Ok(format!("42{json}"))
}

/// The frame for an event without arguments, asking for an acknowledgement with `ack`.
pub fn encode_call(name: &str, ack: i64) -> Result<String, CodecError> {
    let json =
        json::to_string(&[name]).map_err(|_| CodecError::SocketIo("unencodable event".into()))?;
    Ok(format!("42{ack}{json}"))
}

/// The frame for a chat event. Clients only ever send a string or nothing.
pub fn encode(event: &ClientEvent) -> Result<String, CodecError> {
    let json = match event.payload() {
        Some(Value::String(text)) => json::to_string(&(event.name(), text)),
        Some(_) => return Err(CodecError::SocketIo("only string payloads are sent".into())),
        // The event name alone, `["onlineUsers"]`.
        None => json::to_string(&[event.name()]),
    }
    .map_err(|_| CodecError::SocketIo("unencodable event".into()))?;
    // Engine.IO message (4) carrying a Socket.IO event (2).
    Ok(format!("42{json}"))
}

/// The arguments of a Socket.IO event, as JSON texts, deserialized on demand straight
/// into the type its event calls for: no intermediate JSON tree, which keeps the browser
/// bundle small.
struct Arguments<'a>(&'a [&'a str]);

impl PayloadSource for Arguments<'_> {
    fn typed<T: serde::de::DeserializeOwned>(self) -> Result<T, &'static str> {
        let first = self.0.first().ok_or("the event has no payload")?;
        parse(first).map_err(|()| "the payload does not fit the event")
    }

    fn typed_pair<T: serde::de::DeserializeOwned, U: serde::de::DeserializeOwned>(
        self,
    ) -> Result<(T, U), &'static str> {
        match self.0 {
            [first, second, ..] => parse(first)
                .and_then(|first| parse(second).map(|second| (first, second)))
                .map_err(|()| "the arguments do not fit the event"),
            _ => Err("the event needs two arguments"),
        }
    }

    fn echoed(self) -> Result<Value, &'static str> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_the_handshake() {
        let frame = r#"0{"sid":"lv_VI97HAXpY6yYW","upgrades":[],"pingInterval":10000,"pingTimeout":5000,"maxPayload":1000000}"#;
        let Ok(Incoming::Open(open)) = decode(frame) else {
            panic!("{:?}", decode(frame))
        };
        assert_eq!(open.ping_interval.as_millis(), 10000);
        assert_eq!(open.ping_timeout.as_millis(), 5000);
    }

    #[test]
    fn decodes_heartbeat_and_namespace_packets() {
        assert_eq!(decode("2"), Ok(Incoming::Ping));
        assert_eq!(decode("1"), Ok(Incoming::Close));
        assert_eq!(decode(r#"40{"sid":"abc"}"#), Ok(Incoming::Connected));
        assert_eq!(decode("41"), Ok(Incoming::Disconnected));
        assert_eq!(
            decode(r#"44{"message":"nope"}"#),
            Ok(Incoming::ConnectError("nope".into()))
        );
        assert_eq!(decode("40/admin,"), Ok(Incoming::Ignored));
        assert_eq!(decode("40/,{}"), Ok(Incoming::Connected));
        assert_eq!(decode("451-[\"x\",{}]"), Ok(Incoming::Ignored), "binary");
    }

    #[test]
    fn decodes_the_rooms_protocol_events() {
        use crate::protocol::{RoomMessage, RoomRef};
        assert_eq!(
            decode(
                r#"42["receive_message",{"id":4,"username":"Ann","message":"<b>hi</b>, \"you\"","time":"2026-12-01T11:43:35.123Z","room":"rust","userId":3}]"#
            ),
            Ok(Incoming::Event(ServerEvent::ReceiveMessage(RoomMessage {
                id: 4,
                username: "Ann".into(),
                message: "<b>hi</b>, \"you\"".into(),
                time: "2026-12-01T11:43:35.123Z".into(),
                room: "rust".into(),
                user_id: 3,
                client_id: None,
            })))
        );
        assert_eq!(
            decode(r#"42["room_users",["Ann","B,]ob"],{"room":"rust"}]"#),
            Ok(Incoming::Event(ServerEvent::RoomUsers(
                vec!["Ann".into(), "B,]ob".into()],
                RoomRef {
                    room: "rust".into()
                }
            )))
        );
        // The lobby protocol's events are not for this client.
        assert_eq!(
            decode(r#"42["onlineUsers",["Ann","Bob"]]"#),
            Ok(Incoming::Ignored)
        );
        assert_eq!(
            decode(r#"42["loginNameBad",{"a":[1,2.5]}]"#),
            Ok(Incoming::Ignored)
        );
    }

    #[test]
    fn splits_arrays_without_parsing_them() {
        assert_eq!(split_array("[]"), Some(vec![]));
        assert_eq!(
            split_array(r#" ["a", {"b":[1,2]}, "c\"]\\"] "#),
            Some(vec![r#""a""#, r#"{"b":[1,2]}"#, r#""c\"]\\""#])
        );
        for bad in ["", "{}", "[", "[1,]", "[,1]", r#"["a]"#, "[1]]", "[[1]"] {
            assert_eq!(split_array(bad), None, "{bad}");
        }
    }

    #[test]
    fn acknowledgements_both_ways() {
        use crate::protocol::{ChatReceipt, HistoryRequest};
        let request = HistoryRequest {
            after: Some(7),
            ..HistoryRequest::default()
        };
        assert_eq!(
            encode_with_ack("history", &request, 12),
            Ok(r#"4212["history",{"after":7}]"#.into())
        );
        let Ok(Incoming::Ack(12, json)) =
            decode(r#"4312[{"ok":true,"id":3,"sentAt":5,"duplicate":false}]"#)
        else {
            panic!("an ack");
        };
        let receipt: ChatReceipt = ack_payload(&json).expect("a receipt");
        assert_eq!(receipt.id, Some(3));
        assert!(ack_payload::<ChatReceipt>("[1]").is_err());
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode("").is_err());
        assert!(decode("x").is_err());
        assert!(decode("42[").is_err());
        assert!(decode("42[]").is_err());
        assert!(decode("43[1]").is_err(), "an acknowledgement needs its id");
        assert!(decode("49").is_err());
        assert!(matches!(
            decode(r#"42["receive_message","not an object"]"#),
            Err(CodecError::Event(_))
        ));
    }

    #[test]
    fn encodes_client_frames() {
        assert_eq!(pong(), "3");
        assert_eq!(connect(), Ok(r#"40{"protocol":"rooms"}"#.into()));
        assert_eq!(
            encode_call("list_rooms", 3),
            Ok(r#"423["list_rooms"]"#.into())
        );
        assert_eq!(
            encode_event(
                "leave_room",
                &crate::protocol::rooms::RoomRequest { room: "rust" }
            ),
            Ok(r#"42["leave_room",{"room":"rust"}]"#.into())
        );
        assert_eq!(
            encode(&ClientEvent::login("Ann")),
            Ok(r#"42["login","Ann"]"#.into())
        );
        assert_eq!(
            encode(&ClientEvent::chat("a \"quote\"")),
            Ok(r#"42["chat","a \"quote\""]"#.into())
        );
        assert_eq!(
            encode(&ClientEvent::OnlineUsers),
            Ok(r#"42["onlineUsers"]"#.into())
        );
        assert_eq!(
            encode(&ClientEvent::Typing(Value::Null)),
            Ok(r#"42["typing"]"#.into())
        );
        assert!(
            encode(&ClientEvent::Chat(json!(1))).is_err(),
            "clients send strings only"
        );
    }
}
