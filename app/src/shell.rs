use leptos::prelude::*;

use crate::model::{InitialState, INITIAL_STATE_ID};
use crate::App;

/// The HTML document the server renders around [`App`].
///
/// `options.output_name` names the bundle: the server sets it to `chat.<hash>` in release
/// builds, and Leptos derives the script and wasm URLs from it, as this does the stylesheet.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    // The app hydrates from the same state the server rendered.
    let state = InitialState::current().to_script_json();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <title>"Chat"</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link id="leptos" rel="stylesheet" href=stylesheet/>
                <AutoReload options=options.clone()/>
                <script type="application/json" id=INITIAL_STATE_ID inner_html=state></script>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}
