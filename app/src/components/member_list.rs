use leptos::prelude::*;

use super::direct_nav::status_of;
use super::link::Link;
use super::presence_dot::PresenceDot;
use crate::protocol::GENERAL;
use crate::route::Route;
use crate::use_chat;

/// Who is in the room shown (in `general`: everyone online), with their presence; a click
/// on someone opens your direct conversation with them.
#[component]
pub fn MemberList() -> impl IntoView {
    let store = use_chat().store;
    let members = move || match store.route.get() {
        Route::Room(room) if room == GENERAL => store
            .presence
            .with(|list| list.iter().map(|p| p.username.clone()).collect()),
        Route::Room(room) => store.room_users.with(|(of, names)| {
            if *of == room {
                names.clone()
            } else {
                Vec::new()
            }
        }),
        _ => Vec::new(),
    };
    let me = move || store.me.with(|me| me.as_ref().map(|me| me.name.clone()));
    view! {
        <aside class="members" data-testid="users" aria-label="People in this room">
            <h2>
                "Online " <span class="count" data-testid="user-count">{move || members().len()}</span>
            </h2>
            <ul>
                <For each=members key=|name| name.clone() children=move |name| {
                    let is_me = {
                        let name = name.clone();
                        move || me().as_deref() == Some(name.as_str())
                    };
                    let status = {
                        let name = name.clone();
                        Signal::derive(move || status_of(&store, &name))
                    };
                    let label = name.clone();
                    let entry = if is_me() {
                        leptos::either::Either::Left(view! { <span class="name">{label}</span> })
                    } else {
                        let route = Route::Direct(label.clone());
                        leptos::either::Either::Right(view! {
                            <Link route testid="user-link">{label}</Link>
                        })
                    };
                    view! {
                        <li data-testid="user" class:me=is_me>
                            <PresenceDot status/>
                            {entry}
                        </li>
                    }
                }/>
            </ul>
        </aside>
    }
}
