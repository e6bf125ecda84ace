//! [`Secret`]: a string that never shows itself in `Debug` output.

use serde::{Deserialize, Serialize};

/// A secret value — a backend API key, a client secret — that prints as `[redacted]` in
/// `Debug` output and has no `Display`. Read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::from("lk_api_topsecret");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(s.expose(), "lk_api_topsecret");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"lk_api_topsecret\"");
    }
}
