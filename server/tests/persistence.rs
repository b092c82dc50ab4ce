//! History, sessions and catch-up against real servers, a real database (SQLite, or
//! PostgreSQL under `scripts/with-postgres.sh`) and real WebSockets.

mod support;

use app::protocol::{ClientEvent, ServerEvent, SessionEnd, SessionEndReason};
use serde_json::{json, Value};
use server::chat::NewMessage;
use support::{chat, http_post, session_cookie, Client, TestDatabase, TestServer};

fn ids(reply: &Value) -> Vec<u64> {
    reply["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["id"].as_u64().expect("id"))
        .collect()
}

#[tokio::test]
async fn pagination_reaches_the_first_of_10000_messages_without_gaps_or_repeats() {
    const TOTAL: u64 = 10_000;
    let database = TestDatabase::fresh().await;
    let store = database.open().await;
    let ann = store.create_user("Ann").await.expect("user");
    let bob = store.create_user("Bob").await.expect("user");
    let batch: Vec<_> = (1..=TOTAL)
        .map(|i| {
            let (sender, sender_name) = if i % 2 == 0 {
                (ann, "Ann")
            } else {
                (bob, "Bob")
            };
            let message = NewMessage {
                sender,
                sender_name: sender_name.into(),
                text: format!("message {i}"),
                client_id: None,
            };
            (store.general(), message)
        })
        .collect();
    store.append_all(batch).await.expect("append");
    store.close().await;

    let server = TestServer::start_with(database.cli()).await;
    let mut reader = Client::connect(&server, "reader").await;
    let mut seen: Vec<u64> = Vec::new();
    let mut before: Option<u64> = None;
    let mut pages = 0;
    loop {
        let request = match before {
            Some(before) => json!({ "before": before, "limit": 100 }),
            None => json!({ "limit": 100 }),
        };
        let reply = reader.call("history", request).await;
        assert_eq!(reply["ok"], json!(true), "{reply}");
        let page = ids(&reply);
        assert!(
            page.windows(2).all(|w| w[0] < w[1]),
            "a page is oldest first"
        );
        let first = reply["messages"][0].clone();
        assert_eq!(first["message"], json!(format!("message {}", page[0])));
        seen.splice(0..0, page.iter().copied());
        before = page.first().copied();
        pages += 1;
        if reply["hasMore"] == json!(false) {
            break;
        }
        assert!(pages <= 100, "pagination must end");
    }
    assert_eq!(pages, 100);
    assert_eq!(
        seen,
        (1..=TOTAL).collect::<Vec<u64>>(),
        "every id once, in order"
    );
}

#[tokio::test]
async fn a_session_survives_a_restart_with_its_history_and_ids_go_on() {
    let database = TestDatabase::fresh().await;
    let server = TestServer::start_with(database.cli()).await;
    let cookie = session_cookie(&server, "Ann").await;
    let mut ann = Client::connect_with_cookie(&server, "ann", Some(&cookie)).await;
    ann.expect(ServerEvent::Welcome("Ann".into())).await;
    ann.expect(ServerEvent::UserJoined("Ann".into())).await;
    for text in ["one", "two"] {
        let receipt = ann
            .call("chat", json!({ "text": text, "clientId": text }))
            .await;
        assert_eq!(receipt["ok"], json!(true), "{receipt}");
    }
    server.stop().await.expect("clean stop");

    let server = TestServer::start_with(database.cli()).await;
    let mut watcher = Client::connect(&server, "watcher").await;
    watcher.emit(ClientEvent::OnlineUsers).await;
    watcher
        .expect(ServerEvent::OnlineUsers(vec!["Ann".into()]))
        .await;
    let mut ann = Client::connect_with_cookie(&server, "ann again", Some(&cookie)).await;
    ann.expect(ServerEvent::Welcome("Ann".into())).await;
    let history = ann.call("history", json!({ "after": 0 })).await;
    assert_eq!(ids(&history), vec![1, 2]);
    assert_eq!(history["messages"][1]["message"], json!("two"));
    // A resend of a message stored before the restart is still recognised.
    let again = ann
        .call("chat", json!({ "text": "two", "clientId": "two" }))
        .await;
    assert_eq!(
        (again["id"].clone(), again["duplicate"].clone()),
        (json!(2), json!(true))
    );
    let next = ann
        .call("chat", json!({ "text": "three", "clientId": "three" }))
        .await;
    assert_eq!(next["id"], json!(3));
    // The watcher saw no leave/join noise for Ann, only the new message.
    let ServerEvent::Chat(mut three) = chat("Ann", "three") else {
        unreachable!("chat() builds a chat")
    };
    three.client_id = Some("three".into());
    watcher.expect(ServerEvent::Chat(three)).await;
    watcher.expect_silence().await;
}

#[tokio::test]
async fn forged_sessions_are_refused() {
    let server = TestServer::start().await;
    let _ann = session_cookie(&server, "Ann").await;
    for cookie in [
        "chat_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "chat_session=Ann",
        "chat_session=%00%ff; other=1",
    ] {
        let mut forger = Client::connect_with_cookie(&server, cookie, Some(cookie)).await;
        forger
            .expect(ServerEvent::SessionEnded(SessionEnd::new(
                SessionEndReason::UnknownSession,
            )))
            .await;
        forger.emit(ClientEvent::chat("as Ann?")).await;
        let ServerEvent::RequestRejected(rejection) = forger.next_event().await else {
            panic!("a forged session must not chat");
        };
        assert_eq!(rejection.event, "chat");
        forger.emit(ClientEvent::login("Ann")).await;
        forger
            .expect(ServerEvent::LoginNameExists("Ann".into()))
            .await;
    }
}

#[tokio::test]
async fn a_cut_client_catches_up_exactly_once_in_order() {
    let server = TestServer::start().await;
    let cookie = session_cookie(&server, "Ann").await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    let mut ann = Client::connect_with_cookie(&server, "ann", Some(&cookie)).await;
    ann.expect(ServerEvent::Welcome("Ann".into())).await;
    bob.expect(ServerEvent::UserJoined("Ann".into())).await;
    for i in 1..=3 {
        bob.emit(ClientEvent::chat(&format!("before {i}"))).await;
    }
    let mut last_seen = 0;
    while last_seen < 3 {
        if let ServerEvent::Chat(message) = ann.next_event().await {
            last_seen = message.id;
        }
    }
    ann.close().await;
    for i in 1..=5 {
        bob.emit(ClientEvent::chat(&format!("missed {i}"))).await;
    }
    let mut ann = Client::connect_with_cookie(&server, "ann back", Some(&cookie)).await;
    // Broadcasts still on their way may arrive before the welcome: catch-up covers them.
    loop {
        match ann.next_event().await {
            ServerEvent::Welcome(name) => break assert_eq!(name, "Ann"),
            ServerEvent::Chat(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    // The message Ann sent while cut off is resent with its client id: stored once.
    for _ in 0..2 {
        let receipt = ann
            .call("chat", json!({ "text": "queued", "clientId": "q1" }))
            .await;
        assert_eq!(receipt["id"], json!(9), "{receipt}");
    }
    let catch_up = ann.call("history", json!({ "after": last_seen })).await;
    let texts: Vec<&str> = catch_up["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["message"].as_str().expect("text"))
        .collect();
    assert_eq!(
        texts,
        vec!["missed 1", "missed 2", "missed 3", "missed 4", "missed 5", "queued"]
    );
    // Bob saw no leave/join for Ann's blip, his own chats, and "queued" exactly once.
    let mut bob_saw = Vec::new();
    for _ in 0..9 {
        match bob.next_event().await {
            ServerEvent::Chat(message) => bob_saw.push(message.message),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(bob_saw.last().map(String::as_str), Some("queued"));
    bob.expect_silence().await;
}

#[tokio::test]
async fn logging_out_frees_the_name_at_once() {
    let server = TestServer::start().await;
    let cookie = session_cookie(&server, "Ann").await;
    let mut tab1 = Client::connect_with_cookie(&server, "tab1", Some(&cookie)).await;
    tab1.expect(ServerEvent::Welcome("Ann".into())).await;
    tab1.expect(ServerEvent::UserJoined("Ann".into())).await;
    let mut tab2 = Client::connect_with_cookie(&server, "tab2", Some(&cookie)).await;
    tab2.expect(ServerEvent::Welcome("Ann".into())).await;
    tab1.expect_silence().await;

    let (status, cleared, _) = http_post(
        &server,
        "/api/logout",
        "application/json",
        Some(&cookie),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(cleared.as_deref(), Some("chat_session="));
    for tab in [&mut tab1, &mut tab2] {
        tab.expect(ServerEvent::SessionEnded(SessionEnd::new(
            SessionEndReason::LoggedOut,
        )))
        .await;
        tab.expect(ServerEvent::UserLeft("Ann".into())).await;
    }
    let mut other = Client::logged_in(&server, "ann").await;
    other.expect_silence().await;
    let mut stale = Client::connect_with_cookie(&server, "stale", Some(&cookie)).await;
    stale
        .expect(ServerEvent::SessionEnded(SessionEnd::new(
            SessionEndReason::UnknownSession,
        )))
        .await;
}

#[tokio::test]
async fn the_page_is_rendered_with_the_session_and_history() {
    let server = TestServer::start().await;
    let cookie = session_cookie(&server, "Ann").await;
    let mut ann = Client::connect_with_cookie(&server, "ann", Some(&cookie)).await;
    ann.expect(ServerEvent::Welcome("Ann".into())).await;
    let receipt = ann
        .call(
            "chat",
            json!({ "text": "<b>kept</b> as text", "clientId": "x" }),
        )
        .await;
    assert_eq!(receipt["ok"], json!(true));
    let page = support::http_get(&server, "/", Some(&cookie)).await;
    assert!(
        page.contains("&lt;b&gt;kept&lt;/b&gt; as text"),
        "history rendered as text"
    );
    assert!(
        page.contains("data-testid=\"message-input\""),
        "logged in: the lobby"
    );
    let anonymous = support::http_get(&server, "/", None).await;
    assert!(anonymous.contains("data-testid=\"login-form\""));
    assert!(
        anonymous.contains("as text"),
        "history is public, like the lobby"
    );
}
