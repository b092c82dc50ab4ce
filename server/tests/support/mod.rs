//! A real server on a free loopback port, and a raw Socket.IO client for it built on the
//! app's own codec (the same code the browser runs), over a real WebSocket.

#![allow(dead_code)] // each test file uses its own subset

pub mod polling;
pub mod redis;
pub mod rooms;

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

/// A fresh database for a test: a PostgreSQL database of its own when `CHAT_TEST_POSTGRES`
/// names a server (a URL without a database: `scripts/with-postgres.sh` sets it), else a
/// SQLite file in a temporary folder (removed when this is dropped).
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn fresh() -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        match std::env::var("CHAT_TEST_POSTGRES") {
            Ok(base) => {
                let name = format!(
                    "it_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                );
                let admin = sqlx::PgPool::connect(&format!("{base}/postgres"))
                    .await
                    .expect("PostgreSQL for tests");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin)
                    .await
                    .expect("create a test database");
                admin.close().await;
                Self {
                    url: format!("{base}/{name}"),
                    _dir: None,
                }
            }
            Err(_) => {
                let dir = tempfile::tempdir().expect("temp dir");
                Self {
                    url: format!("sqlite:{}", dir.path().join("chat.db").display()),
                    _dir: Some(dir),
                }
            }
        }
    }

    /// Settings for a server on this database.
    pub fn cli(&self) -> Cli {
        Cli {
            database_url: Some(self.url.clone()),
            ..Cli::default()
        }
    }

    /// A connection of the test's own to this database.
    pub async fn side_connection(&self) -> SideConnection {
        use sqlx::Connection;
        match self.url.strip_prefix("sqlite:") {
            Some(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                SideConnection::Sqlite(
                    sqlx::SqliteConnection::connect_with(&options)
                        .await
                        .expect("a second connection to the database"),
                )
            }
            None => SideConnection::Postgres(
                sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("a second connection to the database"),
            ),
        }
    }

    /// Opens this database directly.
    pub async fn open(&self) -> server::storage::Store {
        let url = server::storage::DatabaseUrl::parse(&self.url).expect("test URL");
        server::storage::Store::connect(&url)
            .await
            .expect("database")
    }
}

/// A connection of a test's own to a [`TestDatabase`], beside the server's.
pub enum SideConnection {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl SideConnection {
    /// Runs `sqlite` or `postgres` (each engine's own dialect), whichever this is.
    pub async fn execute(&mut self, sqlite: &str, postgres: &str) {
        let done = match self {
            Self::Sqlite(conn) => sqlx::raw_sql(sqlite).execute(conn).await.map(drop),
            Self::Postgres(conn) => sqlx::raw_sql(postgres).execute(conn).await.map(drop),
        };
        done.expect("statements on the side connection");
    }
}

/// Command-line settings that keep the server's default per-user rate limits (which
/// [`TestServer::start_with`] otherwise turns off).
pub fn default_limits() -> Cli {
    let defaults = Settings::load(&Cli::default()).expect("built-in settings");
    let l = defaults.limits;
    Cli {
        message_rate: Some(l.messages_per_second),
        typing_rate: Some(l.typing_per_second),
        read_rate: Some(l.reads_per_second),
        join_rate: Some(l.joins_per_second),
        login_rate: Some(l.logins_per_second_per_address),
        connection_rate: Some(l.connections_per_second_per_address),
        connections_per_address: Some(l.connections_per_address),
        ..Cli::default()
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// The server's database (the same pool).
    pub store: server::storage::Store,
    /// The database, when the server made its own.
    _database: Option<TestDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Cli::default()).await
    }

    /// Starts a server with these overrides, on 127.0.0.1 and a free port.
    /// Each server gets a fresh database ([`TestDatabase`]) unless `cli` names one.
    /// The rate limits (per user and per address) are off unless `cli` sets them (see
    /// [`default_limits`]).
    pub async fn start_with(mut cli: Cli) -> Self {
        cli.address = Some([127, 0, 0, 1].into());
        cli.port = Some(0);
        for rate in [
            &mut cli.message_rate,
            &mut cli.typing_rate,
            &mut cli.read_rate,
            &mut cli.join_rate,
            &mut cli.login_rate,
            &mut cli.connection_rate,
        ] {
            rate.get_or_insert(0.0);
        }
        cli.connections_per_address.get_or_insert(0);
        let mut database = None;
        if cli.database.is_none() && cli.database_url.is_none() {
            let fresh = TestDatabase::fresh().await;
            cli.database_url = Some(fresh.url.clone());
            database = Some(fresh);
        }
        let settings = Settings::load(&cli).expect("valid settings");
        let store = server::open_store(&settings).await.expect("database");
        let (listener, addr) = server::bind(&settings).await.expect("bind");
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(
            settings,
            store.clone(),
            listener,
            async move {
                let _ = signal.await;
            },
        ));
        Self {
            addr,
            store,
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

/// A plain HTTP/1.1 POST; returns the status code, the `Set-Cookie` value (name=value
/// part) if any, and the body.
pub async fn http_post(
    server: &TestServer,
    path: &str,
    content_type: &str,
    cookie: Option<&str>,
    body: &str,
) -> (u16, Option<String>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\n{cookie}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let set_cookie = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie:")
                .then(|| l[11..].trim().to_owned())
        })
        .and_then(|v| v.split(';').next().map(str::to_owned));
    (status, set_cookie, body.to_owned())
}

/// The status code and the body of a response.
pub fn status_and_body(response: &str) -> (u16, &str) {
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    (status, body)
}

/// A plain HTTP/1.1 GET of `path`; returns the whole response (head and body).
pub async fn http_get(server: &TestServer, path: &str, cookie: Option<&str>) -> String {
    http_get_at(server.addr, path, cookie).await
}

/// [`http_get`] from the server at `addr` (a server being stopped, say).
pub async fn http_get_at(addr: SocketAddr, path: &str, cookie: Option<&str>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\n{cookie}Connection: close\r\n\r\n",
        addr
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

/// Logs in over HTTP as `name`; returns the `chat_session=...` cookie.
pub async fn session_cookie(server: &TestServer, name: &str) -> String {
    let body = serde_json::json!({ "name": name }).to_string();
    let (status, cookie, body) =
        http_post(server, "/api/session", "application/json", None, &body).await;
    assert_eq!(status, 200, "{body}");
    cookie.expect("a session cookie")
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub label: String,
}

impl Client {
    /// Opens a WebSocket and completes the Engine.IO and Socket.IO handshakes.
    pub async fn connect(server: &TestServer, label: &str) -> Self {
        Self::connect_with_cookie(server, label, None).await
    }

    /// Like [`Client::connect`], sending `Cookie: <cookie>` with the handshake.
    pub async fn connect_with_cookie(
        server: &TestServer,
        label: &str,
        cookie: Option<&str>,
    ) -> Self {
        Self::connect_as(server, label, cookie, "40").await
    }

    /// Connects speaking the rooms protocol from the start (`auth: {protocol: "rooms"}`).
    pub async fn connect_rooms(server: &TestServer, label: &str, cookie: Option<&str>) -> Self {
        Self::connect_as(server, label, cookie, r#"40{"protocol":"rooms"}"#).await
    }

    async fn connect_as(
        server: &TestServer,
        label: &str,
        cookie: Option<&str>,
        connect_frame: &str,
    ) -> Self {
        match Self::try_connect_as(server, label, cookie, connect_frame).await {
            Ok(client) => client,
            Err(message) => panic!("{label}: expected to be connected, was refused: {message}"),
        }
    }

    /// Connects, or returns the message of the server's connect error.
    pub async fn try_connect(server: &TestServer, label: &str) -> Result<Self, String> {
        Self::try_connect_as(server, label, None, "40").await
    }

    async fn try_connect_as(
        server: &TestServer,
        label: &str,
        cookie: Option<&str>,
        connect_frame: &str,
    ) -> Result<Self, String> {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                server.ws_url(),
            )
            .expect("request");
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("cookie", cookie.parse().expect("header value"));
        }
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket");
        let mut client = Self {
            ws,
            label: label.to_owned(),
        };
        match client.next_incoming().await {
            Incoming::Open(_) => {}
            other => panic!("{label}: expected the handshake, got {other:?}"),
        }
        client.send_raw(connect_frame).await;
        match client.next_incoming().await {
            Incoming::Connected => Ok(client),
            Incoming::ConnectError(message) => Err(message),
            other => panic!("{label}: expected to be connected, got {other:?}"),
        }
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

    /// Sends a frame; whether it could be (the server may have closed the connection).
    pub async fn try_send_raw(&mut self, frame: &str) -> bool {
        self.ws.send(Message::text(frame)).await.is_ok()
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

    /// The next event if one arrives within `limit`.
    pub async fn next_event_within(&mut self, limit: Duration) -> Option<ServerEvent> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.read()).await {
                Ok(Some(Incoming::Event(event))) => return Some(event),
                Ok(Some(Incoming::Ignored)) => {}
                Ok(Some(other)) => panic!("{}: expected an event, got {other:?}", self.label),
                Ok(None) => panic!("{}: connection closed", self.label),
                Err(_) => return None,
            }
        }
    }

    /// Skips events until one matches `wanted`, and returns it.
    pub async fn until(&mut self, mut wanted: impl FnMut(&ServerEvent) -> bool) -> ServerEvent {
        loop {
            let event = self.next_event().await;
            if wanted(&event) {
                return event;
            }
        }
    }

    /// Reads every frame until the connection ends (closed, or disconnected by the
    /// server); returns the events received meanwhile.
    pub async fn drain_until_closed(&mut self, limit: Duration) -> Vec<ServerEvent> {
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.read()).await {
                Ok(Some(Incoming::Event(event))) => events.push(event),
                Ok(Some(Incoming::Disconnected | Incoming::Close) | None) => return events,
                Ok(Some(_)) => {}
                Err(_) => panic!("{}: still connected after {limit:?}", self.label),
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

    /// Sends `name` with `payload`, asking for an acknowledgement, and returns its first
    /// argument. Events arriving meanwhile are skipped.
    pub async fn call(&mut self, name: &str, payload: serde_json::Value) -> serde_json::Value {
        const ACK: i64 = 77;
        self.send_raw(&format!("42{ACK}{}", serde_json::json!([name, payload])))
            .await;
        loop {
            match self.next_incoming().await {
                Incoming::Ack(ACK, json) => {
                    return codec::ack_payload(&json).expect("an acknowledgement argument")
                }
                Incoming::Event(_) | Incoming::Ignored => {}
                other => panic!("{}: expected an acknowledgement, got {other:?}", self.label),
            }
        }
    }

    /// Sends `name` with `payload`, asking for acknowledgement `id`, without waiting.
    pub async fn send_with_ack(&mut self, name: &str, payload: serde_json::Value, id: i64) {
        self.send_raw(&format!("42{id}{}", serde_json::json!([name, payload])))
            .await;
    }

    /// The next acknowledgement: its id and first argument. Events meanwhile are skipped.
    pub async fn next_ack(&mut self) -> (i64, serde_json::Value) {
        loop {
            match self.next_incoming().await {
                Incoming::Ack(id, json) => {
                    return (
                        id,
                        codec::ack_payload(&json).expect("an acknowledgement argument"),
                    )
                }
                Incoming::Event(_) | Incoming::Ignored => {}
                other => panic!("{}: expected an acknowledgement, got {other:?}", self.label),
            }
        }
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

pub fn decode_event(json: &str, label: &str) -> ServerEvent {
    let array: Vec<serde_json::Value> =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{label}: bad event {json:?}: {e}"));
    let mut args = array.into_iter();
    let name = match args.next() {
        Some(serde_json::Value::String(name)) => name,
        other => panic!("{label}: event without a name: {other:?}"),
    };
    // Events with several arguments are decoded from all of them.
    let payload = if name == app::protocol::server::ROOM_USERS {
        serde_json::Value::Array(args.collect())
    } else {
        args.next().unwrap_or_default()
    };
    ServerEvent::decode(&name, payload).unwrap_or_else(|e| panic!("{label}: {e}"))
}
