//! The per-user rate limits, against a real server over real WebSockets: a burst passes,
//! what comes over it is refused `rateLimited` with `retryAfterMs` and changes nothing,
//! the limit follows the user across sockets and no one else, and each kind of request
//! has its own.
//!
//! The limits here refill so slowly (one token per 100 s) that a busy machine cannot
//! refill one mid-test; the one test that waits for a token uses a 4 s window.

mod support;

use app::protocol::ServerEvent;
use serde_json::{json, Value};
use server::config::Cli;
use support::rooms::{join, session_user};
use support::{Client, TestServer};

/// One token per 100 s: nothing refills during a test.
const GLACIAL: f64 = 0.01;

fn assert_rate_limited(reply: &Value, longest_ms: u64) {
    assert_eq!(reply["ok"], json!(false), "{reply}");
    assert_eq!(reply["reason"], json!("rateLimited"), "{reply}");
    let retry = reply["retryAfterMs"].as_u64().expect("retryAfterMs");
    assert!(
        retry > 0 && retry <= longest_ms,
        "retryAfterMs {retry} of at most {longest_ms}"
    );
}

fn ann_message(event: &ServerEvent) -> Option<String> {
    match event {
        ServerEvent::ReceiveMessage(m) if m.username == "Ann" => Some(m.message.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn a_burst_passes_and_what_comes_over_it_is_refused_on_every_socket_of_the_user() {
    let server = TestServer::start_with(Cli {
        message_rate: Some(GLACIAL),
        message_burst: Some(10),
        ..Cli::default()
    })
    .await;
    let (mut tab1, cookie) = session_user(&server, "Ann").await;
    let mut tab2 = Client::connect_rooms(&server, "Ann's second tab", Some(&cookie)).await;
    tab2.until(|e| matches!(e, ServerEvent::Welcome(_))).await;
    let (mut bob, _) = session_user(&server, "Bob").await;
    let (mut cid, _) = session_user(&server, "Cid").await;

    // Ten from two tabs, all accepted: the burst is the user's, shared by her sockets.
    for n in 0..10 {
        let tab = if n % 2 == 0 { &mut tab1 } else { &mut tab2 };
        let reply = tab
            .call(
                "send_message",
                json!({"room": "general", "message": format!("m{n}")}),
            )
            .await;
        assert_eq!(reply["status"], json!("delivered"), "message {n}: {reply}");
    }
    // Over it, on either tab: refused, with when to try again.
    for (tab, text) in [(&mut tab1, "over1"), (&mut tab2, "over2")] {
        let reply = tab
            .call("send_message", json!({"room": "general", "message": text}))
            .await;
        assert_rate_limited(&reply, 100_000);
    }
    // Without an acknowledgement, the refusal is an `error` event saying the same.
    tab1.send_raw(&format!(
        "42{}",
        json!(["send_message", {"room": "general", "message": "over3"}])
    ))
    .await;
    let error = tab1.until(|e| matches!(e, ServerEvent::Error(_))).await;
    let ServerEvent::Error(error) = error else {
        unreachable!()
    };
    assert_eq!(error.event, "send_message");
    assert!(error.retry_after_ms.is_some_and(|ms| ms > 0), "{error:?}");

    // Someone else is not limited by Ann's sending.
    let marker = support::rooms::send(&mut cid, "general", "Cid's marker").await;
    // Bob saw exactly Ann's ten before Cid's marker: nothing refused was delivered...
    let mut seen = Vec::new();
    loop {
        let event = bob.next_event().await;
        if matches!(&event, ServerEvent::ReceiveMessage(m) if m.id == marker) {
            break;
        }
        seen.extend(ann_message(&event));
    }
    let expected: Vec<String> = (0..10).map(|n| format!("m{n}")).collect();
    assert_eq!(seen, expected);
    // ...nor stored.
    let history = bob.call("history", json!({"room": "general"})).await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["username"] == "Ann")
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(texts, expected);
}

#[tokio::test]
async fn the_lobby_protocol_is_told_with_requestrejected_and_its_receipt() {
    let server = TestServer::start_with(Cli {
        message_rate: Some(GLACIAL),
        message_burst: Some(1),
        ..Cli::default()
    })
    .await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let first = ann.call("chat", json!("first")).await;
    assert_eq!(first["ok"], json!(true), "{first}");
    let over = ann.call("chat", json!("second")).await;
    assert_rate_limited(&over, 100_000);
    let rejected = ann
        .until(|e| matches!(e, ServerEvent::RequestRejected(_)))
        .await;
    let ServerEvent::RequestRejected(rejection) = rejected else {
        unreachable!()
    };
    assert_eq!(rejection.event, "chat");
    assert!(
        rejection.retry_after_ms.is_some_and(|ms| ms > 0),
        "{rejection:?}"
    );
}

#[tokio::test]
async fn a_refused_message_goes_through_once_the_wait_is_over() {
    // One message per 4 s: the second at once is refused, with a wait of at most 4 s.
    let server = TestServer::start_with(Cli {
        message_rate: Some(0.25),
        message_burst: Some(1),
        ..Cli::default()
    })
    .await;
    let (mut ann, _) = session_user(&server, "Ann").await;
    let send = json!({"room": "general", "message": "hi", "clientId": "c1"});
    let again = json!({"room": "general", "message": "again", "clientId": "c2"});
    let first = ann.call("send_message", send).await;
    assert_eq!(first["status"], json!("delivered"), "{first}");
    let refused = ann.call("send_message", again.clone()).await;
    assert_rate_limited(&refused, 4_000);
    let wait = refused["retryAfterMs"].as_u64().unwrap_or(4_000);
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    let resent = ann.call("send_message", again).await;
    assert_eq!(
        resent["status"],
        json!("delivered"),
        "after the wait: {resent}"
    );
    assert_eq!(
        resent["duplicate"],
        json!(false),
        "the refused one was never stored"
    );
}

#[tokio::test]
async fn typing_reads_and_joins_each_have_their_own_limit() {
    let server = TestServer::start_with(Cli {
        typing_rate: Some(GLACIAL),
        typing_burst: Some(3),
        read_rate: Some(GLACIAL),
        read_burst: Some(3),
        join_rate: Some(GLACIAL),
        join_burst: Some(2),
        ..Cli::default()
    })
    .await;
    let (mut ann, _) = session_user(&server, "Ann").await;

    let typing = json!({"room": "general", "isTyping": true});
    for n in 0..3 {
        let reply = ann.call("typing", typing.clone()).await;
        assert_eq!(reply["ok"], json!(true), "typing {n}: {reply}");
    }
    assert_rate_limited(&ann.call("typing", typing).await, 100_000);

    for n in 0..3 {
        let reply = ann.call("history", json!({"room": "general"})).await;
        assert_eq!(reply["ok"], json!(true), "read {n}: {reply}");
    }
    assert_rate_limited(
        &ann.call("history", json!({"room": "general"})).await,
        100_000,
    );
    // Listings are reads too.
    assert_rate_limited(&ann.call("list_rooms", Value::Null).await, 100_000);
    assert_rate_limited(&ann.call("my_conversations", Value::Null).await, 100_000);

    join(&mut ann, "one").await;
    join(&mut ann, "two").await;
    let third = ann.call("join_room", json!({"room": "three"})).await;
    assert_rate_limited(&third, 100_000);
    let room = server
        .store
        .room(&server::chat::RoomName::parse("three").expect("a room name"))
        .await
        .expect("storage");
    assert_eq!(room, None, "a refused join creates no room");

    // Messages have their own limit (off here): still accepted.
    let sent = support::rooms::send(&mut ann, "one", "still talking").await;
    assert!(sent > 0);
}

// --- Per address --------------------------------------------------------------------

/// A raw `POST /api/session` for `name`, with `extra` header lines: the status and what
/// came back (head and body).
async fn post_session(server: &TestServer, name: &str, extra: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = json!({ "name": name }).to_string();
    let request = format!(
        "POST /api/session HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{extra}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    (support::status_and_body(&response).0, response)
}

#[tokio::test]
async fn log_ins_from_one_address_are_limited_on_every_route() {
    let server = TestServer::start_with(Cli {
        login_rate: Some(GLACIAL),
        login_burst: Some(2),
        ..Cli::default()
    })
    .await;
    assert_eq!(post_session(&server, "Ann", "").await.0, 200);
    // A refused name costs nothing.
    assert_eq!(post_session(&server, "x", "").await.0, 400);
    assert_eq!(post_session(&server, "Bob", "").await.0, 200);
    let (status, response) = post_session(&server, "Cid", "").await;
    assert_eq!(status, 429, "{response}");
    assert!(
        response.to_ascii_lowercase().contains("retry-after: "),
        "{response}"
    );
    assert!(response.contains(r#""reason":"rateLimited""#), "{response}");
    assert!(response.contains(r#""retryAfterMs":"#), "{response}");
    // `login` and `join_room` with a name come from the same address.
    let mut lobby = Client::connect(&server, "a lobby socket").await;
    let refused = lobby.call("login", json!("Dan")).await;
    assert_rate_limited(&refused, 100_000);
    let mut rooms = Client::connect_rooms(&server, "a rooms socket", None).await;
    let refused = rooms
        .call("join_room", json!({"username": "Eve", "room": "rust"}))
        .await;
    assert_rate_limited(&refused, 100_000);
    for name in ["Cid", "Dan", "Eve"] {
        let user = server.store.active_user(name).await.expect("storage");
        assert!(user.is_none(), "{name} was never created");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_counts_and_nobody_else_is_believed() {
    let limits = || Cli {
        login_rate: Some(GLACIAL),
        login_burst: Some(1),
        ..Cli::default()
    };
    let behind = TestServer::start_with(Cli {
        trusted_proxies: Some(vec!["127.0.0.1".into()]),
        ..limits()
    })
    .await;
    let from = |client: &str| format!("X-Forwarded-For: {client}\r\n");
    assert_eq!(
        post_session(&behind, "Ann", &from("198.51.100.1")).await.0,
        200
    );
    assert_eq!(
        post_session(&behind, "Bob", &from("198.51.100.1")).await.0,
        429
    );
    assert_eq!(
        post_session(&behind, "Cid", &from("198.51.100.2")).await.0,
        200
    );
    // A client's own X-Forwarded-For, left of what the proxy appended, changes nothing:
    // another address, or garbage.
    let spoofed = from("203.0.113.50, 198.51.100.1");
    assert_eq!(post_session(&behind, "Dan", &spoofed).await.0, 429);
    let garbage = from("garbage, 198.51.100.1");
    assert_eq!(post_session(&behind, "Eve", &garbage).await.0, 429);

    // Without --trusted-proxies, the header is the client's to write, and ignored.
    let direct = TestServer::start_with(limits()).await;
    assert_eq!(
        post_session(&direct, "Ann", &from("198.51.100.1")).await.0,
        200
    );
    assert_eq!(
        post_session(&direct, "Bob", &from("198.51.100.2")).await.0,
        429
    );
}

#[tokio::test]
async fn connections_over_a_limit_are_refused_with_a_connect_error_saying_why() {
    let per_address = TestServer::start_with(Cli {
        connections_per_address: Some(2),
        ..Cli::default()
    })
    .await;
    let first = Client::try_connect(&per_address, "first")
        .await
        .expect("first");
    let _second = Client::try_connect(&per_address, "second")
        .await
        .expect("second");
    let refused = Client::try_connect(&per_address, "third").await.err();
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.starts_with("tooManyConnections")),
        "{refused:?}"
    );
    // One closed, one more may come (once the server has seen it go).
    first.close().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Client::try_connect(&per_address, "after one left").await {
            Ok(_) => break,
            Err(message) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "still refused: {message}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }

    let full = TestServer::start_with(Cli {
        max_connections: Some(1),
        ..Cli::default()
    })
    .await;
    let _only = Client::try_connect(&full, "the only one")
        .await
        .expect("the first");
    let refused = Client::try_connect(&full, "one too many").await.err();
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.starts_with("serverFull")),
        "{refused:?}"
    );

    let fast = TestServer::start_with(Cli {
        connection_rate: Some(GLACIAL),
        connection_burst: Some(2),
        ..Cli::default()
    })
    .await;
    for n in 0..2 {
        Client::try_connect(&fast, "burst")
            .await
            .unwrap_or_else(|message| panic!("connection {n}: {message}"))
            .close()
            .await;
    }
    let refused = Client::try_connect(&fast, "too soon").await.err();
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.starts_with("connectingTooFast")),
        "{refused:?}"
    );
}

// --- The hub's queue ----------------------------------------------------------------

#[tokio::test]
async fn a_client_flooding_faster_than_the_hub_applies_is_closed_alone() {
    let server = TestServer::start().await;
    let (mut flooder, _) = session_user(&server, "Ann").await;
    let (mut bob, _) = session_user(&server, "Bob").await;
    // 5,000 messages in one go, without reading: far more than the 512 a socket may have
    // waiting in the hub's queue.
    let mut sent = 0;
    for n in 0..5_000 {
        let message = json!(["send_message", {"room": "general", "message": format!("flood {n}")}]);
        if !flooder.try_send_raw(&format!("42{message}")).await {
            break;
        }
        sent += 1;
    }
    assert!(
        sent < 5_000 || flooder.is_closed_by_server().await,
        "the flooder is closed"
    );
    // Everyone else goes on: Bob talks and is heard.
    let id = support::rooms::send(&mut bob, "general", "still here").await;
    let history = bob
        .call("history", json!({"room": "general", "after": id - 1}))
        .await;
    assert_eq!(
        history["messages"][0]["message"],
        json!("still here"),
        "{history}"
    );
}
