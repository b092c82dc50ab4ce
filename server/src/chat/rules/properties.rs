//! Properties of the rules under arbitrary traffic: a random sequence of connects,
//! log-ins (names raced in every case), joins, leaves, room and direct messages and
//! disconnects, each checked and applied the way the hub does (with a model of what
//! storage would hold), and of arbitrary events (any name, any JSON payload) run through
//! the decoder and every check (which change nothing). After every step:
//! - nothing panicked, whatever the input;
//! - names are unique, ignoring case, among the users online;
//! - a message of a room other than `general` reaches only the sockets of the room's
//!   members, a direct message only its two users' sockets;
//! - no socket is delivered a conversation's message twice, or out of order.
//!
//! The run counts how often the privacy rules were put to the test (a room message with
//! a non-member online, a direct message with a third user online), so that it cannot
//! pass by never getting there.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use app::protocol::{ClientEvent, ServerEvent};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::{Chat, JoinPlan, Now, TYPING_LEASE};
use crate::chat::requests::Recipient;
use crate::chat::{
    name_key, validate_chat, validate_history, ConversationId, Family, RoomName, StoredMessage,
    UserId,
};

const GENERAL: ConversationId = ConversationId(1);
const NAMES: &[&str] = &[
    "Ann", "ann", "ANN", "Bob", "bob", "Cid", "Dan", "x", " Ann ",
];
const ROOMS: &[&str] = &["general", "rust", "go"];
const SOCKETS: u32 = 6;

#[derive(Debug, Clone)]
enum Step {
    Connect {
        conn: u32,
        rooms: bool,
    },
    LogIn {
        conn: u32,
        name: usize,
    },
    Join {
        conn: u32,
        room: usize,
    },
    Leave {
        conn: u32,
        room: usize,
    },
    Send {
        conn: u32,
        room: usize,
    },
    Direct {
        conn: u32,
        to: usize,
    },
    Disconnect {
        conn: u32,
    },
    Anything {
        conn: u32,
        event: String,
        payload: Option<Value>,
    },
}

/// The keys the requests read: a payload made of them gets past the first checks.
const KEYS: &[&str] = &[
    "room",
    "with",
    "message",
    "clientId",
    "toUsername",
    "toSocketId",
    "isTyping",
    "username",
    "before",
    "after",
    "limit",
    "status",
    "id",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(KEYS).prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::hash_map(prop::sample::select(KEYS), inner, 0..4).prop_map(
                |fields| Value::Object(
                    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )
            ),
        ]
    })
}

fn event_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "login",
            "register",
            "chat",
            "typing",
            "stopTyping",
            "onlineUsers",
            "history",
            "join_room",
            "leave_room",
            "send_message",
            "private_message",
            "mark_read",
            "set_presence",
            "list_rooms",
            "my_conversations",
        ])
        .prop_map(str::to_owned),
        ".{0,16}",
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let conn = 0..SOCKETS;
    // Weighted so that most runs have several users in rooms talking.
    prop_oneof![
        3 => (conn.clone(), any::<bool>()).prop_map(|(conn, rooms)| Step::Connect { conn, rooms }),
        3 => (conn.clone(), 0..NAMES.len()).prop_map(|(conn, name)| Step::LogIn { conn, name }),
        3 => (conn.clone(), 0..ROOMS.len()).prop_map(|(conn, room)| Step::Join { conn, room }),
        1 => (conn.clone(), 0..ROOMS.len()).prop_map(|(conn, room)| Step::Leave { conn, room }),
        3 => (conn.clone(), 0..ROOMS.len()).prop_map(|(conn, room)| Step::Send { conn, room }),
        3 => (conn.clone(), 0..NAMES.len()).prop_map(|(conn, to)| Step::Direct { conn, to }),
        1 => conn.clone().prop_map(|conn| Step::Disconnect { conn }),
        2 => (conn, event_name(), prop::option::of(json_value()))
            .prop_map(|(conn, event, payload)| Step::Anything { conn, event, payload }),
    ]
}

/// What storage would hold: users, rooms, memberships, the last id of each conversation.
#[derive(Default)]
struct Model {
    next_user: i64,
    rooms: HashMap<String, ConversationId>,
    members: HashMap<ConversationId, HashSet<UserId>>,
    last_id: HashMap<ConversationId, u64>,
    next_direct: i64,
    directs: HashMap<(UserId, UserId), ConversationId>,
}

impl Model {
    fn room(&mut self, name: &str) -> ConversationId {
        if name == "general" {
            return GENERAL;
        }
        let next = ConversationId(100 + self.rooms.len() as i64);
        *self.rooms.entry(name.to_owned()).or_insert(next)
    }

    fn next_id(&mut self, conversation: ConversationId) -> u64 {
        let id = self.last_id.entry(conversation).or_insert(0);
        *id += 1;
        *id
    }

    fn direct(&mut self, a: UserId, b: UserId) -> ConversationId {
        let key = (a.min(b), a.max(b));
        let next = ConversationId(10_000 + self.next_direct);
        let id = *self.directs.entry(key).or_insert(next);
        if id == next {
            self.next_direct += 1;
        }
        id
    }
}

fn now() -> Now {
    Now {
        at: Instant::now(),
        ms: 1_764_589_415_123,
    }
}

fn stored(id: u64, sender: UserId, name: &str) -> StoredMessage {
    StoredMessage {
        id,
        sender,
        sender_name: name.to_owned(),
        text: "hi".to_owned(),
        sent_at: 1_764_589_415_123,
        client_id: None,
    }
}

/// Every socket each event of `out` reaches, with the event.
fn deliveries(chat: &Chat<u32>, out: &[crate::chat::Outgoing<u32>]) -> Vec<(u32, ServerEvent)> {
    let mut got = Vec::new();
    for outgoing in out {
        chat.for_each_recipient(&outgoing.to, |conn| {
            got.push((*conn, outgoing.event.clone()))
        });
    }
    got
}

/// How often the privacy rules were put to the test, over all the cases.
static ROOM_MESSAGES_WITH_OUTSIDERS: AtomicUsize = AtomicUsize::new(0);
static DIRECT_MESSAGES_WITH_OTHERS: AtomicUsize = AtomicUsize::new(0);

struct Run {
    chat: Chat<u32>,
    model: Model,
    /// The highest id each socket has been delivered, per conversation.
    seen: HashMap<(u32, ConversationId), u64>,
}

impl Run {
    fn new() -> Self {
        Self {
            chat: Chat::new(GENERAL, TYPING_LEASE, Duration::ZERO),
            model: Model::default(),
            seen: HashMap::new(),
        }
    }

    fn apply(&mut self, step: Step) -> Result<(), TestCaseError> {
        let chat = &mut self.chat;
        match step {
            Step::Connect { conn, rooms } => {
                if !chat.is_connected(&conn) {
                    chat.connect(&conn, if rooms { Family::Rooms } else { Family::Lobby });
                }
            }
            Step::LogIn { conn, name } => {
                if !chat.is_connected(&conn) {
                    return Ok(());
                }
                if let Ok(name) = chat.check_login(&conn, &json!(NAMES[name])) {
                    self.model.next_user += 1;
                    let user = UserId(self.model.next_user);
                    let _ = chat.log_in(&conn, user, &name, None, &[], now());
                }
            }
            Step::Join { conn, room } => {
                if !chat.is_connected(&conn) {
                    return Ok(());
                }
                if let Ok(JoinPlan::Join { user, room }) =
                    chat.check_join(&conn, &json!({ "room": ROOMS[room] }))
                {
                    let id = self.model.room(room.as_str());
                    let newly = self.model.members.entry(id).or_default().insert(user);
                    let _ =
                        chat.joined(Some(&conn), user, id, &room, newly && id != GENERAL, now());
                }
            }
            Step::Leave { conn, room } => {
                if !chat.is_connected(&conn) {
                    return Ok(());
                }
                if let Ok((user, id, name)) =
                    chat.check_leave(&conn, &json!({ "room": ROOMS[room] }))
                {
                    self.model.members.entry(id).or_default().remove(&user);
                    let _ = chat.left(user, id, &name, now());
                }
            }
            Step::Send { conn, room } => {
                if !chat.is_connected(&conn) {
                    return Ok(());
                }
                let raw = json!({ "room": ROOMS[room], "message": "hi" });
                if let Ok(post) = chat.check_send(&conn, &raw) {
                    let members = self
                        .model
                        .members
                        .get(&post.room)
                        .cloned()
                        .unwrap_or_default();
                    prop_assert!(
                        post.room == GENERAL || members.contains(&post.sender),
                        "a non-member may not send to {}",
                        post.name
                    );
                    let id = self.model.next_id(post.room);
                    let name = chat.name_of(post.sender).unwrap_or_default().to_owned();
                    let outsiders = (0..SOCKETS)
                        .filter_map(|conn| chat.user_of(&conn))
                        .any(|user| !members.contains(&user));
                    if post.room != GENERAL && outsiders {
                        ROOM_MESSAGES_WITH_OUTSIDERS.fetch_add(1, Ordering::Relaxed);
                    }
                    let out = chat.room_message_stored(
                        post.room,
                        &post.name,
                        &stored(id, post.sender, &name),
                    );
                    for (to, event) in deliveries(chat, &out) {
                        if !matches!(event, ServerEvent::ReceiveMessage(_) | ServerEvent::Chat(_)) {
                            continue;
                        }
                        let reader = chat.user_of(&to);
                        prop_assert!(
                            post.room == GENERAL || reader.is_some_and(|u| members.contains(&u)),
                            "socket {to} ({reader:?}) got a message of {}, whose members are {members:?}",
                            post.name
                        );
                        delivered(&mut self.seen, to, post.room, id)?;
                    }
                }
            }
            Step::Direct { conn, to } => {
                if !chat.is_connected(&conn) {
                    return Ok(());
                }
                let raw = json!({ "toUsername": NAMES[to], "message": "psst" });
                let Ok((sender, Recipient::Name(name), post)) = chat.check_private(&conn, &raw)
                else {
                    return Ok(());
                };
                let Some(recipient) = chat.holder_of(&name) else {
                    return Ok(());
                };
                let recipient_name = chat.name_of(recipient).unwrap_or_default().to_owned();
                if let Ok(checked) = chat.direct_post(sender, recipient, &recipient_name, post) {
                    let conversation = self.model.direct(sender, recipient);
                    let id = self.model.next_id(conversation);
                    let sender_name = chat.name_of(sender).unwrap_or_default().to_owned();
                    let others = (0..SOCKETS)
                        .filter_map(|conn| chat.user_of(&conn))
                        .any(|user| user != sender && user != recipient);
                    if others {
                        DIRECT_MESSAGES_WITH_OTHERS.fetch_add(1, Ordering::Relaxed);
                    }
                    let out = chat.direct_message_stored(
                        checked.recipient,
                        &checked.recipient_name,
                        &stored(id, sender, &sender_name),
                    );
                    for (to, event) in deliveries(chat, &out) {
                        if !matches!(event, ServerEvent::PrivateMessage(_)) {
                            continue;
                        }
                        let reader = chat.user_of(&to);
                        prop_assert!(
                            reader == Some(sender) || reader == Some(recipient),
                            "socket {to} ({reader:?}) got a direct message between {sender:?} and {recipient:?}"
                        );
                        delivered(&mut self.seen, to, conversation, id)?;
                    }
                }
            }
            Step::Disconnect { conn } => {
                if chat.is_connected(&conn) {
                    let (_, gone) = chat.disconnect(&conn, now());
                    if let Some(user) = gone {
                        for members in self.model.members.values_mut() {
                            members.remove(&user);
                        }
                    }
                    self.seen.retain(|(socket, _), _| *socket != conn);
                }
            }
            Step::Anything {
                conn,
                event,
                payload,
            } => {
                // The decoder and the checks take anything; none changes state.
                let decoded = ClientEvent::from_wire(&event, payload.clone());
                let _ = decoded.name();
                let raw = payload.unwrap_or(Value::Null);
                let _ = validate_chat(&raw);
                let _ = validate_history(&raw);
                let _ = chat.check_login(&conn, &raw);
                let _ = chat.check_join(&conn, &raw);
                let _ = chat.check_leave(&conn, &raw);
                let _ = chat.check_send(&conn, &raw);
                let _ = chat.check_chat(&conn, &raw);
                let _ = chat.check_private(&conn, &raw);
            }
        }
        self.check_names()
    }

    fn check_names(&self) -> Result<(), TestCaseError> {
        let names = self.chat.online_names();
        let keys: HashSet<String> = names.iter().map(|n| name_key(n)).collect();
        prop_assert_eq!(
            keys.len(),
            names.len(),
            "names unique ignoring case: {:?}",
            names
        );
        Ok(())
    }
}

/// A socket is delivered a conversation's ids in increasing order.
fn delivered(
    seen: &mut HashMap<(u32, ConversationId), u64>,
    to: u32,
    conversation: ConversationId,
    id: u64,
) -> Result<(), TestCaseError> {
    let last = seen.entry((to, conversation)).or_insert(0);
    prop_assert!(id > *last, "socket {to} got id {id} after {last}");
    *last = id;
    Ok(())
}

#[test]
fn arbitrary_traffic_keeps_every_rule() {
    // A fixed seed: the same 256 cases every run, so that the counts below cannot fall to
    // zero by chance on one run (the other properties draw new cases each run).
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let rng = proptest::test_runner::TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = proptest::test_runner::TestRunner::new_with_rng(config, rng);
    let result = runner.run(&prop::collection::vec(step(), 1..120), |steps| {
        let mut run = Run::new();
        for step in steps {
            run.apply(step)?;
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let rooms = ROOM_MESSAGES_WITH_OUTSIDERS.load(Ordering::Relaxed);
    let directs = DIRECT_MESSAGES_WITH_OTHERS.load(Ordering::Relaxed);
    assert!(
        rooms >= 10 && directs >= 10,
        "privacy put to the test: {rooms} room and {directs} direct messages"
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_event_name_and_payload_decodes_without_panicking(
        event in event_name(),
        payload in prop::option::of(json_value()),
    ) {
        let decoded = ClientEvent::from_wire(&event, payload);
        prop_assert!(!decoded.name().is_empty() || event.is_empty());
    }
}

#[test]
fn room_names_from_the_pool_are_valid() {
    for room in ROOMS {
        assert!(RoomName::parse(room).is_some(), "{room}");
    }
}
