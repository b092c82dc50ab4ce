//! The forms of the pages, for browsers without JavaScript: post a message, join or leave
//! a room, join a room by name. Each answers with a redirect to the page to show (with
//! `?error=<reason>` when refused), so the chat works with plain HTML.

use app::protocol::RejectionReason;
use app::route::Route;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::session::form_field;
use super::AppState;
use crate::chat::{RoomName, UserId};
use crate::cookie::session_token;
use crate::hub::{PageTarget, PostError};

/// The reader's user, from the session cookie.
async fn reader(state: &AppState, headers: &HeaderMap) -> Option<UserId> {
    let token = session_token(headers)?;
    match state.store.live_session(&token).await {
        Ok(session) => session.map(|session| {
            let user = session.user;
            state.hub.session_used(session);
            user
        }),
        Err(error) => {
            tracing::error!(%error, "cannot look up a session for a form");
            None
        }
    }
}

/// Back to `route`, with the refusal if there was one.
fn back(route: &Route, result: Result<(), PostError>) -> Response {
    match result {
        Ok(()) => Redirect::to(&route.path()).into_response(),
        Err(PostError::Refused(reason)) => {
            crate::metrics::refused(reason.code());
            Redirect::to(&format!("{}?error={}", route.path(), reason.code())).into_response()
        }
        Err(PostError::HubGone | PostError::Busy) => {
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Checks what every form needs: a live session (the origin was checked in front).
async fn checked(state: &AppState, headers: &HeaderMap) -> Result<UserId, Box<Response>> {
    match reader(state, headers).await {
        Some(user) => Ok(user),
        None => Err(Box::new(
            Redirect::to("/?login-error=unknownSession").into_response(),
        )),
    }
}

/// A room name from a form, or the way back to the rooms page saying why not.
fn room_or_refuse(raw: &str) -> Result<RoomName, Box<Response>> {
    RoomName::parse(raw).ok_or_else(|| {
        Box::new(back(
            &Route::Rooms,
            Err(PostError::Refused(RejectionReason::BadRoomName)),
        ))
    })
}

/// `POST /r/<room>/messages` (`text=...`).
pub async fn post_to_room(
    State(state): State<AppState>,
    Path(room): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match checked(&state, &headers).await {
        Ok(user) => user,
        Err(response) => return *response,
    };
    let room = match room_or_refuse(&room) {
        Ok(room) => room,
        Err(response) => return *response,
    };
    let route = Route::room(room.as_str());
    post_and_return(&state, user, &body, &route, PageTarget::Room(room)).await
}

/// `POST /dm/<name>/messages` (`text=...`).
pub async fn post_to_direct(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match checked(&state, &headers).await {
        Ok(user) => user,
        Err(response) => return *response,
    };
    let route = Route::Direct(name.clone());
    post_and_return(&state, user, &body, &route, PageTarget::With(name)).await
}

/// Stores the form's `text` in `target` and goes back to its page, saying how it went.
async fn post_and_return(
    state: &AppState,
    user: UserId,
    body: &[u8],
    route: &Route,
    target: PageTarget,
) -> Response {
    let text = form_field(body, "text").unwrap_or_default();
    back(route, state.hub.post_from_page(user, target, text).await)
}

/// `POST /r/<room>/join`.
pub async fn join(
    State(state): State<AppState>,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Response {
    membership(state, &room, headers, true).await
}

/// `POST /r/<room>/leave`.
pub async fn leave(
    State(state): State<AppState>,
    Path(room): Path<String>,
    headers: HeaderMap,
) -> Response {
    membership(state, &room, headers, false).await
}

/// `POST /rooms/join` (`room=...`): join (or create) a room by name.
pub async fn join_by_name(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let room = form_field(&body, "room").unwrap_or_default();
    membership(state, &room, headers, true).await
}

async fn membership(state: AppState, room: &str, headers: HeaderMap, join: bool) -> Response {
    let user = match checked(&state, &headers).await {
        Ok(user) => user,
        Err(response) => return *response,
    };
    let room = match room_or_refuse(room) {
        Ok(room) => room,
        Err(response) => return *response,
    };
    let shown = Route::room(room.as_str());
    let result = state.hub.membership_from_page(user, room, join).await;
    match (join, result) {
        (false, Ok(())) => Redirect::to("/").into_response(),
        (_, result) => back(&shown, result),
    }
}
