//! Every rule of docs/protocol.md, against a real server over real WebSockets, with several
//! clients at once: who receives what, exactly once, and who does not.

mod support;

use app::protocol::{ClientEvent, Rejection, RejectionReason, ServerEvent};
use serde_json::json;
use support::{chat, Client, TestServer};

fn rejected(event: &str, reason: RejectionReason) -> ServerEvent {
    ServerEvent::RequestRejected(Rejection::new(event, reason))
}

#[tokio::test]
async fn login_welcomes_and_tells_every_socket() {
    let server = TestServer::start().await;
    let mut watcher = Client::connect(&server, "watcher (not logged in)").await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    watcher.expect(ServerEvent::UserJoined("Bob".into())).await;

    let mut ann = Client::connect(&server, "Ann").await;
    ann.emit(ClientEvent::login("Ann")).await;
    ann.expect(ServerEvent::Welcome("Ann".into())).await;
    ann.expect(ServerEvent::UserJoined("Ann".into())).await;
    bob.expect(ServerEvent::UserJoined("Ann".into())).await;
    watcher.expect(ServerEvent::UserJoined("Ann".into())).await;
    for client in [&mut ann, &mut bob, &mut watcher] {
        client.expect_silence().await;
    }
}

/// A crowd logging in at once, queued behind a log-in that waits for the database (so
/// the hub takes them in batches): exactly one socket wins each name (ignoring case), the
/// rest are told why (a rival right behind the winner, in its batch, too), the one user
/// the database refuses costs that log-in only, and every socket hears each winner's
/// `userJoined` once, all in the same order, the order `onlineUsers` then lists.
#[tokio::test]
async fn a_crowd_logging_in_at_once_is_announced_once_each_in_one_order() {
    let database = support::TestDatabase::fresh().await;
    let server = TestServer::start_with(database.cli()).await;
    let mut side = database.side_connection().await;
    side.execute(
        "CREATE TRIGGER refused BEFORE INSERT ON users WHEN NEW.name = 'user07' \
         BEGIN SELECT RAISE(ABORT, 'refused'); END",
        "CREATE FUNCTION refused() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.name = 'user07' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER refused BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refused();",
    )
    .await;

    const DISTINCT: usize = 30;
    const REFUSED: &str = "user07";
    // Each third name has a rival right behind it; then two bad names.
    let mut names = Vec::new();
    for i in 0..DISTINCT {
        names.push(format!("user{i:02}"));
        if i % 3 == 0 {
            names.push(format!("USER{i:02}"));
        }
    }
    names.extend(["x".to_owned(), " ".to_owned()]);
    let mut crowd = Vec::new();
    for name in &names {
        crowd.push(Client::connect(&server, name).await);
    }
    // The first log-in waits for this lock; the others queue behind it.
    side.execute(
        "BEGIN IMMEDIATE",
        "BEGIN; LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE",
    )
    .await;
    for (client, name) in crowd.iter_mut().zip(&names) {
        client.emit(ClientEvent::login(name)).await;
    }
    side.execute("COMMIT", "COMMIT").await;

    let winners_expected = DISTINCT - 1;
    let mut winners = std::collections::HashSet::new();
    let mut order: Option<Vec<String>> = None;
    for (client, name) in crowd.iter_mut().zip(&names) {
        let mut heard = Vec::new();
        let mut answered = false;
        while heard.len() < winners_expected || !answered {
            let event = client.next_event().await;
            if let ServerEvent::UserJoined(joined) = event {
                heard.push(joined);
                continue;
            }
            assert!(!answered, "{}: answered twice ({event:?})", client.label);
            answered = true;
            match event {
                ServerEvent::Welcome(welcomed) => {
                    assert_eq!(&welcomed, name, "{}: welcomed as another", client.label);
                    assert!(winners.insert(welcomed.to_lowercase()), "{name} won twice");
                }
                ServerEvent::LoginNameExists(taken) => {
                    // Either of two rivals may be first: they log in on sockets of their own.
                    assert_eq!(&taken, name);
                    let rivalled = names.iter().filter(|n| n.eq_ignore_ascii_case(name));
                    assert_eq!(rivalled.count(), 2, "{name} refused as taken");
                }
                ServerEvent::LoginNameBad(_) => {
                    assert!(name.trim().len() < 3, "{name} refused as bad");
                }
                refused @ ServerEvent::RequestRejected(_) => {
                    assert_eq!(refused, rejected("login", RejectionReason::StorageFailed));
                    assert_eq!(name, REFUSED, "only the user the database refuses");
                }
                other => panic!("{}: unexpected {other:?}", client.label),
            }
        }
        match &order {
            None => order = Some(heard),
            Some(first) => assert_eq!(first, &heard, "{}: another order", client.label),
        }
    }
    let order = order.expect("a crowd");
    assert_eq!(winners.len(), winners_expected, "one winner per name");
    assert!(!winners.contains(REFUSED));
    let mut keys: Vec<String> = order.iter().map(|n| n.to_lowercase()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        winners_expected,
        "each winner announced once: {order:?}"
    );

    let asker = &mut crowd[0];
    asker.emit(ClientEvent::OnlineUsers).await;
    asker.expect(ServerEvent::OnlineUsers(order)).await;
    futures_util::future::join_all(crowd.iter_mut().map(Client::expect_silence)).await;
}

#[tokio::test]
async fn bad_names_are_echoed_to_the_sender_only() {
    let server = TestServer::start().await;
    let mut other = Client::connect(&server, "other").await;
    let mut client = Client::connect(&server, "client").await;
    for raw in [
        "42[\"login\"]",
        "42[\"login\",12]",
        "42[\"login\",{\"n\":1}]",
        "42[\"login\",\"ab\"]",
        "42[\"login\",\"abcdefghijk\"]",
        "42[\"login\",\"     \"]",
        "42[\"login\",null]",
    ] {
        client.send_raw(raw).await;
        let ServerEvent::LoginNameBad(echo) = client.next_event().await else {
            panic!("{raw}: not loginNameBad")
        };
        let sent: serde_json::Value = serde_json::from_str(&raw[2..]).expect("json");
        assert_eq!(
            echo,
            sent.get(1).cloned().unwrap_or(serde_json::Value::Null),
            "{raw}"
        );
    }
    other.expect_silence().await;
    // The socket can still log in afterwards.
    client.emit(ClientEvent::login("  Ann ")).await;
    client.expect(ServerEvent::Welcome("Ann".into())).await;
}

#[tokio::test]
async fn taken_names_are_refused_ignoring_case() {
    let server = TestServer::start().await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let mut second = Client::connect(&server, "second").await;
    second.emit(ClientEvent::login("Ann")).await;
    second
        .expect(ServerEvent::LoginNameExists("Ann".into()))
        .await;
    second.emit(ClientEvent::login("aNN")).await;
    second
        .expect(ServerEvent::LoginNameExists("aNN".into()))
        .await;
    ann.expect_silence().await;
}

#[tokio::test]
async fn a_socket_cannot_log_in_twice() {
    let server = TestServer::start().await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    ann.expect(ServerEvent::UserJoined("Bob".into())).await;
    ann.emit(ClientEvent::login("Other")).await;
    ann.expect(rejected("login", RejectionReason::AlreadyLoggedIn))
        .await;
    bob.expect_silence().await;
    ann.emit(ClientEvent::OnlineUsers).await;
    ann.expect(ServerEvent::OnlineUsers(vec!["Ann".into(), "Bob".into()]))
        .await;
}

#[tokio::test]
async fn online_users_lists_logged_in_names_in_order() {
    let server = TestServer::start().await;
    let mut anonymous = Client::connect(&server, "anonymous").await;
    anonymous.emit(ClientEvent::OnlineUsers).await;
    anonymous.expect(ServerEvent::OnlineUsers(vec![])).await;
    let _cat = Client::logged_in(&server, "Cat").await;
    let ann = Client::logged_in(&server, "Ann").await;
    anonymous
        .expect(ServerEvent::UserJoined("Cat".into()))
        .await;
    anonymous
        .expect(ServerEvent::UserJoined("Ann".into()))
        .await;
    anonymous.emit(ClientEvent::OnlineUsers).await;
    anonymous
        .expect(ServerEvent::OnlineUsers(vec!["Cat".into(), "Ann".into()]))
        .await;
    ann.close().await;
    anonymous.expect(ServerEvent::UserLeft("Ann".into())).await;
    anonymous.emit(ClientEvent::OnlineUsers).await;
    anonymous
        .expect(ServerEvent::OnlineUsers(vec!["Cat".into()]))
        .await;
}

#[tokio::test]
async fn chat_reaches_every_socket_exactly_once() {
    let server = TestServer::start().await;
    let mut watcher = Client::connect(&server, "watcher").await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    ann.expect(ServerEvent::UserJoined("Bob".into())).await;
    watcher.expect(ServerEvent::UserJoined("Ann".into())).await;
    watcher.expect(ServerEvent::UserJoined("Bob".into())).await;

    ann.emit(ClientEvent::chat("<b>hi</b> & bye")).await;
    for client in [&mut ann, &mut bob, &mut watcher] {
        client.expect(chat("Ann", "<b>hi</b> & bye")).await;
    }
    for client in [&mut ann, &mut bob, &mut watcher] {
        client.expect_silence().await;
    }
}

#[tokio::test]
async fn bad_chats_change_nothing() {
    let server = TestServer::start().await;
    let mut anonymous = Client::connect(&server, "anonymous").await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    ann.expect(ServerEvent::UserJoined("Bob".into())).await;
    anonymous
        .expect(ServerEvent::UserJoined("Ann".into()))
        .await;
    anonymous
        .expect(ServerEvent::UserJoined("Bob".into()))
        .await;

    anonymous.emit(ClientEvent::chat("hello")).await;
    anonymous
        .expect(rejected("chat", RejectionReason::NotLoggedIn))
        .await;
    for (payload, reason) in [
        (json!(""), RejectionReason::EmptyMessage),
        (json!(" \n "), RejectionReason::EmptyMessage),
        (json!(5), RejectionReason::NotAString),
        (json!({"message": "x"}), RejectionReason::NotAString),
        (json!("x".repeat(2001)), RejectionReason::MessageTooLong),
    ] {
        ann.emit(ClientEvent::Chat(payload)).await;
        ann.expect(rejected("chat", reason)).await;
    }
    bob.expect_silence().await;
    anonymous.expect_silence().await;

    let longest = "é".repeat(2000);
    ann.emit(ClientEvent::chat(&longest)).await;
    bob.expect(chat("Ann", &longest)).await;
}

#[tokio::test]
async fn disconnect_frees_the_name_and_tells_the_rest() {
    let server = TestServer::start().await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    let ann = Client::logged_in(&server, "Ann").await;
    bob.expect(ServerEvent::UserJoined("Ann".into())).await;
    ann.close().await;
    bob.expect(ServerEvent::UserLeft("Ann".into())).await;
    bob.expect_silence().await;
    let _again = Client::logged_in(&server, "Ann").await;
    bob.expect(ServerEvent::UserJoined("Ann".into())).await;
}

#[tokio::test]
async fn anonymous_disconnect_is_silent() {
    let server = TestServer::start().await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    let anonymous = Client::connect(&server, "anonymous").await;
    anonymous.close().await;
    bob.expect_silence().await;
}

#[tokio::test]
async fn typing_is_a_lease_shown_to_the_others() {
    let server = TestServer::start().await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    ann.expect(ServerEvent::UserJoined("Bob".into())).await;

    ann.emit(ClientEvent::Typing(serde_json::Value::Null)).await;
    bob.expect(ServerEvent::UserTyping("Ann".into())).await;
    ann.emit(ClientEvent::Typing(serde_json::Value::Null)).await;
    bob.expect_silence().await;
    ann.expect_silence().await;

    ann.emit(ClientEvent::StopTyping).await;
    bob.expect(ServerEvent::UserStoppedTyping("Ann".into()))
        .await;

    // A chat ends the lease before the message goes out.
    ann.emit(ClientEvent::Typing(serde_json::Value::Null)).await;
    bob.expect(ServerEvent::UserTyping("Ann".into())).await;
    ann.emit(ClientEvent::chat("done")).await;
    bob.expect(ServerEvent::UserStoppedTyping("Ann".into()))
        .await;
    bob.expect(chat("Ann", "done")).await;
    ann.expect(chat("Ann", "done")).await;

    // A disconnect ends it before the user leaves.
    bob.emit(ClientEvent::Typing(serde_json::Value::Null)).await;
    ann.expect(ServerEvent::UserTyping("Bob".into())).await;
    bob.close().await;
    ann.expect(ServerEvent::UserStoppedTyping("Bob".into()))
        .await;
    ann.expect(ServerEvent::UserLeft("Bob".into())).await;
}

#[tokio::test]
async fn typing_lease_runs_out() {
    let server = TestServer::start_with(server::config::Cli {
        typing_lease_ms: Some(400),
        ..Default::default()
    })
    .await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    ann.expect(ServerEvent::UserJoined("Bob".into())).await;
    let started = std::time::Instant::now();
    ann.emit(ClientEvent::Typing(serde_json::Value::Null)).await;
    bob.expect(ServerEvent::UserTyping("Ann".into())).await;
    bob.expect(ServerEvent::UserStoppedTyping("Ann".into()))
        .await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= std::time::Duration::from_millis(350),
        "stopped after {elapsed:?}"
    );
    ann.expect_silence().await;
}

#[tokio::test]
async fn typing_needs_a_login() {
    let server = TestServer::start().await;
    let mut anonymous = Client::connect(&server, "anonymous").await;
    anonymous
        .emit(ClientEvent::Typing(serde_json::Value::Null))
        .await;
    anonymous
        .expect(rejected("typing", RejectionReason::NotLoggedIn))
        .await;
    anonymous.emit(ClientEvent::StopTyping).await;
    anonymous
        .expect(rejected("stopTyping", RejectionReason::NotLoggedIn))
        .await;
}

#[tokio::test]
async fn unknown_events_are_rejected() {
    let server = TestServer::start().await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    ann.expect(ServerEvent::UserJoined("Bob".into())).await;
    ann.emit(ClientEvent::Unknown("dance".into())).await;
    ann.expect(rejected("dance", RejectionReason::UnknownEvent))
        .await;
    bob.expect_silence().await;
}

#[tokio::test]
async fn a_burst_of_chats_arrives_everywhere_in_order() {
    let server = TestServer::start().await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    bob.expect(ServerEvent::UserJoined("Ann".into())).await;
    const BURST: usize = 300;
    for i in 0..BURST {
        ann.emit(ClientEvent::chat(&format!("message {i}"))).await;
    }
    for client in [&mut ann, &mut bob] {
        for i in 0..BURST {
            client.expect(chat("Ann", &format!("message {i}"))).await;
        }
    }
}

#[tokio::test]
async fn login_then_immediate_disconnect_leaves_no_ghost() {
    let server = TestServer::start().await;
    for i in 0..100 {
        let mut client = Client::connect(&server, "ghost").await;
        client.emit(ClientEvent::login(&format!("ghost{i}"))).await;
        client.close().await;
    }
    let mut observer = Client::connect(&server, "observer").await;
    // Every login and disconnect is applied in order before this request.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    observer.emit(ClientEvent::OnlineUsers).await;
    loop {
        match observer.next_event().await {
            ServerEvent::OnlineUsers(names) => {
                assert!(names.is_empty(), "ghosts online: {names:?}");
                break;
            }
            ServerEvent::UserJoined(_) | ServerEvent::UserLeft(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn graceful_shutdown_closes_sockets() {
    let server = TestServer::start().await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    let stopped = tokio::spawn(server.stop());
    assert!(ann.is_closed_by_server().await, "socket closed on shutdown");
    stopped.await.expect("join").expect("clean stop");
}
