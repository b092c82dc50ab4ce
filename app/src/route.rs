//! Where the app is: each conversation has its own URL, `/` (the lobby, `general`),
//! `/r/<room>` and `/dm/<name>`, and `/rooms` lists every room. The server renders each;
//! in the browser, links and back/forward switch between them without a reload.

use crate::protocol::GENERAL;

/// A page of the app.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Route {
    /// A room (`general` is `/`).
    Room(String),
    /// Your direct conversation with this user.
    Direct(String),
    /// Every room, to browse and join.
    Rooms,
}

/// A conversation, as the client keys it: a room's name, or the other party's name
/// (names are unique ignoring case, so it is kept lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConvKey {
    Room(String),
    With(String),
}

impl ConvKey {
    /// Keyed by the name as the server compares names (ignoring case, in any script), so a
    /// link typed `/dm/élodie` and the messages of `Élodie` are one conversation.
    pub fn with(name: &str) -> Self {
        Self::With(crate::protocol::name_key(name))
    }

    pub fn general() -> Self {
        Self::Room(GENERAL.to_owned())
    }
}

impl Default for Route {
    fn default() -> Self {
        Self::Room(GENERAL.to_owned())
    }
}

impl Route {
    /// The page at `path` (an unknown path is the lobby).
    pub fn parse(path: &str) -> Self {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut parts = path.trim_matches('/').splitn(2, '/');
        match (parts.next(), parts.next()) {
            (Some("r"), Some(room)) if !room.is_empty() => {
                Self::Room(percent_decode(room).trim().to_ascii_lowercase())
            }
            (Some("dm"), Some(name)) if !name.is_empty() => Self::Direct(percent_decode(name)),
            (Some("rooms"), None) => Self::Rooms,
            _ => Self::default(),
        }
    }

    pub fn path(&self) -> String {
        match self {
            Self::Room(room) if room == GENERAL => "/".to_owned(),
            Self::Room(room) => format!("/r/{}", percent_encode(room)),
            Self::Direct(name) => format!("/dm/{}", percent_encode(name)),
            Self::Rooms => "/rooms".to_owned(),
        }
    }

    pub fn room(name: &str) -> Self {
        Self::Room(name.to_owned())
    }

    /// The conversation shown, if any.
    pub fn conversation(&self) -> Option<ConvKey> {
        match self {
            Self::Room(room) => Some(ConvKey::Room(room.clone())),
            Self::Direct(name) => Some(ConvKey::with(name)),
            Self::Rooms => None,
        }
    }
}

/// `%XX` for every byte but the unreserved characters of RFC 3986.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space, as forms send it); bytes that are not UTF-8
/// become replacement characters.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for route in [
            Route::default(),
            Route::room("rust-lang"),
            Route::Direct("Zoë B".into()),
            Route::Direct("<a>&?/".into()),
            Route::Rooms,
        ] {
            assert_eq!(Route::parse(&route.path()), route, "{}", route.path());
        }
        assert_eq!(Route::default().path(), "/");
        assert_eq!(Route::Direct("Zoë".into()).path(), "/dm/Zo%C3%AB");
    }

    #[test]
    fn anything_else_is_the_lobby() {
        for path in ["", "/", "/r/", "/dm", "/nope", "/rooms/x"] {
            assert_eq!(Route::parse(path), Route::default(), "{path}");
        }
        assert_eq!(Route::parse("/r/Rust?x=1"), Route::room("rust"));
        assert_eq!(Route::parse("/r/general"), Route::default());
    }

    #[test]
    fn decoding_never_fails() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%FF"), "\u{fffd}");
        assert_eq!(percent_decode("a+b"), "a b");
    }

    #[test]
    fn conversation_keys_ignore_case() {
        assert_eq!(
            Route::Direct("Ann".into()).conversation(),
            Some(ConvKey::with("ann"))
        );
        // As the server compares names: in any script.
        assert_eq!(
            Route::Direct("ÉLODIE".into()).conversation(),
            Some(ConvKey::with("élodie"))
        );
        assert_eq!(Route::Rooms.conversation(), None);
    }
}
