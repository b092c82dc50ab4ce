//! Servers sharing a real `redis-server` (Debian's package), started on a free loopback
//! port and restarted mid-test.

mod support;

use std::time::Duration;

use app::protocol::{ClientEvent, ServerEvent};
use futures_util::StreamExt;
use server::cluster::ReconnectingDriver;
use server::config::Cli;
use socketioxide_redis::drivers::Driver;
use support::redis::RedisServer;
use support::rooms::{direct_message, dm, drain_quietly, join, room_message, send, session_user};
use support::{chat, http_get, http_post, status_and_body, Client, TestDatabase, TestServer};

/// Publishes `prefix-N` from `from` every 50 ms until `stream` receives one of them (or
/// 15 s pass); returns what it received.
async fn publish_until_heard(
    from: &ReconnectingDriver,
    stream: &mut socketioxide_redis::drivers::MessageStream<(String, Vec<u8>)>,
    prefix: &str,
) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    for n in 0.. {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{prefix}: never heard"
        );
        // Publishing fails while Redis is down: try again.
        let _ = from
            .publish("chat-test".into(), format!("{prefix}-{n}").into_bytes())
            .await;
        if let Ok(Some((channel, message))) =
            tokio::time::timeout(Duration::from_millis(50), stream.next()).await
        {
            assert_eq!(channel, "chat-test");
            return String::from_utf8(message).expect("utf-8");
        }
    }
    unreachable!()
}

#[tokio::test]
async fn subscriptions_survive_a_redis_restart() {
    let mut redis = RedisServer::start();
    let publisher = ReconnectingDriver::connect(&redis.url())
        .await
        .expect("connect");
    let subscriber = ReconnectingDriver::connect(&redis.url())
        .await
        .expect("connect");
    let mut stream = subscriber
        .subscribe("chat-test".into(), 16)
        .await
        .expect("subscribe");
    assert_eq!(subscriber.num_serv("chat-test").await.expect("numsub"), 1);
    publisher
        .publish("chat-test".into(), b"before".to_vec())
        .await
        .expect("publish");
    let first = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("heard in time");
    assert_eq!(first, Some(("chat-test".into(), b"before".to_vec())));

    redis.restart();
    let heard = publish_until_heard(&publisher, &mut stream, "after").await;
    assert!(heard.starts_with("after-"), "{heard}");
    assert_eq!(
        subscriber.num_serv("chat-test").await.expect("numsub"),
        1,
        "subscribed again, once"
    );
    subscriber.ping().await.expect("ping");

    drop(redis);
    assert!(
        publisher.ping().await.is_err(),
        "no Redis: the ping says so"
    );
}

/// `GET /readyz` of `server`: its status and body.
async fn readiness(server: &TestServer) -> (u16, String) {
    let response = http_get(server, "/readyz", None).await;
    let (status, body) = status_and_body(&response);
    (status, body.to_owned())
}

/// Asks `/readyz` every 50 ms until it answers `wanted` (or 15 s pass).
async fn until_readiness(server: &TestServer, wanted: (u16, &str)) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = readiness(server).await;
        if (status, body.as_str()) == wanted {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz stayed {status} {body}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A server on Redis chats as one on its own does, says it is not ready while Redis is
/// down (and goes on serving its own sockets), and is ready again once Redis is back.
#[tokio::test]
async fn a_server_on_redis_is_ready_only_while_redis_answers() {
    let mut redis = RedisServer::start();
    let server = TestServer::start_with(Cli {
        redis_url: Some(redis.url()),
        ..Cli::default()
    })
    .await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    ann.expect(ServerEvent::UserJoined("Bob".into())).await;
    assert_eq!(readiness(&server).await, (200, "ready".into()));

    redis.kill();
    until_readiness(&server, (503, "redis unreachable")).await;
    bob.emit(ClientEvent::chat("still here")).await;
    ann.expect(chat("Bob", "still here")).await;
    bob.expect(chat("Bob", "still here")).await;

    redis.start_again();
    until_readiness(&server, (200, "ready")).await;
    ann.emit(ClientEvent::chat("and back")).await;
    bob.expect(chat("Ann", "and back")).await;
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_server_whose_redis_cannot_be_reached_does_not_start() {
    let redis = RedisServer::start();
    let url = redis.url();
    drop(redis);
    let mut cli = Cli {
        redis_url: Some(url),
        address: Some([127, 0, 0, 1].into()),
        port: Some(0),
        ..Cli::default()
    };
    let database = support::TestDatabase::fresh().await;
    cli.database_url = Some(database.url.clone());
    let settings = server::config::Settings::load(&cli).expect("settings");
    let store = server::open_store(&settings).await.expect("database");
    let (listener, _) = server::bind(&settings).await.expect("bind");
    let error = server::serve(settings, store, listener, std::future::pending())
        .await
        .expect_err("no Redis, no server");
    assert!(error.to_string().contains("Redis"), "{error}");
}

/// Two servers sharing one Redis and one database (each test its own).
async fn two_servers(redis: &RedisServer) -> (TestDatabase, TestServer, TestServer) {
    two_servers_with(redis, None).await
}

/// [`two_servers`], both with this typing lease (the default when `None`).
async fn two_servers_with(
    redis: &RedisServer,
    typing_lease_ms: Option<u64>,
) -> (TestDatabase, TestServer, TestServer) {
    let database = TestDatabase::fresh().await;
    let on_cluster = || Cli {
        redis_url: Some(redis.url()),
        database_url: database.cli().database_url,
        typing_lease_ms,
        ..Cli::default()
    };
    let a = TestServer::start_with(on_cluster()).await;
    let b = TestServer::start_with(on_cluster()).await;
    (database, a, b)
}

/// The lobby protocol across two servers: what one says, everyone on both hears once.
#[tokio::test]
async fn a_lobby_chat_crosses_servers_both_ways() {
    let redis = RedisServer::start();
    let (_database, a, b) = two_servers(&redis).await;
    let (mut ann, mut bob) = ann_on_a_bob_on_b(&a, &b).await;

    ann.emit(ClientEvent::chat("hello from A")).await;
    ann.expect(chat("Ann", "hello from A")).await;
    bob.expect(chat("Ann", "hello from A")).await;
    bob.emit(ClientEvent::chat("hello from B")).await;
    bob.expect(chat("Bob", "hello from B")).await;
    ann.expect(chat("Bob", "hello from B")).await;
    for client in [&mut ann, &mut bob] {
        client.expect_silence().await;
    }
}

/// Rooms-protocol session users: Ann on `a`, Bob and Cat on `b`; Ann and Bob in `rust`.
async fn ann_on_a_bob_and_cat_on_b_with_rust(
    a: &TestServer,
    b: &TestServer,
) -> (Client, Client, Client) {
    let (mut ann, _) = session_user(a, "Ann").await;
    let (mut bob, _) = session_user(b, "Bob").await;
    let (cat, _) = session_user(b, "Cat").await;
    join(&mut ann, "rust").await;
    join(&mut bob, "rust").await;
    (ann, bob, cat)
}

/// The rooms protocol across two servers: a room's members on both servers get its
/// messages (and nobody else does), and a direct message reaches its recipient's server.
#[tokio::test]
async fn rooms_and_direct_messages_cross_servers_both_ways() {
    let redis = RedisServer::start();
    let (_database, a, b) = two_servers(&redis).await;
    let (mut ann, mut bob, mut cat) = ann_on_a_bob_and_cat_on_b_with_rust(&a, &b).await;

    send(&mut ann, "rust", "from A to the room").await;
    bob.until(|e| room_message(e, "rust", "from A to the room"))
        .await;
    send(&mut bob, "rust", "from B to the room").await;
    ann.until(|e| room_message(e, "rust", "from B to the room"))
        .await;

    dm(&mut ann, "Bob", "A to B, privately").await;
    bob.until(|e| direct_message(e, "A to B, privately")).await;
    dm(&mut bob, "Ann", "B to A, privately").await;
    ann.until(|e| direct_message(e, "B to A, privately")).await;

    // Cat, on B with Bob, is in neither.
    let heard = drain_quietly(&mut cat).await;
    assert!(
        !heard.iter().any(|e| matches!(
            e,
            ServerEvent::ReceiveMessage(m) if m.room == "rust"
        ) || matches!(e, ServerEvent::PrivateMessage(_))),
        "Cat heard what is not hers: {heard:?}"
    );
}

/// Waits until `client` receives a `room_users` of `room` that is, sorted, `expected`.
async fn until_room_users(client: &mut Client, room: &str, expected: &[&str]) {
    client
        .until(|e| {
            let ServerEvent::RoomUsers(names, listed) = e else {
                return false;
            };
            let mut names = names.clone();
            names.sort();
            listed.room == room && names == expected
        })
        .await;
}

/// A room's `room_users` lists its members on every server, on every server, as they
/// join and leave on either.
#[tokio::test]
async fn room_users_lists_the_members_on_every_server() {
    let redis = RedisServer::start();
    let (_database, a, b) = two_servers(&redis).await;
    let (mut ann, mut bob, mut cat) = ann_on_a_bob_and_cat_on_b_with_rust(&a, &b).await;
    until_room_users(&mut ann, "rust", &["Ann", "Bob"]).await;
    until_room_users(&mut bob, "rust", &["Ann", "Bob"]).await;
    join(&mut cat, "rust").await;
    until_room_users(&mut ann, "rust", &["Ann", "Bob", "Cat"]).await;
    until_room_users(&mut bob, "rust", &["Ann", "Bob", "Cat"]).await;
    let reply = bob.call("list_rooms", serde_json::json!({})).await;
    let rust = reply["rooms"]
        .as_array()
        .and_then(|rooms| rooms.iter().find(|r| r["room"] == "rust"))
        .unwrap_or_else(|| panic!("no rust in {reply}"));
    assert_eq!(
        rust["online"],
        serde_json::json!(3),
        "Ann, on A, counts: {reply}"
    );

    let reply = ann
        .call("leave_room", serde_json::json!({ "room": "rust" }))
        .await;
    assert_eq!(reply["ok"], serde_json::json!(true), "{reply}");
    until_room_users(&mut bob, "rust", &["Bob", "Cat"]).await;
    until_room_users(&mut cat, "rust", &["Bob", "Cat"]).await;
}

/// Asks `client` for `onlineUsers` until the answer, sorted, is `expected` (or 10 s pass).
async fn until_online(client: &mut Client, expected: &[&str]) {
    until_online_keeping(client, expected, &mut Vec::new()).await;
}

/// Every server lists everyone online on any of them, and a name held on one server is
/// taken on the others.
#[tokio::test]
async fn every_server_lists_everyone_and_a_name_held_anywhere_is_taken() {
    let redis = RedisServer::start();
    let (_database, a, b) = two_servers(&redis).await;
    let (_ann, _bob) = ann_on_a_bob_on_b(&a, &b).await;

    let mut mallory = Client::connect(&b, "mallory").await;
    mallory.emit(ClientEvent::login("ANN")).await;
    mallory
        .until(|e| matches!(e, ServerEvent::LoginNameExists(_)))
        .await;
    let (status, cookie, body) = http_post(
        &b,
        "/api/session",
        "application/json",
        None,
        r#"{"name":"ann"}"#,
    )
    .await;
    assert_eq!(
        (status, cookie),
        (409, None),
        "no session for a name held on the other server: {body}"
    );
}

/// What a lobby log-in as `name` on `client` came to: true for `welcome`, false for
/// `loginNameExists`.
async fn login_outcome(client: &mut Client, name: &str) -> bool {
    let event = client
        .until(
            |e| matches!(e, ServerEvent::Welcome(n) | ServerEvent::LoginNameExists(n) if n == name),
        )
        .await;
    matches!(event, ServerEvent::Welcome(_))
}

/// One name raced on two servers, at once and one right after the other (before the
/// first server's presence can reach the second): exactly one log-in wins each time, and
/// the winner stays logged in.
#[tokio::test]
async fn the_same_name_raced_on_two_servers_is_won_exactly_once() {
    let redis = RedisServer::start();
    let (_database, a, b) = two_servers(&redis).await;
    for round in 0..5 {
        let name = format!("Zed{round}");
        let mut on_a = Client::connect(&a, "on A").await;
        let mut on_b = Client::connect(&b, "on B").await;
        let upper = name.to_uppercase();
        let (won_a, won_b) = if round % 2 == 0 {
            tokio::join!(
                on_a.emit(ClientEvent::login(&name)),
                on_b.emit(ClientEvent::login(&upper))
            );
            (
                login_outcome(&mut on_a, &name).await,
                login_outcome(&mut on_b, &upper).await,
            )
        } else {
            on_a.emit(ClientEvent::login(&name)).await;
            let won_a = login_outcome(&mut on_a, &name).await;
            assert!(won_a, "{name}: alone on A");
            on_b.emit(ClientEvent::login(&upper)).await;
            (won_a, login_outcome(&mut on_b, &upper).await)
        };
        assert!(won_a != won_b, "{name}: A won {won_a}, B won {won_b}");
        let (winner, expected) = if won_a {
            (&mut on_a, name.clone())
        } else {
            (&mut on_b, upper)
        };
        let mut others = Client::connect(if won_a { &b } else { &a }, "the other side").await;
        until_online(&mut others, &[expected.as_str()]).await;
        until_online(winner, &[expected.as_str()]).await;
        drop(others);
        drop(on_a);
        drop(on_b);
        let mut nobody = Client::connect(&a, "nobody").await;
        until_online(&mut nobody, &[]).await;
    }
}

/// A lobby client logged in as `name`: what other servers deliver meanwhile may come
/// before or between its own `welcome` and `userJoined`.
async fn logged_in_on(server: &TestServer, name: &str) -> Client {
    let mut client = Client::connect(server, name).await;
    client.emit(ClientEvent::login(name)).await;
    client
        .until(|e| matches!(e, ServerEvent::Welcome(n) if n == name))
        .await;
    client
        .until(|e| matches!(e, ServerEvent::UserJoined(n) if n == name))
        .await;
    client
}

/// Ann logged in on `a`, Bob on `b`, once both servers list both, with nothing left to
/// receive.
async fn ann_on_a_bob_on_b(a: &TestServer, b: &TestServer) -> (Client, Client) {
    let mut ann = logged_in_on(a, "Ann").await;
    let mut bob = logged_in_on(b, "Bob").await;
    until_online(&mut ann, &["Ann", "Bob"]).await;
    until_online(&mut bob, &["Ann", "Bob"]).await;
    drain_quietly(&mut ann).await;
    drain_quietly(&mut bob).await;
    (ann, bob)
}

/// One user on two servers: joining or leaving a room on one changes what their sockets
/// on the other receive, and logging out on one logs them out on the other.
#[tokio::test]
async fn a_users_rooms_and_log_out_follow_them_to_their_other_server() {
    let redis = RedisServer::start();
    let (_database, a, b) = two_servers(&redis).await;
    let (mut ann_a, cookie) = session_user(&a, "Ann").await;
    let mut ann_b = Client::connect_rooms(&b, "Ann on B", Some(&cookie)).await;
    ann_b
        .until(|e| matches!(e, ServerEvent::Welcome(n) if n == "Ann"))
        .await;
    let (mut bob, _) = session_user(&b, "Bob").await;
    join(&mut bob, "secret").await;

    join(&mut ann_a, "secret").await;
    // Her B socket is in the room once it hears her join (as her other tabs do).
    ann_b
        .until(|e| matches!(e, ServerEvent::MemberJoined(m) if m.room == "secret"))
        .await;
    send(&mut bob, "secret", "one").await;
    ann_b.until(|e| room_message(e, "secret", "one")).await;
    ann_a.until(|e| room_message(e, "secret", "one")).await;

    let reply = ann_a
        .call("leave_room", serde_json::json!({ "room": "secret" }))
        .await;
    assert_eq!(reply["ok"], serde_json::json!(true), "{reply}");
    // Her B socket hears that she left (through the bus) once B has applied it.
    ann_b
        .until(|e| matches!(e, ServerEvent::MemberLeft(m) if m.room == "secret"))
        .await;
    send(&mut bob, "secret", "two").await;
    send(&mut bob, "secret", "three").await;
    let heard = drain_quietly(&mut ann_b).await;
    assert!(
        !heard
            .iter()
            .any(|e| matches!(e, ServerEvent::ReceiveMessage(m) if m.room == "secret")),
        "Ann's B socket still hears the room she left: {heard:?}"
    );

    // Logged out with a tab on each server, each server sees the other still listing
    // her: she is announced gone once, by one of them, to everyone on both.
    let mut cat = logged_in_on(&a, "Cat").await;
    let (status, _, body) =
        http_post(&a, "/api/logout", "application/json", Some(&cookie), "").await;
    assert!(status < 400, "log-out: {status} {body}");
    ann_b
        .until(|e| matches!(e, ServerEvent::SessionEnded(_)))
        .await;
    announced_gone_once(&mut cat, &mut bob, "Ann", &["Bob", "Cat"]).await;

    // Logged out through the other server (the balancer's choice), with her only tab on
    // A: A announces her to everyone.
    let (mut dan, dan_cookie) = session_user(&a, "Dan").await;
    until_online(&mut bob, &["Bob", "Cat", "Dan"]).await;
    let (status, _, body) =
        http_post(&b, "/api/logout", "application/json", Some(&dan_cookie), "").await;
    assert!(status < 400, "log-out: {status} {body}");
    dan.until(|e| matches!(e, ServerEvent::SessionEnded(_)))
        .await;
    announced_gone_once(&mut cat, &mut bob, "Dan", &["Bob", "Cat"]).await;
}

/// The events `client` receives until one matches `last` (included).
async fn events_until(
    client: &mut Client,
    last: impl Fn(&ServerEvent) -> bool,
) -> Vec<ServerEvent> {
    let mut events = Vec::new();
    loop {
        let event = client.next_event().await;
        let done = last(&event);
        events.push(event);
        if done {
            return events;
        }
    }
}

/// [`until_online`], keeping every event received meanwhile in `heard`.
async fn until_online_keeping(
    client: &mut Client,
    expected: &[&str],
    heard: &mut Vec<ServerEvent>,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        client.emit(ClientEvent::OnlineUsers).await;
        let events = events_until(client, |e| matches!(e, ServerEvent::OnlineUsers(_))).await;
        let done = matches!(events.last(), Some(ServerEvent::OnlineUsers(names))
            if { let mut names = names.clone(); names.sort(); names == expected });
        heard.extend(events);
        if done {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}: never online {expected:?}",
            client.label
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `name` has gone (logged out) with a lobby client `on_a` on one server and a rooms client
/// `on_b` on the other watching: each hears it exactly once (`userLeft`, `presence_changed`
/// offline), wherever it was announced from. Settled first: both servers list only
/// `rest`, so each has made its decision; then a marker from each server, sent after it,
/// reaches the other one after anything it announced.
async fn announced_gone_once(on_a: &mut Client, on_b: &mut Client, name: &str, rest: &[&str]) {
    let (mut heard_a, mut heard_b) = (Vec::new(), Vec::new());
    until_online_keeping(on_a, rest, &mut heard_a).await;
    until_online_keeping(on_b, rest, &mut heard_b).await;
    let marker_a = format!("{name} is gone, says A");
    let marker_b = format!("{name} is gone, says B");
    on_a.emit(ClientEvent::chat(&marker_a)).await;
    send(on_b, "general", &marker_b).await;
    heard_a.extend(
        events_until(
            on_a,
            |e| matches!(e, ServerEvent::Chat(m) if m.message == marker_b),
        )
        .await,
    );
    heard_b.extend(events_until(on_b, |e| room_message(e, "general", &marker_a)).await);
    let left = |e: &ServerEvent| matches!(e, ServerEvent::UserLeft(n) if n == name);
    let offline = |e: &ServerEvent| {
        matches!(e, ServerEvent::PresenceChanged(p)
            if p.username == name && p.status == app::protocol::PresenceStatus::Offline)
    };
    assert_eq!(
        heard_a.iter().filter(|e| left(e)).count(),
        1,
        "A's lobby: {heard_a:?}"
    );
    assert_eq!(
        heard_b.iter().filter(|e| offline(e)).count(),
        1,
        "B's room client: {heard_b:?}"
    );
}

/// A typing lease taken on A is shown on B, and ends on B by every route: `stopTyping`,
/// the lease running out, a chat, and the typist's disconnect.
#[tokio::test]
async fn a_typing_lease_on_one_server_ends_on_the_other_by_every_route() {
    let redis = RedisServer::start();
    let (_database, a, b) = two_servers_with(&redis, Some(600)).await;
    let (mut ann, mut bob) = ann_on_a_bob_on_b(&a, &b).await;
    let typing = ServerEvent::UserTyping("Ann".into());
    let stopped = ServerEvent::UserStoppedTyping("Ann".into());

    ann.emit(ClientEvent::Typing(serde_json::Value::Null)).await;
    bob.expect(typing.clone()).await;
    ann.emit(ClientEvent::StopTyping).await;
    bob.expect(stopped.clone()).await;

    ann.emit(ClientEvent::Typing(serde_json::Value::Null)).await;
    bob.expect(typing.clone()).await;
    // No renewal: the lease (600 ms) runs out on A, and B hears it.
    bob.expect(stopped.clone()).await;

    ann.emit(ClientEvent::Typing(serde_json::Value::Null)).await;
    bob.expect(typing.clone()).await;
    ann.emit(ClientEvent::chat("done typing")).await;
    bob.expect(stopped.clone()).await;
    bob.expect(chat("Ann", "done typing")).await;

    ann.emit(ClientEvent::Typing(serde_json::Value::Null)).await;
    bob.expect(typing).await;
    drop(ann);
    bob.expect(stopped).await;
    bob.expect(ServerEvent::UserLeft("Ann".into())).await;
}

/// Messages sent through A are caught up by a client of B: exactly the missed ones, in
/// order (ids are the database's, whichever server stored them).
#[tokio::test]
async fn a_catch_up_asked_on_another_server_returns_exactly_what_was_missed() {
    let redis = RedisServer::start();
    let (_database, a, b) = two_servers(&redis).await;
    let (mut ann, _) = session_user(&a, "Ann").await;
    join(&mut ann, "rust").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(send(&mut ann, "rust", &format!("m{i}")).await);
    }
    let (mut bob, _) = session_user(&b, "Bob").await;
    join(&mut bob, "rust").await;
    let reply = bob
        .call(
            "history",
            serde_json::json!({ "room": "rust", "after": ids[1] }),
        )
        .await;
    let got: Vec<(u64, String)> = reply["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["id"].as_u64().expect("id"),
                m["message"].as_str().expect("text").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = ids[2..]
        .iter()
        .zip(["m2", "m3", "m4"])
        .map(|(id, text)| (*id, text.to_owned()))
        .collect();
    assert_eq!(got, expected, "{reply}");
}

/// Redis killed and started again under two servers: both say they are not ready
/// meanwhile, and once it is back, chat crosses between them again both ways.
#[tokio::test]
async fn chat_crosses_servers_again_after_redis_restarts() {
    let mut redis = RedisServer::start();
    let (_database, a, b) = two_servers(&redis).await;
    let (mut ann, mut bob) = ann_on_a_bob_on_b(&a, &b).await;

    redis.kill();
    until_readiness(&a, (503, "redis unreachable")).await;
    until_readiness(&b, (503, "redis unreachable")).await;
    redis.start_again();
    until_readiness(&a, (200, "ready")).await;
    until_readiness(&b, (200, "ready")).await;

    // Resubscribed: a chat from each side reaches the other.
    ann.emit(ClientEvent::chat("A after")).await;
    bob.until(|e| matches!(e, ServerEvent::Chat(m) if m.message == "A after"))
        .await;
    bob.emit(ClientEvent::chat("B after")).await;
    ann.until(|e| matches!(e, ServerEvent::Chat(m) if m.message == "B after"))
        .await;
}

/// A direct message reaches someone online only on the other server who logged in
/// without a session (`register`), and so is known there and not in the database.
#[tokio::test]
async fn a_direct_message_reaches_a_user_without_a_session_on_the_other_server() {
    let redis = RedisServer::start();
    let (_database, a, b) = two_servers(&redis).await;
    let mut dan = Client::connect_rooms(&a, "Dan", None).await;
    let registered = dan.call("register", serde_json::json!("Dan")).await;
    assert_eq!(registered["ok"], serde_json::json!(true), "{registered}");
    let (mut cat, _) = session_user(&b, "Cat").await;
    until_online(&mut Client::connect(&b, "watcher").await, &["Cat", "Dan"]).await;

    dm(&mut cat, "Dan", "hi Dan").await;
    dan.until(|e| direct_message(e, "hi Dan")).await;
}
