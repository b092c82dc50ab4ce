//! The WebSocket session in the browser: handshake, heartbeat, events, reconnection.

use std::time::Duration;

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::{FutureExt, StreamExt};
use gloo_timers::future::sleep;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use super::backoff::Backoff;
use super::codec::{self, Incoming};
use crate::model::{Action, ChatStore};
use crate::protocol::ClientEvent;

/// How long the server may take to answer the Engine.IO and Socket.IO handshakes.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects, and reconnects with jittered backoff whenever the connection drops, until the
/// app is gone. Events from `queue` are sent in order while connected.
pub async fn run(store: ChatStore, mut queue: UnboundedReceiver<ClientEvent>) {
    let mut backoff = Backoff::default();
    // Delayed sends (login retries) come back on their own channel, which is never held.
    let (delayed_tx, mut delayed) = mpsc::unbounded();
    let mut channels = Channels {
        queue: &mut queue,
        delayed: &mut delayed,
        delayed_tx: &delayed_tx,
    };
    loop {
        match session(&store, &mut channels, &mut backoff).await {
            Ended::AppGone => return,
            Ended::Lost(reason) => leptos::logging::warn!("chat connection lost: {reason}"),
        }
        store.connection_lost();
        let delay = backoff.next_delay(js_sys::Math::random());
        sleep(delay).await;
    }
}

enum Ended {
    AppGone,
    Lost(String),
}

/// Where a session's outgoing events come from.
struct Channels<'a> {
    /// What the app sends, in order.
    queue: &'a mut UnboundedReceiver<ClientEvent>,
    /// Delayed sends, once due.
    delayed: &'a mut UnboundedReceiver<ClientEvent>,
    delayed_tx: &'a UnboundedSender<ClientEvent>,
}

async fn session(store: &ChatStore, channels: &mut Channels<'_>, backoff: &mut Backoff) -> Ended {
    let (socket, mut frames) = match Socket::open(&endpoint()) {
        Ok(opened) => opened,
        Err(_) => return Ended::Lost("cannot open a WebSocket".into()),
    };

    // Engine.IO handshake, then connect to the namespace.
    let open = match next_incoming(&mut frames, HANDSHAKE_TIMEOUT).await {
        Ok(Incoming::Open(open)) => open,
        Ok(_) => return Ended::Lost("no Engine.IO handshake".into()),
        Err(reason) => return Ended::Lost(reason),
    };
    if let Err(reason) = codec::connect()
        .map_err(|e| e.to_string())
        .and_then(|f| socket.send(&f))
    {
        return Ended::Lost(reason);
    }
    // The server may ping before it confirms the namespace connection.
    loop {
        match next_incoming(&mut frames, HANDSHAKE_TIMEOUT).await {
            Ok(Incoming::Connected) => break,
            Ok(Incoming::Ping) => {
                if let Err(reason) = socket.send(&codec::pong()) {
                    return Ended::Lost(reason);
                }
            }
            Ok(Incoming::Ignored) => {}
            Ok(_) => return Ended::Lost("the namespace connection was not confirmed".into()),
            Err(reason) => return Ended::Lost(reason),
        }
    }
    backoff.reset();
    mark_ready();
    for action in store.connected() {
        if let Err(reason) = perform(&socket, channels.delayed_tx, action) {
            return Ended::Lost(reason);
        }
    }

    // The server pings every interval; silence for longer than interval + timeout means
    // the connection is dead even if the browser has not noticed.
    let silence_limit = open.ping_interval + open.ping_timeout;
    loop {
        futures::select_biased! {
            frame = next_incoming(&mut frames, silence_limit).fuse() => match frame {
                Ok(Incoming::Ping) => {
                    if let Err(reason) = socket.send(&codec::pong()) {
                        return Ended::Lost(reason);
                    }
                }
                Ok(Incoming::Event(event)) => {
                    for action in store.apply(event) {
                        if let Err(reason) = perform(&socket, channels.delayed_tx, action) {
                            return Ended::Lost(reason);
                        }
                    }
                }
                Ok(Incoming::Close | Incoming::Disconnected) => return Ended::Lost("closed by the server".into()),
                Ok(Incoming::ConnectError(message)) => return Ended::Lost(message),
                Ok(Incoming::Open(_) | Incoming::Connected | Incoming::Ignored) => {}
                Err(reason) => return Ended::Lost(reason),
            },
            event = channels.delayed.next() => {
                if let Some(event) = event {
                    if let Err(reason) = perform(&socket, channels.delayed_tx, Action::Send(event)) {
                        return Ended::Lost(reason);
                    }
                }
            },
            // While logging back in, what the user sends waits for the `welcome`.
            event = next_to_send(channels.queue, store.rejoining()).fuse() => match event {
                Some(event) => {
                    if let Err(reason) = perform(&socket, channels.delayed_tx, Action::Send(event)) {
                        return Ended::Lost(reason);
                    }
                }
                None => return Ended::AppGone,
            },
        }
    }
}

async fn next_to_send(
    queue: &mut UnboundedReceiver<ClientEvent>,
    hold: bool,
) -> Option<ClientEvent> {
    if hold {
        std::future::pending().await
    } else {
        queue.next().await
    }
}

fn perform(
    socket: &Socket,
    delayed: &UnboundedSender<ClientEvent>,
    action: Action,
) -> Result<(), String> {
    match action {
        Action::Send(event) => {
            let frame = codec::encode(&event).map_err(|e| e.to_string())?;
            socket.send(&frame)
        }
        Action::SendAfter(event, delay) => {
            let delayed = delayed.clone();
            leptos::task::spawn_local(async move {
                sleep(delay).await;
                // Fails only once the app is gone.
                let _ = delayed.unbounded_send(event);
            });
            Ok(())
        }
    }
}

/// The next meaningful frame, or why there is none. Undecodable frames are logged and
/// skipped: one bad frame does not end the session.
async fn next_incoming(
    frames: &mut UnboundedReceiver<Frame>,
    limit: Duration,
) -> Result<Incoming, String> {
    loop {
        let frame = futures::select_biased! {
            frame = frames.next() => frame,
            () = sleep(limit).fuse() => return Err(format!("no frame from the server for {} s", limit.as_secs())),
        };
        match frame {
            Some(Frame::Text(text)) => match codec::decode(&text) {
                Ok(incoming) => return Ok(incoming),
                Err(error) => leptos::logging::warn!("ignoring a frame: {error}"),
            },
            Some(Frame::Closed(reason)) => return Err(reason),
            None => return Err("socket gone".into()),
        }
    }
}

/// `ws(s)://<this host>/socket.io/?EIO=4&transport=websocket`.
fn endpoint() -> String {
    let location = web_sys::window().map(|w| w.location());
    let secure = location.as_ref().and_then(|l| l.protocol().ok()).as_deref() == Some("https:");
    let host = location.and_then(|l| l.host().ok()).unwrap_or_default();
    let scheme = if secure { "wss" } else { "ws" };
    format!("{scheme}://{host}/socket.io/?EIO=4&transport=websocket")
}

/// Tells tests (and styles) that the app is live: `<body data-hydrated="true">`.
fn mark_ready() {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        if body.set_attribute("data-hydrated", "true").is_err() {
            leptos::logging::warn!("cannot mark the page ready");
        }
    }
}

enum Frame {
    Text(String),
    Closed(String),
}

/// A browser WebSocket whose events arrive on a channel. Closed when dropped.
struct Socket {
    ws: WebSocket,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Socket {
    fn open(url: &str) -> Result<(Self, UnboundedReceiver<Frame>), JsValue> {
        let ws = WebSocket::new(url)?;
        let (tx, rx) = mpsc::unbounded();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let tx = tx.clone();
            move |event: MessageEvent| {
                // The chat sends only text frames.
                if let Some(text) = event.data().as_string() {
                    let _ = tx.unbounded_send(Frame::Text(text));
                }
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new({
            let tx = tx.clone();
            move |event: CloseEvent| {
                let _ = tx.unbounded_send(Frame::Closed(format!("closed (code {})", event.code())));
            }
        });
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let _ = tx.unbounded_send(Frame::Closed("WebSocket error".into()));
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok((
            Self {
                ws,
                _on_message: on_message,
                _on_close: on_close,
                _on_error: on_error,
            },
            rx,
        ))
    }

    fn send(&self, frame: &str) -> Result<(), String> {
        self.ws
            .send_with_str(frame)
            .map_err(|_| "send failed".to_owned())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close();
    }
}
