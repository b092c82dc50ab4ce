//! The rules, with plain numbers for sockets: who receives what, in which order.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app::protocol::{PresenceStatus, RejectionReason, ServerEvent};
use serde_json::{json, Value};

use super::*;
use crate::chat::{Family, JoinRefusal, RoomName, SessionId, StoredMessage, TypingWhere};

const GENERAL: ConversationId = ConversationId(1);
const RUST: ConversationId = ConversationId(2);
const ANN: UserId = UserId(10);
const BOB: UserId = UserId(11);
const CAT: UserId = UserId(12);

fn at(instant: Instant) -> Now {
    Now {
        at: instant,
        ms: 1_764_589_415_123,
    }
}

fn now() -> Now {
    at(Instant::now())
}

fn chat() -> Chat<u32> {
    Chat::new(GENERAL, TYPING_LEASE, Duration::from_secs(10))
}

fn rust() -> RoomName {
    RoomName::parse("rust").expect("valid")
}

/// Who gets which events (by name), socket by socket, in order.
fn received(chat: &Chat<u32>, out: &Events<u32>) -> BTreeMap<u32, Vec<&'static str>> {
    let mut got: BTreeMap<u32, Vec<&'static str>> = BTreeMap::new();
    for outgoing in out {
        chat.for_each_recipient(&outgoing.to, |conn| {
            got.entry(*conn).or_default().push(outgoing.event.name());
        });
    }
    got
}

fn recipients(chat: &Chat<u32>, out: &Events<u32>, event: &str) -> Vec<u32> {
    received(chat, out)
        .into_iter()
        .filter(|(_, events)| events.contains(&event))
        .map(|(conn, _)| conn)
        .collect()
}

/// Connects `conn` in `family` and logs it in as a new user without a session.
fn logged_in(
    chat: &mut Chat<u32>,
    conn: u32,
    family: Family,
    user: UserId,
    name: &str,
) -> Events<u32> {
    chat.connect(&conn, family);
    let checked = chat.check_login(&conn, &json!(name)).expect("free name");
    chat.log_in(&conn, user, &checked, None, &[], now())
        .expect("log-in")
}

fn stored(id: u64, sender: UserId, name: &str, text: &str) -> StoredMessage {
    StoredMessage {
        id,
        sender,
        sender_name: name.into(),
        text: text.into(),
        sent_at: 1_764_589_415_123,
        client_id: None,
    }
}

// --- The lobby protocol, as before -----------------------------------------------------

#[test]
fn login_welcomes_then_tells_everyone() {
    let mut chat = chat();
    chat.connect(&9, Family::Lobby);
    let out = logged_in(&mut chat, 1, Family::Lobby, ANN, "Ann");
    assert_eq!(
        out[0],
        Outgoing::only(1, ServerEvent::Welcome("Ann".into()))
    );
    assert_eq!(recipients(&chat, &out, "userJoined"), vec![1, 9]);
    assert_eq!(chat.online_names(), vec!["Ann"]);
}

#[test]
fn bad_and_taken_names_are_refused() {
    let mut chat = chat();
    logged_in(&mut chat, 1, Family::Lobby, ANN, "Ann");
    chat.connect(&2, Family::Lobby);
    for raw in [json!(null), json!(7), json!("ab"), json!("abcdefghijk")] {
        assert_eq!(
            chat.check_login(&2, &raw),
            Err(LoginRefusal::BadName(raw.clone()))
        );
    }
    assert_eq!(
        chat.check_login(&2, &json!(" aNN ")),
        Err(LoginRefusal::NameTaken("aNN".into()))
    );
    assert_eq!(
        chat.check_login(&1, &json!("Other")),
        Err(LoginRefusal::AlreadyLoggedIn)
    );
}

#[test]
fn a_chat_reaches_every_socket_once_in_its_family() {
    let mut chat = chat();
    logged_in(&mut chat, 1, Family::Lobby, ANN, "Ann");
    logged_in(&mut chat, 2, Family::Rooms, BOB, "Bob");
    chat.connect(&3, Family::Lobby); // not logged in
    chat.connect(&4, Family::Rooms); // not logged in: nothing
    let post = chat.check_chat(&1, &json!("hello")).expect("valid");
    assert_eq!((post.room, post.sender), (GENERAL, ANN));
    let out = chat.room_message_stored(
        GENERAL,
        &RoomName::general(),
        &stored(1, ANN, "Ann", "hello"),
    );
    assert_eq!(
        received(&chat, &out),
        BTreeMap::from([
            (1, vec!["chat"]),
            (2, vec!["receive_message"]),
            (3, vec!["chat"])
        ])
    );
}

#[test]
fn bad_chats_are_refused() {
    let mut chat = chat();
    logged_in(&mut chat, 1, Family::Lobby, ANN, "Ann");
    chat.connect(&5, Family::Lobby);
    assert_eq!(
        chat.check_chat(&5, &json!("hi")),
        Err(RejectionReason::NotLoggedIn)
    );
    assert_eq!(
        chat.check_chat(&1, &json!("")),
        Err(RejectionReason::EmptyMessage)
    );
    assert_eq!(
        chat.check_chat(&1, &json!(12)),
        Err(RejectionReason::NotAString)
    );
    assert_eq!(
        chat.check_chat(&1, &json!("x".repeat(2001))),
        Err(RejectionReason::MessageTooLong)
    );
}

#[test]
fn a_disconnect_without_a_session_frees_the_name_and_tells_everyone() {
    let mut chat = chat();
    logged_in(&mut chat, 1, Family::Lobby, ANN, "Ann");
    logged_in(&mut chat, 2, Family::Lobby, BOB, "Bob");
    logged_in(&mut chat, 3, Family::Rooms, CAT, "Cat");
    let (out, gone) = chat.disconnect(&1, now());
    assert_eq!(gone, Some(ANN));
    assert_eq!(
        received(&chat, &out),
        BTreeMap::from([
            (2, vec!["userLeft"]),
            (3, vec!["user_left", "presence_changed"]),
        ])
    );
    assert_eq!(chat.online_names(), vec!["Bob", "Cat"]);
    assert!(chat.disconnect(&1, now()).0.is_empty(), "twice is harmless");
    chat.connect(&7, Family::Lobby);
    assert_eq!(chat.check_login(&7, &json!("ANN")), Ok("ANN".into()));
}

#[test]
fn lobby_typing_is_announced_once_and_ends_by_every_route() {
    let mut chat = chat();
    logged_in(&mut chat, 1, Family::Lobby, ANN, "Ann");
    logged_in(&mut chat, 2, Family::Lobby, BOB, "Bob");
    logged_in(&mut chat, 3, Family::Rooms, CAT, "Cat");
    let start = Instant::now();
    let out = chat.lobby_typing(&1, at(start));
    assert_eq!(
        received(&chat, &out),
        BTreeMap::from([(2, vec!["userTyping"]), (3, vec!["user_typing"])])
    );
    assert!(
        chat.lobby_typing(&1, at(start)).is_empty(),
        "renewal is silent"
    );
    assert_eq!(chat.next_deadline(), Some(start + TYPING_LEASE));
    // A message ends it first.
    let out = chat.room_message_stored(GENERAL, &RoomName::general(), &stored(1, ANN, "Ann", "x"));
    assert_eq!(
        out.iter().map(|o| o.event.name()).collect::<Vec<_>>(),
        vec![
            "userStoppedTyping",
            "user_typing",
            "chat",
            "receive_message"
        ]
    );
    // The lease runs out.
    chat.lobby_typing(&2, at(start));
    assert!(chat
        .expire(at(start + Duration::from_millis(2999)))
        .0
        .is_empty());
    let (out, _) = chat.expire(at(start + TYPING_LEASE));
    assert_eq!(recipients(&chat, &out, "userStoppedTyping"), vec![1]);
    // stopTyping, and the typer's disconnect.
    chat.lobby_typing(&2, now());
    assert_eq!(chat.lobby_stop_typing(&2).len(), 2);
    assert!(chat.lobby_stop_typing(&2).is_empty());
    chat.lobby_typing(&2, now());
    let names: Vec<_> = chat
        .disconnect(&2, now())
        .0
        .iter()
        .map(|o| o.event.name())
        .collect();
    assert_eq!(
        &names[..3],
        &["userStoppedTyping", "user_typing", "userLeft"]
    );
    chat.connect(&8, Family::Lobby);
    assert!(matches!(
        chat.lobby_typing(&8, now())[0].event,
        ServerEvent::RequestRejected(_)
    ));
}

// --- Sessions ---------------------------------------------------------------------------

const ANN_SESSION: SessionId = SessionId(1);

#[test]
fn a_session_joins_once_across_tabs_and_leaves_after_the_grace_period() {
    let mut chat = chat();
    let start = Instant::now();
    chat.claim(ANN, ANN_SESSION, "Ann", at(start));
    assert!(
        chat.online_names().is_empty(),
        "not listed before connecting"
    );
    chat.connect(&9, Family::Lobby);
    chat.connect(&1, Family::Rooms);
    let out = chat
        .log_in(&1, ANN, "Ann", Some(ANN_SESSION), &[], at(start))
        .expect("held");
    assert_eq!(recipients(&chat, &out, "userJoined"), vec![9]);
    chat.connect(&2, Family::Rooms);
    let out = chat
        .log_in(&2, ANN, "Ann", Some(ANN_SESSION), &[], at(start))
        .expect("held");
    assert_eq!(
        received(&chat, &out),
        BTreeMap::from([(2, vec!["welcome"])]),
        "a second tab"
    );
    assert!(chat.disconnect(&1, at(start)).0.is_empty());
    assert!(
        chat.disconnect(&2, at(start)).0.is_empty(),
        "grace, no userLeft yet"
    );
    assert_eq!(chat.online_names(), vec!["Ann"]);
    assert_eq!(chat.next_deadline(), Some(start + Duration::from_secs(10)));
    // A reload within the grace period: back without noise.
    chat.connect(&3, Family::Rooms);
    let out = chat
        .log_in(&3, ANN, "Ann", Some(ANN_SESSION), &[], at(start))
        .expect("held");
    assert_eq!(
        received(&chat, &out),
        BTreeMap::from([(3, vec!["welcome"])])
    );
    chat.disconnect(&3, at(start));
    assert!(chat.expire(at(start + Duration::from_secs(9))).0.is_empty());
    let (out, sessions) = chat.expire(at(start + Duration::from_secs(10)));
    assert_eq!(recipients(&chat, &out, "userLeft"), vec![9]);
    assert_eq!(sessions, vec![(ANN, ANN_SESSION)]);
    assert!(chat.online_names().is_empty());
}

#[test]
fn a_held_name_cannot_be_taken_and_logging_out_frees_it() {
    let mut chat = chat();
    chat.claim(ANN, ANN_SESSION, "Ann", now());
    assert_eq!(
        chat.check_claim(&json!("ANN")),
        Err(crate::chat::ClaimError::NameTaken)
    );
    chat.connect(&9, Family::Lobby);
    assert_eq!(
        chat.check_login(&9, &json!("ann")),
        Err(LoginRefusal::NameTaken("ann".into()))
    );
    chat.connect(&1, Family::Lobby);
    assert!(
        chat.log_in(&1, BOB, "Ann", None, &[], now()).is_err(),
        "someone else's name"
    );
    chat.log_in(&1, ANN, "Ann", Some(ANN_SESSION), &[], now())
        .expect("held");
    chat.lobby_typing(&1, now());
    let (user, conns, out) = chat.end_session(ANN_SESSION, now()).expect("online");
    assert_eq!((user, conns), (ANN, vec![1]));
    assert_eq!(
        out.iter().map(|o| o.event.name()).collect::<Vec<_>>(),
        vec![
            "userStoppedTyping",
            "user_typing",
            "userLeft",
            "user_left",
            "presence_changed"
        ]
    );
    assert_eq!(chat.user_of(&1), None, "the tab is logged out");
    assert_eq!(chat.check_claim(&json!("Ann")), Ok("Ann".into()));
}

#[test]
fn restored_users_come_back_quietly() {
    let mut chat = chat();
    let start = Instant::now();
    chat.restore(ANN, ANN_SESSION, "Ann", &[(RUST, rust())], at(start));
    chat.restore(BOB, SessionId(2), "Bob", &[], at(start));
    assert_eq!(chat.online_names(), vec!["Ann", "Bob"]);
    assert_eq!(chat.room_users(RUST), vec!["Ann"]);
    chat.connect(&1, Family::Rooms);
    let out = chat
        .log_in(&1, ANN, "Ann", Some(ANN_SESSION), &[], at(start))
        .expect("held");
    assert_eq!(out.len(), 1, "{out:?}");
    let (out, sessions) = chat.expire(at(start + Duration::from_secs(10)));
    assert_eq!(sessions, vec![(BOB, SessionId(2))]);
    assert_eq!(recipients(&chat, &out, "presence_changed"), vec![1]);
}

// --- Rooms ------------------------------------------------------------------------------

/// Ann (sockets 1 and 2) and Bob (3) in the rooms family, Cat (4) in the lobby's; Ann and
/// Bob in `rust`.
fn with_a_room() -> Chat<u32> {
    let mut chat = chat();
    logged_in(&mut chat, 1, Family::Rooms, ANN, "Ann");
    chat.connect(&2, Family::Rooms);
    chat.log_in(&2, ANN, "Ann", None, &[], now())
        .expect("same user");
    logged_in(&mut chat, 3, Family::Rooms, BOB, "Bob");
    logged_in(&mut chat, 4, Family::Lobby, CAT, "Cat");
    chat.joined(Some(&1), ANN, RUST, &rust(), true, now());
    chat.joined(Some(&3), BOB, RUST, &rust(), true, now());
    chat.room_users_due(now());
    chat
}

#[test]
fn joining_tells_the_room_and_lists_who_is_in_it() {
    let mut chat = chat();
    logged_in(&mut chat, 1, Family::Rooms, ANN, "Ann");
    chat.connect(&2, Family::Rooms);
    chat.log_in(&2, ANN, "Ann", None, &[], now())
        .expect("same user");
    logged_in(&mut chat, 3, Family::Rooms, BOB, "Bob");
    chat.room_users_due(now());
    assert_eq!(
        chat.check_join(&1, &json!({"room": " Rust "})),
        Ok(JoinPlan::Join {
            user: ANN,
            room: rust()
        })
    );
    assert_eq!(
        chat.check_join(&1, &json!({"username": "bob", "room": "rust"})),
        Err(JoinRefusal::Invalid(RejectionReason::NameMismatch))
    );
    let out = chat.joined(Some(&1), ANN, RUST, &rust(), true, now());
    assert_eq!(
        received(&chat, &out),
        BTreeMap::from([(1, vec!["room_joined"]), (2, vec!["user_joined"])])
    );
    let out = chat.joined(Some(&3), BOB, RUST, &rust(), true, now());
    assert_eq!(recipients(&chat, &out, "user_joined"), vec![1, 2]);
    let lists = chat.room_users_due(now());
    assert_eq!(
        lists,
        vec![Outgoing::new(
            Audience::Room(RUST),
            ServerEvent::RoomUsers(
                vec!["Ann".into(), "Bob".into()],
                app::protocol::RoomRef {
                    room: "rust".into()
                }
            )
        )]
    );
    assert!(chat.room_users_due(now()).is_empty(), "sent once");
}

#[test]
fn joining_logs_in_first_when_needed() {
    let mut chat = chat();
    chat.connect(&1, Family::Rooms);
    assert_eq!(
        chat.check_join(&1, &json!({"room": "rust"})),
        Err(JoinRefusal::Invalid(RejectionReason::NotLoggedIn))
    );
    assert_eq!(
        chat.check_join(&1, &json!({"username": "x", "room": "rust"})),
        Err(JoinRefusal::LogIn(LoginRefusal::BadName(json!("x"))))
    );
    assert_eq!(
        chat.check_join(&1, &json!({"username": "Ann", "room": "no way"})),
        Err(JoinRefusal::Invalid(RejectionReason::BadRoomName))
    );
    assert_eq!(
        chat.check_join(&1, &json!({"username": " Ann ", "room": "Rust"})),
        Ok(JoinPlan::LogInFirst {
            name: "Ann".into(),
            room: rust()
        })
    );
}

#[test]
fn a_room_message_reaches_its_members_sockets_only() {
    let mut chat = with_a_room();
    logged_in(&mut chat, 5, Family::Rooms, UserId(13), "Dan");
    assert_eq!(
        chat.check_send(&5, &json!({"room": "rust", "message": "hi"})),
        Err(RejectionReason::NotMember)
    );
    assert_eq!(
        chat.check_send(&4, &json!({"room": "rust", "message": "hi"})),
        Err(RejectionReason::NotMember)
    );
    let post = chat
        .check_send(
            &3,
            &json!({"room": "RUST", "message": "hi", "clientId": "c1"}),
        )
        .expect("member");
    assert_eq!(
        (post.room, post.sender, post.post.client_id.as_deref()),
        (RUST, BOB, Some("c1"))
    );
    let out = chat.room_message_stored(RUST, &rust(), &stored(1, BOB, "Bob", "hi"));
    assert_eq!(recipients(&chat, &out, "receive_message"), vec![1, 2, 3]);
}

#[test]
fn leaving_tells_the_room_and_the_leaver() {
    let mut chat = with_a_room();
    assert_eq!(
        chat.check_leave(&1, &json!({"room": "general"})),
        Err(RejectionReason::CannotLeave)
    );
    assert_eq!(
        chat.check_leave(&4, &json!({"room": "rust"})),
        Err(RejectionReason::NotMember)
    );
    let (user, room, name) = chat
        .check_leave(&1, &json!({"room": "rust"}))
        .expect("member");
    let out = chat.left(user, room, &name, now());
    assert_eq!(recipients(&chat, &out, "user_left"), vec![1, 2, 3]);
    assert_eq!(chat.room_users(RUST), vec!["Bob"]);
    let out = chat.room_message_stored(RUST, &rust(), &stored(2, BOB, "Bob", "alone"));
    assert_eq!(
        recipients(&chat, &out, "receive_message"),
        vec![3],
        "Ann is out of it"
    );
}

#[test]
fn coming_online_and_going_offline_are_told_to_each_room() {
    let mut chat = with_a_room();
    let (out, _) = chat.disconnect(&3, now());
    assert_eq!(
        received(&chat, &out),
        BTreeMap::from([
            (1, vec!["user_left", "user_left", "presence_changed"]),
            (2, vec!["user_left", "user_left", "presence_changed"]),
            (4, vec!["userLeft"]),
        ])
    );
    chat.connect(&6, Family::Rooms);
    let out = chat
        .log_in(&6, BOB, "Bob", Some(SessionId(5)), &[(RUST, rust())], now())
        .expect("free again");
    let got = received(&chat, &out);
    assert_eq!(
        got[&1],
        vec!["user_joined", "user_joined", "presence_changed"]
    );
    assert_eq!(got[&6], vec!["welcome", "presence_changed"]);
    assert_eq!(chat.room_users(RUST), vec!["Ann", "Bob"]);
}

// --- Direct messages, typing, reading, presence -------------------------------------------

#[test]
fn a_direct_message_reaches_both_users_every_rooms_socket() {
    let mut chat = with_a_room();
    let (sender, to, post) = chat
        .check_private(&3, &json!({"toUsername": "ann", "message": "psst"}))
        .expect("valid");
    assert_eq!(sender, BOB);
    assert_eq!(to, crate::chat::requests::Recipient::Name("ann".into()));
    assert_eq!(
        chat.direct_post(BOB, BOB, "Bob", post.clone()),
        Err(RejectionReason::SelfMessage)
    );
    let out = chat.direct_message_stored(ANN, "Ann", &stored(1, BOB, "Bob", "psst"));
    let copies: Vec<(u32, bool)> = out
        .iter()
        .flat_map(|o| {
            let mut got = Vec::new();
            if let ServerEvent::PrivateMessage(dm) = &o.event {
                chat.for_each_recipient(&o.to, |conn| got.push((*conn, dm.is_self)));
            }
            got
        })
        .collect();
    assert_eq!(copies, vec![(1, false), (2, false), (3, true)]);
}

#[test]
fn typing_in_a_room_and_a_direct_conversation() {
    let mut chat = with_a_room();
    let out = chat
        .typing(&1, TypingWhere::Room(rust()), true, now())
        .expect("member");
    assert_eq!(
        recipients(&chat, &out, "user_typing"),
        vec![3],
        "not Ann's own tabs"
    );
    assert_eq!(
        chat.typing(&4, TypingWhere::Room(rust()), true, now()),
        Err(RejectionReason::NotMember)
    );
    let out = chat
        .typing(&1, TypingWhere::With(BOB), true, now())
        .expect("valid");
    assert_eq!(recipients(&chat, &out, "user_typing"), vec![3]);
    assert_eq!(
        chat.typing(&1, TypingWhere::With(ANN), true, now()),
        Err(RejectionReason::SelfMessage)
    );
    // Ann's DM message ends her typing to Bob; her room lease ends with the socket.
    let out = chat.direct_message_stored(BOB, "Bob", &stored(1, ANN, "Ann", "hey"));
    assert_eq!(out[0].event.name(), "user_typing");
    let (out, _) = chat.disconnect(&1, now());
    assert!(
        matches!(&out[0].event, ServerEvent::TypingIn(t) if !t.is_typing && t.room.as_deref() == Some("rust"))
    );
    let out = chat
        .typing(&2, TypingWhere::Room(rust()), false, now())
        .expect("member");
    assert!(out.is_empty(), "nothing to end");
}

#[test]
fn read_markers_reach_the_readers_other_tabs_and_the_other_party() {
    let chat = with_a_room();
    let out = chat.read_marked(Some(&1), ANN, &ReadTarget::With(BOB, "Bob".into()), 4);
    assert_eq!(
        received(&chat, &out),
        BTreeMap::from([(2, vec!["read_marker"]), (3, vec!["messages_read"])])
    );
    let out = chat.read_marked(Some(&1), ANN, &ReadTarget::Room(RUST, rust()), 4);
    assert_eq!(
        received(&chat, &out),
        BTreeMap::from([(2, vec!["read_marker"])])
    );
}

#[test]
fn a_user_is_away_when_every_tab_is_hidden() {
    let mut chat = with_a_room();
    let (status, out) = chat
        .set_presence(&1, PresenceStatus::Away)
        .expect("logged in");
    assert_eq!((status, out.len()), (PresenceStatus::Online, 0));
    let (status, out) = chat
        .set_presence(&2, PresenceStatus::Away)
        .expect("logged in");
    assert_eq!(status, PresenceStatus::Away);
    assert_eq!(recipients(&chat, &out, "presence_changed"), vec![1, 2, 3]);
    assert_eq!(chat.status(ANN), PresenceStatus::Away);
    assert_eq!(
        chat.set_presence(&99, PresenceStatus::Away),
        Err(RejectionReason::NotLoggedIn)
    );
}

#[test]
fn presence_update_once_per_log_in_of_a_rooms_socket() {
    let mut chat = with_a_room();
    assert!(chat.presence_update_due(&1).is_some());
    assert!(chat.presence_update_due(&1).is_none());
    assert!(chat.presence_update_due(&4).is_none(), "lobby family");
    chat.switch_to_rooms(&4);
    let update = chat.presence_update_due(&4).expect("switched");
    assert!(matches!(update.event, ServerEvent::PresenceUpdate(ref list) if list.len() == 3));
    let _: Value = json!(null);
}

// --- Other servers -----------------------------------------------------------------------

fn listed(id: UserId, name: &str) -> crate::chat::ListedUser {
    crate::chat::ListedUser {
        id,
        name: name.into(),
        status: PresenceStatus::Online,
        rooms: Vec::new(),
    }
}

#[test]
fn users_other_servers_list_are_listed_here_hold_their_names_and_leave_with_their_server() {
    let mut chat = chat();
    let start = Instant::now();
    logged_in(&mut chat, 1, Family::Lobby, ANN, "Ann");
    chat.connect(&2, Family::Rooms);
    chat.listed_on(
        "b",
        vec![listed(BOB, "Bob"), listed(ANN, "Ann")],
        &[],
        at(start),
    );
    assert_eq!(chat.online_names(), vec!["Ann", "Bob"], "Ann once");
    assert_eq!(
        chat.listed_here()
            .into_iter()
            .map(|user| (user.id, user.name))
            .collect::<Vec<_>>(),
        vec![(ANN, "Ann".to_owned())],
        "only this server's own"
    );
    assert!(matches!(
        chat.check_login(&2, &json!("BOB")),
        Err(LoginRefusal::NameTaken(_))
    ));
    assert_eq!(
        chat.check_claim(&json!("bob")),
        Err(crate::chat::ClaimError::NameTaken)
    );

    let out = chat.expire_silent_servers(at(start + Duration::from_secs(5)));
    assert!(out.is_empty(), "b is still within its lease");
    let out = chat.expire_silent_servers(at(start + crate::chat::SERVER_LEASE));
    assert_eq!(
        recipients(&chat, &out, "userLeft"),
        vec![1],
        "Bob left, for the lobby"
    );
    assert_eq!(
        recipients(&chat, &out, "presence_changed"),
        Vec::<u32>::new(),
        "nobody logged in in the rooms family here"
    );
    assert!(
        !out.iter()
            .any(|o| o.event == ServerEvent::UserLeft("Ann".into())),
        "Ann is still here"
    );
    assert_eq!(chat.online_names(), vec!["Ann"]);
    assert!(chat.check_login(&2, &json!("Bob")).is_ok());
}

#[test]
fn a_user_online_on_another_server_arrives_and_leaves_here_quietly() {
    let mut chat = chat();
    chat.connect(&1, Family::Lobby);
    chat.listed_on("b", vec![listed(ANN, "Ann")], &[], now());
    chat.connect(&2, Family::Rooms);
    let out = chat
        .log_in(&2, ANN, "Ann", Some(SessionId(1)), &[], now())
        .expect("her session");
    assert_eq!(
        out.iter().map(|o| o.event.name()).collect::<Vec<_>>(),
        vec!["welcome"],
        "no userJoined: she is online already"
    );
    assert!(chat.is_present(ANN));
    let (out, gone) = chat.disconnect(&2, now());
    assert!(
        out.is_empty() && gone.is_none(),
        "a session user's grace starts"
    );
    let out = chat.end_session(SessionId(1), now()).map(|(_, _, out)| out);
    assert_eq!(
        out.map(|out| out.len()),
        Some(0),
        "no userLeft: b still lists her"
    );
}

#[test]
fn room_users_lists_members_on_other_servers_who_leave_the_room_with_their_server() {
    let mut chat = with_a_room();
    let start = Instant::now();
    let dan = UserId(13);
    let mut listed_dan = listed(dan, "Dan");
    listed_dan.rooms = vec![GENERAL, RUST];
    let mut listed_ann = listed(ANN, "Ann");
    listed_ann.rooms = vec![GENERAL, RUST];
    chat.listed_on("b", vec![listed_ann, listed_dan], &[], at(start));
    assert_eq!(chat.room_users(RUST), vec!["Ann", "Bob", "Dan"], "Ann once");
    let counts: BTreeMap<_, _> = chat.present_counts().into_iter().collect();
    assert_eq!(counts.get(&RUST), Some(&3));
    let out = chat.room_users_due(at(start));
    assert!(
        out.iter().any(|o| matches!(
            &o.event,
            ServerEvent::RoomUsers(names, room) if room.room == "rust" && names.len() == 3
        )),
        "Dan's arrival elsewhere makes rust's list due: {out:?}"
    );

    let out = chat.expire_silent_servers(at(start + crate::chat::SERVER_LEASE));
    assert_eq!(
        recipients(&chat, &out, app::protocol::server::USER_LEFT_ROOM),
        vec![1, 2, 3],
        "rust's members here hear Dan left it"
    );
    assert!(
        !out.iter().any(|o| matches!(
            &o.event,
            ServerEvent::MemberLeft(m) if m.username == "Ann"
        )),
        "Ann is still here: {out:?}"
    );
    assert_eq!(chat.room_users(RUST), vec!["Ann", "Bob"]);
    let out = chat.room_users_due(at(start + crate::chat::SERVER_LEASE));
    assert_eq!(
        recipients(&chat, &out, app::protocol::server::ROOM_USERS),
        vec![1, 2, 3]
    );
}

/// Ann on this server ("a", or another node id) and on "b", then gone from here while "b"
/// still lists her; Bob, in the lobby here, is watching.
fn ann_gone_from_here_while_b_lists_her(node: &str) -> Chat<u32> {
    let mut chat = chat();
    chat.set_node(node);
    logged_in(&mut chat, 1, Family::Lobby, ANN, "Ann");
    logged_in(&mut chat, 2, Family::Lobby, BOB, "Bob");
    chat.listed_on("b", vec![listed(ANN, "Ann")], &[], now());
    let (out, _) = chat.disconnect(&1, now());
    assert_eq!(
        recipients(&chat, &out, "userLeft"),
        Vec::<u32>::new(),
        "b lists her"
    );
    assert_eq!(chat.quiet_departures(now()), vec![ANN]);
    chat
}

#[test]
fn a_user_gone_from_two_servers_at_once_is_announced_by_the_lowest_node() {
    let mut chat = ann_gone_from_here_while_b_lists_her("a");
    assert!(chat.quietly_gone(now()).is_empty(), "b still lists her");
    assert!(chat.listed_on("b", Vec::new(), &[ANN], now()).is_empty());
    let out = chat.quietly_gone(now());
    assert_eq!(recipients(&chat, &out, "userLeft"), vec![2]);
    assert!(chat.quietly_gone(now()).is_empty(), "once");

    // Node "c" leaves it to "b", the lower.
    let mut chat = ann_gone_from_here_while_b_lists_her("c");
    chat.listed_on("b", Vec::new(), &[ANN], now());
    assert!(chat.quietly_gone(now()).is_empty());
}

#[test]
fn a_user_another_server_announced_gone_is_not_announced_again() {
    let mut chat = ann_gone_from_here_while_b_lists_her("a");
    chat.listed_on("b", Vec::new(), &[], now());
    assert!(chat.quietly_gone(now()).is_empty(), "b told everyone");
}

#[test]
fn a_server_taken_for_dead_that_speaks_again_brings_its_users_back() {
    let mut chat = chat();
    let start = Instant::now();
    logged_in(&mut chat, 1, Family::Lobby, ANN, "Ann");
    chat.listed_on("b", vec![listed(BOB, "Bob")], &[], at(start));
    let out = chat.expire_silent_servers(at(start + crate::chat::SERVER_LEASE));
    assert_eq!(recipients(&chat, &out, "userLeft"), vec![1]);
    let back = crate::chat::SERVER_LEASE + Duration::from_secs(1);
    let out = chat.listed_on("b", vec![listed(BOB, "Bob")], &[], at(start + back));
    assert_eq!(recipients(&chat, &out, "userJoined"), vec![1], "{out:?}");
    assert_eq!(chat.online_names(), vec!["Ann", "Bob"]);
    let again = chat.listed_on("b", vec![listed(BOB, "Bob")], &[], at(start + back));
    assert!(again.is_empty(), "once");
}
