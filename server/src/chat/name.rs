use app::protocol::limits::{NAME_MAX_CHARS, NAME_MIN_CHARS};
pub use app::protocol::name_key;
use serde_json::Value;

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name must be a string")]
    NotAString,
    #[error("the name must have {NAME_MIN_CHARS} to {NAME_MAX_CHARS} characters")]
    BadLength,
    #[error("the name must not contain control characters")]
    ControlCharacter,
}

/// Checks a name as sent by a client and returns it trimmed.
///
/// Valid: a string of 3 to 10 characters (Unicode scalar values) after trimming surrounding
/// whitespace, without control characters.
pub fn validate_name(raw: &Value) -> Result<String, NameError> {
    let Value::String(raw) = raw else {
        return Err(NameError::NotAString);
    };
    let name = raw.trim();
    let chars = name.chars().count();
    if !(NAME_MIN_CHARS..=NAME_MAX_CHARS).contains(&chars) {
        return Err(NameError::BadLength);
    }
    if name.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter);
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_three_to_ten_characters() {
        assert_eq!(validate_name(&json!("Ann")), Ok("Ann".into()));
        assert_eq!(validate_name(&json!("Bartholome")), Ok("Bartholome".into()));
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(validate_name(&json!("Zoë")), Ok("Zoë".into()));
        assert_eq!(validate_name(&json!("日本語")), Ok("日本語".into()));
        assert_eq!(
            validate_name(&json!("ééééééééééé")),
            Err(NameError::BadLength)
        );
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(validate_name(&json!("")), Err(NameError::BadLength));
        assert_eq!(validate_name(&json!("ab")), Err(NameError::BadLength));
        assert_eq!(
            validate_name(&json!("Bartholomew")),
            Err(NameError::BadLength)
        );
        assert_eq!(validate_name(&json!("    ")), Err(NameError::BadLength));
    }

    #[test]
    fn trims_surrounding_whitespace() {
        assert_eq!(validate_name(&json!("  Ann  ")), Ok("Ann".into()));
        assert_eq!(validate_name(&json!(" ab ")), Err(NameError::BadLength));
    }

    #[test]
    fn rejects_non_strings() {
        for value in [
            json!(null),
            json!(42),
            json!(true),
            json!(["Ann"]),
            json!({"name": "Ann"}),
        ] {
            assert_eq!(validate_name(&value), Err(NameError::NotAString), "{value}");
        }
    }

    #[test]
    fn rejects_control_characters() {
        assert_eq!(
            validate_name(&json!("An\u{0}n")),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(
            validate_name(&json!("An\nn")),
            Err(NameError::ControlCharacter)
        );
    }

    #[test]
    fn html_is_just_characters() {
        assert_eq!(validate_name(&json!("<i>x</i>")), Ok("<i>x</i>".into()));
    }
}
