//! The site's files (wasm, JS, CSS, favicon), compiled into the binary in release builds so
//! it runs alone, read from `target/site` on each request in debug builds so `cargo leptos
//! watch` serves fresh files.
//!
//! The page refers to the app bundle as `/pkg/chat.<id>.{js,wasm,css}`, where `<id>` is a
//! hash of the bundle's content; those URLs map to the files as cargo-leptos named them
//! (`chat.js`, or `chat.<its hash>.js` with `hash-files`). In release builds they are cached
//! for a year as immutable; everything else is served with `Cache-Control: no-cache` and an
//! `ETag`. Release builds made with `--precompress` carry `.br` and `.gz` siblings, which are
//! sent as they are when the browser accepts them.

use std::borrow::Cow;
use std::fmt::Write;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../target/site"]
#[allow_missing = true]
struct Site;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
const BUNDLE_EXTENSIONS: [&str; 3] = ["js", "wasm", "css"];

/// Where the app bundle's files are stored: `pkg/chat.js` or `pkg/chat.<hash>.js`, etc.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Bundle {
    /// `(extension, stored path)`.
    files: Vec<(&'static str, String)>,
}

impl Bundle {
    /// Finds the bundle of `output_name` among the site's file paths.
    fn find<S: AsRef<str>>(output_name: &str, paths: impl IntoIterator<Item = S>) -> Self {
        let prefix = format!("pkg/{output_name}.");
        let mut files: Vec<(&'static str, String)> = paths
            .into_iter()
            .filter_map(|path| {
                let path = path.as_ref();
                let rest = path.strip_prefix(&prefix)?;
                let ext = BUNDLE_EXTENSIONS.into_iter().find(|ext| {
                    rest == *ext || rest.strip_suffix(ext).is_some_and(|r| r.ends_with('.'))
                })?;
                Some((ext, path.to_owned()))
            })
            .collect();
        files.sort();
        Self { files }
    }

    fn stored(&self, ext: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|(e, _)| *e == ext)
            .map(|(_, path)| path.as_str())
    }

    /// A short hash of the bundle's content.
    fn content_id(&self) -> String {
        let mut combined = [0u8; 32];
        for (_, path) in &self.files {
            if let Some(file) = Site::get(path) {
                for (acc, byte) in combined.iter_mut().zip(file.metadata.sha256_hash()) {
                    *acc ^= byte;
                }
            }
        }
        hex(&combined[..8])
    }
}

/// How the page names the app bundle, and where those names lead.
#[derive(Debug, Clone)]
pub struct SiteAssets {
    /// cargo-leptos output name (`chat`).
    output_name: String,
    /// Content hash of the bundle, in the URLs the page uses.
    id: String,
    /// The bundle found at start-up. Debug builds look again on every request instead,
    /// since `cargo leptos watch` rebuilds it under a running server.
    bundle: Bundle,
}

static SITE_ASSETS: OnceLock<SiteAssets> = OnceLock::new();

impl SiteAssets {
    /// Finds (once) the bundle of `output_name`.
    pub fn init(output_name: &str) -> &'static SiteAssets {
        SITE_ASSETS.get_or_init(|| {
            let bundle = Bundle::find(output_name, Site::iter());
            if bundle.stored("wasm").is_none() {
                tracing::warn!(
                    "the web app is not built (no pkg/{output_name}.wasm in target/site): \
                     run `cargo leptos build`; the page will load without interactivity"
                );
            }
            SiteAssets {
                output_name: output_name.to_owned(),
                id: bundle.content_id(),
                bundle,
            }
        })
    }

    /// The name the page uses for the bundle, `chat.<id>`: Leptos builds the script and
    /// wasm URLs from it, the shell the stylesheet URL.
    pub fn bundle_name(&self) -> String {
        format!("{}.{}", self.output_name, self.id)
    }

    /// Maps a requested path to a stored file and its caching policy.
    fn resolve(&self, path: &str, release: bool) -> (String, &'static str) {
        let Some(ext) = path
            .strip_prefix("pkg/")
            .and_then(|rest| rest.strip_prefix(&self.output_name))
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(id, ext)| (!release || id == self.id).then_some(ext))
        else {
            return (path.to_owned(), REVALIDATE);
        };
        let current;
        let bundle = if release {
            &self.bundle
        } else {
            current = Bundle::find(&self.output_name, Site::iter());
            &current
        };
        match bundle.stored(ext) {
            Some(stored) if release => (stored.to_owned(), IMMUTABLE),
            Some(stored) => (stored.to_owned(), REVALIDATE),
            None => (path.to_owned(), REVALIDATE),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// Serves a file of the site, or 404.
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let Some(assets) = SITE_ASSETS.get() else {
        return not_found();
    };
    let requested = uri.path().trim_start_matches('/');
    let (path, cache_control) = assets.resolve(requested, !cfg!(debug_assertions));
    let Some(file) = Site::get(&path) else {
        return not_found();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mime = file.metadata.mimetype().to_owned();
    let (body, encoding) = precompressed(&path, &headers)
        .map_or((file.data, None), |(data, encoding)| (data, Some(encoding)));

    // Release builds embed the files: send them without copying.
    let body = match body {
        Cow::Borrowed(embedded) => Body::from(embedded),
        Cow::Owned(read_from_disk) => Body::from(read_from_disk),
    };
    let mut response = Response::new(body);
    let response_headers = response.headers_mut();
    insert(response_headers, header::CONTENT_TYPE, &mime);
    insert(response_headers, header::CACHE_CONTROL, cache_control);
    insert(response_headers, header::ETAG, &etag);
    insert(response_headers, header::VARY, "accept-encoding");
    if let Some(encoding) = encoding {
        insert(response_headers, header::CONTENT_ENCODING, encoding);
    }
    response
}

/// The `.br` or `.gz` sibling of `path`, if the client accepts it and it exists.
fn precompressed(path: &str, headers: &HeaderMap) -> Option<(Cow<'static, [u8]>, &'static str)> {
    let accepted = headers.get(header::ACCEPT_ENCODING)?.to_str().ok()?;
    let accepts = |coding: &str| {
        accepted.split(',').any(|item| {
            let mut parts = item.trim().split(';');
            parts.next() == Some(coding) && !parts.any(|p| p.trim().replace(' ', "") == "q=0")
        })
    };
    [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .filter(|(coding, _)| accepts(coding))
        .find_map(|(coding, suffix)| {
            Site::get(&format!("{path}{suffix}")).map(|f| (f.data, coding))
        })
}

fn insert(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => {
            headers.insert(name, value);
        }
        Err(error) => tracing::error!(%name, value, %error, "invalid header value"),
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets(files: &[&str]) -> SiteAssets {
        SiteAssets {
            output_name: "chat".into(),
            id: "abc".into(),
            bundle: Bundle::find("chat", files),
        }
    }

    #[test]
    fn finds_plain_and_hashed_bundles() {
        let plain = Bundle::find(
            "chat",
            [
                "pkg/chat.js",
                "pkg/chat.wasm",
                "pkg/chat.wasm.gz",
                "pkg/chat.d.ts",
            ],
        );
        assert_eq!(plain.stored("js"), Some("pkg/chat.js"));
        assert_eq!(plain.stored("wasm"), Some("pkg/chat.wasm"));
        assert_eq!(plain.stored("css"), None);
        let hashed = Bundle::find(
            "chat",
            [
                "pkg/chat.Xy_1.css",
                "pkg/chat.Xy_1.css.br",
                "pkg/chat_bg.wasm.d.ts",
            ],
        );
        assert_eq!(hashed.stored("css"), Some("pkg/chat.Xy_1.css"));
        assert_eq!(hashed.stored("wasm"), None);
    }

    #[test]
    fn bundle_urls_resolve_to_stored_files() {
        let assets = assets(&[
            "pkg/chat.js",
            "pkg/chat.q1.wasm",
            "pkg/chat.css",
            "favicon.svg",
        ]);
        assert_eq!(assets.bundle_name(), "chat.abc");
        assert_eq!(
            assets.resolve("pkg/chat.abc.wasm", true),
            ("pkg/chat.q1.wasm".into(), IMMUTABLE)
        );
        assert_eq!(
            assets.resolve("pkg/chat.abc.js", true),
            ("pkg/chat.js".into(), IMMUTABLE)
        );
        assert_eq!(
            assets.resolve("favicon.svg", true),
            ("favicon.svg".into(), REVALIDATE)
        );
    }

    #[test]
    fn stale_ids_are_not_served_as_immutable() {
        let assets = assets(&["pkg/chat.js"]);
        assert_eq!(
            assets.resolve("pkg/chat.old.js", true),
            ("pkg/chat.old.js".into(), REVALIDATE)
        );
    }
}
