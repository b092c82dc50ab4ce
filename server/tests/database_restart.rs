//! A server on PostgreSQL whose database restarts under it: not ready (`503 database
//! unreachable`) while the database is down, a chat meanwhile refused with
//! `storageFailed` (nothing else changes), and everything working again once the database
//! is back, with no restart of the server (its pool reconnects). Alone in its test binary,
//! because it stops the PostgreSQL server every test of the binary shares.
//!
//! Runs inside `scripts/with-postgres.sh` (`pg_virtualenv`'s cluster `regress`), as the
//! PostgreSQL pass of `scripts/test.sh` does; on SQLite there is no database server to
//! restart, and it says so and returns.

mod support;

use std::process::Command;
use std::time::Duration;

use app::protocol::{ClientEvent, RejectionReason, ServerEvent};
use support::{chat, http_get, status_and_body, Client, TestDatabase, TestServer};

/// Starts the cluster again when dropped: a test failing while it is stopped must not
/// leave PostgreSQL down for the tests after it.
struct StartAgain;

impl Drop for StartAgain {
    fn drop(&mut self) {
        // Unwinding already: report, never panic again.
        if let Err(error) = pg_ctlcluster("start") {
            eprintln!("cannot start PostgreSQL again: {error}");
        }
    }
}

/// `pg_ctlcluster <version> regress <action>` on the cluster of `pg_virtualenv`.
fn pg_ctlcluster(action: &str) -> Result<(), String> {
    let version = std::env::var("PGVERSION").map_err(|_| "no PGVERSION (pg_virtualenv sets it)")?;
    let status = Command::new("pg_ctlcluster")
        .args([version.as_str(), "regress", action, "--", "-m", "fast"])
        .status()
        .map_err(|error| format!("pg_ctlcluster: {error}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("pg_ctlcluster {action}: {status}"))
}

fn cluster(action: &str) {
    if let Err(error) = pg_ctlcluster(action) {
        panic!("{error}");
    }
}

/// Asks `/readyz` every 100 ms until it answers `wanted` (or 30 s pass).
async fn until_ready_is(server: &TestServer, wanted: (u16, &str)) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = http_get(server, "/readyz", None).await;
        let (status, body) = status_and_body(&response);
        if (status, body) == wanted {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz stayed {status} {body}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_server_rides_out_a_database_restart() {
    if std::env::var("CHAT_TEST_POSTGRES").is_err() {
        eprintln!("not on PostgreSQL (run under scripts/with-postgres.sh): nothing to restart");
        return;
    }
    let database = TestDatabase::fresh().await;
    let server = TestServer::start_with(database.cli()).await;
    let mut ann = Client::logged_in(&server, "Ann").await;
    ann.emit(ClientEvent::chat("before")).await;
    ann.expect(chat("Ann", "before")).await;

    cluster("stop");
    let started_again = StartAgain;
    until_ready_is(&server, (503, "database unreachable")).await;
    ann.emit(ClientEvent::chat("while it is down")).await;
    // The pool tries to connect for its acquire timeout (5 s) before giving up.
    let refused = ann
        .next_event_within(Duration::from_secs(30))
        .await
        .expect("an answer to the chat");
    assert!(
        matches!(&refused, ServerEvent::RequestRejected(r) if r.reason == RejectionReason::StorageFailed),
        "{refused:?}"
    );

    cluster("start");
    std::mem::forget(started_again);
    until_ready_is(&server, (200, "ready")).await;
    ann.emit(ClientEvent::chat("after")).await;
    ann.expect(chat("Ann", "after")).await;
    let mut bob = Client::logged_in(&server, "Bob").await;
    let page = bob.call("history", serde_json::json!({ "after": 0 })).await;
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter_map(|m| m["message"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        texts,
        vec!["before", "after"],
        "nothing else changed: {page}"
    );
}
