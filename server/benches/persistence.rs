//! Figures for persistence, printed (not asserted):
//! `cargo bench -p server --bench persistence --target-dir target/bench`.
//!
//! - messages stored per second (one append per transaction, and 100 per transaction as the
//!   hub does with a queue of chats), and end to end (one Socket.IO client waiting for each
//!   acknowledgement; ten clients sending at once);
//! - time to server-render the page with a session and 50 messages of history;
//! - cost of a reconnect catch-up of 1,000 missed messages (`history {after}`).
//!
//! In SQLite; in PostgreSQL when run under `scripts/with-postgres.sh` (see
//! `support::TestDatabase`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use server::chat::{NewMessage, UserId};
use support::{session_cookie, Client, TestDatabase, TestServer};

fn message(sender: UserId, i: usize) -> NewMessage {
    NewMessage {
        sender,
        sender_name: "Writer".into(),
        text: format!("benchmark message number {i}, of a typical chat length"),
        client_id: Some(format!("bench-{i}")),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let total: Duration = samples.iter().sum();
    #[allow(clippy::cast_possible_truncation)]
    let mean = total / samples.len() as u32;
    println!(
        "{what}: mean {:.2} ms, p50 {:.2} ms, p95 {:.2} ms ({} runs)",
        mean.as_secs_f64() * 1e3,
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.95).as_secs_f64() * 1e3,
        samples.len()
    );
}

#[tokio::main]
async fn main() {
    let database = TestDatabase::fresh().await;

    // 1. Store throughput.
    const STORED: usize = 20_000;
    let store = database.open().await;
    let engine = store.engine();
    let writer = store.create_user("Writer").await.expect("user");
    let start = Instant::now();
    for i in 0..STORED {
        store
            .append(store.general(), message(writer, i))
            .await
            .expect("append");
    }
    let elapsed = start.elapsed();
    #[allow(clippy::cast_precision_loss)]
    let rate = STORED as f64 / elapsed.as_secs_f64();
    println!(
        "{engine} append: {STORED} messages in {:.2} s = {rate:.0} messages/s ({:.1} µs each)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / STORED as f64
    );
    let start = Instant::now();
    for chunk in 0..STORED / 100 {
        let batch = (0..100)
            .map(|i| (store.general(), message(writer, STORED + chunk * 100 + i)))
            .collect();
        store.append_all(batch).await.expect("append");
    }
    let elapsed = start.elapsed();
    #[allow(clippy::cast_precision_loss)]
    let rate = STORED as f64 / elapsed.as_secs_f64();
    println!("{engine} append in transactions of 100 (the hub under load): {rate:.0} messages/s");
    store.close().await;

    let server = TestServer::start_with(database.cli()).await;

    // 2. End to end: chats acknowledged one after another over a WebSocket.
    const SENT: usize = 2_000;
    let cookie = session_cookie(&server, "Bench").await;
    let mut sender = Client::connect_with_cookie(&server, "sender", Some(&cookie)).await;
    let start = Instant::now();
    for i in 0..SENT {
        let receipt = sender
            .call(
                "chat",
                json!({ "text": format!("live {i}"), "clientId": format!("live-{i}") }),
            )
            .await;
        assert_eq!(receipt["ok"], json!(true));
    }
    let elapsed = start.elapsed();
    #[allow(clippy::cast_precision_loss)]
    let rate = SENT as f64 / elapsed.as_secs_f64();
    println!("End to end (chat → stored → ack, one client, sequential): {rate:.0} messages/s");

    // 2b. Ten clients sending at once: queued chats share a transaction.
    const CLIENTS: usize = 10;
    const EACH: usize = 500;
    let mut senders = Vec::new();
    for c in 0..CLIENTS {
        let cookie = session_cookie(&server, &format!("Load{c}")).await;
        senders.push(Client::connect_with_cookie(&server, "load", Some(&cookie)).await);
    }
    let start = Instant::now();
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(c, mut client)| {
            tokio::spawn(async move {
                for i in 0..EACH {
                    let payload =
                        json!({ "text": format!("load {c} {i}"), "clientId": format!("l{c}-{i}") });
                    client
                        .send_with_ack("chat", payload, i64::try_from(i).unwrap_or(0))
                        .await;
                }
                for _ in 0..EACH {
                    let (_, receipt) = client.next_ack().await;
                    assert_eq!(receipt["ok"], json!(true));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("sender");
    }
    let elapsed = start.elapsed();
    #[allow(clippy::cast_precision_loss)]
    let rate = (CLIENTS * EACH) as f64 / elapsed.as_secs_f64();
    println!("End to end ({CLIENTS} clients at once, {EACH} chats each): {rate:.0} messages/s stored and broadcast");

    // 3. Server-rendered page with a session and the newest 50 messages.
    let mut samples = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        let page = support::http_get(&server, "/", Some(&cookie)).await;
        samples.push(start.elapsed());
        assert!(page.contains("load "));
    }
    report("GET / (session, 50 messages of history)", samples);

    // 4. Catch-up of 1,000 missed messages.
    let total = (2 * STORED + SENT + CLIENTS * EACH) as u64;
    let mut reader = Client::connect(&server, "reader").await;
    let mut samples = Vec::new();
    let mut bytes = 0;
    for _ in 0..50 {
        let start = Instant::now();
        let reply = reader
            .call("history", json!({ "after": total - 1000 }))
            .await;
        samples.push(start.elapsed());
        assert_eq!(reply["messages"].as_array().map(Vec::len), Some(1000));
        bytes = reply.to_string().len();
    }
    report(
        "Catch-up of 1,000 missed messages (request → acknowledgement)",
        samples,
    );
    println!(
        "Catch-up payload: {bytes} bytes of JSON ({} per message)",
        bytes / 1000
    );
}
