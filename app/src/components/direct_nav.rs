use leptos::prelude::*;

use super::link::Link;
use super::presence_dot::PresenceDot;
use super::unread_badge::UnreadBadge;
use crate::protocol::PresenceStatus;
use crate::route::{ConvKey, Route};
use crate::use_chat;

/// The people you have talked with, each with their presence and unread count.
#[component]
pub fn DirectNav() -> impl IntoView {
    let store = use_chat().store;
    let people = move || {
        store.conversations.with(|all| {
            all.iter()
                .filter(|(key, _)| matches!(key, ConvKey::With(_)))
                .filter(|(_, c)| c.last_id > 0 || !c.lines.is_empty())
                .map(|(_, c)| c.name.clone())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <h2>"Direct messages"</h2>
        <ul class="nav" data-testid="dms">
            <For each=people key=|name| name.clone() children=move |name| {
                let key = ConvKey::with(&name);
                let active = {
                    let key = key.clone();
                    move || store.route.with(|r| r.conversation().as_ref() == Some(&key))
                };
                let unread = Signal::derive(move || {
                    store.conversations.with(|all| all.get(&key).map_or(0, |c| c.unread))
                });
                let status = {
                    let name = name.clone();
                    Signal::derive(move || status_of(&store, &name))
                };
                let class = Signal::derive(move || if active() { "active".to_owned() } else { String::new() });
                let route = Route::Direct(name.clone());
                let data = name.clone();
                view! {
                    <li data-testid="dm" data-with=data>
                        <Link route class testid="dm-link">
                            <PresenceDot status/>
                            <span class="name">{name}</span>
                            <UnreadBadge count=unread/>
                        </Link>
                    </li>
                }
            }/>
        </ul>
    }
}

/// `name`'s presence, from the presence list (absent: offline).
pub fn status_of(store: &crate::model::ChatStore, name: &str) -> PresenceStatus {
    let key = crate::protocol::name_key(name);
    store.presence.with(|list| {
        list.iter()
            .find(|p| crate::protocol::name_key(&p.username) == key)
            .map_or(PresenceStatus::Offline, |p| p.status)
    })
}
