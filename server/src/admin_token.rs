//! The administrators' token (`--admin-token` / `CHAT_ADMIN_TOKEN`): it opens the `/admin`
//! Socket.IO namespace and `GET /metrics`. It is never printed: its `Debug` is redacted,
//! `--help` hides its environment value, and refusals say only `unauthorized`.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A token as configured. Compared in constant time (of digests, so not even its length
/// shows in how long a refusal takes).
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl AdminToken {
    /// The token, unless it is empty (an empty token would let anyone in: no token).
    pub fn new(token: &str) -> Option<Self> {
        (!token.is_empty()).then(|| Self {
            digest: digest(token),
        })
    }

    /// Whether `given` is the token.
    pub fn accepts(&self, given: &str) -> bool {
        bool::from(self.digest.ct_eq(&digest(given)))
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl PartialEq for AdminToken {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.digest.ct_eq(&other.digest))
    }
}

impl std::str::FromStr for AdminToken {
    type Err = EmptyToken;

    fn from_str(token: &str) -> Result<Self, EmptyToken> {
        Self::new(token).ok_or(EmptyToken)
    }
}

/// `--admin-token ""`.
#[derive(Debug, thiserror::Error)]
#[error("the admin token cannot be empty")]
pub struct EmptyToken;

/// Who may use the administrators' endpoints: nobody unless a token is configured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminAccess(Option<AdminToken>);

impl AdminAccess {
    pub fn new(token: Option<AdminToken>) -> Self {
        Self(token)
    }

    /// Whether `given` (if anything was given) is the configured token.
    pub fn admits(&self, given: Option<&str>) -> bool {
        match (&self.0, given) {
            (Some(token), Some(given)) => token.accepts(given),
            _ => false,
        }
    }

    /// Whether a token is configured.
    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_token_is_admitted_and_it_is_never_shown() {
        let access = AdminAccess::new(AdminToken::new("s3cret-token"));
        assert!(access.admits(Some("s3cret-token")));
        for wrong in ["s3cret-toke", "s3cret-token ", "S3CRET-TOKEN", ""] {
            assert!(!access.admits(Some(wrong)), "{wrong:?}");
        }
        assert!(!access.admits(None));
        assert!(!format!("{access:?}").contains("s3cret"));
        assert!(AdminToken::new("").is_none(), "an empty token is no token");
    }

    #[test]
    fn without_a_token_nobody_is_admitted() {
        let access = AdminAccess::default();
        assert!(!access.is_enabled());
        assert!(!access.admits(Some("")));
        assert!(!access.admits(Some("anything")));
    }
}
