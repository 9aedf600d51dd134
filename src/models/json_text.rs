//! JSON as the people who send it see it: where a text stops being JSON and why, what a value
//! is, and JSON Pointers (RFC 6901). serde_json's own messages ("expected `,` or `}`",
//! "EOF while parsing a value") are its words, not the caller's; these are said here once, for
//! request bodies and uploaded GeoJSON files alike.

use serde_json::Value;

/// Why a text is not JSON, in plain words, with where (`line 3, column 14: …`).
pub fn syntax_problem(error: &serde_json::Error) -> String {
    let why = syntax_reason(error);
    if error.line() == 0 {
        why.to_owned()
    } else {
        format!("line {}, column {}: {why}", error.line(), error.column())
    }
}

/// Whether serde_json refused a number it cannot hold (beyond ±1.8e308): valid JSON syntax,
/// so a problem of the value, not of the text.
pub fn is_number_out_of_range(error: &serde_json::Error) -> bool {
    error.is_syntax() && serde_message(error) == "number out of range"
}

/// serde_json's message without the position it appends.
fn serde_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

fn syntax_reason(error: &serde_json::Error) -> &'static str {
    if error.is_eof() {
        return "the JSON text ends before it is complete (cut off, or a string, array or object \
                left open)";
    }
    if error.is_io() {
        return "the data could not be read";
    }
    match serde_message(error).as_str() {
        "expected `:`" => "expected ':' after a member name",
        "expected `,` or `]`" => "expected ',' or ']' after an array element",
        "expected `,` or `}`" => "expected ',' or '}' after an object member",
        "expected ident" => "expected true, false or null",
        "expected value" => {
            "expected a JSON value (an object, array, string, number, true, false or null)"
        }
        "expected `\"`" => "expected a member name in double quotes",
        "invalid escape" => {
            "a string holds an invalid escape (\\ must be followed by \", \\, /, b, f, n, r, t or uXXXX)"
        }
        "invalid number" => "a number is malformed",
        "number out of range" => "a number is too large to hold (beyond ±1.8e308)",
        "invalid unicode code point" => {
            "a string is not valid UTF-8 or holds an invalid \\u escape"
        }
        "control character (\\u0000-\\u001F) found while parsing a string" => {
            "a string holds a raw control character (write it escaped, e.g. \\n or \\u0000)"
        }
        "key must be a string" => "a member name must be a string in double quotes",
        "lone leading surrogate in hex escape" => "a string holds an unpaired \\u surrogate escape",
        "trailing comma" => "a comma stands before a closing ']' or '}'",
        "trailing characters" => "more text follows the end of the JSON value",
        "unexpected end of hex escape" => "a string holds an incomplete \\u escape",
        "recursion limit exceeded" => "arrays or objects are nested more than 128 levels deep",
        _ => "this is not valid JSON",
    }
}

/// What a JSON value is, for "found …" in a refusal: `the string "50"`, `the number 5`,
/// `an array`. Long strings are cut.
pub fn found(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            const MAX: usize = 40;
            if s.chars().count() > MAX {
                let cut: String = s.chars().take(MAX).collect();
                format!("the string {:?}", format!("{cut}…"))
            } else {
                format!("the string {s:?}")
            }
        }
        Value::Array(items) if items.is_empty() => "an empty array".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// One reference token of a JSON Pointer: `~` and `/` escaped (RFC 6901).
pub fn pointer_token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// The JSON Pointer of where serde_path_to_error says a value was being read.
pub fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", pointer_token(key))),
            Segment::Enum { variant } => Some(format!("/{}", pointer_token(variant))),
            Segment::Unknown => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> String {
        syntax_problem(&serde_json::from_str::<Value>(text).unwrap_err())
    }

    #[test]
    fn syntax_problems_name_the_place_in_plain_words() {
        assert_eq!(
            problem("{\"a\": 1 \"b\": 2}"),
            "line 1, column 9: expected ',' or '}' after an object member"
        );
        assert!(problem("{\"features\": [").starts_with("line 1, column 14: the JSON text ends"));
        assert!(problem("[1e400]").contains("too large"));
        assert!(problem("{} x").ends_with("more text follows the end of the JSON value"));
        assert!(problem("[nulx]").contains("expected true, false or null"));
        for text in ["{", "[1,]", "\"\u{1}\"", "{1:2}", "\"\\x\""] {
            let said = problem(text);
            assert!(
                !said.contains('`') && !said.contains("EOF"),
                "{text}: {said}"
            );
        }
    }

    #[test]
    fn pointers_escape_their_tokens() {
        assert_eq!(pointer_token("a/b~c"), "a~1b~0c");
        assert_eq!(found(&Value::from("50")), "the string \"50\"");
        assert_eq!(found(&serde_json::json!([])), "an empty array");
    }
}
