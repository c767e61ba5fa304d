//! [`Secret`]: a string (contract code, request token) that is never printed whole.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret string: the subscription (contract) code or a request token.
///
/// `Debug` and `Display` show `****` followed by the last 4 characters (`****` alone when the value
/// has 8 characters or fewer, so a short secret does not leak half of itself); the number of hidden
/// characters is not revealed. The value is reachable only through [`Secret::expose`], which the
/// crate calls to put it on the wire and in the saved request file (mode 0600).
///
/// ```
/// use odump_upgrade::Secret;
/// let token = Secret::new("c0ffee0123456789");
/// assert_eq!(token.to_string(), "****6789");
/// assert_eq!(format!("{token:?}"), "Secret(****6789)");
/// assert_eq!(token.expose(), "c0ffee0123456789");
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The whole value: only to send it to the platform or store it in a private file.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty (an empty contract is refused before any call).
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Replaces every occurrence of the value in `text` by its masked form (for server messages
    /// that might echo a contract or token back).
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_owned();
        }
        text.replace(&self.0, &self.to_string())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() <= 8 {
            return f.write_str("****");
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        write!(f, "****{tail}")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_last_four() {
        let s = Secret::new("M1234567890abcd");
        assert_eq!(s.to_string(), "****abcd");
        assert!(!format!("{s:?}").contains("M123"));
        assert_eq!(Secret::new("short").to_string(), "****");
        assert_eq!(Secret::new("12345678").to_string(), "****");
    }

    #[test]
    fn scrubs_echoed_values() {
        let s = Secret::new("M1234567890abcd");
        assert_eq!(
            s.scrub("contract M1234567890abcd is expired"),
            "contract ****abcd is expired"
        );
    }

    #[test]
    fn serializes_whole_for_the_private_state_file() {
        let s = Secret::new("tok-0123456789");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"tok-0123456789\"");
    }
}
