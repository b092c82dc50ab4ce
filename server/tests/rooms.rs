//! The rooms protocol over real WebSockets: room isolation, direct conversations that only
//! their two users receive and read, each message once per socket in the family it speaks,
//! persistence of rooms, memberships, direct messages and read markers across a restart,
//! identity that a reused name does not inherit, and a client that stops reading ending up
//! with every message anyway.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use app::protocol::{ServerEvent, GENERAL};
use serde_json::json;
use server::config::Cli;
use support::rooms::{direct_message, dm, drain_quietly, join, room_message, send, session_user};
use support::{Client, TestServer};

#[tokio::test]
async fn a_room_message_reaches_its_members_sockets_once_each_and_nobody_else() {
    let server = TestServer::start().await;
    let (mut ann, ann_cookie) = session_user(&server, "Ann").await;
    let mut ann_tab = Client::connect_rooms(&server, "Ann's tab", Some(&ann_cookie)).await;
    ann_tab
        .until(|e| matches!(e, ServerEvent::Welcome(_)))
        .await;
    let (mut bob, _) = session_user(&server, "Bob").await;
    let (mut cat, _) = session_user(&server, "Cat").await;
    // A lobby-protocol client, and one that speaks both.
    let mut lobby = Client::logged_in(&server, "Dan").await;
    let mut both = Client::logged_in(&server, "Eve").await;

    join(&mut ann, "Rust").await;
    join(&mut bob, "rust").await;
    join(&mut both, "rust").await;
    send(&mut bob, "rust", "in rust").await;
    for client in [&mut ann, &mut ann_tab, &mut bob, &mut both] {
        client.until(|e| room_message(e, "rust", "in rust")).await;
    }
    // Cat is in no room but general; Dan speaks the lobby protocol only.
    lobby.send_raw(r#"42["chat","in general"]"#).await;
    for client in [&mut ann, &mut ann_tab, &mut bob, &mut both, &mut cat] {
        let event = client
            .until(|e| matches!(e, ServerEvent::ReceiveMessage(_) | ServerEvent::Chat(_)))
            .await;
        assert!(
            room_message(&event, GENERAL, "in general"),
            "{}: {event:?}",
            client.label
        );
    }
    let event = lobby
        .until(|e| matches!(e, ServerEvent::ReceiveMessage(_) | ServerEvent::Chat(_)))
        .await;
    assert!(
        matches!(event, ServerEvent::Chat(ref m) if m.message == "in general"),
        "{event:?}"
    );
    // Nothing else: nobody got the room message twice, and the lobby nothing of the room.
    for client in [
        &mut ann,
        &mut ann_tab,
        &mut bob,
        &mut both,
        &mut cat,
        &mut lobby,
    ] {
        let more: Vec<ServerEvent> = drain_quietly(client).await;
        assert!(
            !more
                .iter()
                .any(|e| matches!(e, ServerEvent::ReceiveMessage(_) | ServerEvent::Chat(_))),
            "{}: {more:?}",
            client.label
        );
    }
}

#[tokio::test]
async fn a_direct_conversation_belongs_to_its_two_users() {
    let server = TestServer::start().await;
    let (mut ann, ann_cookie) = session_user(&server, "Ann").await;
    let mut ann_tab = Client::connect_rooms(&server, "Ann's tab", Some(&ann_cookie)).await;
    ann_tab
        .until(|e| matches!(e, ServerEvent::Welcome(_)))
        .await;
    let (mut bob, _) = session_user(&server, "Bob").await;
    let (mut cat, _) = session_user(&server, "Cat").await;

    let id = dm(&mut bob, "ann", "psst").await;
    assert_eq!(id, 1, "a conversation of its own");
    for client in [&mut ann, &mut ann_tab] {
        let event = client.until(|e| direct_message(e, "psst")).await;
        assert!(
            matches!(event, ServerEvent::PrivateMessage(ref m) if !m.is_self && m.from == "Bob" && m.to == "Ann")
        );
    }
    let own = bob.until(|e| direct_message(e, "psst")).await;
    assert!(matches!(own, ServerEvent::PrivateMessage(ref m) if m.is_self));
    assert!(!drain_quietly(&mut cat)
        .await
        .iter()
        .any(|e| direct_message(e, "psst")));

    // Cat cannot read it: her own conversation with Bob is empty, theirs is not hers.
    let page = cat.call("history", json!({ "with": "Bob" })).await;
    assert_eq!(page["messages"], json!([]), "{page}");
    let ann_id = ann.call("register", json!(null)).await;
    assert_eq!(ann_id["ok"], json!(false), "already logged in: {ann_id}");
    let page = ann.call("history", json!({ "with": "bob" })).await;
    assert_eq!(page["messages"][0]["message"], json!("psst"), "{page}");
    let bob_id = page["messages"][0]["userId"].as_u64().expect("sender id");
    let mine = ann.call("my_conversations", json!(null)).await;
    assert_eq!(mine["dms"][0]["userId"].as_u64(), Some(bob_id), "{mine}");
    let ann_id = own_id(&mut ann).await;
    let name = format!("dm:{}:{}", ann_id.min(bob_id), ann_id.max(bob_id));
    let refused = cat.call("history", json!({ "conversation": name })).await;
    assert_eq!(refused["reason"], json!("notAllowed"), "{refused}");
    let allowed = bob.call("history", json!({ "conversation": name })).await;
    assert_eq!(allowed["messages"][0]["isSelf"], json!(true), "{allowed}");
}

/// This client's user id, from `join_room general`.
async fn own_id(client: &mut Client) -> u64 {
    join(client, GENERAL).await["userId"]
        .as_u64()
        .expect("a user id")
}

#[tokio::test]
async fn rooms_memberships_direct_messages_and_read_markers_survive_a_restart() {
    let database = support::TestDatabase::fresh().await;
    let on_file = || database.cli();
    let server = TestServer::start_with(on_file()).await;
    let (mut ann, ann_cookie) = session_user(&server, "Ann").await;
    let (mut bob, bob_cookie) = session_user(&server, "Bob").await;
    join(&mut ann, "rust").await;
    join(&mut bob, "rust").await;
    send(&mut ann, "rust", "one").await;
    send(&mut ann, "rust", "two").await;
    dm(&mut ann, "Bob", "secret").await;
    bob.until(|e| direct_message(e, "secret")).await;
    let read = bob
        .call("mark_read", json!({ "room": "rust", "id": 1 }))
        .await;
    assert_eq!(
        (read["readUpTo"].as_u64(), read["unread"].as_u64()),
        (Some(1), Some(1)),
        "{read}"
    );
    drop((ann, bob));
    server.stop().await.expect("stops");

    let server = TestServer::start_with(on_file()).await;
    let mut bob = Client::connect_rooms(&server, "Bob", Some(&bob_cookie)).await;
    bob.until(|e| matches!(e, ServerEvent::Welcome(n) if n == "Bob"))
        .await;
    let mine = bob.call("my_conversations", json!(null)).await;
    assert_eq!(
        mine["rooms"],
        json!([
            {"room": "general", "unread": 0, "lastId": 0, "readUpTo": 0},
            {"room": "rust", "unread": 1, "lastId": 2, "readUpTo": 1}
        ]),
        "{mine}"
    );
    assert_eq!(mine["dms"][0]["with"], json!("Ann"));
    assert_eq!(mine["dms"][0]["unread"], json!(1));
    let mut ann = Client::connect_rooms(&server, "Ann", Some(&ann_cookie)).await;
    ann.until(|e| matches!(e, ServerEvent::Welcome(n) if n == "Ann"))
        .await;
    // Still a member: messages of the room reach her.
    send(&mut bob, "rust", "three").await;
    ann.until(|e| room_message(e, "rust", "three")).await;
    let page = ann
        .call("history", json!({ "room": "rust", "after": 0 }))
        .await;
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(texts, vec!["one", "two", "three"]);
    server.stop().await.expect("stops");
}

#[tokio::test]
async fn a_name_taken_again_is_someone_else() {
    let server = TestServer::start().await;
    let (mut ann, ann_cookie) = session_user(&server, "Ann").await;
    let (mut bob, _) = session_user(&server, "Bob").await;
    join(&mut ann, "secrets").await;
    dm(&mut bob, "Ann", "for the first Ann").await;
    let first = own_id(&mut ann).await;
    let (status, _, _) = support::http_post(
        &server,
        "/api/logout",
        "application/json",
        Some(&ann_cookie),
        "",
    )
    .await;
    assert_eq!(status, 200);
    ann.until(|e| matches!(e, ServerEvent::SessionEnded(_)))
        .await;

    let (mut new_ann, _) = session_user(&server, "Ann").await;
    assert_ne!(own_id(&mut new_ann).await, first);
    let mine = new_ann.call("my_conversations", json!(null)).await;
    assert_eq!(mine["dms"], json!([]), "{mine}");
    assert_eq!(
        mine["rooms"].as_array().map(Vec::len),
        Some(1),
        "general only: {mine}"
    );
    let page = new_ann.call("history", json!({ "with": "Bob" })).await;
    assert_eq!(page["messages"], json!([]), "{page}");
}

#[tokio::test]
async fn a_client_that_stops_reading_ends_up_with_every_message() {
    const MESSAGES: u64 = 3_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = dir.path().join("settings.toml");
    std::fs::write(&settings, "[socket]\nmax-buffered-packets = 64\n").expect("settings");
    let server = TestServer::start_with(Cli {
        config: Some(settings),
        ..Cli::default()
    })
    .await;
    let (mut slow, cookie) = session_user(&server, "Slow").await;
    let (mut writer, _) = session_user(&server, "Writer").await;
    let text = "x".repeat(1500);

    // The slow client stops reading; thousands of messages flow past it (the writer reads
    // its own as it goes, a burst at a time).
    let mut last = 0;
    for burst in 0..MESSAGES / 30 {
        for _ in 0..30 {
            writer
                .send_raw(&format!(
                    r#"42["send_message",{{"room":"general","message":"{text}"}}]"#
                ))
                .await;
        }
        while last < (burst + 1) * 30 {
            if let ServerEvent::ReceiveMessage(m) = writer.next_event().await {
                last = m.id;
            }
        }
    }

    // It reads again: what reached it, then the end of that connection.
    let mut seen = BTreeSet::new();
    for event in slow.drain_until_closed(Duration::from_secs(60)).await {
        if let ServerEvent::ReceiveMessage(m) = event {
            seen.insert(m.id);
        }
    }
    assert!(
        (seen.len() as u64) < MESSAGES,
        "the queue of 64 overflowed, so the server must have dropped this socket"
    );
    // Reconnected, it catches up from the highest id it has with no gap below it.
    let contiguous = (1..).take_while(|id| seen.contains(id)).last().unwrap_or(0);
    let mut again = Client::connect_rooms(&server, "Slow again", Some(&cookie)).await;
    again.until(|e| matches!(e, ServerEvent::Welcome(_))).await;
    let mut before: Option<u64> = None;
    loop {
        let mut request = json!({ "room": GENERAL, "limit": 100 });
        if let Some(before) = before {
            request["before"] = json!(before);
        }
        let page = again.call("history", request).await;
        let messages = page["messages"].as_array().expect("messages").clone();
        for m in &messages {
            seen.insert(m["id"].as_u64().expect("id"));
        }
        before = messages.first().and_then(|m| m["id"].as_u64());
        if before.is_none_or(|first| first <= contiguous + 1) || page["hasMore"] != json!(true) {
            break;
        }
    }
    assert_eq!(
        seen,
        (1..=MESSAGES).collect::<BTreeSet<u64>>(),
        "every message, once"
    );
}

#[tokio::test]
async fn read_markers_and_typing_reach_the_right_sockets() {
    let server = TestServer::start().await;
    let (mut ann, ann_cookie) = session_user(&server, "Ann").await;
    let mut ann_tab = Client::connect_rooms(&server, "Ann's tab", Some(&ann_cookie)).await;
    ann_tab
        .until(|e| matches!(e, ServerEvent::Welcome(_)))
        .await;
    let (mut bob, _) = session_user(&server, "Bob").await;
    dm(&mut bob, "Ann", "one").await;
    dm(&mut bob, "Ann", "two").await;
    ann.until(|e| direct_message(e, "two")).await;
    ann_tab.until(|e| direct_message(e, "two")).await;

    let read = ann
        .call("mark_read", json!({ "with": "Bob", "id": 2 }))
        .await;
    assert_eq!(read["unread"], json!(0), "{read}");
    let marker = ann_tab
        .until(|e| matches!(e, ServerEvent::ReadMarker(_)))
        .await;
    assert!(
        matches!(marker, ServerEvent::ReadMarker(ref m) if m.with.as_deref() == Some("Bob") && m.id == 2)
    );
    let seen = bob
        .until(|e| matches!(e, ServerEvent::MessagesRead(_)))
        .await;
    assert!(matches!(seen, ServerEvent::MessagesRead(ref m) if m.by == "Ann" && m.id == 2));
    let back = ann
        .call("mark_read", json!({ "with": "Bob", "id": 1 }))
        .await;
    assert_eq!(back["readUpTo"], json!(2), "never back: {back}");

    // Typing to Bob: Bob sees it, Ann's other tab does not; a message ends it.
    let typing = ann
        .call("typing", json!({ "to": "Bob", "isTyping": true }))
        .await;
    assert_eq!(typing["ok"], json!(true), "{typing}");
    let event = bob.until(|e| matches!(e, ServerEvent::TypingIn(_))).await;
    assert!(
        matches!(event, ServerEvent::TypingIn(ref t) if t.is_typing && t.with.as_deref() == Some("Ann"))
    );
    dm(&mut ann, "Bob", "done").await;
    let event = bob
        .until(|e| matches!(e, ServerEvent::TypingIn(_) | ServerEvent::PrivateMessage(_)))
        .await;
    assert!(
        matches!(event, ServerEvent::TypingIn(ref t) if !t.is_typing),
        "{event:?}"
    );
    assert!(!drain_quietly(&mut ann_tab)
        .await
        .iter()
        .any(|e| matches!(e, ServerEvent::TypingIn(_))));
}
