//! The flooder of the `abuse` scenario: one client (the address 127.0.0.1 alone, one user
//! logged in with a session) doing everything at once, each part as fast as the server
//! takes it:
//! - chat: `chats` lobby messages written to one socket without waiting for anything (no
//!   acknowledgements); each comes back as its own `chat` (stored) or as `requestRejected`
//!   `rateLimited`, unless the server closes the socket first (more than 512 of its events
//!   queued);
//! - typing: `typing` and `stopTyping` in turn on a second socket (each pair let through is
//!   two broadcasts to everyone), with acknowledgements;
//! - history: requests for the lobby's newest page on a third socket, with
//!   acknowledgements (refused `rateLimited` with `retryAfterMs` over the read rate,
//!   without it over 4 in flight);
//! - connections: new Socket.IO connections, `in_flight` at once, each with a random
//!   `chat_session` cookie (an unknown session: `sessionEnded`); those let in stay open
//!   (and get every broadcast, as anonymous sockets do) until the phase is over, the others
//!   are refused with a connect error (`connectingTooFast`, `tooManyConnections`,
//!   `serverFull`) or an HTTP status;
//! - pages: `GET /` with a random session cookie, `in_flight` at once.
//!
//! Its three sockets are opened, and welcomed, before the flood begins, with a fourth that
//! sends nothing and is never closed: it counts the flooder's messages that were stored
//! (each comes back to every socket of the lobby, its own included; the flooding socket
//! itself may be closed before its answers reach it). Its messages carry
//! no marker, so no normal user counts them as theirs. It runs on a thread and a runtime
//! of its own ([`Remote`]): its work never waits in the run queue of the normal users'
//! readers, nor theirs in its (the machine's cores are still shared with it and the
//! server).

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::http;
use crate::measure::{now_ns, percentile_ms, Figures};
use crate::wire::{self, Dial, Refusal, Ws};

/// The flooder's one address (the normal users connect from others).
pub const ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Its name.
pub const NAME: &str = "flooder";

/// The server's session cookie (server/src/cookie.rs).
const SESSION_COOKIE: &str = "chat_session";

/// A part's answers have settled when none has come for this long.
const QUIET: Duration = Duration::from_secs(3);

/// How long one of the flooder's sockets may wait for its `welcome`.
const WELCOME_TIMEOUT: Duration = Duration::from_secs(30);

/// How much of each.
#[derive(Clone, Copy)]
pub struct Plan {
    pub chats: u64,
    pub typing: u64,
    pub history: u64,
    pub connections: u64,
    pub pages: u64,
    /// Connections being opened, and pages being loaded, at once.
    pub in_flight: usize,
}

/// What one of the flooder's requests got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Let through: its own `chat` came back (stored), or an acknowledgement `ok: true`.
    Accepted,
    /// Refused `rateLimited` with `retryAfterMs` (over a rate).
    RateLimited,
    /// Refused `rateLimited` without it (too many reads in flight on the socket).
    InFlight,
    /// Refused for another reason.
    Refused,
}

/// What a socket takes for the answers to its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counting {
    /// Events: its own `chat` (stored), `requestRejected`.
    Events,
    /// Acknowledgements only (a lobby refusal with one also comes as `requestRejected`).
    Acks,
}

/// The answer `frame` is to one of the flooder's requests, if it is one.
fn classify(frame: &str, counting: Counting) -> Option<Answer> {
    match counting {
        Counting::Events => match wire::event_name(frame)? {
            "chat" if frame.contains(&format!("\"sender\":{}", wire::quoted(NAME))) => {
                Some(Answer::Accepted)
            }
            "requestRejected" => Some(refusal(frame)),
            _ => None,
        },
        Counting::Acks => {
            let rest = frame.strip_prefix("43")?;
            let payload = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            if payload.len() == rest.len() {
                // No ack id: not an acknowledgement of ours.
                return None;
            }
            if payload.starts_with("[{\"ok\":true") {
                Some(Answer::Accepted)
            } else {
                Some(refusal(payload))
            }
        }
    }
}

/// The kind of a refusal (its payload holds no user text).
fn refusal(text: &str) -> Answer {
    if !text.contains("\"reason\":\"rateLimited\"") {
        Answer::Refused
    } else if text.contains("\"retryAfterMs\"") {
        Answer::RateLimited
    } else {
        Answer::InFlight
    }
}

/// What one of the flooder's sockets wrote and got back.
#[derive(Default)]
struct Tally {
    written: AtomicU64,
    accepted: AtomicU64,
    rate_limited: AtomicU64,
    in_flight: AtomicU64,
    refused: AtomicU64,
    closed: AtomicBool,
}

impl Tally {
    fn count(&self, answer: Answer) {
        let counter = match answer {
            Answer::Accepted => &self.accepted,
            Answer::RateLimited => &self.rate_limited,
            Answer::InFlight => &self.in_flight,
            Answer::Refused => &self.refused,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn answered(&self) -> u64 {
        [
            &self.accepted,
            &self.rate_limited,
            &self.in_flight,
            &self.refused,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }
}

/// One of the flooder's logged-in sockets: an outbox its writer sends as fast as the
/// socket takes it, and a reader that counts the answers (and answers pings).
struct FloodSocket {
    outbox: mpsc::UnboundedSender<String>,
    tally: Arc<Tally>,
    tasks: [JoinHandle<()>; 2],
}

impl Drop for FloodSocket {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl FloodSocket {
    /// Connects with the session `cookie` and waits for the `welcome`.
    async fn open(url: &str, cookie: &str, counting: Counting) -> Result<Self, String> {
        let dial = Dial {
            source: Some(ADDRESS),
            cookie: Some(cookie.to_owned()),
        };
        let mut ws = wire::connect_with(url, &dial).await?;
        tokio::time::timeout(WELCOME_TIMEOUT, welcomed(&mut ws))
            .await
            .map_err(|_| format!("the flooder's socket had no welcome in {WELCOME_TIMEOUT:?}"))??;
        let (mut sink, mut stream) = ws.split();
        let (outbox, mut queue) = mpsc::unbounded_channel::<String>();
        let tally = Arc::new(Tally::default());
        let written = tally.clone();
        let writer = tokio::spawn(async move {
            while let Some(frame) = queue.recv().await {
                let flood = frame != "3";
                // Into tungstenite's write buffer, which goes out whenever it is full, and
                // at the latest once the outbox is empty.
                if sink.feed(Message::text(frame)).await.is_err() {
                    return;
                }
                if flood {
                    written.written.fetch_add(1, Ordering::Relaxed);
                }
                if queue.is_empty() && sink.flush().await.is_err() {
                    return;
                }
            }
        });
        let counts = tally.clone();
        let pongs = outbox.clone();
        let reader = tokio::spawn(async move {
            while let Some(next) = stream.next().await {
                match next {
                    Ok(Message::Text(text)) if text.as_str() == "2" => {
                        let _ = pongs.send("3".to_owned());
                    }
                    // The server disconnected the socket from the namespace (its
                    // Engine.IO connection may stay open): it is closed all the same.
                    Ok(Message::Text(text)) if text.as_str().starts_with("41") => break,
                    Ok(Message::Text(text)) => {
                        if let Some(answer) = classify(text.as_str(), counting) {
                            counts.count(answer);
                        }
                    }
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            counts.closed.store(true, Ordering::Relaxed);
        });
        Ok(Self {
            outbox,
            tally,
            tasks: [writer, reader],
        })
    }
}

/// Reads until the `welcome` a session socket gets first (answering pings).
async fn welcomed(ws: &mut Ws) -> Result<(), String> {
    loop {
        let frame = match ws.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => return Err("closed before the welcome".into()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
        };
        if frame.as_str() == "2" {
            ws.send(Message::text("3"))
                .await
                .map_err(|e| e.to_string())?;
            continue;
        }
        match wire::event_name(frame.as_str()) {
            Some("welcome") => return Ok(()),
            Some("sessionEnded") => return Err(format!("the flooder's session: {frame}")),
            _ => {}
        }
    }
}

/// A part sent on one socket: what was sent, written, answered how, and whether the
/// server closed the socket.
#[derive(Default)]
struct PartReport {
    sent: u64,
    written: u64,
    accepted: u64,
    rate_limited: u64,
    in_flight: u64,
    refused: u64,
    closed: bool,
    /// From the first frame until the last one was written.
    write: Option<Duration>,
}

impl PartReport {
    fn put(&self, figures: &mut Figures, part: &str) {
        let answered = self.accepted + self.rate_limited + self.in_flight + self.refused;
        figures
            .put(format!("{part}_sent"), self.sent)
            .put(format!("{part}_written"), self.written)
            .put(format!("{part}_accepted"), self.accepted)
            .put(format!("{part}_rate_limited"), self.rate_limited)
            .put(format!("{part}_in_flight_refused"), self.in_flight)
            .put(format!("{part}_refused_other"), self.refused)
            .put(
                format!("{part}_unanswered"),
                self.sent.saturating_sub(answered),
            )
            .put(
                format!("{part}_closed"),
                if self.closed { "yes" } else { "no" },
            )
            .put(
                format!("{part}_write_ms"),
                self.write
                    .map_or("-".to_owned(), |w| format!("{:.0}", w.as_secs_f64() * 1e3)),
            );
    }
}

/// Puts every frame of `frames` in `socket`'s outbox at once, then waits until each is
/// answered, the server has closed the socket, or nothing more has come for [`QUIET`].
async fn flood_socket(
    socket: Option<&FloodSocket>,
    frames: impl Iterator<Item = String>,
) -> PartReport {
    let Some(socket) = socket else {
        return PartReport::default();
    };
    let start = Instant::now();
    let mut sent = 0;
    for frame in frames {
        if socket.outbox.send(frame).is_err() {
            break;
        }
        sent += 1;
    }
    let tally = &*socket.tally;
    let mut write = None;
    let (mut last, mut since) = (u64::MAX, Instant::now());
    loop {
        if write.is_none() && tally.written.load(Ordering::Relaxed) >= sent {
            write = Some(start.elapsed());
        }
        let answered = tally.answered();
        if answered >= sent || tally.closed.load(Ordering::Relaxed) {
            break;
        }
        if answered != last {
            (last, since) = (answered, Instant::now());
        } else if since.elapsed() >= QUIET {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
    PartReport {
        sent,
        written: count(&tally.written),
        accepted: count(&tally.accepted),
        rate_limited: count(&tally.rate_limited),
        in_flight: count(&tally.in_flight),
        refused: count(&tally.refused),
        closed: tally.closed.load(Ordering::Relaxed),
        write,
    }
}

/// The new connections: how many were let in (and told `sessionEnded`), and why the
/// others were not.
#[derive(Default)]
struct ConnectionsReport {
    tried: u64,
    admitted: u64,
    session_ended: Arc<AtomicU64>,
    /// By the connect error's reason, or `http_<status>`.
    refused: BTreeMap<String, u64>,
    failed: u64,
    first_failure: Option<String>,
    elapsed: Duration,
}

impl ConnectionsReport {
    fn put(&self, figures: &mut Figures) {
        figures
            .put("conns_tried", self.tried)
            .put("conns_admitted", self.admitted)
            .put(
                "conns_session_ended",
                self.session_ended.load(Ordering::Relaxed),
            );
        for reason in ["connectingTooFast", "tooManyConnections", "serverFull"] {
            let count = self.refused.get(reason).copied().unwrap_or(0);
            figures.put(format!("conns_refused_{reason}"), count);
        }
        for (reason, count) in &self.refused {
            if !matches!(
                reason.as_str(),
                "connectingTooFast" | "tooManyConnections" | "serverFull"
            ) {
                figures.put(format!("conns_refused_{reason}"), count);
            }
        }
        figures
            .put("conns_failed", self.failed)
            .put("conns_s", format!("{:.2}", self.elapsed.as_secs_f64()));
        if let Some(failure) = &self.first_failure {
            eprintln!("  a flood connection failed: {failure}");
        }
    }
}

/// The connections let in, kept open (and reading) until this is dropped.
#[derive(Default)]
struct Held {
    tasks: Vec<JoinHandle<()>>,
    sockets: Vec<FloodSocket>,
}

impl Drop for Held {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The reason of a connect error's message (`connectingTooFast: ...`).
fn reason_code(message: &str) -> String {
    message
        .split(':')
        .next()
        .unwrap_or(message)
        .trim()
        .to_owned()
}

async fn flood_connections(
    url: &str,
    cookies: Vec<String>,
    in_flight: usize,
) -> (ConnectionsReport, Held) {
    let start = Instant::now();
    let mut report = ConnectionsReport {
        tried: cookies.len() as u64,
        ..ConnectionsReport::default()
    };
    let mut held = Held::default();
    let mut attempts = futures_util::stream::iter(cookies.into_iter().map(|cookie| {
        let dial = Dial {
            source: Some(ADDRESS),
            cookie: Some(cookie),
        };
        async move { wire::connect_or_refused(url, &dial).await }
    }))
    .buffer_unordered(in_flight.max(1));
    while let Some(attempt) = attempts.next().await {
        match attempt {
            Ok(ws) => {
                report.admitted += 1;
                let told = report.session_ended.clone();
                held.tasks.push(tokio::spawn(hold(ws, told)));
            }
            Err(Refusal::Status(status)) => {
                *report.refused.entry(format!("http_{status}")).or_default() += 1;
            }
            Err(Refusal::ConnectError(message)) => {
                *report.refused.entry(reason_code(&message)).or_default() += 1;
            }
            Err(Refusal::Failed(error)) => {
                report.failed += 1;
                report.first_failure.get_or_insert(error);
            }
        }
    }
    report.elapsed = start.elapsed();
    (report, held)
}

/// Keeps a connection let in open: answers pings, reads (and drops) every broadcast,
/// counts `sessionEnded`.
async fn hold(mut ws: Ws, session_ended: Arc<AtomicU64>) {
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        if text.as_str() == "2" {
            if ws.send(Message::text("3")).await.is_err() {
                return;
            }
        } else if wire::event_name(text.as_str()) == Some("sessionEnded") {
            session_ended.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The page loads: how many got which status, and how long they took.
#[derive(Default)]
struct PagesReport {
    tried: u64,
    statuses: BTreeMap<u16, u64>,
    failed: u64,
    first_failure: Option<String>,
    latencies_ns: Vec<u64>,
    bytes: u64,
    elapsed: Duration,
}

impl PagesReport {
    fn put(&self, figures: &mut Figures) {
        figures.put("pages_tried", self.tried);
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}:{count}"))
            .collect();
        figures
            .put(
                "pages_status",
                if statuses.is_empty() {
                    "-".to_owned()
                } else {
                    statuses.join(",")
                },
            )
            .put("pages_failed", self.failed)
            .put(
                "pages_kib_each",
                format!(
                    "{:.1}",
                    self.bytes as f64 / 1024.0 / self.latencies_ns.len().max(1) as f64
                ),
            )
            .put(
                "pages_p50_ms",
                format!("{:.1}", percentile_ms(&self.latencies_ns, 0.5)),
            )
            .put(
                "pages_p99_ms",
                format!("{:.1}", percentile_ms(&self.latencies_ns, 0.99)),
            )
            .put(
                "pages_per_s",
                format!(
                    "{:.0}",
                    self.latencies_ns.len() as f64 / self.elapsed.as_secs_f64().max(1e-3)
                ),
            );
        if let Some(failure) = &self.first_failure {
            eprintln!("  a flood page load failed: {failure}");
        }
    }
}

async fn flood_pages(url: &str, cookies: Vec<String>, in_flight: usize) -> PagesReport {
    let start = Instant::now();
    let mut report = PagesReport {
        tried: cookies.len() as u64,
        ..PagesReport::default()
    };
    let mut loads = futures_util::stream::iter(cookies.into_iter().map(|cookie| async move {
        let at = now_ns();
        let headers = [("Cookie", cookie.as_str())];
        let response = http::request(url, Some(ADDRESS), "GET", "/", &headers, b"").await;
        (response, now_ns().saturating_sub(at))
    }))
    .buffer_unordered(in_flight.max(1));
    while let Some((response, took)) = loads.next().await {
        match response {
            Ok(response) => {
                *report.statuses.entry(response.status).or_default() += 1;
                report.bytes += response.body_bytes as u64;
                report.latencies_ns.push(took);
            }
            Err(error) => {
                report.failed += 1;
                report.first_failure.get_or_insert(error);
            }
        }
    }
    report.latencies_ns.sort_unstable();
    report.elapsed = start.elapsed();
    report
}

/// Random session tokens in the server's format (32 bytes in base64url: 43 characters),
/// which no session has.
struct Tokens(u64);

impl Tokens {
    fn seeded() -> Self {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(now_ns());
        Self(hasher.finish())
    }

    /// SplitMix64.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `chat_session=<a random token>`.
    fn cookie(&mut self) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let token: String = (0..43)
            .map(|_| ALPHABET[(self.next() % 64) as usize] as char)
            .collect();
        format!("{SESSION_COOKIE}={token}")
    }

    fn cookies(&mut self, count: u64) -> Vec<String> {
        (0..count).map(|_| self.cookie()).collect()
    }
}

/// Everything the flooder did in one phase.
pub struct FloodReport {
    chat: PartReport,
    /// The watching socket's tally (read when the figures are put: the end of the phase).
    stored: Option<Arc<Tally>>,
    typing: PartReport,
    history: PartReport,
    connections: ConnectionsReport,
    pages: PagesReport,
    elapsed: Duration,
}

impl FloodReport {
    /// Every figure, under `flood_`-less names grouped by part (`chat_*`, `typing_*`,
    /// `history_*`, `conns_*`, `pages_*`), and `flood_s`.
    pub fn put(&self, figures: &mut Figures) {
        figures.put("flood_s", format!("{:.2}", self.elapsed.as_secs_f64()));
        self.chat.put(figures, "chat");
        let stored = self
            .stored
            .as_ref()
            .map(|t| t.accepted.load(Ordering::Relaxed));
        figures.put("chat_stored", stored.unwrap_or(0));
        self.typing.put(figures, "typing");
        self.history.put(figures, "history");
        self.connections.put(figures);
        self.pages.put(figures);
    }
}

/// The flooder, logged in: its session and its sockets.
struct Flooder {
    url: String,
    chat: Option<FloodSocket>,
    typing: Option<FloodSocket>,
    history: Option<FloodSocket>,
    /// Sends nothing: sees the flooder's messages that were stored.
    watcher: Option<FloodSocket>,
}

impl Flooder {
    /// Logs in (`POST /api/session` from [`ADDRESS`]) and opens a socket with the
    /// session for each socket part of `plan` that has anything to send (and the
    /// watcher, if it sends messages).
    async fn log_in(url: &str, plan: &Plan) -> Result<Self, String> {
        let body = format!("{{\"name\":{}}}", wire::quoted(NAME));
        let headers = [("Content-Type", "application/json")];
        let response = http::request(
            url,
            Some(ADDRESS),
            "POST",
            "/api/session",
            &headers,
            body.as_bytes(),
        )
        .await?;
        if response.status != 200 {
            return Err(format!(
                "the flooder's log-in: HTTP {} from POST /api/session",
                response.status
            ));
        }
        let token = response
            .set_cookie(SESSION_COOKIE)
            .ok_or("the flooder's log-in set no session cookie")?;
        let cookie = format!("{SESSION_COOKIE}={token}");
        let socket = |count: u64, counting: Counting| {
            let cookie = cookie.clone();
            async move {
                match count {
                    0 => Ok(None),
                    _ => FloodSocket::open(url, &cookie, counting).await.map(Some),
                }
            }
        };
        Ok(Self {
            url: url.to_owned(),
            chat: socket(plan.chats, Counting::Events).await?,
            typing: socket(plan.typing, Counting::Acks).await?,
            history: socket(plan.history, Counting::Acks).await?,
            watcher: socket(plan.chats, Counting::Events).await?,
        })
    }

    /// Floods, every part at once; returns once each part is done (every frame
    /// answered, or its socket closed, or its answers settled; every connection tried;
    /// every page loaded), with what is to stay open until the phase is over.
    async fn run(self, plan: &Plan) -> (FloodReport, Held) {
        let mut tokens = Tokens::seeded();
        let connection_cookies = tokens.cookies(plan.connections);
        let page_cookies = tokens.cookies(plan.pages);
        let start = Instant::now();
        let chats = (0..plan.chats).map(|i| wire::chat(&format!("flood {i}")));
        let typing = (0..plan.typing).map(|i| wire::typing(i % 2 == 0, i));
        let history = (0..plan.history).map(wire::history);
        let (chat, typing, history, (connections, mut held), pages) = tokio::join!(
            flood_socket(self.chat.as_ref(), chats),
            flood_socket(self.typing.as_ref(), typing),
            flood_socket(self.history.as_ref(), history),
            flood_connections(&self.url, connection_cookies, plan.in_flight),
            flood_pages(&self.url, page_cookies, plan.in_flight),
        );
        let report = FloodReport {
            chat,
            stored: self.watcher.as_ref().map(|w| w.tally.clone()),
            typing,
            history,
            connections,
            pages,
            elapsed: start.elapsed(),
        };
        held.sockets.extend(
            [self.chat, self.typing, self.history, self.watcher]
                .into_iter()
                .flatten(),
        );
        (report, held)
    }
}

/// The flooder on a thread of its own, with its own single-threaded runtime: logged in
/// by [`start`](Self::start), floods on [`run`](Self::run), and keeps what is to stay
/// open until [`finish`](Self::finish).
pub struct Remote {
    go: oneshot::Sender<()>,
    report: oneshot::Receiver<FloodReport>,
    done: oneshot::Sender<()>,
}

impl Remote {
    /// Starts the thread and waits until the flooder is logged in.
    pub async fn start(url: &str, plan: Plan) -> Result<Self, String> {
        let (ready_tx, ready) = oneshot::channel();
        let (go, go_rx) = oneshot::channel::<()>();
        let (report_tx, report) = oneshot::channel();
        let (done, done_rx) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("the flooder's runtime: {e}"))?;
        let url = url.to_owned();
        std::thread::Builder::new()
            .name("flooder".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let flooder = match Flooder::log_in(&url, &plan).await {
                        Ok(flooder) => flooder,
                        Err(error) => return drop(ready_tx.send(Err(error))),
                    };
                    if ready_tx.send(Ok(())).is_err() || go_rx.await.is_err() {
                        return;
                    }
                    let (flood, held) = flooder.run(&plan).await;
                    let _ = report_tx.send(flood);
                    // Until the phase is over (or the run is gone).
                    let _ = done_rx.await;
                    drop(held);
                });
            })
            .map_err(|e| format!("the flooder's thread: {e}"))?;
        ready
            .await
            .map_err(|_| "the flooder's thread ended".to_owned())??;
        Ok(Self { go, report, done })
    }

    /// Floods, and returns once every part is done (see [`Flooder::run`]).
    pub async fn run(&mut self) -> Result<FloodReport, String> {
        let go = std::mem::replace(&mut self.go, oneshot::channel().0);
        go.send(())
            .map_err(|_| "the flooder's thread ended".to_owned())?;
        (&mut self.report)
            .await
            .map_err(|_| "the flooder's thread ended".to_owned())
    }

    /// Closes the connections let in and the flooder's sockets; the thread ends.
    pub fn finish(self) {
        let _ = self.done.send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_told_apart() {
        let stored = r#"42["chat",{"sender":"flooder","message":"flood 1","id":9,"sentAt":1}]"#;
        assert_eq!(classify(stored, Counting::Events), Some(Answer::Accepted));
        let theirs = r#"42["chat",{"sender":"s001","message":"@1.2.3@","id":9,"sentAt":1}]"#;
        assert_eq!(classify(theirs, Counting::Events), None);
        let limited = r#"42["requestRejected",{"event":"chat","reason":"rateLimited","message":"x","retryAfterMs":180}]"#;
        assert_eq!(
            classify(limited, Counting::Events),
            Some(Answer::RateLimited)
        );
        assert_eq!(classify(limited, Counting::Acks), None);
        assert_eq!(
            classify(r#"4312[{"ok":true,"messages":[]}]"#, Counting::Acks),
            Some(Answer::Accepted)
        );
        assert_eq!(
            classify(
                r#"437[{"ok":false,"reason":"rateLimited","message":"x"}]"#,
                Counting::Acks
            ),
            Some(Answer::InFlight)
        );
        assert_eq!(
            classify(
                r#"437[{"ok":false,"reason":"rateLimited","message":"x","retryAfterMs":9}]"#,
                Counting::Acks
            ),
            Some(Answer::RateLimited)
        );
        assert_eq!(
            classify(
                r#"437[{"ok":false,"reason":"notLoggedIn","message":"x"}]"#,
                Counting::Acks
            ),
            Some(Answer::Refused)
        );
        assert_eq!(classify("43[{\"ok\":true}]", Counting::Acks), None);
    }

    #[test]
    fn tokens_look_like_the_servers() {
        let mut tokens = Tokens::seeded();
        let cookie = tokens.cookie();
        let token = cookie.strip_prefix("chat_session=").expect("the cookie");
        assert_eq!(token.len(), 43);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(cookie, tokens.cookie());
        assert_eq!(
            reason_code("connectingTooFast: too many; retry in 90 ms"),
            "connectingTooFast"
        );
    }
}
