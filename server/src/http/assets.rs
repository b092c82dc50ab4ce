//! The site's files (wasm, JS, CSS, favicon), compiled into the binary in release builds so
//! it runs alone, read from `target/site` on each request in debug builds so `cargo leptos
//! watch` serves fresh files.
//!
//! Release builds serve the app bundle under content-hashed names
//! (`/pkg/chat.<hash>.js`), cached for a year as immutable; every other file is served with
//! `Cache-Control: no-cache` and an `ETag`. cargo-leptos precompresses release files
//! (`.br`, `.gz`), which are sent as they are when the browser accepts them.

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

/// Names of the app bundle, as the page refers to it.
#[derive(Debug, Clone)]
pub struct SiteAssets {
    /// cargo-leptos output name (`chat`): `pkg/chat.js`, `pkg/chat.wasm`, `pkg/chat.css`.
    output_name: String,
    /// Content hash of the bundle; `None` in debug builds (names stay plain).
    bundle_hash: Option<String>,
}

static SITE_ASSETS: OnceLock<SiteAssets> = OnceLock::new();

impl SiteAssets {
    /// Computes (once) the bundle's names for `output_name`.
    pub fn init(output_name: &str) -> &'static SiteAssets {
        SITE_ASSETS.get_or_init(|| {
            let bundle_hash = (!cfg!(debug_assertions)).then(|| bundle_hash(output_name));
            let assets = SiteAssets {
                output_name: output_name.to_owned(),
                bundle_hash,
            };
            if Site::get(&format!("pkg/{output_name}.wasm")).is_none() {
                tracing::warn!(
                    "the web app is not built (no pkg/{output_name}.wasm in target/site): \
                     run `cargo leptos build`; the page will load without interactivity"
                );
            }
            assets
        })
    }

    /// The name the page uses for the bundle: `chat` or `chat.<hash>`. Leptos builds the
    /// script, wasm and stylesheet URLs from it.
    pub fn bundle_name(&self) -> String {
        match &self.bundle_hash {
            Some(hash) => format!("{}.{hash}", self.output_name),
            None => self.output_name.clone(),
        }
    }

    /// Maps a requested path to a stored file and its caching policy.
    fn resolve<'a>(&self, path: &'a str) -> (Cow<'a, str>, &'static str) {
        if let (Some(hash), Some(rest)) = (&self.bundle_hash, path.strip_prefix("pkg/")) {
            let hashed = format!("{}.{hash}.", self.output_name);
            if let Some(ext) = rest.strip_prefix(&hashed) {
                return (
                    Cow::Owned(format!("pkg/{}.{ext}", self.output_name)),
                    IMMUTABLE,
                );
            }
        }
        (Cow::Borrowed(path), REVALIDATE)
    }
}

/// A short hash over the JS, wasm and CSS of the bundle.
fn bundle_hash(output_name: &str) -> String {
    let mut combined = [0u8; 32];
    for ext in ["js", "wasm", "css"] {
        if let Some(file) = Site::get(&format!("pkg/{output_name}.{ext}")) {
            for (acc, byte) in combined.iter_mut().zip(file.metadata.sha256_hash()) {
                *acc ^= byte;
            }
        }
    }
    hex(&combined[..8])
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
    let (path, cache_control) = assets.resolve(requested);
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

    let mut response = Response::new(Body::from(body.into_owned()));
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

    #[test]
    fn hashed_bundle_names_resolve_to_the_stored_files() {
        let assets = SiteAssets {
            output_name: "chat".into(),
            bundle_hash: Some("abc".into()),
        };
        assert_eq!(assets.bundle_name(), "chat.abc");
        assert_eq!(
            assets.resolve("pkg/chat.abc.wasm"),
            (Cow::Borrowed("pkg/chat.wasm"), IMMUTABLE)
        );
        assert_eq!(
            assets.resolve("pkg/chat.abc.css"),
            (Cow::Borrowed("pkg/chat.css"), IMMUTABLE)
        );
        assert_eq!(
            assets.resolve("pkg/chat.old.wasm"),
            (Cow::Borrowed("pkg/chat.old.wasm"), REVALIDATE)
        );
        assert_eq!(
            assets.resolve("favicon.svg"),
            (Cow::Borrowed("favicon.svg"), REVALIDATE)
        );
    }

    #[test]
    fn debug_names_are_plain() {
        let assets = SiteAssets {
            output_name: "chat".into(),
            bundle_hash: None,
        };
        assert_eq!(assets.bundle_name(), "chat");
        assert_eq!(
            assets.resolve("pkg/chat.wasm"),
            (Cow::Borrowed("pkg/chat.wasm"), REVALIDATE)
        );
    }
}
