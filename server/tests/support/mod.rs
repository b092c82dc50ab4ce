//! A real server on a free loopback port, and a raw Socket.IO client for it built on the
//! app's own codec (the same code the browser runs), over a real WebSocket.

#![allow(dead_code)] // each test file uses its own subset

pub mod polling;

use std::net::SocketAddr;
use std::time::Duration;

use app::client::codec::{self, Incoming};
use app::protocol::{ClientEvent, ServerEvent};
use futures_util::{SinkExt, StreamExt};
use server::config::{Cli, Settings};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long to wait for an event that must come.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to listen to be satisfied that an event does not come.
pub const SILENCE: Duration = Duration::from_millis(300);

/// A `chat` event as [`Client::expect`] matches it: any stored id, no client id.
pub fn chat(sender: &str, message: &str) -> ServerEvent {
    ServerEvent::Chat(app::protocol::ChatMessage {
        sender: sender.into(),
        message: message.into(),
        id: 0,
        sent_at: 0,
        client_id: None,
    })
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// The database's folder, when the server made its own.
    _database: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Cli::default()).await
    }

    /// Starts a server with these overrides, on 127.0.0.1 and a free port.
    /// Each server gets a fresh database unless `cli.database` names one.
    pub async fn start_with(mut cli: Cli) -> Self {
        cli.address = Some([127, 0, 0, 1].into());
        cli.port = Some(0);
        let mut database = None;
        if cli.database.is_none() {
            let dir = tempfile::tempdir().expect("temp dir");
            cli.database = Some(dir.path().join("chat.db"));
            database = Some(dir);
        }
        let settings = Settings::load(&cli).expect("valid settings");
        let store = server::open_store(&settings).await.expect("database");
        let (listener, addr) = server::bind(&settings).await.expect("bind");
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(settings, store, listener, async move {
            let _ = signal.await;
        }));
        Self {
            addr,
            _database: database,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/socket.io/?EIO=4&transport=websocket", self.addr)
    }

    /// Graceful shutdown; returns what `serve` returned.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let task = self.task.take().expect("running");
        tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("server stops in time")
            .expect("server task")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub label: String,
}

impl Client {
    /// Opens a WebSocket and completes the Engine.IO and Socket.IO handshakes.
    pub async fn connect(server: &TestServer, label: &str) -> Self {
        let mut client = Self::open(server, label).await;
        match client.next_incoming().await {
            Incoming::Open(_) => {}
            other => panic!("{label}: expected the handshake, got {other:?}"),
        }
        client.send_raw(&codec::connect().expect("encodable")).await;
        match client.next_incoming().await {
            Incoming::Connected => {}
            other => panic!("{label}: expected to be connected, got {other:?}"),
        }
        client
    }

    /// Opens the WebSocket only.
    pub async fn open(server: &TestServer, label: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(server.ws_url())
            .await
            .expect("websocket");
        Self {
            ws,
            label: label.to_owned(),
        }
    }

    /// Connects and logs in, consuming `welcome` and its own `userJoined`.
    pub async fn logged_in(server: &TestServer, name: &str) -> Self {
        let mut client = Self::connect(server, name).await;
        client.emit(ClientEvent::login(name)).await;
        client.expect(ServerEvent::Welcome(name.into())).await;
        client.expect(ServerEvent::UserJoined(name.into())).await;
        client
    }

    /// Sends an event; non-string payloads too (the browser codec only sends strings).
    pub async fn emit(&mut self, event: ClientEvent) {
        let frame = match event.payload() {
            Some(payload) if !payload.is_string() => {
                format!("42{}", serde_json::json!([event.name(), payload]))
            }
            _ => codec::encode(&event).expect("encodable"),
        };
        self.send_raw(&frame).await;
    }

    pub async fn send_raw(&mut self, frame: &str) {
        self.ws.send(Message::text(frame)).await.expect("send");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::binary(bytes)).await.expect("send");
    }

    async fn next_incoming(&mut self) -> Incoming {
        match tokio::time::timeout(EVENT_TIMEOUT, self.read()).await {
            Ok(Some(incoming)) => incoming,
            Ok(None) => panic!("{}: connection closed", self.label),
            Err(_) => panic!("{}: nothing received within {EVENT_TIMEOUT:?}", self.label),
        }
    }

    /// The next frame (answering pings on the way), or `None` once closed.
    async fn read(&mut self) -> Option<Incoming> {
        loop {
            let message = match self.ws.next().await? {
                Ok(message) => message,
                Err(_) => return None,
            };
            match message {
                // Events are decoded here into full JSON, so that echoed payloads
                // (`loginNameBad`) can be checked; the rest with the browser's codec.
                Message::Text(text) if text.starts_with("42") => {
                    return Some(Incoming::Event(decode_event(&text[2..], &self.label)));
                }
                Message::Text(text) => match codec::decode(&text) {
                    Ok(Incoming::Ping) => self.send_raw(&codec::pong()).await,
                    Ok(incoming) => return Some(incoming),
                    Err(error) => panic!("{}: undecodable frame {text:?}: {error}", self.label),
                },
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// The next chat event.
    pub async fn next_event(&mut self) -> ServerEvent {
        loop {
            match self.next_incoming().await {
                Incoming::Event(event) => return event,
                Incoming::Ignored => {}
                other => panic!("{}: expected an event, got {other:?}", self.label),
            }
        }
    }

    /// Asserts the next event. A [`chat`] built with id 0 matches any stored message
    /// with that sender and text (the id and time are checked to be set).
    pub async fn expect(&mut self, expected: ServerEvent) {
        let mut got = self.next_event().await;
        if let (ServerEvent::Chat(got), ServerEvent::Chat(want)) = (&mut got, &expected) {
            if want.id == 0 {
                assert!(
                    got.id > 0 && got.sent_at > 0,
                    "{}: unstored chat {got:?}",
                    self.label
                );
                got.id = 0;
                got.sent_at = 0;
            }
        }
        assert_eq!(got, expected, "{} received the wrong event", self.label);
    }

    /// Asserts that nothing arrives for a while.
    pub async fn expect_silence(&mut self) {
        if let Ok(Some(incoming)) = tokio::time::timeout(SILENCE, self.read()).await {
            panic!("{}: expected nothing, got {incoming:?}", self.label);
        }
    }

    /// Whether the server closed this connection within the timeout.
    pub async fn is_closed_by_server(&mut self) -> bool {
        loop {
            match tokio::time::timeout(EVENT_TIMEOUT, self.read()).await {
                Ok(None) => return true,
                Ok(Some(_)) => continue,
                Err(_) => return false,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

fn decode_event(json: &str, label: &str) -> ServerEvent {
    let array: Vec<serde_json::Value> =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{label}: bad event {json:?}: {e}"));
    let mut args = array.into_iter();
    let name = match args.next() {
        Some(serde_json::Value::String(name)) => name,
        other => panic!("{label}: event without a name: {other:?}"),
    };
    ServerEvent::decode(&name, args.next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{label}: {e}"))
}
