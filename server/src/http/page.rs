//! `GET /`: the app rendered on the server with what the reader should see at once: who
//! they are (from the session cookie), who is online, and the newest page of history.

use app::model::InitialState;
use app::protocol::limits::HISTORY_PAGE;
use app::shell;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request};
use axum::response::Response;
use leptos::prelude::provide_context;

use super::{session_token, AppState};
use crate::hub::PageRequest;

pub async fn render(State(state): State<AppState>, request: Request<Body>) -> Response {
    let initial = initial_state(&state, request.headers().clone(), request.uri().query()).await;
    let options = state.options.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(initial.clone()),
        move || shell(options.clone()),
    );
    handler(request).await
}

async fn initial_state(state: &AppState, headers: HeaderMap, query: Option<&str>) -> InitialState {
    let login_error = query.and_then(|query| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == "login-error")
            .map(|(_, reason)| reason.to_owned())
    });
    let me = match session_token(&headers) {
        Some(token) => match state.store.live_session(&token).await {
            Ok(session) => session.map(|s| s.name),
            Err(error) => {
                tracing::error!(%error, "cannot look up the reader's session");
                None
            }
        },
        None => None,
    };
    let (history, has_more) = match state
        .store
        .page_before(state.store.general(), None, HISTORY_PAGE)
        .await
    {
        Ok(page) => (
            page.messages.iter().map(|m| m.to_chat()).collect(),
            page.has_more,
        ),
        Err(error) => {
            tracing::error!(%error, "cannot read the history for the page");
            (Vec::new(), false)
        }
    };
    InitialState {
        me,
        users: state.hub.page(PageRequest::default()).await.online,
        history,
        has_more,
        login_error,
    }
}
