//! Logged-in sockets and what they see. Each socket's reading half runs in a task that
//! answers pings, counts the events the scenarios wait for in shared [`Progress`], and
//! records the latency of every marked message once (telling duplicates); its writing
//! half is an outbox. A [`Crowd`] is all the sockets of a run: it logs them in with a
//! bounded number in flight, waits for the set-up to settle (a barrier, not a sleep), and
//! at the end gathers what every socket saw.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::measure::{now_ns, Figures};
use crate::wire;

/// How long one log-in may take before the run gives up.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(120);

/// Tries for one connect: a connect reset before its WebSocket is open (a server too
/// busy to take it in) is tried again, and counted.
const CONNECT_TRIES: u32 = 3;

/// Counts shared by every socket of a run: they tell when a phase has settled.
#[derive(Default)]
pub struct Progress {
    /// Text frames received, all kinds but pings: the sign that something is still
    /// arriving (pings never stop, so they do not count).
    pub frames: AtomicU64,
    /// `userJoined` frames received.
    pub joined: AtomicU64,
    /// Sockets that have seen the barrier: the last user's `userJoined` (lobby) or
    /// `presence_changed` online (rooms).
    pub barrier: AtomicU64,
    /// Marked messages (`chat`, `receive_message`) received, each once per socket.
    pub delivered: AtomicU64,
    /// Marked messages received again by a socket that had them.
    pub duplicated: AtomicU64,
    /// Pings answered.
    pub pings: AtomicU64,
    /// Refusals (`error`, `requestRejected`, ...) after the log-in.
    pub refusals: AtomicU64,
    /// Connects that failed before the WebSocket was open and were tried again.
    pub connect_retries: AtomicU64,
    /// Messages the closed-loop senders sent (beyond the ones that opened the window).
    pub sent: AtomicU64,
    /// Closed-loop senders keep sending while this is set.
    pub running: AtomicBool,
    barrier_joined: String,
    barrier_presence: String,
    /// Latencies are also kept apart by group of senders (sender index / this); 0: not.
    group_size: usize,
}

impl Progress {
    fn new(barrier_name: &str, group_size: usize) -> Self {
        Self {
            barrier_joined: wire::user_joined(barrier_name),
            barrier_presence: format!("\"username\":{}", wire::quoted(barrier_name)),
            group_size,
            ..Self::default()
        }
    }

    pub fn count(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// `refused` (refusals after the log-ins) and `connect_retries`.
    /// What never came (of `expected` deliveries, `delivered` came) and what came twice.
    pub fn put_losses(&self, figures: &mut Figures, expected: u64, delivered: u64) {
        figures
            .put("lost", expected.saturating_sub(delivered))
            .put("duplicated", Self::count(&self.duplicated));
    }

    /// The deliveries of an open-loop run over `elapsed`, with what was lost and doubled.
    pub fn put_deliveries(
        &self,
        figures: &mut Figures,
        expected: u64,
        delivered: u64,
        elapsed: Duration,
    ) {
        figures.put("deliveries", delivered).put(
            "per_s",
            format!("{:.0}", delivered as f64 / elapsed.as_secs_f64()),
        );
        self.put_losses(figures, expected, delivered);
    }

    pub fn put_health(&self, figures: &mut Figures) {
        figures
            .put("refused", Self::count(&self.refusals))
            .put("connect_retries", Self::count(&self.connect_retries));
    }
}

/// Which reply means a log-in succeeded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// `welcome` (after `login`).
    Welcome,
    /// `room_joined` (after `join_room`).
    RoomJoined,
    /// Nothing to log in: the socket is done once it is connected (`40`).
    Connected,
}

/// A sender that sends a new message each time one of its own comes back to it.
pub struct ClosedLoop {
    /// Its index in the markers.
    pub sender: usize,
    /// The sequence number of its next message (the scenario sent the ones before).
    pub next_seq: u64,
}

/// One socket to log in: the frame that logs it in, and how it behaves.
pub struct Login {
    pub frame: String,
    pub ready: Ready,
    pub closed_loop: Option<ClosedLoop>,
    /// The local address to connect from (none: the system's choice).
    pub source: Option<IpAddr>,
}

impl Login {
    pub fn lobby(name: &str) -> Self {
        Self {
            frame: wire::login(name),
            ready: Ready::Welcome,
            closed_loop: None,
            source: None,
        }
    }

    /// The same, connecting from `source` (another loopback address is another client
    /// to the server's per-address limits).
    pub fn from(self, source: IpAddr) -> Self {
        Self {
            source: Some(source),
            ..self
        }
    }

    /// A socket that connects and stays anonymous (sends nothing but pongs).
    pub fn connect_only() -> Self {
        Self {
            frame: String::new(),
            ready: Ready::Connected,
            closed_loop: None,
            source: None,
        }
    }

    pub fn room(name: &str, room: &str) -> Self {
        Self {
            frame: wire::join_room(name, room),
            ready: Ready::RoomJoined,
            closed_loop: None,
            source: None,
        }
    }
}

/// The writing half of a logged-in socket.
pub struct Client {
    pub outbox: mpsc::UnboundedSender<String>,
}

impl Client {
    pub fn send(&self, frame: String) -> Result<(), String> {
        self.outbox
            .send(frame)
            .map_err(|_| "a socket is gone".to_owned())
    }
}

/// What a socket saw, handed back when the run ends.
#[derive(Default)]
pub struct Seen {
    pub latencies_ns: Vec<u64>,
    /// The same by group of senders, when the crowd is [grouped](Crowd::grouped).
    pub groups: Vec<Vec<u64>>,
}

/// The reading half's state.
struct Reader {
    progress: Arc<Progress>,
    ready: Ready,
    answered: Option<oneshot::Sender<Result<(), String>>>,
    /// Until the log-in is answered: frames received, and the last one (to tell what
    /// happened when no answer comes).
    before_answer: Arc<Mutex<(u64, String)>>,
    closed_loop: Option<ClosedLoop>,
    outbox: mpsc::WeakUnboundedSender<String>,
    barrier_seen: bool,
    seen: Seen,
    /// Per sender, the sequence numbers received (to tell a duplicate).
    received: HashMap<usize, Vec<bool>>,
}

impl Reader {
    fn on_frame(&mut self, frame: &str) {
        let at = now_ns();
        if self.answered.is_some() {
            if let Ok(mut before) = self.before_answer.lock() {
                before.0 += 1;
                before.1 = frame.chars().take(160).collect();
            }
        }
        let progress = &*self.progress;
        if frame == "2" {
            if let Some(outbox) = self.outbox.upgrade() {
                if outbox.send("3".to_owned()).is_ok() {
                    progress.pings.fetch_add(1, Ordering::Relaxed);
                }
            }
            return;
        }
        progress.frames.fetch_add(1, Ordering::Relaxed);
        let Some(event) = wire::event_name(frame) else {
            return;
        };
        match event {
            "userJoined" => {
                progress.joined.fetch_add(1, Ordering::Relaxed);
                if !self.barrier_seen && frame == progress.barrier_joined {
                    self.pass_barrier();
                }
            }
            "presence_changed"
                if !self.barrier_seen
                    && frame.contains(&progress.barrier_presence)
                    && frame.contains("\"online\"") =>
            {
                self.pass_barrier();
            }
            "chat" | "receive_message" => self.on_message(frame, at),
            "welcome" if self.ready == Ready::Welcome => self.answer(Ok(())),
            "room_joined" if self.ready == Ready::RoomJoined => self.answer(Ok(())),
            "loginNameBad" | "loginNameExists" | "requestRejected" | "error" => {
                if self.answered.is_some() {
                    self.answer(Err(format!("log-in refused: {frame}")));
                } else {
                    progress.refusals.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }

    fn answer(&mut self, result: Result<(), String>) {
        if let Some(answered) = self.answered.take() {
            let _ = answered.send(result);
        }
    }

    fn pass_barrier(&mut self) {
        self.barrier_seen = true;
        self.progress.barrier.fetch_add(1, Ordering::Relaxed);
    }

    fn on_message(&mut self, frame: &str, at: u64) {
        let Some((sender, seq, sent)) = wire::parse_marker(frame) else {
            return;
        };
        let seqs = self.received.entry(sender).or_default();
        let index = seq as usize;
        if seqs.len() <= index {
            seqs.resize(index + 1, false);
        }
        if seqs[index] {
            self.progress.duplicated.fetch_add(1, Ordering::Relaxed);
            return;
        }
        seqs[index] = true;
        let latency = at.saturating_sub(sent);
        self.seen.latencies_ns.push(latency);
        if let Some(group) = sender.checked_div(self.progress.group_size) {
            if self.seen.groups.len() <= group {
                self.seen.groups.resize_with(group + 1, Vec::new);
            }
            self.seen.groups[group].push(latency);
        }
        self.progress.delivered.fetch_add(1, Ordering::Relaxed);
        if let Some(own) = self.closed_loop.as_mut() {
            if own.sender == sender && self.progress.running.load(Ordering::Relaxed) {
                let text = wire::marker(own.sender, own.next_seq, now_ns());
                own.next_seq += 1;
                if let Some(outbox) = self.outbox.upgrade() {
                    if outbox.send(wire::chat(&text)).is_ok() {
                        self.progress.sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}

/// Connects one socket, sends its log-in and waits for the answer.
async fn open(
    url: &str,
    progress: Arc<Progress>,
    mut stop: watch::Receiver<bool>,
    login: Login,
) -> Result<(Client, JoinHandle<Seen>), String> {
    let mut tries = 1;
    let dial = wire::Dial {
        source: login.source,
        cookie: None,
    };
    let ws = loop {
        match wire::connect_with(url, &dial).await {
            Ok(ws) => break ws,
            Err(error) if tries < CONNECT_TRIES => {
                eprintln!("  {error}; trying again");
                progress.connect_retries.fetch_add(1, Ordering::Relaxed);
                tries += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => return Err(error),
        }
    };
    let (mut sink, mut stream) = ws.split();
    let (outbox, mut queue) = mpsc::unbounded_channel::<String>();
    let (answered, answer) = oneshot::channel();
    let before_answer = Arc::new(Mutex::new((0, String::new())));
    let everyone = progress.clone();
    let connect_only = login.ready == Ready::Connected;
    let mut reader = Reader {
        progress,
        ready: login.ready,
        answered: (!connect_only).then_some(answered),
        before_answer: before_answer.clone(),
        closed_loop: login.closed_loop,
        // Weak: once the run drops the client, nothing keeps the socket open.
        outbox: outbox.downgrade(),
        barrier_seen: false,
        seen: Seen::default(),
        received: HashMap::new(),
    };
    tokio::spawn(async move {
        while let Some(frame) = queue.recv().await {
            if sink.send(Message::text(frame)).await.is_err() {
                return;
            }
        }
        // Every sender is gone: the run is over.
        let _ = sink.send(Message::Close(None)).await;
    });
    let task = tokio::spawn(async move {
        // Made once: a `changed()` per frame would register with the one watch channel
        // every socket shares, a lock taken for every frame received.
        let mut stopped = std::pin::pin!(stop.changed());
        loop {
            tokio::select! {
                biased;
                next = stream.next() => match next {
                    Some(Ok(Message::Text(text))) => reader.on_frame(text.as_str()),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                _ = &mut stopped => break,
            }
        }
        reader.answer(Err(
            "closed by the server before the log-in was answered".into()
        ));
        reader.seen
    });
    let client = Client { outbox };
    if connect_only {
        return Ok((client, task));
    }
    client.send(login.frame.clone())?;
    match tokio::time::timeout(LOGIN_TIMEOUT, answer).await {
        Ok(Ok(Ok(()))) => Ok((client, task)),
        Ok(Ok(Err(error))) => Err(format!("{}: {error}", login.frame)),
        Ok(Err(_)) => Err(format!("{}: the socket's reader ended", login.frame)),
        Err(_) => {
            let (frames, last) = before_answer.lock().map(|b| b.clone()).unwrap_or_default();
            Err(format!(
                "{}: no answer within {LOGIN_TIMEOUT:?}; the socket had {frames} frames \
                 since its connect (all sockets: {} so far), the last: {last}",
                login.frame,
                Progress::count(&everyone.frames)
            ))
        }
    }
}

/// Every socket of a run.
pub struct Crowd {
    url: String,
    /// Another server for the first sockets: `(url, how many)` (a cluster run).
    first_elsewhere: Option<(String, usize)>,
    pub progress: Arc<Progress>,
    stop: watch::Sender<bool>,
    pub clients: Vec<Client>,
    readers: Vec<JoinHandle<Seen>>,
}

impl Crowd {
    /// A run against `url` whose set-up ends when every socket has seen the log-in of
    /// `last_user` (the last one logged in).
    pub fn new(url: &str, last_user: &str) -> Self {
        Self::grouped(url, last_user, 0)
    }

    /// [`new`](Self::new), keeping latencies apart by group of `group_size` senders as
    /// well ([`Seen::groups`]: senders 0 to `group_size - 1` are group 0, and so on).
    pub fn grouped(url: &str, last_user: &str, group_size: usize) -> Self {
        Self {
            url: url.to_owned(),
            first_elsewhere: None,
            progress: Arc::new(Progress::new(last_user, group_size)),
            stop: watch::channel(false).0,
            clients: Vec::new(),
            readers: Vec::new(),
        }
    }

    /// The first `count` sockets connect to `url` instead (another server of a cluster).
    pub fn first_at(mut self, url: &str, count: usize) -> Self {
        self.first_elsewhere = Some((url.to_owned(), count));
        self
    }

    /// Connects and logs in every socket, up to `in_flight` at once (each one from its
    /// connect until its log-in is answered), the last one alone once all the others are
    /// answered; then waits until every socket has seen the last one's log-in. Both
    /// servers send each socket its broadcasts in the order they were made, so then every
    /// socket has every broadcast of the set-up. Clients keep the order of `logins`.
    pub async fn log_in_all(
        &mut self,
        mut logins: Vec<Login>,
        in_flight: usize,
    ) -> Result<(), String> {
        let Some(last) = logins.pop() else {
            return Ok(());
        };
        let connect_only = last.ready == Ready::Connected;
        let first = self.clients.len();
        let mut slots: Vec<Option<(Client, JoinHandle<Seen>)>> = Vec::new();
        slots.resize_with(logins.len(), || None);
        let url = self.url.as_str();
        let url_of = |index: usize| match &self.first_elsewhere {
            Some((elsewhere, count)) if index < *count => elsewhere.as_str(),
            _ => url,
        };
        let mut pending =
            futures_util::stream::iter(logins.into_iter().enumerate().map(|(i, login)| {
                let progress = self.progress.clone();
                let stop = self.stop.subscribe();
                let url = url_of(first + i);
                async move {
                    open(url, progress, stop, login)
                        .await
                        .map(|socket| (i, socket))
                }
            }))
            .buffer_unordered(in_flight.max(1));
        let (mut done, mut told) = (0, Instant::now());
        while let Some(result) = pending.next().await {
            let (i, socket) = result?;
            slots[i] = Some(socket);
            done += 1;
            if told.elapsed() >= Duration::from_secs(15) {
                let frames = Progress::count(&self.progress.frames);
                eprintln!(
                    "  logged in {done} of {} ({frames} frames)",
                    slots.len() + 1
                );
                told = Instant::now();
            }
        }
        drop(pending);
        let last_url = url_of(first + slots.len());
        let last = open(last_url, self.progress.clone(), self.stop.subscribe(), last).await?;
        for (client, reader) in slots.into_iter().flatten().chain([last]) {
            self.clients.push(client);
            self.readers.push(reader);
        }
        if connect_only {
            // Nothing was broadcast.
            return Ok(());
        }
        let sockets = (self.clients.len() - first) as u64;
        let progress = &*self.progress;
        wait_for(
            "sockets to see the last log-in",
            &progress.barrier,
            sockets,
            &progress.frames,
            Duration::from_secs(30),
        )
        .await
    }

    /// Stops every reader and gathers what the sockets saw (latencies sorted). The
    /// sockets stay open until the crowd is dropped.
    pub async fn finish(&mut self) -> Result<Seen, String> {
        let _ = self.stop.send(true);
        let mut all = Seen::default();
        for reader in self.readers.drain(..) {
            let seen = reader.await.map_err(|e| e.to_string())?;
            all.latencies_ns.extend(seen.latencies_ns);
            if all.groups.len() < seen.groups.len() {
                all.groups.resize_with(seen.groups.len(), Vec::new);
            }
            for (group, latencies) in seen.groups.into_iter().enumerate() {
                all.groups[group].extend(latencies);
            }
        }
        all.latencies_ns.sort_unstable();
        for group in &mut all.groups {
            group.sort_unstable();
        }
        Ok(all)
    }
}

/// Waits until `count` reaches `target`; fails when neither it nor `activity` has moved
/// for `quiet` (the server has stopped sending before the target was reached).
pub async fn wait_for(
    what: &str,
    count: &AtomicU64,
    target: u64,
    activity: &AtomicU64,
    quiet: Duration,
) -> Result<(), String> {
    let mut last = (Progress::count(count), Progress::count(activity));
    let mut since = Instant::now();
    let mut told = Instant::now();
    loop {
        let now = (Progress::count(count), Progress::count(activity));
        if now.0 >= target {
            return Ok(());
        }
        // Long set-ups (10,000 sockets) say how far they are, on stderr.
        if told.elapsed() >= Duration::from_secs(15) {
            eprintln!(
                "  waiting for {what}: {} of {target} ({} frames)",
                now.0, now.1
            );
            told = Instant::now();
        }
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return Err(format!(
                "waiting for {what}: {} of {target}, nothing arrived for {quiet:?}",
                now.0
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `count` reaches `target` or stops changing for `quiet`; returns it.
pub async fn settle(count: &AtomicU64, target: u64, quiet: Duration) -> u64 {
    let mut last = Progress::count(count);
    let mut since = Instant::now();
    loop {
        let now = Progress::count(count);
        if now >= target {
            return now;
        }
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends `messages` frames at a steady total `rate`, taking the senders in turn; `frame`
/// makes one from (sender index, its sequence number, send time ns).
pub async fn send_paced(
    senders: &[&Client],
    rate: u64,
    messages: u64,
    frame: impl Fn(usize, u64, u64) -> String,
) -> Result<(), String> {
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let mut next = tokio::time::Instant::now();
    let mut sent = vec![0u64; senders.len()];
    for n in 0..messages {
        tokio::time::sleep_until(next).await;
        next += interval;
        let sender = (n as usize) % senders.len();
        let seq = sent[sender];
        sent[sender] += 1;
        senders[sender].send(frame(sender, seq, now_ns()))?;
    }
    Ok(())
}
