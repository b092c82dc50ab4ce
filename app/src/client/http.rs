//! `POST /api/session` and `POST /api/logout` from the browser. The session cookie is
//! `HttpOnly`: set and sent by the browser, never seen by this code.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use super::json;
use crate::model::{LoginError, Me};

#[derive(Serialize)]
struct LogIn<'a> {
    name: &'a str,
}

/// `{"name"}` when logged in, `{"reason", "message"}` when refused.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "userId", default)]
    user_id: Option<u64>,
    #[serde(default)]
    reason: Option<String>,
}

/// Logs in as `name`; the answer is you: the name as the server keeps it (trimmed), and
/// your user id.
pub async fn log_in(name: &str) -> Result<Me, LoginError> {
    let body = json::to_string(&LogIn { name }).map_err(|_| LoginError::InvalidName)?;
    let (status, text) = post("/api/session", Some(&body))
        .await
        .map_err(|_| LoginError::Unavailable)?;
    let answer = json::from_str::<Answer>(&text).map_err(|_| LoginError::Unavailable)?;
    match (status, answer.name, answer.reason) {
        (200, Some(name), _) => Ok(Me {
            name,
            user_id: answer.user_id.unwrap_or_default(),
        }),
        (_, _, Some(reason)) => Err(LoginError::from_reason(&reason)),
        _ => Err(LoginError::Unavailable),
    }
}

/// Ends the session (the server clears the cookie).
pub async fn log_out() -> Result<(), String> {
    match post("/api/logout", None).await? {
        (200, _) => Ok(()),
        (status, _) => Err(format!("log-out answered {status}")),
    }
}

async fn post(url: &str, json: Option<&str>) -> Result<(u16, String), String> {
    let init = RequestInit::new();
    init.set_method("POST");
    if let Some(json) = json {
        init.set_body(&json.into());
    }
    let request = Request::new_with_str_and_init(url, &init).map_err(|_| "bad request")?;
    request
        .headers()
        .set("Content-Type", "application/json")
        .map_err(|_| "bad header")?;
    let window = web_sys::window().ok_or("no window")?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| "network error")?
        .dyn_into()
        .map_err(|_| "not a response")?;
    let text = JsFuture::from(response.text().map_err(|_| "no body")?)
        .await
        .map_err(|_| "unreadable body")?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), text))
}
