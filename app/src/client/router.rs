//! Navigation without reloads: links of the app push a history entry and show their page;
//! back and forward show the page of the entry.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::model::ChatStore;
use crate::route::Route;
use crate::Outbox;

/// Shows `route` and records it in the history (a link was followed).
pub fn go(store: ChatStore, outbox: &Outbox, route: Route) {
    if store.route.with_untracked(|current| *current == route) {
        return;
    }
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        if history
            .push_state_with_url(&JsValue::NULL, "", Some(&route.path()))
            .is_err()
        {
            leptos::logging::warn!("cannot record the page in the history");
        }
    }
    show(store, outbox, route);
}

fn show(store: ChatStore, outbox: &Outbox, route: Route) {
    for request in store.navigate(route) {
        outbox.send(request);
    }
    if let Some(window) = web_sys::window() {
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }
}

/// Follows back and forward for as long as the page lives.
pub fn follow_history(store: ChatStore, outbox: Outbox) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_pop = Closure::<dyn FnMut()>::new({
        let window = window.clone();
        move || {
            let path = window.location().pathname().unwrap_or_default();
            show(store, &outbox, Route::parse(&path));
        }
    });
    if window
        .add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref())
        .is_err()
    {
        leptos::logging::warn!("cannot follow back and forward");
    }
    // The listener lives as long as the page.
    on_pop.forget();
}
