use leptos::prelude::*;

use crate::App;

/// The HTML document the server renders around [`App`].
///
/// `options.output_name` names the bundle: the server sets it to `chat.<hash>` in release
/// builds, and Leptos derives the script and wasm URLs from it, as this does the stylesheet.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
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
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}
