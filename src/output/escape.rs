//! Broker data shown as text (keys, headers, events, errors) with its
//! control characters escaped: a key such as `\x1b]0;pwned\x07` would
//! otherwise recolour the terminal or set its title. JSON output escapes
//! them already and is left as it is.

use std::borrow::Cow;

/// Whether the terminal could act on `c`: C0 controls, DEL and C1 controls.
fn control(c: char) -> bool {
    c.is_control()
}

/// `text` with each control character written as an escape: `\n`, `\t`,
/// `\r`, `\x1b` (below 0x80) or `\u{9b}` (C1), and a backslash doubled
/// only when something was escaped, so plain text is shown unchanged.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x80 && control(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A JSON string as text output shows it: serde_json escapes C0 controls
/// but writes DEL and C1 controls as they are.
pub fn json_string(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if !text.chars().any(control) {
        return text;
    }
    text.chars()
        .map(|c| {
            if control(c) {
                format!("\\u{:04x}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_unchanged() {
        assert_eq!(escape_controls("order-1 é \\"), "order-1 é \\");
        assert_eq!(
            escape_controls("\u{1b}[31mRED\u{1b}]0;pwned\u{7}"),
            "\\x1b[31mRED\\x1b]0;pwned\\x07"
        );
        assert_eq!(
            escape_controls("a\nb\\\u{0}\u{7f}\u{9b}"),
            "a\\nb\\\\\\x00\\x7f\\u{9b}"
        );
        let v = serde_json::Value::String("x\u{1b}y\u{7f}\u{9b}".into());
        assert_eq!(json_string(&v), "\"x\\u001by\\u007f\\u009b\"");
    }
}
