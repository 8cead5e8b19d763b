//! AQL tokenizer.

use super::AqlError;

/// A token with its char position.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    LParen,
    RParen,
    Comma,
    Dot,
    /// `=`, `!=`, `<`, `>`, `<=`, `>=`
    Op(&'static str),
    /// A quoted string, unescaped.
    Str(String),
    /// A bare word or number.
    Word(String),
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | ',' | '.' | '"' | '=' | '!' | '<' | '>')
}

/// Splits `input` into tokens with their char offsets.
pub(super) fn tokenize(input: &str) -> Result<Vec<(usize, Tok)>, AqlError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        let next = chars.get(i + 1).copied();
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '.' => Tok::Dot,
            '=' => Tok::Op("="),
            '!' if next == Some('=') => {
                i += 1;
                Tok::Op("!=")
            }
            '<' | '>' if next == Some('=') => {
                i += 1;
                Tok::Op(if c == '<' { "<=" } else { ">=" })
            }
            '<' => Tok::Op("<"),
            '>' => Tok::Op(">"),
            '!' => return Err(AqlError(format!("AQL: unexpected '!' at position {start}"))),
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(AqlError(format!(
                                "AQL: unterminated string starting at position {start}"
                            )));
                        }
                        Some('"') => break,
                        Some('\\') => match chars.get(i + 1) {
                            Some(&e @ ('"' | '\\')) => {
                                s.push(e);
                                i += 2;
                            }
                            _ => {
                                return Err(AqlError(format!(
                                    "AQL: invalid escape at position {i}; only \\\" and \\\\ are allowed"
                                )));
                            }
                        },
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                Tok::Str(s)
            }
            _ => {
                let mut s = String::new();
                while let Some(&ch) = chars.get(i) {
                    let numeric_dot = ch == '.'
                        && !s.is_empty()
                        && s.chars().all(|d| d.is_ascii_digit() || d == '-')
                        && chars.get(i + 1).is_some_and(char::is_ascii_digit);
                    if !(is_word_char(ch) || numeric_dot) {
                        break;
                    }
                    s.push(ch);
                    i += 1;
                }
                out.push((start, Tok::Word(s)));
                continue;
            }
        };
        out.push((start, tok));
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = tokenize(r#""Belongs to"."Name" != "a \"b\" \\" AND x>=3.5"#).unwrap();
        let toks: Vec<Tok> = t.into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            toks,
            vec![
                Tok::Str("Belongs to".into()),
                Tok::Dot,
                Tok::Str("Name".into()),
                Tok::Op("!="),
                Tok::Str("a \"b\" \\".into()),
                Tok::Word("AND".into()),
                Tok::Word("x".into()),
                Tok::Op(">="),
                Tok::Word("3.5".into()),
            ]
        );
        assert!(tokenize(r#"Name = "abc"#).is_err());
        assert!(tokenize(r#"Name = "a\n""#).is_err());
        assert!(tokenize("Name ! x").is_err());
    }
}
