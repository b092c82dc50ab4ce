//! Figures for the rooms protocol, printed (not asserted beyond sanity):
//! `cargo bench -p server --bench rooms --target-dir target/bench`.
//!
//! The server is the real binary (`target/bench/release/server`, built by cargo for this
//! bench), run as a child process, so that its CPU time (`/proc/<pid>/stat`) is its own;
//! the clients (real WebSockets, the app's codec) run here, on one monotonic clock.
//!
//! 1. Routing cost of a room message, whoever else is online: the same workload (2,000
//!    `send_message` from 10 senders into 10 rooms of 20 members) with (a) 200 users online
//!    in 10 rooms, (b) 2,000 users online in 100 rooms (everyone is in `general` as well).
//!    Paced (500 messages/s) and closed-loop. Server CPU per delivered message, deliveries
//!    per second, send → arrival latency. The ratio (b)/(a) should stay near 1.
//! 2. `my_conversations` and `list_rooms` for a user in 50 rooms over 200,000 stored
//!    messages (with unread messages from others, and some of their own).
//! 3. `history {room, before}` pages of 50 in a room of 200,000 messages.
//!
//! Heartbeats are set to 5 minutes so that no ping falls into a measured window (they
//! are not routing); the idle CPU of each server is measured and printed anyway.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use app::client::codec::{self, Incoming};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use server::chat::{ConversationId, DirectPair, NewMessage, RoomName, UserId};
use server::storage::Store;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const TIMEOUT: Duration = Duration::from_secs(30);

/// The bench's one monotonic clock.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
    u64::try_from(base().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

// ---------------------------------------------------------------------------------------
// The server process and CPU accounting.

fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// utime + stime of a process (all its threads, dead ones included).
fn cpu_of(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the file; `after` starts at field 3.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_nanos(ticks * 1_000_000_000 / clock_ticks())
}

struct ServerProcess {
    child: Child,
    pid: String,
    addr: String,
}

impl ServerProcess {
    fn start(database: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["--address", "127.0.0.1", "--port", "0", "--log", "info"])
            .args(["--ping-interval-ms", "300000", "--ping-timeout-ms", "60000"])
            .arg("--database")
            .arg(database)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server binary");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!("the server exited before listening");
            };
            if let Some((_, rest)) = line.split_once("listening on http://") {
                let addr: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == ':')
                    .collect();
                break addr;
            }
        };
        // Keep draining its output so that it never blocks on a full pipe; its warnings and
        // errors are shown.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("WARN") || line.contains("ERROR") {
                    eprintln!("server: {line}");
                }
            }
        });
        let pid = child.id().to_string();
        Self { child, pid, addr }
    }

    fn cpu(&self) -> Duration {
        cpu_of(&self.pid)
    }

    fn ws_url(&self) -> String {
        format!("ws://{}/socket.io/?EIO=4&transport=websocket", self.addr)
    }

    /// SIGTERM (graceful shutdown), then waits.
    fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bench that panics leaves no server behind.
impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn own_cpu() -> Duration {
    cpu_of("self")
}

/// Waits until the server has been idle (and no client received anything) for a while.
async fn quiesce(server: &ServerProcess, stats: &Stats) {
    let start = Instant::now();
    let mut quiet = 0;
    let mut cpu = server.cpu();
    let mut events = stats.events.load(Ordering::Relaxed);
    while quiet < 3 && start.elapsed() < Duration::from_secs(90) {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let (c, e) = (server.cpu(), stats.events.load(Ordering::Relaxed));
        if c - cpu <= Duration::from_millis(10) && e == events {
            quiet += 1;
        } else {
            quiet = 0;
        }
        (cpu, events) = (c, e);
    }
}

// ---------------------------------------------------------------------------------------
// Clients.

/// What every client of a scenario counts.
#[derive(Default)]
struct Stats {
    /// Frames of events received (any).
    events: AtomicU64,
    /// `receive_message` of the workload, in the right room.
    deliveries: AtomicUsize,
    /// `receive_message` in a room the client is not a member of, or in `general`.
    misdelivered: AtomicUsize,
    /// Connections that ended.
    closed: AtomicUsize,
    /// Send → arrival, nanoseconds.
    latencies: Mutex<Vec<u64>>,
    arrived: Notify,
}

enum ClientCommand {
    /// `send_message` into the client's room, stamped with the time it is written.
    Send { ack: i64 },
}

struct Conn {
    commands: mpsc::UnboundedSender<ClientCommand>,
    acks: Option<mpsc::UnboundedReceiver<(i64, String, Instant)>>,
}

/// Frames received by every client of the bench, to tell a stalled server from a stalled
/// socket.
static FRAMES: AtomicU64 = AtomicU64::new(0);

async fn read_frame(ws: &mut Ws, label: &str) -> String {
    loop {
        let others = FRAMES.load(Ordering::Relaxed);
        match tokio::time::timeout(TIMEOUT, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                FRAMES.fetch_add(1, Ordering::Relaxed);
                return text.to_string();
            }
            Ok(Some(Ok(_))) => {}
            other => panic!(
                "{label}: no frame ({other:?}); the other clients received {} meanwhile",
                FRAMES.load(Ordering::Relaxed) - others
            ),
        }
    }
}

/// Opens a rooms-protocol socket (Engine.IO and Socket.IO handshakes).
async fn open(url: &str, cookie: Option<&str>, label: &str) -> Ws {
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .expect("request");
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().expect("header value"));
    }
    // TCP_NODELAY on the client's side, as browsers do.
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .unwrap_or_else(|e| panic!("{label}: websocket: {e}"));
    match codec::decode(&read_frame(&mut ws, &format!("{label} (the handshake)")).await) {
        Ok(Incoming::Open(open)) => {
            static SHOWN: OnceLock<()> = OnceLock::new();
            SHOWN.get_or_init(|| println!("handshake: {open:?}"));
        }
        other => panic!("{label}: expected the handshake, got {other:?}"),
    }
    ws.send(Message::text(codec::connect().expect("frame")))
        .await
        .expect("send");
    loop {
        match codec::decode(&read_frame(&mut ws, &format!("{label} (connect)")).await) {
            Ok(Incoming::Connected) => return ws,
            Ok(Incoming::Ping) => ws.send(Message::text(codec::pong())).await.expect("send"),
            Ok(Incoming::Event(_) | Incoming::Ignored) => {}
            other => panic!("{label}: expected to be connected, got {other:?}"),
        }
    }
}

/// Sends `name` with `payload` (or none) and waits for its acknowledgement, skipping
/// events meanwhile. Returns the raw acknowledgement and when its frame arrived.
async fn call(ws: &mut Ws, name: &str, payload: Option<&Value>, label: &str) -> (String, Instant) {
    const ACK: i64 = 1;
    let frame = match payload {
        Some(payload) => codec::encode_with_ack(name, payload, ACK).expect("frame"),
        None => codec::encode_call(name, ACK).expect("frame"),
    };
    ws.send(Message::text(frame)).await.expect("send");
    loop {
        let frame = read_frame(ws, &format!("{label} ({name})")).await;
        if frame.starts_with("43") {
            let at = Instant::now();
            if let Ok(Incoming::Ack(ACK, json)) = codec::decode(&frame) {
                return (json, at);
            }
        } else if frame == "2" {
            ws.send(Message::text(codec::pong())).await.expect("send");
        }
    }
}

/// Logs in with `join_room {username, room}` and keeps reading in a task of its own.
async fn join_user(url: String, name: String, room: String, stats: Arc<Stats>) -> Conn {
    let mut ws = open(&url, None, &name).await;
    let (reply, _) = call(
        &mut ws,
        "join_room",
        Some(&json!({ "username": name, "room": room })),
        &name,
    )
    .await;
    let reply: Value = codec::ack_payload(&reply).expect("an acknowledgement");
    assert_eq!(reply["ok"], json!(true), "{name}: {reply}");
    let (commands, queue) = mpsc::unbounded_channel();
    let (acked, acks) = mpsc::unbounded_channel();
    tokio::spawn(run_client(ws, room, queue, acked, stats));
    Conn {
        commands,
        acks: Some(acks),
    }
}

async fn run_client(
    ws: Ws,
    room: String,
    mut queue: mpsc::UnboundedReceiver<ClientCommand>,
    acked: mpsc::UnboundedSender<(i64, String, Instant)>,
    stats: Arc<Stats>,
) {
    let (mut sink, mut stream): (SplitSink<Ws, Message>, SplitStream<Ws>) = ws.split();
    let mut sent = 0u64;
    loop {
        tokio::select! {
            command = queue.recv() => match command {
                Some(ClientCommand::Send { ack }) => {
                    sent += 1;
                    let text = format!(
                        "bench {} {sent}: a message of a typical chat length, more or less",
                        now_ns()
                    );
                    let payload = json!({
                        "room": room, "message": text, "clientId": format!("b{ack}-{sent}")
                    });
                    let frame = codec::encode_with_ack("send_message", &payload, ack)
                        .expect("frame");
                    if sink.send(Message::text(frame)).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            frame = stream.next() => {
                let Some(Ok(message)) = frame else { break };
                let Message::Text(text) = message else { continue };
                FRAMES.fetch_add(1, Ordering::Relaxed);
                let text = text.as_str();
                if text.starts_with("42") {
                    stats.events.fetch_add(1, Ordering::Relaxed);
                    // Only the workload's events are decoded (with the app's codec); the
                    // presence storm of logging in 2,000 users is only counted.
                    if text.starts_with(r#"42["receive_message""#) {
                        on_room_message(text, &room, &stats);
                    }
                } else if text.starts_with("43") {
                    if let Ok(Incoming::Ack(id, json)) = codec::decode(text) {
                        let _ = acked.send((id, json, Instant::now()));
                    }
                } else if text == "2" && sink.send(Message::text(codec::pong())).await.is_err() {
                    break;
                }
            }
        }
    }
    stats.closed.fetch_add(1, Ordering::Relaxed);
    stats.arrived.notify_waiters();
}

fn on_room_message(frame: &str, room: &str, stats: &Stats) {
    let arrived = now_ns();
    let Ok(Incoming::Event(app::protocol::ServerEvent::ReceiveMessage(message))) =
        codec::decode(frame)
    else {
        panic!("undecodable receive_message {frame}");
    };
    if message.room != room {
        stats.misdelivered.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let sent: Option<u64> = message
        .message
        .strip_prefix("bench ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok());
    if let Some(sent) = sent {
        stats
            .latencies
            .lock()
            .expect("latencies")
            .push(arrived.saturating_sub(sent));
    }
    stats.deliveries.fetch_add(1, Ordering::Relaxed);
    stats.arrived.notify_waiters();
}

fn fd_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

// ---------------------------------------------------------------------------------------
// Scenario 1: routing.

const ROOM_SIZE: usize = 20;
const SENDERS: usize = 10;
const MESSAGES: usize = 2_000;
const PACED_RATE: f64 = 500.0;
/// Repetitions of each workload (`ROOMS_BENCH_REPEATS` overrides).
const REPEATS: usize = 3;

struct Population {
    server: ServerProcess,
    stats: Arc<Stats>,
    conns: Vec<Conn>,
    _dir: tempfile::TempDir,
    idle_cpu_per_s: Duration,
    connect_secs: f64,
    /// Server CPU from the first connection until the login storm settled.
    connect_cpu: Duration,
}

fn room_of(user: usize) -> String {
    format!("r{:03}", user / ROOM_SIZE)
}

async fn populate(users: usize) -> Population {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(&dir.path().join("rooms.db"));
    let stats = Arc::new(Stats::default());
    let url = server.ws_url();
    let cpu_before = server.cpu();
    let start = Instant::now();
    let conns: Vec<Conn> = futures_util::stream::iter(0..users)
        .map(|u| join_user(url.clone(), format!("u{u:04}"), room_of(u), stats.clone()))
        .buffered(16)
        .collect()
        .await;
    let connect_secs = start.elapsed().as_secs_f64();
    quiesce(&server, &stats).await;
    let connect_cpu = server.cpu() - cpu_before;
    assert_eq!(
        stats.closed.load(Ordering::Relaxed),
        0,
        "connections were closed while logging in (a client too slow for the server's queue?)"
    );
    // Idle CPU, nothing happening.
    let cpu = server.cpu();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_cpu_per_s = (server.cpu() - cpu) / 2;
    Population {
        server,
        stats,
        conns,
        _dir: dir,
        idle_cpu_per_s,
        connect_secs,
        connect_cpu,
    }
}

struct Routing {
    deliveries: usize,
    window: Duration,
    server_cpu: Duration,
    client_cpu: Duration,
    p50: Duration,
    p99: Duration,
    ack_p50: Duration,
}

impl Routing {
    fn cpu_per_delivery_us(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e6 / self.deliveries as f64
    }
    fn rate(&self) -> f64 {
        self.deliveries as f64 / self.window.as_secs_f64()
    }
}

/// 2,000 `send_message` from the first member of rooms 0..10, paced or closed-loop.
async fn route(population: &mut Population, paced: bool) -> Routing {
    let stats = population.stats.clone();
    stats.deliveries.store(0, Ordering::Relaxed);
    stats.misdelivered.store(0, Ordering::Relaxed);
    stats.latencies.lock().expect("latencies").clear();
    let each = MESSAGES / SENDERS;
    let expected = MESSAGES * ROOM_SIZE;

    let cpu_before = population.server.cpu();
    let own_before = own_cpu();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..SENDERS {
        let conn = &mut population.conns[s * ROOM_SIZE];
        let commands = conn.commands.clone();
        let mut acks = conn.acks.take().expect("acks");
        tasks.push(tokio::spawn(async move {
            let mut ack_times = Vec::with_capacity(each);
            let period = Duration::from_secs_f64(SENDERS as f64 / PACED_RATE);
            // Senders start spread over one period.
            let mut tick = tokio::time::interval_at(
                tokio::time::Instant::now() + period.mul_f64(s as f64 / SENDERS as f64),
                period,
            );
            let mut sent_at = Vec::with_capacity(each);
            for i in 0..each {
                let ack = i64::try_from(i).expect("small");
                if paced {
                    tick.tick().await;
                }
                sent_at.push(Instant::now());
                commands
                    .send(ClientCommand::Send { ack })
                    .expect("client alive");
                if !paced {
                    let (id, json, at) = acks.recv().await.expect("an acknowledgement");
                    check_ack(id, ack, &json);
                    ack_times.push(at - sent_at[i]);
                }
            }
            if paced {
                for _ in 0..each {
                    let (id, json, at) = tokio::time::timeout(TIMEOUT, acks.recv())
                        .await
                        .expect("acknowledgements in time")
                        .expect("an acknowledgement");
                    check_ack(id, -1, &json);
                    let i = usize::try_from(id).expect("an id we sent");
                    ack_times.push(at - sent_at[i]);
                }
            }
            (acks, ack_times)
        }));
    }
    let mut ack_times = Vec::new();
    for (s, task) in tasks.into_iter().enumerate() {
        let (acks, times) = task.await.expect("sender");
        population.conns[s * ROOM_SIZE].acks = Some(acks);
        ack_times.extend(times);
    }
    // Every delivery in.
    let deadline = Instant::now() + TIMEOUT;
    while stats.deliveries.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        let notified = stats.arrived.notified();
        if stats.deliveries.load(Ordering::Relaxed) >= expected {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(20), notified).await;
    }
    let window = start.elapsed();
    let server_cpu = population.server.cpu() - cpu_before;
    let client_cpu = own_cpu() - own_before;

    let deliveries = stats.deliveries.load(Ordering::Relaxed);
    assert_eq!(
        deliveries, expected,
        "every message delivered to its 20 members"
    );
    assert_eq!(
        stats.misdelivered.load(Ordering::Relaxed),
        0,
        "no message elsewhere"
    );
    assert_eq!(
        stats.closed.load(Ordering::Relaxed),
        0,
        "no connection lost"
    );
    let mut latencies: Vec<Duration> = stats
        .latencies
        .lock()
        .expect("latencies")
        .iter()
        .map(|&ns| Duration::from_nanos(ns))
        .collect();
    assert_eq!(latencies.len(), expected);
    latencies.sort();
    ack_times.sort();
    Routing {
        deliveries,
        window,
        server_cpu,
        client_cpu,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        ack_p50: percentile(&ack_times, 0.5),
    }
}

fn check_ack(id: i64, expected: i64, json: &str) {
    if expected >= 0 {
        assert_eq!(id, expected, "acknowledgements in order");
    }
    let reply: Value = codec::ack_payload(json).expect("an acknowledgement");
    assert_eq!(reply["status"], json!("delivered"), "{reply}");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

// ---------------------------------------------------------------------------------------
// Scenarios 2 and 3: reads over a big database.

const READER_ROOMS: usize = 50;
const READER_MESSAGES: usize = 200_000;
const ARCHIVE_MESSAGES: usize = 200_000;
const AUTHORS: usize = 100;
const BATCH: usize = 5_000;
const CALLS: usize = 200;

fn post(sender: UserId, name: &str, i: usize) -> NewMessage {
    NewMessage {
        sender,
        sender_name: name.into(),
        text: format!("stored message number {i}, of a typical chat length, more or less"),
        client_id: None,
    }
}

fn room(name: &str) -> RoomName {
    RoomName::parse(name).expect("a valid room name")
}

/// The database of scenarios 2 and 3; returns the reader's session cookie.
async fn prepare(path: &Path) -> String {
    let store = Store::open(path).await.expect("database");
    let reader = store.create_user("Reader").await.expect("user");
    let mut authors = Vec::new();
    for a in 0..AUTHORS {
        let name = format!("w{a:03}");
        authors.push((store.create_user(&name).await.expect("user"), name));
    }
    // The reader's 50 rooms (10 authors in each), 49 other rooms, the archive.
    let mut rooms: Vec<ConversationId> = Vec::new();
    for r in 0..READER_ROOMS {
        let name = room(&format!("c{r:02}"));
        let (id, _) = store.join_room(reader, &name).await.expect("join");
        for k in 0..10 {
            let (user, _) = &authors[(r * 7 + k) % AUTHORS];
            store.join_room(*user, &name).await.expect("join");
        }
        rooms.push(id);
    }
    for r in 0..49 {
        for k in 0..5 {
            let (user, _) = &authors[(r * 3 + k) % AUTHORS];
            store
                .join_room(*user, &room(&format!("other{r:02}")))
                .await
                .expect("join");
        }
    }
    let (archive, _) = store
        .join_room(authors[0].0, &room("archive"))
        .await
        .expect("join");
    // 200,000 messages in the reader's rooms, one in ten of them the reader's own.
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..READER_MESSAGES {
        let conversation = rooms[i % READER_ROOMS];
        let message = if i / READER_ROOMS % 10 == 3 {
            post(reader, "Reader", i)
        } else {
            let (user, name) = &authors[(i % READER_ROOMS * 7 + i / READER_ROOMS % 10) % AUTHORS];
            post(*user, name, i)
        };
        batch.push((conversation, message));
        if batch.len() == BATCH {
            store
                .append_all(std::mem::take(&mut batch))
                .await
                .expect("append");
        }
    }
    store.append_all(batch).await.expect("append");
    // Read markers: all read in a fifth of the rooms, none in another fifth, in between.
    let per_room = READER_MESSAGES / READER_ROOMS;
    for (r, id) in rooms.iter().enumerate() {
        let marker = (r % 5) * per_room / 4;
        if marker > 0 {
            store
                .mark_read(reader, *id, marker as u64)
                .await
                .expect("mark read");
        }
    }
    // A few direct conversations.
    for (user, name) in &authors[..5] {
        let pair = DirectPair::new(reader, *user).expect("two users");
        let dm = store.open_direct(pair).await.expect("dm");
        let batch = (0..20)
            .map(|i| {
                let message = if i % 3 == 0 {
                    post(reader, "Reader", i)
                } else {
                    post(*user, name, i)
                };
                (dm, message)
            })
            .collect();
        store.append_all(batch).await.expect("append");
    }
    // The archive: 200,000 messages.
    for chunk in 0..ARCHIVE_MESSAGES / BATCH {
        let batch = (0..BATCH)
            .map(|i| {
                let (user, name) = &authors[i % AUTHORS];
                (archive, post(*user, name, chunk * BATCH + i))
            })
            .collect();
        store.append_all(batch).await.expect("append");
    }
    let (_, token) = store.create_session(reader).await.expect("session");
    store.close().await;
    format!("chat_session={}", token.as_str())
}

struct Timed {
    p50: Duration,
    p99: Duration,
    mean: Duration,
    server_cpu_per_call: Duration,
    bytes: usize,
}

async fn time_calls(
    ws: &mut Ws,
    server: &ServerProcess,
    name: &str,
    mut payload: impl FnMut(usize) -> Option<Value>,
    mut check: impl FnMut(&Value),
) -> Timed {
    let mut samples = Vec::with_capacity(CALLS);
    let mut bytes = 0;
    let cpu = server.cpu();
    for i in 0..CALLS {
        let payload = payload(i);
        let start = Instant::now();
        let (reply, at) = call(ws, name, payload.as_ref(), name).await;
        samples.push(at - start);
        let reply: Value = codec::ack_payload(&reply).expect("an acknowledgement");
        assert_eq!(reply["ok"], json!(true), "{name}: {reply}");
        check(&reply);
        bytes = reply.to_string().len();
    }
    let server_cpu_per_call = (server.cpu() - cpu) / CALLS as u32;
    let total: Duration = samples.iter().sum();
    samples.sort();
    Timed {
        p50: percentile(&samples, 0.5),
        p99: percentile(&samples, 0.99),
        mean: total / CALLS as u32,
        server_cpu_per_call,
        bytes,
    }
}

// ---------------------------------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Scenarios 2 and 3: the reads, over a database prepared with the storage API.
async fn read_scenarios() -> (usize, Timed, Timed, Timed) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("reads.db");
    let start = Instant::now();
    let cookie = prepare(&path).await;
    println!(
        "prepared {} messages ({} in the reader's {READER_ROOMS} rooms, {} in `archive`) in {:.1} s",
        READER_MESSAGES + ARCHIVE_MESSAGES + 100,
        READER_MESSAGES,
        ARCHIVE_MESSAGES,
        start.elapsed().as_secs_f64()
    );
    let server = ServerProcess::start(&path);
    let mut ws = open(&server.ws_url(), Some(&cookie), "Reader").await;
    // Warm-up (the first query plans and page cache).
    for name in ["my_conversations", "list_rooms"] {
        call(&mut ws, name, None, name).await;
    }
    let mut unread_rooms = 0;
    let conversations = time_calls(
        &mut ws,
        &server,
        "my_conversations",
        |_| None,
        |reply| {
            let rooms = reply["rooms"].as_array().expect("rooms");
            assert_eq!(rooms.len(), READER_ROOMS + 1, "general and 50 rooms");
            assert_eq!(reply["dms"].as_array().map(Vec::len), Some(5));
            unread_rooms = rooms
                .iter()
                .filter(|r| r["unread"].as_u64() > Some(0))
                .count();
        },
    )
    .await;
    let list = time_calls(
        &mut ws,
        &server,
        "list_rooms",
        |_| None,
        |reply| {
            assert_eq!(
                reply["rooms"].as_array().map(Vec::len),
                Some(READER_ROOMS + 51)
            );
        },
    )
    .await;
    let archive_len = ARCHIVE_MESSAGES as u64;
    let history = time_calls(
        &mut ws,
        &server,
        "history",
        |i| {
            // From the newest page to the oldest, spread over the whole room.
            let before = archive_len + 1 - (i as u64 * 997) % (archive_len - 100);
            Some(json!({ "room": "archive", "before": before }))
        },
        |reply| assert_eq!(reply["messages"].as_array().map(Vec::len), Some(50)),
    )
    .await;
    drop(ws);
    server.stop();
    (unread_rooms, conversations, list, history)
}

#[tokio::main]
async fn main() {
    let _ = base();
    let limit = fd_limit().unwrap_or(0);
    if limit < 2_200 {
        eprintln!(
            "The open-file limit is {limit}: 2,000 WebSocket clients need more than 2,200. \
             Run `ulimit -n 65536` (or as high as the hard limit allows) in this shell first."
        );
        std::process::exit(1);
    }
    println!(
        "rooms benchmark: server binary {}",
        env!("CARGO_BIN_EXE_server")
    );
    println!(
        "{} CPUs, open-file limit {limit}, clock ticks {}/s",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        clock_ticks()
    );

    // Scenario 1. Both populations stay online together, and the workloads alternate
    // between them (a, b, a, b, ...), so that a change in the machine's background load
    // falls on both; each figure is the median of the repetitions.
    // `ROOMS_BENCH_SCALES=200` runs one scale only; `ROOMS_BENCH_READS=0` skips 2 and 3.
    let scales: Vec<usize> = std::env::var("ROOMS_BENCH_SCALES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![200, 2_000]);
    let reads = std::env::var("ROOMS_BENCH_READS").map_or(true, |v| v != "0");
    let mut populations = Vec::new();
    for &users in &scales {
        let population = populate(users).await;
        println!(
            "{users} users online in {} rooms of {ROOM_SIZE} (and general): connected in {:.1} s \
             (server CPU {:.1} s), {} events received while connecting; idle server CPU \
             {:.1} ms/s",
            users / ROOM_SIZE,
            population.connect_secs,
            population.connect_cpu.as_secs_f64(),
            population.stats.events.load(Ordering::Relaxed),
            ms(population.idle_cpu_per_s)
        );
        populations.push(population);
    }
    // `ROOMS_BENCH_PERF=<dir>`: `perf record` each server during the workloads only.
    let perf: Vec<Child> = std::env::var("ROOMS_BENCH_PERF")
        .map(|dir| {
            populations
                .iter()
                .zip(&scales)
                .filter_map(|(p, users)| {
                    Command::new("perf")
                        .args(["record", "-F", "1999", "-g", "-p", &p.server.pid, "-o"])
                        .arg(format!("{dir}/server-{users}.data"))
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .ok()
                })
                .collect()
        })
        .unwrap_or_default();
    let repeats: usize = std::env::var("ROOMS_BENCH_REPEATS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(REPEATS)
        .max(1);
    // `ROOMS_BENCH_MODE=paced` or `closed` runs one workload only (for profiling).
    let only_mode = std::env::var("ROOMS_BENCH_MODE").ok().map(|m| m == "paced");
    let mut runs: Vec<[Vec<Routing>; 2]> =
        scales.iter().map(|_| [Vec::new(), Vec::new()]).collect();
    for rep in 0..repeats {
        for (p, population) in populations.iter_mut().enumerate() {
            for (m, paced) in [true, false].into_iter().enumerate() {
                if only_mode.is_some_and(|only| only != paced) {
                    continue;
                }
                quiesce(&population.server, &population.stats).await;
                let r = route(population, paced).await;
                println!(
                    "  run {rep}, {} online, {}: {} deliveries in {:.2} s, server CPU {:.0} ms = \
                     {:.2} µs/delivery; bench process CPU {:.0} ms",
                    scales[p],
                    if paced { "paced" } else { "closed-loop" },
                    r.deliveries,
                    r.window.as_secs_f64(),
                    ms(r.server_cpu),
                    r.cpu_per_delivery_us(),
                    ms(r.client_cpu)
                );
                runs[p][m].push(r);
            }
        }
    }
    for mut recorder in perf {
        let _ = Command::new("kill")
            .args(["-INT", &recorder.id().to_string()])
            .status();
        let _ = recorder.wait();
    }
    let idle: Vec<Duration> = populations.iter().map(|p| p.idle_cpu_per_s).collect();
    for Population { server, conns, .. } in populations {
        drop(conns);
        server.stop();
    }
    for per_scale in &mut runs {
        for samples in per_scale.iter_mut() {
            samples.sort_by(|x, y| x.cpu_per_delivery_us().total_cmp(&y.cpu_per_delivery_us()));
        }
    }
    let median = |samples: &[Routing]| -> usize { samples.len() / 2 };

    let reads = if reads {
        Some(read_scenarios().await)
    } else {
        None
    };

    // The table.
    println!();
    println!("== rooms benchmark: figures (median of {repeats} runs; µs/delivery min..max) ==");
    println!(
        "{:<28} {:>8} {:>9} {:>12} {:>13} {:>8} {:>8} {:>8} {:>8}",
        "routing 2,000 msgs x 20",
        "deliv/s",
        "srv CPU",
        "µs/delivery",
        "(min..max)",
        "p50 ms",
        "p99 ms",
        "ack p50",
        "idle"
    );
    for (p, users) in scales.iter().enumerate() {
        for (m, label) in ["paced 500/s", "closed-loop"].into_iter().enumerate() {
            let samples = &runs[p][m];
            if samples.is_empty() {
                continue;
            }
            let r = &samples[median(samples)];
            println!(
                "{:<28} {:>8.0} {:>6.0} ms {:>12.2} {:>13} {:>8.2} {:>8.2} {:>8.2} {:>3.1} ms/s",
                format!("{users} online, {label}"),
                r.rate(),
                ms(r.server_cpu),
                r.cpu_per_delivery_us(),
                format!(
                    "({:.1}..{:.1})",
                    samples[0].cpu_per_delivery_us(),
                    samples[samples.len() - 1].cpu_per_delivery_us()
                ),
                ms(r.p50),
                ms(r.p99),
                ms(r.ack_p50),
                ms(idle[p])
            );
        }
    }
    if runs.len() == 2 && runs.iter().all(|r| r.iter().all(|s| !s.is_empty())) {
        let ratio = |m: usize| {
            let (a, b) = (&runs[0][m], &runs[1][m]);
            b[median(b)].cpu_per_delivery_us() / a[median(a)].cpu_per_delivery_us()
        };
        let paired: Vec<String> = (0..2)
            .map(|m| {
                // Every run delivers as many messages: the ratio of total CPU, all runs.
                let sum = |v: &[Routing]| v.iter().map(|r| r.server_cpu.as_secs_f64()).sum::<f64>();
                format!("{:.2}", sum(&runs[1][m]) / sum(&runs[0][m]))
            })
            .collect();
        println!(
            "ratio (b)/(a) of server CPU per delivered message: paced {:.2}, closed-loop {:.2} \
             (of all runs' CPU: {} and {}; target: within about 1.2)",
            ratio(0),
            ratio(1),
            paired[0],
            paired[1]
        );
    }
    let Some((unread_rooms, conversations, list, history)) = reads else {
        return;
    };
    println!();
    println!(
        "{:<46} {:>8} {:>8} {:>8} {:>14} {:>8}",
        "reads (200 calls each, one after another)",
        "p50 ms",
        "p99 ms",
        "mean ms",
        "srv CPU/call",
        "bytes"
    );
    for (label, t) in [
        (
            format!("my_conversations (50 rooms, {unread_rooms} unread, 5 DMs)"),
            &conversations,
        ),
        ("list_rooms (101 rooms)".to_owned(), &list),
        ("history {room, before}, 50 of 200,000".to_owned(), &history),
    ] {
        println!(
            "{label:<46} {:>8.2} {:>8.2} {:>8.2} {:>11.2} ms {:>8}",
            ms(t.p50),
            ms(t.p99),
            ms(t.mean),
            ms(t.server_cpu_per_call),
            t.bytes
        );
    }
}
