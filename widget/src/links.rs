//! Message text is text. The only markup the widget ever makes from it is a link, and only
//! for `http:`, `https:` and `mailto:` (compared case-insensitively); everything else,
//! `javascript:` and `data:` included, stays plain text.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

fn is_safe_link(token: &str) -> bool {
    let lower = token.get(..8).unwrap_or(token).to_ascii_lowercase();
    let rest_ok = |prefix: usize| token.len() > prefix && !token.contains(['<', '>', '"', '\'', '`']);
    (lower.starts_with("https://") && rest_ok(8))
        || (lower.starts_with("http://") && rest_ok(7))
        || (lower.starts_with("mailto:") && rest_ok(7) && token[7..].contains('@'))
}

/// Splits text into plain runs and safe links; trailing punctuation stays outside links.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let at_word_start = i == 0 || bytes[i - 1].is_ascii_whitespace();
        if at_word_start && !bytes[i].is_ascii_whitespace() {
            let end = text[i..].find(|c: char| c.is_whitespace()).map_or(text.len(), |n| i + n);
            let word = &text[i..end];
            let trimmed = word.trim_end_matches(['.', ',', '!', '?', ')', ';', ':']);
            if is_safe_link(trimmed) {
                if plain_start < i {
                    out.push(Segment::Text(&text[plain_start..i]));
                }
                out.push(Segment::Link(trimmed));
                plain_start = i + trimmed.len();
            }
            i = end;
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if plain_start < text.len() {
        out.push(Segment::Text(&text[plain_start..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::*;

    #[test]
    fn links_only_for_safe_schemes() {
        assert_eq!(segments("see https://shop.example/a?b=1."), vec![Text("see "), Link("https://shop.example/a?b=1"), Text(".")]);
        assert_eq!(segments("HTTP://X.EXAMPLE"), vec![Link("HTTP://X.EXAMPLE")]);
        assert_eq!(segments("mail mailto:ana@shop.example"), vec![Text("mail "), Link("mailto:ana@shop.example")]);
        for hostile in ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>", "vbscript:x",
            "https://x\"onmouseover=\"alert(1)", "mailto:nobody", "https://", "&#106;avascript:alert(1)"] {
            assert!(segments(hostile).iter().all(|s| matches!(s, Text(_))), "{hostile}");
        }
    }

    #[test]
    fn text_is_kept_exactly() {
        let text = "Grüße — <b>bold?</b> visit https://a.example/ü now\nלהתראות 👋🏽";
        let joined: String = segments(text).iter().map(|s| match s { Text(t) | Link(t) => *t }).collect();
        assert_eq!(joined, text);
    }
}
