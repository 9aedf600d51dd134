//! Text normalisation for `q=` search, identical on both backends because it happens here:
//! lower case (Unicode, so Cyrillic too), one apostrophe, single spaces.

/// Normalises text for storage in the search column and for query tokens.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            // Ukrainian apostrophes are typed many ways.
            '\u{2019}' | '\u{02BC}' | '\u{2018}' | '`' | '\u{00B4}' => '\'',
            c if c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The search tokens of a query: normalised words, each of which must occur.
pub fn tokens(query: &str) -> Vec<String> {
    normalise(query)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_case_and_apostrophes() {
        assert_eq!(normalise("  Кам’янецька   ВУЛИЦЯ "), "кам'янецька вулиця");
        assert_eq!(tokens("КАМ'ЯНЕЦЬКА вул"), ["кам'янецька", "вул"]);
        assert!(tokens("   ").is_empty());
    }
}
