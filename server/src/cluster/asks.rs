//! Questions one server asks all the others on the hubs' bus, and their answers: what an
//! administrator's request needs from every server (who is connected there, a socket
//! that may be anywhere). Each question has an id; every other server's hub answers it on
//! the bus, addressed to the asker, whose bus task hands the answer to whoever waits for
//! it here, without going through its hub.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::protocol::admin::{KickReply, OnlineUser};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// What a server asks every other one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminQuery {
    /// Who is online there, with their sockets there.
    ListUsers,
    /// Kick the user of this socket (or close it, if it has not logged in), if it is there.
    KickSocket { socket: String },
}

/// A server's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminAnswer {
    Users(Vec<OnlineUser>),
    /// `None`: the socket is not there.
    KickedSocket(Option<KickReply>),
}

/// Where the answers to one question go: each with the server that gave it.
type Answers = mpsc::UnboundedSender<(String, AdminAnswer)>;

/// The questions this server is waiting on answers to.
#[derive(Debug, Clone, Default)]
pub struct Asks {
    next: Arc<AtomicU64>,
    waiting: Arc<Mutex<HashMap<u64, Answers>>>,
}

impl Asks {
    /// A new question's id, and where its answers arrive until it is dropped.
    pub fn open(&self) -> Asked {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (answers, receiver) = mpsc::unbounded_channel();
        self.lock().insert(id, answers);
        Asked {
            id,
            receiver,
            asks: self.clone(),
        }
    }

    /// An answer from `from` to question `id` (dropped if nobody waits any more).
    pub fn answered(&self, id: u64, from: String, answer: AdminAnswer) {
        if let Some(waiting) = self.lock().get(&id) {
            // The asker gave up just now: nothing to do.
            let _ = waiting.send((from, answer));
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<u64, mpsc::UnboundedSender<(String, AdminAnswer)>>> {
        match self.waiting.lock() {
            Ok(waiting) => waiting,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// A question asked: its answers, as they come.
#[derive(Debug)]
pub struct Asked {
    pub id: u64,
    receiver: mpsc::UnboundedReceiver<(String, AdminAnswer)>,
    asks: Asks,
}

impl Asked {
    /// The answers of `servers` (each once), until every one has answered, `enough` says
    /// one answer settles it, or `patience` runs out. Returns them in the order they came.
    pub async fn collect(
        mut self,
        servers: &BTreeSet<String>,
        patience: Duration,
        enough: impl Fn(&AdminAnswer) -> bool,
    ) -> Vec<(String, AdminAnswer)> {
        let mut answers = Vec::new();
        let mut pending = servers.clone();
        let deadline = tokio::time::Instant::now() + patience;
        while !pending.is_empty() {
            let Ok(Some((from, answer))) =
                tokio::time::timeout_at(deadline, self.receiver.recv()).await
            else {
                tracing::warn!(unanswered = ?pending, "servers did not answer an admin request in time");
                break;
            };
            if !pending.remove(&from) {
                continue;
            }
            let settled = enough(&answer);
            answers.push((from, answer));
            if settled {
                break;
            }
        }
        answers
    }
}

impl Drop for Asked {
    fn drop(&mut self) {
        self.asks.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_are_collected_once_per_server_until_all_have_answered() {
        let asks = Asks::default();
        let asked = asks.open();
        let id = asked.id;
        let servers: BTreeSet<String> = ["a".to_owned(), "b".to_owned()].into();
        asks.answered(id, "a".into(), AdminAnswer::Users(Vec::new()));
        asks.answered(id, "a".into(), AdminAnswer::Users(Vec::new()));
        asks.answered(id + 1, "b".into(), AdminAnswer::Users(Vec::new()));
        asks.answered(id, "c".into(), AdminAnswer::Users(Vec::new()));
        asks.answered(id, "b".into(), AdminAnswer::KickedSocket(None));
        let answers = asked
            .collect(&servers, Duration::from_secs(60), |_| false)
            .await;
        let from: Vec<&str> = answers.iter().map(|(from, _)| from.as_str()).collect();
        assert_eq!(
            from,
            ["a", "b"],
            "each expected server once, others ignored"
        );
        assert!(
            asks.lock().is_empty(),
            "a finished question stops listening"
        );
    }

    #[tokio::test]
    async fn one_settling_answer_ends_the_wait_and_silence_ends_it_in_time() {
        let asks = Asks::default();
        let servers: BTreeSet<String> = ["a".to_owned(), "b".to_owned()].into();
        let asked = asks.open();
        let found = KickReply {
            ok: true,
            username: None,
            user_id: None,
        };
        asks.answered(asked.id, "b".into(), AdminAnswer::KickedSocket(Some(found)));
        let answers = asked
            .collect(&servers, Duration::from_secs(60), |answer| {
                matches!(answer, AdminAnswer::KickedSocket(Some(_)))
            })
            .await;
        assert_eq!(answers.len(), 1, "settled without waiting for a");
        let silent = asks.open();
        let answers = silent
            .collect(&servers, Duration::from_millis(1), |_| false)
            .await;
        assert!(
            answers.is_empty(),
            "nobody answered: nothing, once the patience ran out"
        );
    }
}
