//! A load generator for Socket.IO chat servers that speak the original lobby protocol
//! (`login` → `welcome`, `chat` to everyone), over real WebSockets (Engine.IO 4 text
//! frames, written here: no Socket.IO client library in the measurement path).
//!
//! `loadgen fanout --url http://127.0.0.1:3000` logs in receivers and senders, waits until
//! every `userJoined` has arrived, then has the senders chat at a steady total rate. Each
//! message carries its send time on the generator's one monotonic clock; every socket
//! (senders included: `chat` goes to everyone) records the latency of each message it
//! gets, once, and counts what never came and what came twice. It prints one line of
//! `key=value` figures, with the server's CPU (`--server-pid`) and its own over the run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Parser)]
#[command(about = "Load generator for Socket.IO chat servers (the original lobby protocol)")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Receivers and senders in the lobby; senders chat at a steady total rate.
    Fanout {
        /// The server, e.g. http://127.0.0.1:3000.
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 500)]
        receivers: usize,
        #[arg(long, default_value_t = 5)]
        senders: usize,
        /// Messages per second, all senders together.
        #[arg(long, default_value_t = 200)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// The server's process id, to report its CPU over the sending.
        #[arg(long)]
        server_pid: Option<u32>,
    },
}

/// Nanoseconds on the generator's one monotonic clock.
fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// CPU time (user + system) of a process, from /proc.
fn cpu_of(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports clock ticks of 1/100 s (USER_HZ) on every platform this runs on.
    Some(Duration::from_millis(ticks * 10))
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match cli.scenario {
        Scenario::Fanout {
            url,
            receivers,
            senders,
            rate,
            seconds,
            server_pid,
        } => {
            let figures = fanout(&url, receivers, senders, rate, seconds, server_pid).await;
            match figures {
                Ok(line) => println!("{line}"),
                Err(error) => {
                    eprintln!("fanout failed: {error}");
                    std::process::exit(1);
                }
            }
        }
    }
}

/// One logged-in socket: its reading half runs in a task; this is the writing half.
struct Client {
    outbox: mpsc::UnboundedSender<String>,
}

/// What a socket saw, handed back when the run ends.
#[derive(Default)]
struct Seen {
    latencies_ns: Vec<u64>,
    duplicates: u64,
}

/// Shared between the socket tasks: counts that tell when a phase has settled.
#[derive(Default)]
struct Progress {
    joined: AtomicU64,
    delivered: AtomicU64,
}

async fn connect(url: &str) -> Result<Ws, String> {
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
fn quoted(text: &str) -> String {
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

/// The marker a message carries: `@<sender>.<seq>.<send time ns>@`.
fn marker(sender: usize, seq: u64, sent_ns: u64) -> String {
    format!("@{sender}.{seq}.{sent_ns}@")
}

fn parse_marker(frame: &str) -> Option<(usize, u64, u64)> {
    let start = frame.find('@')? + 1;
    let end = start + frame[start..].find('@')?;
    let mut parts = frame[start..end].split('.');
    let sender = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let sent = parts.next()?.parse().ok()?;
    Some((sender, seq, sent))
}

/// Logs one socket in as `name`, then reads until told to stop: answers pings, counts
/// `userJoined`, records each chat's latency once.
async fn log_in(
    url: &str,
    name: String,
    progress: Arc<Progress>,
) -> Result<(Client, tokio::task::JoinHandle<Seen>), String> {
    let ws = connect(url).await?;
    let (mut sink, mut stream) = ws.split();
    let (outbox, mut queue) = mpsc::unbounded_channel::<String>();
    outbox
        .send(format!("42[\"login\",{}]", quoted(&name)))
        .map_err(|e| e.to_string())?;
    // Weak: once the run drops the client, nothing keeps the socket open.
    let pong = outbox.downgrade();
    tokio::spawn(async move {
        while let Some(frame) = queue.recv().await {
            if sink.send(Message::text(frame)).await.is_err() {
                return;
            }
        }
        // Every sender is gone: the run is over.
        let _ = sink.send(Message::Close(None)).await;
    });
    let reader = tokio::spawn(async move {
        let mut seen = Seen::default();
        // Per sender, the sequence numbers received (to tell a duplicate).
        let mut received: HashMap<usize, Vec<bool>> = HashMap::new();
        // Until the connection closes (the run ends by closing every socket).
        loop {
            let frame = match stream.next().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            };
            let at = now_ns();
            if frame.as_str() == "2" {
                if let Some(pong) = pong.upgrade() {
                    let _ = pong.send("3".to_owned());
                }
            } else if frame.starts_with("42[\"userJoined\"") {
                progress.joined.fetch_add(1, Ordering::Relaxed);
            } else if frame.starts_with("42[\"chat\"") {
                if let Some((sender, seq, sent)) = parse_marker(&frame) {
                    let seqs = received.entry(sender).or_default();
                    let index = seq as usize;
                    if seqs.len() <= index {
                        seqs.resize(index + 1, false);
                    }
                    if seqs[index] {
                        seen.duplicates += 1;
                    } else {
                        seqs[index] = true;
                        seen.latencies_ns.push(at.saturating_sub(sent));
                        progress.delivered.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        seen
    });
    Ok((Client { outbox }, reader))
}

/// Waits until `count` stops changing for `quiet`, or reaches `target`; returns it.
async fn settle(count: &AtomicU64, target: u64, quiet: Duration) -> u64 {
    let mut last = count.load(Ordering::Relaxed);
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = count.load(Ordering::Relaxed);
        if now >= target {
            return now;
        }
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return now;
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank] as f64 / 1e6
}

async fn fanout(
    url: &str,
    receivers: usize,
    senders: usize,
    rate: u64,
    seconds: u64,
    server_pid: Option<u32>,
) -> Result<String, String> {
    if senders == 0 || rate == 0 {
        return Err("need at least one sender and a rate above 0".into());
    }
    let progress = Arc::new(Progress::default());
    let total = receivers + senders;
    let mut clients = Vec::with_capacity(total);
    let mut readers = Vec::with_capacity(total);
    for i in 0..total {
        // Names of 3 to 10 characters: r0000.., s000..
        let name = if i < receivers {
            format!("r{i:04}")
        } else {
            format!("s{:03}", i - receivers)
        };
        let (client, reader) = log_in(url, name, progress.clone()).await?;
        clients.push(client);
        readers.push(reader);
    }
    // Socket i sees the userJoined of every user from i on: n (n + 1) / 2 in all.
    let joins = (total * (total + 1) / 2) as u64;
    let joined = settle(&progress.joined, joins, Duration::from_secs(10)).await;
    if joined < joins {
        return Err(format!("only {joined} of {joins} userJoined arrived"));
    }

    let pid = server_pid.map(|p| p.to_string());
    let server_before = pid.as_deref().and_then(cpu_of);
    let own_before = cpu_of("self");
    let started = Instant::now();
    let messages = rate * seconds;
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let sender_clients = &clients[receivers..];
    let mut next = tokio::time::Instant::now();
    let mut sent_per_sender = vec![0u64; senders];
    for n in 0..messages {
        tokio::time::sleep_until(next).await;
        next += interval;
        let sender = (n as usize) % senders;
        let seq = sent_per_sender[sender];
        sent_per_sender[sender] += 1;
        let text = marker(sender, seq, now_ns());
        sender_clients[sender]
            .outbox
            .send(format!("42[\"chat\",{}]", quoted(&text)))
            .map_err(|_| "a sender's socket is gone".to_owned())?;
    }
    let expected = messages * total as u64;
    let delivered = settle(&progress.delivered, expected, Duration::from_secs(3)).await;
    let elapsed = started.elapsed();
    let server_cpu = match (server_before, pid.as_deref().and_then(cpu_of)) {
        (Some(before), Some(after)) => format!(
            "{:.0}",
            100.0 * (after - before).as_secs_f64() / elapsed.as_secs_f64()
        ),
        _ => "?".to_owned(),
    };
    let own_cpu = match (own_before, cpu_of("self")) {
        (Some(before), Some(after)) => format!(
            "{:.0}",
            100.0 * (after - before).as_secs_f64() / elapsed.as_secs_f64()
        ),
        _ => "?".to_owned(),
    };

    // Closing the outboxes closes the sockets, which ends their readers.
    drop(clients);
    let mut latencies = Vec::with_capacity(delivered as usize);
    let mut duplicates = 0;
    for reader in readers {
        let seen = reader.await.map_err(|e| e.to_string())?;
        latencies.extend(seen.latencies_ns);
        duplicates += seen.duplicates;
    }
    latencies.sort_unstable();
    Ok(format!(
        "scenario=fanout sockets={total} messages={messages} deliveries={delivered} \
         per_s={:.0} lost={} duplicated={duplicates} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} \
         server_cpu_pct={server_cpu} loadgen_cpu_pct={own_cpu}",
        delivered as f64 / elapsed.as_secs_f64(),
        expected - delivered,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    ))
}
