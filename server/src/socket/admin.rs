//! The administrators' namespace (`/admin`, the guide's). A connection needs
//! `auth: {token}` equal to the admin token ([`AdminAccess`]; none configured: nobody
//! gets in); otherwise its connect error says `unauthorized`, and nothing else. Its
//! events (`list_users`, `kick_user`, `delete_message`, `announce`) go to the hub and
//! are answered by acknowledgement; one without an acknowledgement is ignored.

use std::sync::Arc;

use app::protocol::admin::{NAMESPACE, UNAUTHORIZED};
use app::protocol::RejectionReason;
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{Event, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;
use socketioxide_core::adapter::DefinedAdapter;

use super::admission::{Admission, Refusal};
use super::extract::Acked;
use crate::admin_token::AdminAccess;
use crate::hub::{AdminRequest, ChatHub};

/// Opens the `/admin` namespace. The `SocketIo`'s state must hold the [`ChatHub`], an
/// `Arc<`[`Admission`]`>` and the [`AdminAccess`].
pub fn attach<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> A::InitRes {
    io.ns(NAMESPACE, on_connect::<A>.with(authorize::<A>))
}

/// Why an admin connection was refused (the connect error's message).
#[derive(Debug, thiserror::Error)]
enum AdminRefusal {
    #[error("{UNAUTHORIZED}")]
    Unauthorized,
    #[error(transparent)]
    Admission(#[from] Refusal),
}

/// `auth: {token}`, the token (any other shape: none).
fn token_of(auth: &Value) -> Option<&str> {
    auth.get("token").and_then(Value::as_str)
}

async fn authorize<A: Adapter>(
    s: SocketRef<A>,
    State(access): State<AdminAccess>,
    State(admission): State<Arc<Admission>>,
    auth: TryData<Value>,
) -> Result<(), AdminRefusal> {
    let address = super::extract::client_address(&s);
    let TryData(auth) = auth;
    if !access.admits(auth.as_ref().ok().and_then(token_of)) {
        crate::metrics::refused(UNAUTHORIZED);
        tracing::warn!(sid = %s.id, ?address, "refused an admin connection: no or wrong token");
        return Err(AdminRefusal::Unauthorized);
    }
    let admitted = admission.admit(address)?;
    s.extensions.insert(Arc::new(admitted));
    // Here, not in the connect handler: socketioxide tells the client it is connected
    // between the two and runs an async handler as a task of its own, so an event sent
    // the moment the client hears it could come before a handler registered there.
    s.on_fallback(on_event::<A>);
    tracing::info!(sid = %s.id, ?address, "an administrator connected");
    Ok(())
}

/// Nothing left to do once connected: [`authorize`] registered the handler.
async fn on_connect<A: Adapter>(_: SocketRef<A>) {}

async fn on_event<A: Adapter>(
    s: SocketRef<A>,
    Event(name): Event,
    TryData(payload): TryData<Value>,
    State(hub): State<ChatHub>,
    Acked(ack): Acked<A>,
) {
    let Some(ack) = ack else {
        return tracing::info!(sid = %s.id, event = %name, "an admin event without an acknowledgement is ignored");
    };
    let reply = match AdminRequest::from_wire(&name, payload.ok()) {
        Some(request) => hub.admin(request).await,
        None => RejectionReason::UnknownEvent.into(),
    };
    if let Err(error) = ack.send(&reply) {
        tracing::warn!(sid = %s.id, event = %name, %error, "cannot answer an administrator");
    }
}
