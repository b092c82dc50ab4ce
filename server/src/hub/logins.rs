//! Log-ins under a new name: the lobby's `login` and the rooms protocol's `register`. The
//! log-ins queued right behind one (up to [`MAX_BATCH`]) have their users stored in the
//! same transaction, then are announced in order: a crowd logging in at once (as after a
//! restart) costs one commit per batch, and each socket gets the batch's `userJoined`s
//! together.

use app::protocol::{client, ClientEvent, LoggedIn, Refused, RejectionReason};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::socket::Sid;
use tokio::sync::mpsc;

use super::core::{now, Hub};
use super::{Ack, HubCommand};
use crate::chat::{name_key, Family, LoginRefusal, Outgoing, RetryAfter, UserId};
use crate::storage::StorageError;

/// The most queued log-ins stored in one transaction.
const MAX_BATCH: usize = 128;

/// A log-in checked (its name valid and free), waiting for its user to be stored.
struct Pending {
    conn: Sid,
    name: String,
    key: String,
    event: &'static str,
    ack: Option<Ack>,
}

impl<A: Adapter> Hub<A> {
    /// `login` / `register` on `conn`, and the log-ins queued behind it; returns the first
    /// other command met, to be applied next.
    pub(super) async fn log_in(
        &mut self,
        conn: Sid,
        raw: &Value,
        event: &'static str,
        ack: Option<Ack>,
        queue: &mut mpsc::UnboundedReceiver<HubCommand>,
    ) -> Option<HubCommand> {
        let name = match self.chat.check_login(&conn, raw) {
            Ok(name) => name,
            Err(refusal) => {
                self.refuse_login(conn, event, refusal, ack);
                return None;
            }
        };
        if let Err(retry) = self.limit_login(conn) {
            self.refuse_login_limited(conn, event, retry, ack);
            return None;
        }
        let key = name_key(&name);
        let mut batch = vec![Pending {
            conn,
            name,
            key,
            event,
            ack,
        }];
        let mut next = None;
        while batch.len() < MAX_BATCH {
            let Ok(command) = queue.try_recv() else { break };
            match self.batched(command, &batch) {
                Ok(pending) => batch.push(pending),
                Err(command) => {
                    next = Some(command);
                    break;
                }
            }
        }
        self.log_in_all(batch).await;
        next
    }

    /// `command` as a member of `batch`, or back if it cannot be one (a log-in over its
    /// address's limit among them: applied after the batch, it is refused).
    fn batched(&mut self, command: HubCommand, batch: &[Pending]) -> Result<Pending, HubCommand> {
        let Some((name, key)) = self.joins_batch(&command, batch) else {
            return Err(command);
        };
        match command {
            HubCommand::Event { conn, .. } if self.limit_login(conn).is_err() => Err(command),
            HubCommand::Event {
                conn,
                event,
                ack,
                queued,
            } => {
                queued.taken();
                Ok(Pending {
                    conn,
                    name,
                    key,
                    event: match event {
                        ClientEvent::Register(_) => client::REGISTER,
                        _ => client::LOGIN,
                    },
                    ack,
                })
            }
            other => Err(other),
        }
    }

    /// The name (and its key) `command` logs in under, if it can join `batch`: a log-in
    /// that would be accepted now, from a socket not in it yet, under a name none of it
    /// takes. Anything else ends the batch (and is applied after it, as usual: refused,
    /// for one).
    fn joins_batch(&self, command: &HubCommand, batch: &[Pending]) -> Option<(String, String)> {
        let HubCommand::Event { conn, event, .. } = command else {
            return None;
        };
        let (ClientEvent::Login(raw) | ClientEvent::Register(raw)) = event else {
            return None;
        };
        if !self.chat.is_connected(conn) || batch.iter().any(|p| p.conn == *conn) {
            return None;
        }
        // A socket changing family with this event would hear the batch before it in the
        // wrong one.
        if event.is_rooms_protocol() && self.chat.family(conn) != Some(Family::Rooms) {
            return None;
        }
        let name = self.chat.check_login(conn, raw).ok()?;
        let key = name_key(&name);
        (!batch.iter().any(|p| p.key == key)).then_some((name, key))
    }

    /// Stores the users of `batch` in one transaction, then logs each in, in order. If
    /// the transaction fails, each is stored alone: one user the database refuses costs
    /// that log-in only.
    async fn log_in_all(&mut self, batch: Vec<Pending>) {
        let names: Vec<&str> = batch.iter().map(|p| p.name.as_str()).collect();
        let started = std::time::Instant::now();
        let created = self.store.create_users(&names).await;
        crate::metrics::storage("create_users", started.elapsed());
        match created {
            Ok(users) => {
                for (pending, user) in batch.into_iter().zip(users) {
                    self.log_in_as(pending, user);
                }
            }
            Err(error) if batch.len() > 1 => {
                tracing::warn!(%error, count = batch.len(), "cannot create users together; one by one");
                for pending in batch {
                    match self.store.create_user(&pending.name).await {
                        Ok(user) => self.log_in_as(pending, user),
                        Err(error) => self.not_stored(pending, &error),
                    }
                }
            }
            Err(error) => {
                for pending in batch {
                    self.not_stored(pending, &error);
                }
            }
        }
    }

    /// Logs `pending`'s socket in as `user` (just stored) and announces it.
    fn log_in_as(&mut self, pending: Pending, user: UserId) {
        let Pending {
            conn,
            name,
            event,
            ack,
            ..
        } = pending;
        match self.chat.log_in(&conn, user, &name, None, &[], now()) {
            Ok(out) => {
                self.deliver(out);
                if let Some(ack) = ack {
                    ack.send(&LoggedIn {
                        ok: true,
                        username: &name,
                        user_id: user.wire(),
                    });
                }
                // A rooms-family socket's presence_update, right after its log-in.
                self.flush(Some(conn));
            }
            Err(_) => {
                tracing::error!(name, "a free name was taken meanwhile");
                self.log_in_failed(conn, event, ack);
            }
        }
    }

    /// A log-in whose user the database refused: the name is taken if another server
    /// stored a user of it at the same moment or holds it, else `storageFailed`.
    fn not_stored(&mut self, pending: Pending, error: &StorageError) {
        if error.is_unique_violation() {
            tracing::info!(
                name = pending.name,
                "another server took this name at the same moment"
            );
            let refusal = LoginRefusal::NameTaken(pending.name);
            return self.refuse_login(pending.conn, pending.event, refusal, pending.ack);
        }
        tracing::error!(%error, "cannot create a user");
        self.log_in_failed(pending.conn, pending.event, pending.ack);
    }

    /// A log-in whose user could not be stored: `storageFailed`.
    fn log_in_failed(&mut self, conn: Sid, event: &str, ack: Option<Ack>) {
        let reason = RejectionReason::StorageFailed;
        if answer_refusal(ack, event, reason) {
            self.refuse_lobby(conn, event, reason);
        }
    }

    /// Stores a new user of `name`, or why not: `nameTaken` if another server stored or
    /// holds a user of it, else `storageFailed` (logged).
    pub(super) async fn create_user(&self, name: &str) -> Result<UserId, RejectionReason> {
        match self.store.create_user(name).await {
            Ok(user) => Ok(user),
            Err(error) if error.is_unique_violation() => {
                tracing::info!(name, "another server holds this name");
                Err(RejectionReason::NameTaken)
            }
            Err(error) => {
                tracing::error!(%error, "cannot create a user");
                Err(RejectionReason::StorageFailed)
            }
        }
    }

    /// A refused log-in: `login` and `register` answer as the lobby protocol does; with an
    /// acknowledgement, `register` answers there instead and `login` there too (its
    /// clients wait for the lobby's events).
    pub(super) fn refuse_login(
        &mut self,
        conn: Sid,
        event: &str,
        refusal: LoginRefusal,
        ack: Option<Ack>,
    ) {
        crate::metrics::refused(refusal.reason().code());
        if answer_refusal(ack, event, refusal.reason()) {
            let out = vec![Outgoing::only(conn, refusal.lobby_event(event))];
            self.deliver(out);
        }
    }
}

impl<A: Adapter> Hub<A> {
    /// Refuses a log-in over its address's limit: in the acknowledgement if asked for,
    /// and with `requestRejected` as the lobby's refusals are.
    fn refuse_login_limited(
        &mut self,
        conn: Sid,
        event: &str,
        retry: RetryAfter,
        ack: Option<Ack>,
    ) {
        let lobby_due = match ack {
            Some(ack) => {
                let refused = Refused::new(RejectionReason::RateLimited).retry_after(retry.ms());
                ack.send(&refused);
                event == client::LOGIN
            }
            None => true,
        };
        if lobby_due {
            // Counted there.
            self.refuse_lobby(conn, event, retry);
        } else {
            crate::metrics::refused(RejectionReason::RateLimited.code());
        }
    }
}

/// Answers a refused log-in's acknowledgement, if one was asked for; whether the lobby's
/// event is due as well (`login`'s clients wait for it; `register` answers in the
/// acknowledgement only).
fn answer_refusal(ack: Option<Ack>, event: &str, reason: RejectionReason) -> bool {
    match ack {
        Some(ack) => {
            ack.send(&Refused::new(reason));
            event == client::LOGIN
        }
        None => true,
    }
}
