//! Text from outside (a client, an SMTP server, a database error) on its way into a log line.

use std::borrow::Cow;

/// The text with every control character written as `\u{…}` (a newline or an ANSI escape in a
/// name can then never start a forged log line or repaint a terminal), cut to 1,000 characters.
pub fn log_safe(text: &str) -> Cow<'_, str> {
    const MAX: usize = 1000;
    if text.len() <= MAX && !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(MAX + 16));
    for (i, c) in text.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::log_safe;

    #[test]
    fn control_characters_are_written_out() {
        assert_eq!(log_safe("plain text"), "plain text");
        assert_eq!(
            log_safe("Bob\r\nlevel=ERROR forged\u{1b}[31m"),
            "Bob\\u{d}\\u{a}level=ERROR forged\\u{1b}[31m"
        );
        assert_eq!(log_safe(&"x".repeat(5000)).chars().count(), 1001);
    }
}
