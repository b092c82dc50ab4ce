//! The WebSocket session in the browser: handshake, heartbeat, events, acknowledgements,
//! reconnection.

use std::collections::VecDeque;
use std::time::Duration;

use futures::channel::mpsc::{self, UnboundedReceiver};
use futures::future::{Fuse, FusedFuture};
use futures::{FutureExt, StreamExt};
use gloo_timers::future::sleep;
use leptos::prelude::GetUntracked;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use super::backoff::Backoff;
use super::codec::{self, Incoming};
use crate::model::{Action, ChatStore, HistoryPurpose, Message, Request};
use crate::protocol::rooms::{
    MarkRead, PrivateMessagePost, RoomRequest, SendMessage, SetPresence, TypingPost,
};
use crate::protocol::{
    client, Conversations, DirectMessage, HistoryReply, JoinReply, RoomList, RoomMessage,
    SendReceipt, ServerEvent,
};
use crate::route::ConvKey;
use crate::Command;

/// How long the server may take to answer the Engine.IO and Socket.IO handshakes.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// While logged in, stays connected: reconnects with jittered backoff whenever the
/// connection drops, until you log out or the app is gone.
pub async fn run(store: ChatStore, mut commands: UnboundedReceiver<Command>) {
    let mut backoff = Backoff::default();
    // Joins and leaves asked for while not welcomed, across reconnections.
    let mut held = Vec::new();
    loop {
        if store.me.get_untracked().is_none() && !wait_for_login(&mut commands).await {
            return;
        }
        match session(&store, &mut commands, &mut backoff, &mut held).await {
            Ended::AppGone => return,
            Ended::Stopped => {
                held.clear();
                backoff.reset();
            }
            Ended::Lost(reason) => {
                leptos::logging::warn!("connection lost: {reason}");
                store.connection_lost();
                let delay = backoff.next_delay(js_sys::Math::random());
                if !wait_before_reconnecting(&mut commands, delay, &mut held).await {
                    return;
                }
            }
        }
    }
}

/// Waits for [`Command::Connect`]; false once the app is gone.
async fn wait_for_login(commands: &mut UnboundedReceiver<Command>) -> bool {
    loop {
        match commands.next().await {
            Some(Command::Connect) => return true,
            // Nothing to send to while logged out.
            Some(_) => {}
            None => return false,
        }
    }
}

/// Sleeps `delay`; what the app sends meanwhile waits in the store (unsent messages are
/// sent again once logged back in). False once the app is gone.
async fn wait_before_reconnecting(
    commands: &mut UnboundedReceiver<Command>,
    delay: Duration,
    held: &mut Vec<Request>,
) -> bool {
    let mut pause = sleep(delay).fuse();
    loop {
        futures::select_biased! {
            () = pause => return true,
            command = commands.next() => match command {
                Some(Command::Disconnect) => return true,
                Some(Command::Send(request)) => hold(held, request),
                Some(Command::Connect) => {}
                None => return false,
            },
        }
    }
}

/// Keeps a join or a leave for the next welcome; anything else is asked again then.
fn hold(held: &mut Vec<Request>, request: Request) {
    if matches!(request, Request::Join(_) | Request::Leave(_)) {
        held.push(request);
    }
}

enum Ended {
    AppGone,
    /// Logged out: wait for the next log-in.
    Stopped,
    Lost(String),
}

/// Reads (`history`, `list_rooms`, `my_conversations`) a socket may have in flight: the
/// server refuses more (`rateLimited`), so more wait here for an answer.
const READS_IN_FLIGHT: usize = 4;

/// What an acknowledgement answers.
enum Awaited {
    Send(ConvKey, String),
    History(ConvKey, HistoryPurpose),
    Join,
    ListRooms,
    MyConversations,
}

/// One connection, from handshake to close.
struct Connection<'a> {
    socket: Socket,
    next_ack: i64,
    /// Requests waiting for their acknowledgement (a handful at most).
    awaited: Vec<(i64, Awaited)>,
    /// The server has welcomed us on this connection: requests can go out.
    welcomed: bool,
    /// Reads waiting for one in flight to be answered, in order.
    queued_reads: VecDeque<Request>,
    /// Joins and leaves asked for before the welcome (on this connection or while
    /// reconnecting), sent once welcomed as the same user.
    held: &'a mut Vec<Request>,
    /// Messages were refused for coming too fast: send them again after this many
    /// milliseconds (the session loop starts the wait).
    resend_after: Option<u64>,
}

impl Awaited {
    fn is_read(&self) -> bool {
        !matches!(self, Awaited::Send(..) | Awaited::Join)
    }
}

impl Connection<'_> {
    fn send(&mut self, store: &ChatStore, request: Request) -> Result<(), String> {
        if !self.welcomed {
            // Nothing goes out before the welcome, which asks again for what matters:
            // unsent messages stay pending, the conversation shown is loaded. Joining or
            // leaving a room waits for it.
            store.request_dropped(&request);
            hold(self.held, request);
            return Ok(());
        }
        if request.is_read() && self.reads_in_flight() >= READS_IN_FLIGHT {
            self.queued_reads.push_back(request);
            return Ok(());
        }
        let frame = match request {
            Request::Send {
                to,
                name,
                client_id,
                text,
            } => {
                let ack = self.expect_ack(Awaited::Send(to.clone(), client_id.clone()));
                match to {
                    ConvKey::Room(_) => codec::encode_with_ack(
                        client::SEND_MESSAGE,
                        &SendMessage {
                            room: &name,
                            message: &text,
                            client_id: &client_id,
                        },
                        ack,
                    ),
                    ConvKey::With(_) => codec::encode_with_ack(
                        client::PRIVATE_MESSAGE,
                        &PrivateMessagePost {
                            to_username: &name,
                            message: &text,
                            client_id: &client_id,
                        },
                        ack,
                    ),
                }
            }
            Request::Typing {
                to,
                name,
                is_typing,
            } => {
                let (room, to) = split(&to, &name);
                codec::encode_event(
                    client::TYPING,
                    &TypingPost {
                        room,
                        to,
                        is_typing,
                    },
                )
            }
            Request::MarkRead { to, name, id } => {
                let (room, with) = split(&to, &name);
                codec::encode_event(client::MARK_READ, &MarkRead { room, with, id })
            }
            Request::History { of, query, purpose } => {
                let ack = self.expect_ack(Awaited::History(of, purpose));
                codec::encode_with_ack(client::HISTORY, &query, ack)
            }
            Request::Join(room) => {
                let ack = self.expect_ack(Awaited::Join);
                codec::encode_with_ack(client::JOIN_ROOM, &RoomRequest { room: &room }, ack)
            }
            Request::Leave(room) => {
                codec::encode_event(client::LEAVE_ROOM, &RoomRequest { room: &room })
            }
            Request::ListRooms => {
                let ack = self.expect_ack(Awaited::ListRooms);
                codec::encode_call(client::LIST_ROOMS, ack)
            }
            Request::MyConversations => {
                let ack = self.expect_ack(Awaited::MyConversations);
                codec::encode_call(client::MY_CONVERSATIONS, ack)
            }
            Request::SetPresence(status) => {
                codec::encode_event(client::SET_PRESENCE, &SetPresence { status })
            }
        }
        .map_err(|e| e.to_string())?;
        self.socket.send(&frame)
    }

    /// What to send on a welcome: the joins and leaves that waited for it (first, so that
    /// the listings the welcome asks for include them), then what the store asks for;
    /// nothing that waited if the store stops (welcomed as someone else).
    fn welcomed_with(&mut self, actions: Vec<Action>) -> Vec<Action> {
        let waited = std::mem::take(self.held);
        if actions.iter().any(|a| matches!(a, Action::Stop)) {
            return actions;
        }
        waited
            .into_iter()
            .map(Action::Send)
            .chain(actions)
            .collect()
    }

    fn reads_in_flight(&self) -> usize {
        self.awaited.iter().filter(|(_, a)| a.is_read()).count()
    }

    fn expect_ack(&mut self, awaited: Awaited) -> i64 {
        let id = self.next_ack;
        self.next_ack += 1;
        self.awaited.push((id, awaited));
        id
    }

    /// Performs what the store asked for; `Some` when the session must end.
    fn perform(&mut self, store: &ChatStore, actions: Vec<Action>) -> Option<Ended> {
        for action in actions {
            match action {
                Action::Send(request) => {
                    if let Err(reason) = self.send(store, request) {
                        return Some(Ended::Lost(reason));
                    }
                }
                Action::Stop => return Some(Ended::Stopped),
                Action::ResendAfter(ms) => {
                    self.resend_after = Some(self.resend_after.unwrap_or(0).max(ms));
                }
            }
        }
        None
    }

    fn acknowledged(&mut self, store: &ChatStore, id: i64, json: &str) -> Vec<Action> {
        let awaited = self
            .awaited
            .iter()
            .position(|(waiting, _)| *waiting == id)
            .map(|at| self.awaited.swap_remove(at).1);
        let mut actions = Vec::new();
        if awaited.as_ref().is_some_and(Awaited::is_read) {
            // A read is answered: the next one waiting can go.
            actions.extend(self.queued_reads.pop_front().map(Action::Send));
        }
        actions.extend(self.answered(store, awaited, id, json));
        actions
    }

    fn answered(
        &mut self,
        store: &ChatStore,
        awaited: Option<Awaited>,
        id: i64,
        json: &str,
    ) -> Vec<Action> {
        let bad = |what: &str, error: codec::CodecError| {
            leptos::logging::warn!("bad {what}: {error}");
            Vec::new()
        };
        match awaited {
            Some(Awaited::Send(key, client_id)) => match codec::ack_payload::<SendReceipt>(json) {
                Ok(receipt) => return store.send_receipt(&key, &client_id, &receipt),
                Err(error) => return bad("receipt", error),
            },
            Some(Awaited::History(key, purpose)) => {
                let reply = match key {
                    ConvKey::Room(_) => {
                        codec::ack_payload::<HistoryReply<RoomMessage>>(json).map(into_messages)
                    }
                    ConvKey::With(_) => {
                        codec::ack_payload::<HistoryReply<DirectMessage>>(json).map(into_messages)
                    }
                };
                match reply {
                    Ok(reply) => return store.history_loaded(&key, purpose, reply),
                    Err(error) => return bad("history reply", error),
                }
            }
            Some(Awaited::Join) => match codec::ack_payload::<JoinReply>(json) {
                Ok(reply) => {
                    return store
                        .join_answered(reply)
                        .into_iter()
                        .map(Action::Send)
                        .collect()
                }
                Err(error) => return bad("join reply", error),
            },
            Some(Awaited::ListRooms) => match codec::ack_payload::<RoomList>(json) {
                Ok(list) => store.rooms_listed(list),
                Err(error) => return bad("room list", error),
            },
            Some(Awaited::MyConversations) => match codec::ack_payload::<Conversations>(json) {
                Ok(listing) => return store.conversations_listed(listing),
                Err(error) => return bad("conversations", error),
            },
            None => leptos::logging::warn!("unexpected acknowledgement {id}"),
        }
        Vec::new()
    }
}

/// A conversation key as the `room` or the other (`to` / `with`) field.
fn split<'a>(key: &ConvKey, name: &'a str) -> (Option<&'a str>, Option<&'a str>) {
    match key {
        ConvKey::Room(_) => (Some(name), None),
        ConvKey::With(_) => (None, Some(name)),
    }
}

fn into_messages<M: Into<Message>>(reply: HistoryReply<M>) -> HistoryReply<Message> {
    HistoryReply {
        ok: reply.ok,
        messages: reply
            .messages
            .map(|messages| messages.into_iter().map(Into::into).collect()),
        has_more: reply.has_more,
        resync: reply.resync,
        deleted: reply.deleted,
        reason: reply.reason,
        message: reply.message,
        retry_after_ms: reply.retry_after_ms,
    }
}

async fn session(
    store: &ChatStore,
    commands: &mut UnboundedReceiver<Command>,
    backoff: &mut Backoff,
    held: &mut Vec<Request>,
) -> Ended {
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
    // The server logs this socket in from the session cookie and sends `welcome`.
    store.connected();
    let mut connection = Connection {
        socket,
        next_ack: 0,
        awaited: Vec::new(),
        welcomed: false,
        queued_reads: VecDeque::new(),
        held,
        resend_after: None,
    };

    // The server pings every interval; silence for longer than interval + timeout means
    // the connection is dead even if the browser has not noticed.
    // One deadline, put off by each frame that arrives (not by what we send).
    let silence_limit = open.ping_interval + open.ping_timeout;
    let mut silence = sleep(silence_limit).fuse();
    // The wait before messages refused for coming too fast go again: one at a time, for
    // all of them (any refused again start the next).
    let mut resend = Fuse::terminated();
    loop {
        if let Some(ms) = connection.resend_after.take() {
            if resend.is_terminated() {
                resend = sleep(Duration::from_millis(ms)).fuse();
            }
        }
        futures::select_biased! {
            frame = frames.next() => {
                silence = sleep(silence_limit).fuse();
                let frame = match incoming(frame) {
                    Ok(Some(incoming)) => Ok(incoming),
                    Ok(None) => continue,
                    Err(reason) => Err(reason),
                };
                let actions = match frame {
                    Ok(Incoming::Ping) => {
                        if let Err(reason) = connection.socket.send(&codec::pong()) {
                            return Ended::Lost(reason);
                        }
                        Vec::new()
                    }
                    Ok(Incoming::Event(event)) => {
                        let welcome = matches!(event, ServerEvent::Welcome(_));
                        let actions = store.apply(event);
                        if welcome {
                            connection.welcomed = true;
                            connection.welcomed_with(actions)
                        } else {
                            actions
                        }
                    }
                    Ok(Incoming::Ack(id, json)) => connection.acknowledged(store, id, &json),
                    Ok(Incoming::Close | Incoming::Disconnected) => return Ended::Lost("closed by the server".into()),
                    Ok(Incoming::ConnectError(message)) => return Ended::Lost(message),
                    Ok(Incoming::Open(_) | Incoming::Connected | Incoming::Ignored) => Vec::new(),
                    Err(reason) => return Ended::Lost(reason),
                };
                if let Some(ended) = connection.perform(store, actions) {
                    return ended;
                }
            },
            () = silence => return Ended::Lost(silent_for(silence_limit)),
            () = resend => {
                let again = store.resend_waiting().into_iter().map(Action::Send).collect();
                if let Some(ended) = connection.perform(store, again) {
                    return ended;
                }
            },
            command = commands.next() => match command {
                Some(Command::Send(request)) => {
                    if let Err(reason) = connection.send(store, request) {
                        return Ended::Lost(reason);
                    }
                }
                Some(Command::Connect) => {}
                Some(Command::Disconnect) => return Ended::Stopped,
                None => return Ended::AppGone,
            },
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
            () = sleep(limit).fuse() => return Err(silent_for(limit)),
        };
        if let Some(incoming) = incoming(frame)? {
            return Ok(incoming);
        }
    }
}

/// What a frame says: `None` for one that cannot be decoded (logged and skipped), `Err`
/// when the socket is closed.
fn incoming(frame: Option<Frame>) -> Result<Option<Incoming>, String> {
    match frame {
        Some(Frame::Text(text)) => match codec::decode(&text) {
            Ok(incoming) => Ok(Some(incoming)),
            Err(error) => {
                leptos::logging::warn!("ignoring a frame: {error}");
                Ok(None)
            }
        },
        Some(Frame::Closed(reason)) => Err(reason),
        None => Err("socket gone".into()),
    }
}

fn silent_for(limit: Duration) -> String {
    format!("no frame from the server for {} s", limit.as_secs())
}

/// `ws(s)://<this host>/socket.io/?EIO=4&transport=websocket`.
fn endpoint() -> String {
    let location = web_sys::window().map(|w| w.location());
    let secure = location.as_ref().and_then(|l| l.protocol().ok()).as_deref() == Some("https:");
    let host = location.and_then(|l| l.host().ok()).unwrap_or_default();
    let scheme = if secure { "wss" } else { "ws" };
    format!("{scheme}://{host}/socket.io/?EIO=4&transport=websocket")
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
