use std::fmt;

use crate::error::{Error, Result};

/// An email address, trimmed and lower-cased so that one address is one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses what a person typed into the field named `field`.
    pub fn parse(field: &'static str, input: &str) -> Result<Email> {
        let s = input.trim();
        if s.is_empty() {
            return Err(Error::field(field, "field-required"));
        }
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_control() || c.is_whitespace())
            && email_address::EmailAddress::parse_with_options(
                s,
                email_address::Options::default().without_display_text(),
            )
            .is_ok_and(|a| a.domain().contains('.'));
        if !ok {
            return Err(Error::field(field, "field-email-invalid"));
        }
        Ok(Email(s.to_lowercase()))
    }

    /// An address read back from storage (already checked when stored).
    pub fn from_stored(s: String) -> Email {
        Email(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_spaces() {
        let e = Email::parse("email", "  Alice@Example.TEST ").unwrap();
        assert_eq!(e.as_str(), "alice@example.test");
    }

    #[test]
    fn refuses_bad_addresses() {
        for bad in [
            "",
            "alice",
            "alice@",
            "a b@x.test",
            "bob@x.test\r\nBcc: x@evil.test",
            "a@localhost",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?} accepted");
        }
    }
}
