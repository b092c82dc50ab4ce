use app::protocol::limits::ROOM_NAME_MAX_CHARS;

/// A room's name, normalized: trimmed, lower-cased, 1 to 30 characters from `a-z`, `0-9`,
/// `-` and `_`. Two names that differ only in case are the same room.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomName(String);

impl RoomName {
    /// Checks and normalizes a room name as a client sent it.
    pub fn parse(raw: &str) -> Option<Self> {
        let name = raw.trim().to_ascii_lowercase();
        let valid = (1..=ROOM_NAME_MAX_CHARS).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        valid.then_some(Self(name))
    }

    /// `general`, the lobby.
    pub fn general() -> Self {
        Self(app::protocol::GENERAL.to_owned())
    }

    pub fn is_general(&self) -> bool {
        self.0 == app::protocol::GENERAL
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RoomName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_whitespace() {
        assert_eq!(
            RoomName::parse("  Rust-Lang_2 ").map(|r| r.0),
            Some("rust-lang_2".into())
        );
        assert_eq!(RoomName::parse("GENERAL"), Some(RoomName::general()));
        assert!(RoomName::parse("general").is_some_and(|r| r.is_general()));
    }

    #[test]
    fn refuses_other_characters_and_lengths() {
        for bad in [
            "",
            "   ",
            "a b",
            "café",
            "x".repeat(31).as_str(),
            "a/b",
            "<b>",
            "é",
        ] {
            assert_eq!(RoomName::parse(bad), None, "{bad:?}");
        }
        assert!(RoomName::parse(&"x".repeat(30)).is_some());
    }
}
