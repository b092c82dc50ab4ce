use leptos::either::EitherOf3;
use leptos::prelude::*;

use crate::model::{time_text, ChatLine, Delivery, LineKind};
use crate::use_chat;

/// One line of the conversation. Names and messages are text nodes, never HTML. Your own
/// messages show whether they are stored yet, and can be retried when refused.
#[component]
pub fn ChatLineView(line: ChatLine) -> impl IntoView {
    let chat = use_chat();
    let store = chat.store;
    let ChatLine {
        kind,
        text,
        sent_at,
        ..
    } = line;
    let time = sent_at.map(|at| {
        let label = move || time_text(at, store.local_time.get());
        view! { <time class="at" data-ms=at>{label}</time> }
    });
    match kind {
        LineKind::Server => {
            EitherOf3::A(view! { <li class="server"><span class="text">{text}</span></li> })
        }
        LineKind::Notice => {
            EitherOf3::B(view! { <li class="notice"><span class="text">{text}</span></li> })
        }
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
            EitherOf3::C(view! {
                <li class="message" class:own=own data-state=state>
                    <span class="sender">{sender}</span>
                    <span class="text">{text}</span>
                    {time}
                    {status.map(|status| view! { <span class="status" data-testid="delivery">{status}</span> })}
                    {retry}
                </li>
            })
        }
    }
}
