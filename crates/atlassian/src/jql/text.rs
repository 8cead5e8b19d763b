//! Literal text-search values for `~` / `!~` (Lucene escaping).

/// How a [`TextQuery`] is handed to Lucene.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextMode {
    /// Every word must occur (any order); all syntax escaped.
    Words,
    /// The text must occur as one phrase; wrapped in Lucene quotes.
    Phrase,
}

/// A literal text-search value for `~` / `!~`, see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextQuery {
    mode: TextMode,
    text: String,
}

/// Characters with a meaning in Lucene query syntax (escaped in text searches).
pub const LUCENE_SPECIAL: &[char] = &[
    '+', '-', '&', '|', '!', '(', ')', '{', '}', '[', ']', '^', '"', '~', '*', '?', ':', '\\', '/',
];

impl TextQuery {
    /// Matches documents containing all the words of `text`, literally.
    pub fn words(text: impl Into<String>) -> Self {
        TextQuery {
            mode: TextMode::Words,
            text: text.into(),
        }
    }
    /// Matches documents containing `text` as a phrase, literally.
    pub fn phrase(text: impl Into<String>) -> Self {
        TextQuery {
            mode: TextMode::Phrase,
            text: text.into(),
        }
    }
    /// The mode.
    pub fn mode(&self) -> TextMode {
        self.mode
    }
    /// The caller's text (unescaped).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The Lucene query text (before JQL string escaping).
    pub fn to_lucene(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 8);
        if self.mode == TextMode::Phrase {
            out.push('"');
        }
        let mut word_start = true;
        for (i, c) in self.text.char_indices() {
            if word_start && self.mode == TextMode::Words && is_lucene_operator_at(&self.text, i) {
                out.push('\\');
            }
            if LUCENE_SPECIAL.contains(&c) {
                out.push('\\');
            }
            out.push(c);
            word_start = c.is_whitespace();
        }
        if self.mode == TextMode::Phrase {
            out.push('"');
        }
        out
    }
}

/// Whether the whitespace-delimited word starting at byte `i` is a Lucene
/// boolean operator word.
fn is_lucene_operator_at(text: &str, i: usize) -> bool {
    let rest = &text[i..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    matches!(&rest[..end], "AND" | "OR" | "NOT")
}
