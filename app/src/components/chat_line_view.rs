use leptos::either::EitherOf4;
use leptos::prelude::*;

use crate::model::{time_text, ChatLine, Delivery, LineKind};
use crate::use_chat;

/// One line of the conversation. Names, messages and announcements are text nodes, never
/// HTML. Your own messages show whether they are stored yet, and can be retried when
/// refused; in a DM, "Seen" under the last one the other party has read. "New messages"
/// marks the first unread one. An announcement from the administrators stands out.
#[component]
pub fn ChatLineView(
    line: ChatLine,
    /// The id of the first unread message.
    first_unread: Memo<Option<u64>>,
    /// The id of your last message the other party has read.
    seen: Memo<Option<u64>>,
) -> impl IntoView {
    let chat = use_chat();
    let store = chat.store;
    let id = line.message_id();
    let ChatLine {
        kind,
        text,
        sent_at,
        ..
    } = line;
    let divider = move || {
        (id.is_some() && first_unread.get() == id)
            .then(|| view! { <div class="divider" data-testid="new-messages">"New messages"</div> })
    };
    let seen_mark = move || {
        (id.is_some() && seen.get() == id)
            .then(|| view! { <span class="seen" data-testid="seen">"Seen"</span> })
    };
    let time = sent_at.map(|at| {
        let label = move || time_text(at, store.local_time.get());
        view! { <time class="at" data-ms=at>{label}</time> }
    });
    match kind {
        LineKind::Server => {
            EitherOf4::A(view! { <li class="server"><span class="text">{text}</span></li> })
        }
        LineKind::Notice => {
            EitherOf4::B(view! { <li class="notice"><span class="text">{text}</span></li> })
        }
        LineKind::Announcement => EitherOf4::D(view! {
            <li class="announcement" data-testid="announcement" role="note">
                <span class="label">"Announcement"</span>
                <span class="text">{text}</span>
                {time}
            </li>
        }),
        LineKind::Message {
            sender,
            own,
            client_id,
            delivery,
            ..
        } => {
            let (state, status) = match &delivery {
                Delivery::Pending => ("pending", Some("sending…".to_owned())),
                Delivery::Sent => ("sent", None),
                Delivery::Failed(why) => ("failed", Some(format!("Not sent: {why}"))),
                Delivery::Waiting => (
                    "waiting",
                    Some("sending too fast: sending again in a moment…".to_owned()),
                ),
            };
            let retry = match (delivery, client_id) {
                (Delivery::Failed(_), Some(client_id)) => {
                    let outbox = chat.outbox.clone();
                    let on_click = move |_| {
                        if let Some(request) = store.retry(&client_id) {
                            outbox.send(request);
                        }
                    };
                    Some(
                        view! { <button class="retry" data-testid="retry" on:click=on_click>"Retry"</button> },
                    )
                }
                _ => None,
            };
            EitherOf4::C(view! {
                <li class="message" class:own=own data-state=state data-id=id>
                    {divider}
                    <span class="sender">{sender}</span>
                    <span class="text">{text}</span>
                    {time}
                    {status.map(|status| view! { <span class="status" data-testid="delivery">{status}</span> })}
                    {retry}
                    {seen_mark}
                </li>
            })
        }
    }
}
