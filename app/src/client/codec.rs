//! Engine.IO v4 / Socket.IO v5 text frames, as sent over a WebSocket.

use engineioxide_core::{OpenPacket, Packet as EnginePacket, ProtocolVersion};
use serde::de::IgnoredAny;
use serde_json::Value;
use socketioxide_core::packet::{Packet, PacketData};
use socketioxide_core::parser::{Parse, ParseConfig, ParserState};
use socketioxide_core::Str;
use socketioxide_parser_common::CommonParser;

use crate::protocol::{ClientEvent, DecodeError, PayloadSource, ServerEvent};

/// The namespace the chat lives in.
const NAMESPACE: &str = "/";

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
    // engineioxide-core parses the packets a server receives; the open packet is the one
    // only a client receives.
    if let Some(open) = frame.strip_prefix('0') {
        return serde_json::from_str(open)
            .map(Incoming::Open)
            .map_err(|_| CodecError::Engine("bad handshake".into()));
    }
    let packet = EnginePacket::parse(ProtocolVersion::V4, Str::from(frame.to_owned()))
        .map_err(|_| CodecError::Engine("unknown packet type".into()))?;
    match packet {
        EnginePacket::Ping => Ok(Incoming::Ping),
        EnginePacket::Close => Ok(Incoming::Close),
        EnginePacket::Message(message) => decode_socket_io(message),
        _ => Ok(Incoming::Ignored),
    }
}

fn decode_socket_io(message: Str) -> Result<Incoming, CodecError> {
    // CONNECT_ERROR for the root namespace: a packet only clients receive, so the
    // server-side parser does not read it.
    if let Some(error) = message.as_str().strip_prefix('4') {
        #[derive(serde::Deserialize)]
        struct ConnectError {
            message: String,
        }
        let message = serde_json::from_str::<ConnectError>(error)
            .map(|e| e.message)
            .unwrap_or_else(|_| error.to_owned());
        return Ok(Incoming::ConnectError(message));
    }
    let packet = CommonParser
        .decode_str(&ParseConfig::default(), &ParserState::default(), message)
        .map_err(|_| CodecError::SocketIo("malformed packet".into()))?;
    if packet.ns.as_str() != NAMESPACE {
        return Ok(Incoming::Ignored);
    }
    match packet.inner {
        PacketData::Connect(_) => Ok(Incoming::Connected),
        PacketData::ConnectError(message) => Ok(Incoming::ConnectError(message)),
        PacketData::Disconnect => Ok(Incoming::Disconnected),
        PacketData::Event(value, _) => {
            let name = CommonParser
                .read_event(&value)
                .map_err(|_| CodecError::SocketIo("unreadable event name".into()))?
                .to_owned();
            let json = value
                .as_str()
                .ok_or_else(|| CodecError::SocketIo("binary event".into()))?;
            ServerEvent::decode_from(&name, FirstArgument(json.as_str()))
                .map(Incoming::Event)
                .map_err(CodecError::Event)
        }
        PacketData::EventAck(value, id) => value
            .as_str()
            .map(|json| Incoming::Ack(id, json.to_string()))
            .ok_or_else(|| CodecError::SocketIo("binary acknowledgement".into())),
        _ => Ok(Incoming::Ignored),
    }
}

/// The first argument of an acknowledgement, as the type the request expects.
pub fn ack_payload<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, CodecError> {
    serde_json::from_str::<(T,)>(json)
        .map(|(argument,)| argument)
        .map_err(|_| CodecError::SocketIo("unexpected acknowledgement".into()))
}

/// The frame for an event with one argument, asking for an acknowledgement with `ack`.
pub fn encode_with_ack<T: serde::Serialize>(
    name: &str,
    argument: &T,
    ack: i64,
) -> Result<String, CodecError> {
    let value = CommonParser
        .encode_value(argument, Some(name))
        .map_err(|_| CodecError::SocketIo("unencodable event".into()))?;
    let mut packet = Packet::event(NAMESPACE, value);
    if let PacketData::Event(_, id) = &mut packet.inner {
        *id = Some(ack);
    }
    encode_packet(packet)
}

/// The frame that answers a ping.
pub fn pong() -> String {
    String::from(EnginePacket::Pong)
}

/// The frame that connects to the chat's namespace.
pub fn connect() -> Result<String, CodecError> {
    encode_packet(Packet::connect(NAMESPACE, None))
}

/// The frame for a chat event. Clients only ever send a string or nothing.
pub fn encode(event: &ClientEvent) -> Result<String, CodecError> {
    let value = match event.payload() {
        Some(Value::String(text)) => CommonParser.encode_value(text.as_str(), Some(event.name())),
        Some(_) => return Err(CodecError::SocketIo("only string payloads are sent".into())),
        // An empty tuple: the event name alone, `["onlineUsers"]`.
        None => CommonParser.encode_value(&[(); 0], Some(event.name())),
    }
    .map_err(|_| CodecError::SocketIo("unencodable event".into()))?;
    encode_packet(Packet::event(NAMESPACE, value))
}

/// The first argument of a Socket.IO event (`["name", argument]`), deserialized straight
/// into the type its event calls for: no intermediate JSON tree, which keeps the browser
/// bundle small.
struct FirstArgument<'a>(&'a str);

impl PayloadSource for FirstArgument<'_> {
    fn typed<T: serde::de::DeserializeOwned>(self) -> Result<T, &'static str> {
        serde_json::from_str::<(IgnoredAny, T)>(self.0)
            .map(|(_, argument)| argument)
            .map_err(|_| "the payload does not fit the event")
    }

    fn echoed(self) -> Result<Value, &'static str> {
        self.typed::<IgnoredAny>().map(|_| Value::Null)
    }
}

fn encode_packet(packet: Packet) -> Result<String, CodecError> {
    let encoded = CommonParser.encode(packet);
    let text = encoded
        .as_str()
        .ok_or_else(|| CodecError::SocketIo("binary encoding for a text packet".into()))?;
    Ok(String::from(EnginePacket::Message(text.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ChatMessage;
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
    }

    #[test]
    fn decodes_events() {
        assert_eq!(
            decode(r#"42["chat",{"sender":"Ann","message":"<b>hi</b>","id":4,"sentAt":9}]"#),
            Ok(Incoming::Event(ServerEvent::Chat(ChatMessage {
                sender: "Ann".into(),
                message: "<b>hi</b>".into(),
                id: 4,
                sent_at: 9,
                client_id: None,
            })))
        );
        assert_eq!(
            decode(r#"42["onlineUsers",["Ann","Bob"]]"#),
            Ok(Incoming::Event(ServerEvent::OnlineUsers(vec![
                "Ann".into(),
                "Bob".into()
            ])))
        );
        // The browser has no use for the echoed value.
        assert_eq!(
            decode(r#"42["loginNameBad",{"a":[1,2.5]}]"#),
            Ok(Incoming::Event(ServerEvent::LoginNameBad(json!(null))))
        );
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
        assert!(matches!(
            decode(r#"42["chat","not an object"]"#),
            Err(CodecError::Event(_))
        ));
    }

    #[test]
    fn encodes_client_frames() {
        assert_eq!(pong(), "3");
        assert_eq!(connect(), Ok("40".into()));
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
        assert_eq!(encode(&ClientEvent::Typing), Ok(r#"42["typing"]"#.into()));
        assert!(
            encode(&ClientEvent::Chat(json!(1))).is_err(),
            "clients send strings only"
        );
    }
}
