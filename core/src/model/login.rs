use crate::error::{Error, Result};

/// A system user's login: 3 to 64 of a–z and 0–9 (other systems that use the API).
pub fn parse_login(field: &'static str, input: &str) -> Result<String> {
    let s = input.trim();
    if s.is_empty() {
        return Err(Error::field(field, "field-required"));
    }
    let ok = (3..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(s.to_string())
    } else {
        Err(Error::field(field, "field-login-invalid"))
    }
}

/// A one-line text field: trimmed, at most `max` characters, no control characters.
pub fn parse_line(field: &'static str, input: &str, max: usize) -> Result<String> {
    let s = input.trim();
    if s.chars().count() > max {
        return Err(Error::field(field, "field-too-long"));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::field(field, "field-control-characters"));
    }
    Ok(s.to_string())
}

/// A multi-line text (notes, messages): at most `max` characters; line breaks and tabs only.
pub fn parse_text(field: &'static str, input: &str, max: usize) -> Result<String> {
    let s = input.replace("\r\n", "\n");
    if s.chars().count() > max {
        return Err(Error::field(field, "field-too-long"));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::field(field, "field-control-characters"));
    }
    Ok(s.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_lower_case_letters_and_digits() {
        assert_eq!(parse_login("login", "faxgw01").unwrap(), "faxgw01");
        for bad in ["ab", "Fax", "fax-gw", "fax gw", "fäx", &"a".repeat(65)] {
            assert!(parse_login("login", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lines_refuse_control_characters_and_length() {
        assert_eq!(parse_line("name", "  Ann ", 10).unwrap(), "Ann");
        assert!(parse_line("name", "Bob\r\nBcc: x@evil.test", 100).is_err());
        assert!(parse_line("name", &"x".repeat(11), 10).is_err());
        assert_eq!(parse_text("notes", "a\r\nb\n", 10).unwrap(), "a\nb");
        assert!(parse_text("notes", &"x".repeat(1001), 1000).is_err());
    }
}
