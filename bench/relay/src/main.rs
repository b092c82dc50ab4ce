//! A bare relay of the original lobby protocol, for the benchmark only: Engine.IO 4 and
//! Socket.IO frames written by hand over tokio-tungstenite, `login` (names unique ignoring
//! case) → `welcome` and `userJoined` to every socket, `chat` → `chat` to every socket,
//! nothing stored. No library between the socket and the broadcast: what this machine
//! can deliver at all, the floor under both real servers.
//!
//! Usage: `relay PORT` (listens on 127.0.0.1). Pings every 25 s like the others.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

const PING_INTERVAL: Duration = Duration::from_secs(25);

/// Every socket's outgoing queue, and the names held.
#[derive(Default)]
struct Lobby {
    sockets: HashMap<u64, mpsc::UnboundedSender<Utf8Bytes>>,
    /// Held names, lower-cased.
    names: HashSet<String>,
}

impl Lobby {
    /// Sends `frame` (encoded once) to every socket.
    fn broadcast(&self, frame: Utf8Bytes) {
        for socket in self.sockets.values() {
            // A socket whose writer has gone is being removed by its reader.
            let _ = socket.send(frame.clone());
        }
    }
}

#[derive(Default)]
struct Relay {
    lobby: Mutex<Lobby>,
    next_socket: AtomicU64,
    next_message: AtomicU64,
}

impl Relay {
    fn lobby(&self) -> MutexGuard<'_, Lobby> {
        // Nothing panics while holding it; a poisoned lock still holds a usable lobby.
        self.lobby
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1).map(|p| p.parse()) {
        Some(Ok(port)) => port,
        _ => {
            eprintln!("usage: relay PORT");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://127.0.0.1:{port}");
    let relay = Arc::new(Relay::default());
    loop {
        let (stream, _) = listener.accept().await?;
        let relay = relay.clone();
        tokio::spawn(async move {
            if let Err(error) = serve(relay, stream).await {
                eprintln!("a socket failed: {error}");
            }
        });
    }
}

async fn serve(relay: Arc<Relay>, stream: TcpStream) -> Result<(), String> {
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let config = WebSocketConfig::default().read_buffer_size(1024);
    let ws = tokio_tungstenite::accept_async_with_config(stream, Some(config))
        .await
        .map_err(|e| e.to_string())?;
    let (mut sink, mut stream) = ws.split();
    let id = relay.next_socket.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    // The writer: everything queued goes out in one flush.
    let writer = tokio::spawn(async move {
        let mut ping = tokio::time::interval(PING_INTERVAL);
        ping.tick().await;
        loop {
            let frame = tokio::select! {
                frame = rx.recv() => frame,
                _ = ping.tick() => Some(Utf8Bytes::from_static("2")),
            };
            let Some(frame) = frame else { break };
            if sink.feed(Message::Text(frame)).await.is_err() {
                break;
            }
            while let Ok(frame) = rx.try_recv() {
                if sink.feed(Message::Text(frame)).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
    });
    let open = json!({
        "sid": id.to_string(), "upgrades": [], "pingInterval": PING_INTERVAL.as_millis(),
        "pingTimeout": 20000, "maxPayload": 1_000_000,
    });
    let _ = tx.send(format!("0{open}").into());
    let mut name: Option<String> = None;
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(frame) = message else {
            continue;
        };
        if frame.as_str() == "40" {
            let _ = tx.send(format!("40{}", json!({ "sid": id.to_string() })).into());
            relay.lobby().sockets.insert(id, tx.clone());
        } else if let Some(event) = frame.strip_prefix("42") {
            on_event(&relay, &tx, &mut name, event);
        }
    }
    let mut lobby = relay.lobby();
    lobby.sockets.remove(&id);
    if let Some(name) = name {
        lobby.names.remove(&name.to_lowercase());
        lobby.broadcast(event("userLeft", &json!(name)));
    }
    drop(lobby);
    writer.abort();
    Ok(())
}

/// One `42[...]` event (its JSON array).
fn on_event(
    relay: &Relay,
    me: &mpsc::UnboundedSender<Utf8Bytes>,
    name: &mut Option<String>,
    array: &str,
) {
    let Ok(Value::Array(parts)) = serde_json::from_str::<Value>(array) else {
        return;
    };
    let argument = parts.get(1).cloned().unwrap_or(Value::Null);
    match parts.first().and_then(Value::as_str) {
        Some("login") if name.is_none() => {
            let wanted = argument.as_str().map(str::trim).unwrap_or_default();
            if !(3..=10).contains(&wanted.chars().count()) {
                let _ = me.send(event("loginNameBad", &argument));
                return;
            }
            let mut lobby = relay.lobby();
            if !lobby.names.insert(wanted.to_lowercase()) {
                let _ = me.send(event("loginNameExists", &json!(wanted)));
                return;
            }
            *name = Some(wanted.to_owned());
            let _ = me.send(event("welcome", &json!(wanted)));
            lobby.broadcast(event("userJoined", &json!(wanted)));
        }
        Some("chat") => {
            let (Some(sender), Some(text)) = (name.as_deref(), argument.as_str()) else {
                return;
            };
            if text.trim().is_empty() {
                return;
            }
            let sent_at = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            let lobby = relay.lobby();
            let id = relay.next_message.fetch_add(1, Ordering::Relaxed) + 1;
            let payload = json!({ "sender": sender, "message": text, "id": id, "sentAt": sent_at });
            lobby.broadcast(event("chat", &payload));
        }
        _ => {}
    }
}

/// `42["name",payload]`.
fn event(name: &str, payload: &Value) -> Utf8Bytes {
    format!("42{}", json!([name, payload])).into()
}
