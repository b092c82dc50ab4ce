//! Bad input never crashes or blocks the server: after each abuse, a new client can still
//! log in and chat, and clients already there keep working.

mod support;

use app::protocol::{ClientEvent, ServerEvent};
use support::{chat, Client, TestServer};

/// A fresh client logs in, chats, and everyone (including `bystander`) gets the message.
async fn still_serving(server: &TestServer, bystander: &mut Client, name: &str) {
    let mut fresh = Client::logged_in(server, name).await;
    bystander.expect(ServerEvent::UserJoined(name.into())).await;
    fresh.emit(ClientEvent::chat("still here")).await;
    let expected = chat(name, "still here");
    fresh.expect(expected.clone()).await;
    bystander.expect(expected).await;
    fresh.close().await;
    bystander.expect(ServerEvent::UserLeft(name.into())).await;
}

#[tokio::test]
async fn malformed_frames_close_only_the_offender() {
    let server = TestServer::start().await;
    let mut bystander = Client::logged_in(&server, "Bystander").await;
    let frames = [
        "",
        "x",
        "4",
        "4garbage",
        "42",
        "42[",
        "42[\"chat\"",
        "42{}",
        "42[1,2]",
        "42[null]",
        "9",
        "45-[\"chat\",{\"_placeholder\":true,\"num\":0}]",
        "40/nope,",
        "4\u{0}\u{1}",
        "2probe",
        "5",
        "6",
        "42[\"chat\",\"\u{fffd}\"]x",
    ];
    for (i, frame) in frames.iter().enumerate() {
        let mut attacker = Client::connect(&server, &format!("attacker {i}")).await;
        attacker.send_raw(frame).await;
        // Whatever the server does with this connection, it must not affect anyone else.
        drop(attacker);
    }
    still_serving(&server, &mut bystander, "Fresh").await;
}

#[tokio::test]
async fn binary_junk_and_raw_garbage_before_the_handshake() {
    let server = TestServer::start().await;
    let mut bystander = Client::logged_in(&server, "Bystander").await;
    let mut attacker = Client::connect(&server, "binary").await;
    attacker.send_binary(vec![0xff, 0x00, 0x13, 0x37]).await;
    let mut early = Client::open(&server, "early").await;
    early.send_raw("42[\"login\",\"Early\"]").await;
    early.send_raw("\u{7f}\u{7f}").await;
    still_serving(&server, &mut bystander, "Fresh").await;
}

#[tokio::test]
async fn non_string_and_huge_payloads() {
    let server = TestServer::start().await;
    let mut bystander = Client::logged_in(&server, "Bystander").await;
    let mut sender = Client::logged_in(&server, "Sender").await;
    bystander
        .expect(ServerEvent::UserJoined("Sender".into()))
        .await;
    for raw in [
        "42[\"chat\",[1,2,3]]",
        "42[\"chat\",{\"deep\":{\"deeper\":[{}]}}]",
        "42[\"chat\",true]",
        "42[\"chat\",1e999]",
        "42[\"login\",[\"a\"]]",
        "42[\"typing\",\"extra\",\"args\"]",
    ] {
        sender.send_raw(raw).await;
    }
    // Every one of those is answered to the sender only.
    for _ in 0..5 {
        assert!(matches!(
            sender.next_event().await,
            ServerEvent::RequestRejected(_) | ServerEvent::UserTyping(_)
        ));
    }
    bystander
        .expect(ServerEvent::UserTyping("Sender".into()))
        .await;
    bystander.expect_silence().await;

    // Over the 64 KiB packet limit: that connection is closed, nobody else is affected.
    let mut flooder = Client::logged_in(&server, "Flooder").await;
    bystander
        .expect(ServerEvent::UserJoined("Flooder".into()))
        .await;
    let huge = format!("42[\"chat\",\"{}\"]", "a".repeat(1 << 20));
    flooder.send_raw(&huge).await;
    assert!(
        flooder.is_closed_by_server().await,
        "oversized packet closes the connection"
    );
    bystander
        .expect(ServerEvent::UserLeft("Flooder".into()))
        .await;

    still_serving(&server, &mut bystander, "Fresh").await;
}

#[tokio::test]
async fn rapid_connect_disconnect() {
    let server = TestServer::start().await;
    let mut bystander = Client::logged_in(&server, "Bystander").await;
    for _ in 0..200 {
        let client = Client::connect(&server, "churn").await;
        client.close().await;
    }
    for i in 0..50 {
        drop(Client::open(&server, &format!("half-open {i}")).await);
    }
    bystander.expect_silence().await;
    still_serving(&server, &mut bystander, "Fresh").await;
}
