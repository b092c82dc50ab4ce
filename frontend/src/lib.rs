//! The browser entry point: hydrates the server-rendered page with the chat app.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A panic shows its message and place in the console (without a JavaScript stack,
    // which console_error_panic_hook would add at a few hundred bytes more).
    std::panic::set_hook(Box::new(|info| leptos::logging::error!("{info}")));
    leptos::mount::hydrate_body(app::App);
}
