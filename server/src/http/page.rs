//! The pages: `/` (the lobby, `general`), `/r/<room>`, `/dm/<name>` and `/rooms`, each
//! rendered on the server with what the reader should see at once (who they are, their
//! conversations with unread counts, who is online, the newest page of the conversation
//! shown), readable without JavaScript. Showing a conversation marks it read.

use app::model::{InitialState, Me, Message, Snapshot};
use app::protocol::limits::HISTORY_PAGE;
use app::protocol::{RejectionReason, GENERAL};
use app::route::Route;
use app::shell;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Request};
use axum::response::Response;
use leptos::nonce::Nonce;
use leptos::prelude::provide_context;

use super::security::content_security_policy;
use super::AppState;
use crate::chat::{DirectPair, RoomName, StoredMessage, UserId};
use crate::cookie::session_token;
use crate::hub::{conversations_of, room_infos, PageRequest, PageTarget};
use crate::storage::{SessionRecord, StorageError, Store};

pub async fn lobby(State(state): State<AppState>, request: Request<Body>) -> Response {
    render(state, Route::default(), request).await
}

pub async fn room(
    State(state): State<AppState>,
    Path(room): Path<String>,
    request: Request<Body>,
) -> Response {
    render(state, Route::Room(room.trim().to_lowercase()), request).await
}

pub async fn direct(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request<Body>,
) -> Response {
    render(state, Route::Direct(name), request).await
}

pub async fn rooms(State(state): State<AppState>, request: Request<Body>) -> Response {
    render(state, Route::Rooms, request).await
}

async fn render(state: AppState, route: Route, request: Request<Body>) -> Response {
    let initial = initial_state(&state, &route, request.headers(), request.uri().query()).await;
    let options = state.options.clone();
    let nonce = Nonce::new();
    let policy = content_security_policy(&nonce, &options);
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || {
            provide_context(initial.clone());
            provide_context(nonce.clone());
        },
        move || shell(options.clone()),
    );
    let mut response = handler(request).await;
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy);
    response
}

/// A query parameter's value.
fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, value)| app::route::percent_decode(value))
}

async fn initial_state(
    state: &AppState,
    route: &Route,
    headers: &HeaderMap,
    query: Option<&str>,
) -> InitialState {
    let store = &state.store;
    let session = match session_token(headers) {
        Some(token) => store.live_session(&token).await.unwrap_or_else(|error| {
            tracing::error!(%error, "cannot look up the reader's session");
            None
        }),
        None => None,
    };
    if let Some(session) = &session {
        state.hub.session_used(session.clone());
    }
    let room = match route {
        Route::Room(room) => RoomName::parse(room),
        _ => None,
    };
    let snapshot = state.hub.page(PageRequest { room: room.clone() }).await;
    let mut initial = InitialState {
        me: session.as_ref().map(|s| Me {
            name: s.name.clone(),
            user_id: s.user.wire(),
        }),
        path: route.path(),
        presence: snapshot.presence.clone(),
        room_users: if route == &Route::default() {
            snapshot
                .presence
                .iter()
                .map(|p| p.username.clone())
                .collect()
        } else {
            snapshot.room_users.clone()
        },
        login_error: query_value(query, "login-error"),
        error: query_value(query, "error").map(|reason| describe(&reason)),
        ..InitialState::default()
    };
    if let Some(session) = &session {
        if let Some(listing) = logged(
            conversations_of(store, session.user, &snapshot.statuses).await,
            "the conversations",
        ) {
            initial.rooms = listing.rooms.unwrap_or_default();
            initial.dms = listing.dms.unwrap_or_default();
        }
        if route == &Route::Rooms {
            initial.all_rooms = logged(
                room_infos(store, session.user, &snapshot.present).await,
                "the rooms",
            );
        }
    }
    let shown = match route {
        Route::Room(_) => match room {
            Some(room) => logged(
                room_snapshot(store, session.as_ref(), &room).await,
                "a room",
            ),
            None => {
                initial.error = Some(RejectionReason::BadRoomName.describe().to_owned());
                None
            }
        },
        Route::Direct(name) => match &session {
            Some(session) => match logged(
                direct_snapshot(store, session, name).await,
                "a conversation",
            ) {
                Some(Ok(shown)) => Some(shown),
                Some(Err(reason)) => {
                    initial.error = Some(reason.describe().to_owned());
                    None
                }
                None => None,
            },
            None => None,
        },
        Route::Rooms => None,
    };
    if let (Some(session), Some(shown)) = (&session, &shown) {
        if let Some(newest) = shown.messages.last().map(|m| m.id) {
            if newest > shown.read_up_to {
                let target = match route {
                    Route::Room(room) => RoomName::parse(room).map(PageTarget::Room),
                    Route::Direct(_) => shown.with.clone().map(PageTarget::With),
                    Route::Rooms => None,
                };
                if let Some(target) = target {
                    state.hub.read_from_page(session.user, target, newest);
                }
            }
        }
    }
    initial.conversation = shown;
    initial
}

/// What storage answered, or `None` (logged): a page shows what it can.
fn logged<T>(result: Result<T, StorageError>, what: &str) -> Option<T> {
    result
        .map_err(|error| tracing::error!(%error, "cannot read {what} for a page"))
        .ok()
}

/// A refusal's reason (as in `?error=`) for people.
fn describe(reason: &str) -> String {
    serde_json::from_value::<RejectionReason>(serde_json::Value::String(reason.to_owned()))
        .map_or_else(
            |_| "That did not work.".to_owned(),
            |r| r.describe().to_owned(),
        )
}

fn to_client(message: &StoredMessage) -> Message {
    Message {
        id: message.id,
        sender: message.sender_name.clone(),
        user_id: message.sender.wire(),
        text: message.text.clone(),
        sent_at: message.sent_at,
        client_id: message.client_id.clone(),
    }
}

async fn room_snapshot(
    store: &Store,
    session: Option<&SessionRecord>,
    room: &RoomName,
) -> Result<Snapshot, StorageError> {
    let Some(id) = store.room(room).await? else {
        return Ok(Snapshot::default());
    };
    let page = store.page_before(id, None, HISTORY_PAGE).await?;
    let (member, read_up_to) = match session {
        Some(session) if room.as_str() == GENERAL => {
            (true, store.read_marker(session.user, id).await?)
        }
        Some(session) => {
            let member = store.is_member(session.user, id).await?;
            (member, store.read_marker(session.user, id).await?)
        }
        None => (false, 0),
    };
    Ok(Snapshot {
        messages: page.messages.iter().map(to_client).collect(),
        has_more: page.has_more,
        deleted: page.deleted,
        read_up_to,
        their_read_up_to: 0,
        member,
        exists: true,
        with: None,
    })
}

/// The reader's conversation with `name`, or why there is none.
async fn direct_snapshot(
    store: &Store,
    session: &SessionRecord,
    name: &str,
) -> Result<Result<Snapshot, RejectionReason>, StorageError> {
    let Some(other) = store.active_user(name).await? else {
        return Ok(Err(RejectionReason::UnknownUser));
    };
    let Some(pair) = DirectPair::new(session.user, other.id) else {
        return Ok(Err(RejectionReason::SelfMessage));
    };
    let empty = Snapshot {
        member: true,
        exists: true,
        with: Some(other.name.clone()),
        ..Snapshot::default()
    };
    let Some(id) = store.direct(pair).await? else {
        return Ok(Ok(empty));
    };
    let page = store.page_before(id, None, HISTORY_PAGE).await?;
    let read = |user: UserId| store.read_marker(user, id);
    Ok(Ok(Snapshot {
        messages: page.messages.iter().map(to_client).collect(),
        has_more: page.has_more,
        deleted: page.deleted,
        read_up_to: read(session.user).await?,
        their_read_up_to: read(other.id).await?,
        ..empty
    }))
}
