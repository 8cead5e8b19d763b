//! Verification helper (not API): a strict tokenizer/parser for exactly the
//! JQL subset the builders emit, used by tests and the fuzz target to prove
//! that values never change a query's structure.
//!
//! [`parse_emitted`] reads rendered JQL back into a [`Parsed`] tree, decoding
//! string escapes (and, for `~`/`!~`, the Lucene escaping of [`TextQuery`]);
//! [`expected`] maps a [`Query`] to the tree its rendering must parse to.

use super::{Clause, Expr, Field, Function, Predicate, Query, TextMode, TextQuery, Value};

/// Lucene's special characters, listed independently of
/// [`super::LUCENE_SPECIAL`] so that dropping one from the escaper is caught.
const LUCENE_SYNTAX: &[char] = &[
    '+', '-', '&', '|', '!', '(', ')', '{', '}', '[', ']', '^', '"', '~', '*', '?', ':', '\\', '/',
];

/// A parsed field reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldRef {
    /// Unquoted system field name.
    Ident(String),
    /// Quoted field name (unescaped).
    Quoted(String),
    /// `cf[id]`
    Custom(u64),
}

/// A parsed operand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// A string literal (unescaped).
    Str(String),
    /// A number.
    Num(i64),
    /// An unquoted relative date.
    RelDate(String),
    /// A function call.
    Func(String, Vec<Operand>),
    /// A parenthesised list.
    List(Vec<Operand>),
    /// A text search, Lucene escaping removed.
    Text {
        /// Lucene phrase (quoted) or words.
        phrase: bool,
        /// The literal text.
        text: String,
    },
    /// `EMPTY`
    Empty,
    /// No operand (`CHANGED`).
    None,
}

/// A parsed boolean expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// `field op operand`
    Cond(FieldRef, String, Operand),
    /// `a AND b AND …`
    And(Vec<Parsed>),
    /// `a OR b OR …`
    Or(Vec<Parsed>),
    /// `NOT (a)`
    Not(Box<Parsed>),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    /// The filter, if any.
    pub filter: Option<Parsed>,
    /// `ORDER BY` keys with `ASC`/`DESC`.
    pub order: Vec<(FieldRef, String)>,
}

/// Why emitted text did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError(pub String);

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Op(&'static str),
    Str(String),
    Word(String),
    Num(i64),
    RelDate(String),
    Cf(u64),
}

const KEYWORDS: &[&str] = &[
    "AND", "OR", "NOT", "IN", "IS", "EMPTY", "WAS", "CHANGED", "ORDER", "BY", "ASC", "DESC",
];

fn err<T>(msg: impl Into<String>) -> Result<T, VerifyError> {
    Err(VerifyError(msg.into()))
}

fn tokenize(s: &str) -> Result<Vec<Tok>, VerifyError> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match c {
            ' ' => i += 1,
            '(' | ')' | ',' => {
                toks.push(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    _ => Tok::Comma,
                });
                i += 1;
            }
            '!' | '>' | '<' | '=' | '~' => {
                let (op, len) = match (c, next) {
                    ('!', Some('=')) => ("!=", 2),
                    ('!', Some('~')) => ("!~", 2),
                    ('>', Some('=')) => (">=", 2),
                    ('<', Some('=')) => ("<=", 2),
                    ('>', _) => (">", 1),
                    ('<', _) => ("<", 1),
                    ('=', _) => ("=", 1),
                    ('~', _) => ("~", 1),
                    _ => return err(format!("bad operator at {i}")),
                };
                toks.push(Tok::Op(op));
                i += len;
            }
            '"' => {
                let (text, end) = string_literal(&chars, i + 1)?;
                toks.push(Tok::Str(text));
                i = end;
            }
            c if c.is_ascii_alphabetic() => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word == "cf" && chars.get(i) == Some(&'[') {
                    let digits_start = i + 1;
                    let mut j = digits_start;
                    while chars.get(j).is_some_and(char::is_ascii_digit) {
                        j += 1;
                    }
                    if j == digits_start || chars.get(j) != Some(&']') {
                        return err(format!("bad cf[] at {start}"));
                    }
                    let digits: String = chars[digits_start..j].iter().collect();
                    let id = digits.parse().map_err(|_| VerifyError("cf id".into()))?;
                    toks.push(Tok::Cf(id));
                    i = j + 1;
                } else {
                    toks.push(Tok::Word(word));
                }
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let digits: String = chars[start..i].iter().collect();
                if chars.get(i).is_some_and(|c| "yMwdhm".contains(*c)) {
                    i += 1;
                    toks.push(Tok::RelDate(chars[start..i].iter().collect()));
                } else {
                    toks.push(Tok::Num(
                        digits.parse().map_err(|_| VerifyError("number".into()))?,
                    ));
                }
                if chars.get(i).is_some_and(|c| c.is_alphanumeric()) {
                    return err(format!("junk after number at {i}"));
                }
            }
            other => return err(format!("unexpected {other:?} at {i}")),
        }
    }
    Ok(toks)
}

/// Reads a string literal body starting after the opening quote; returns the
/// decoded text and the index after the closing quote.
fn string_literal(chars: &[char], mut i: usize) -> Result<(String, usize), VerifyError> {
    let mut out = String::new();
    loop {
        match chars.get(i) {
            None => return err("unterminated string"),
            Some('"') => return Ok((out, i + 1)),
            Some('\\') => {
                let decoded = match chars.get(i + 1) {
                    Some('\\') => '\\',
                    Some('"') => '"',
                    Some('\'') => '\'',
                    Some('n') => '\n',
                    Some('r') => '\r',
                    Some('t') => '\t',
                    Some('u') => {
                        let hex: String =
                            chars.get(i + 2..i + 6).unwrap_or_default().iter().collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .ok()
                            .filter(|_| hex.len() == 4)
                            .and_then(char::from_u32);
                        match code {
                            Some(c) => {
                                i += 4;
                                c
                            }
                            None => return err("bad \\u escape"),
                        }
                    }
                    _ => return err("bad escape"),
                };
                out.push(decoded);
                i += 2;
            }
            Some(c) if c.is_control() || *c == '\u{2028}' || *c == '\u{2029}' => {
                return err("raw control character in string");
            }
            Some(c) => {
                out.push(*c);
                i += 1;
            }
        }
    }
}

/// Undoes [`TextQuery::to_lucene`], checking that no Lucene syntax is left
/// unescaped.
pub fn parse_lucene(s: &str) -> Result<(bool, String), VerifyError> {
    let chars: Vec<char> = s.chars().collect();
    let phrase = chars.first() == Some(&'"');
    let body = if phrase {
        if chars.len() < 2 || chars.last() != Some(&'"') {
            return err("unterminated Lucene phrase");
        }
        &chars[1..chars.len() - 1]
    } else {
        &chars[..]
    };
    let mut out = String::new();
    let mut i = 0;
    let mut word_start = true;
    while let Some(&c) = body.get(i) {
        if c == '\\' {
            let Some(&escaped) = body.get(i + 1) else {
                return err("dangling Lucene escape");
            };
            out.push(escaped);
            word_start = escaped.is_whitespace();
            i += 2;
            continue;
        }
        if LUCENE_SYNTAX.contains(&c) {
            return err(format!("unescaped Lucene special {c:?}"));
        }
        if !phrase && word_start {
            let rest: String = body[i..].iter().collect();
            let word = rest.split(char::is_whitespace).next().unwrap_or_default();
            if matches!(word, "AND" | "OR" | "NOT") {
                return err("unescaped Lucene operator word");
            }
        }
        out.push(c);
        word_start = c.is_whitespace();
        i += 1;
    }
    Ok((phrase, out))
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }
    fn expect_word(&mut self, w: &str) -> Result<(), VerifyError> {
        if self.is_word(w) {
            self.pos += 1;
            Ok(())
        } else {
            err(format!("expected {w} at token {}", self.pos))
        }
    }
    fn expect(&mut self, t: &Tok) -> Result<(), VerifyError> {
        if self.peek() == Some(t) {
            self.pos += 1;
            Ok(())
        } else {
            err(format!("expected {t:?} at token {}", self.pos))
        }
    }

    fn or_expr(&mut self) -> Result<Parsed, VerifyError> {
        let mut items = vec![self.and_expr()?];
        while self.is_word("OR") {
            self.pos += 1;
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Parsed::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Parsed, VerifyError> {
        let mut items = vec![self.unary()?];
        while self.is_word("AND") {
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Parsed::And(items)
        })
    }

    fn unary(&mut self) -> Result<Parsed, VerifyError> {
        if self.is_word("NOT") {
            self.pos += 1;
            self.expect(&Tok::LParen)?;
            let inner = self.or_expr()?;
            self.expect(&Tok::RParen)?;
            return Ok(Parsed::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let inner = self.or_expr()?;
            self.expect(&Tok::RParen)?;
            if !matches!(inner, Parsed::And(_) | Parsed::Or(_)) {
                return err("needless parentheses");
            }
            return Ok(inner);
        }
        self.condition()
    }

    fn field(&mut self) -> Result<FieldRef, VerifyError> {
        match self.bump() {
            Some(Tok::Word(w)) if !KEYWORDS.contains(&w.as_str()) => Ok(FieldRef::Ident(w)),
            Some(Tok::Str(s)) => Ok(FieldRef::Quoted(s)),
            Some(Tok::Cf(id)) => Ok(FieldRef::Custom(id)),
            other => err(format!("expected field, got {other:?}")),
        }
    }

    fn condition(&mut self) -> Result<Parsed, VerifyError> {
        let field = self.field()?;
        let (op, operand) = match self.bump() {
            Some(Tok::Op(op @ ("~" | "!~"))) => match self.bump() {
                Some(Tok::Str(s)) => {
                    let (phrase, text) = parse_lucene(&s)?;
                    (op.to_owned(), Operand::Text { phrase, text })
                }
                other => return err(format!("expected text after ~, got {other:?}")),
            },
            Some(Tok::Op(op)) => (op.to_owned(), self.operand()?),
            Some(Tok::Word(w)) => match w.as_str() {
                "IN" => ("IN".to_owned(), self.list()?),
                "NOT" => {
                    self.expect_word("IN")?;
                    ("NOT IN".to_owned(), self.list()?)
                }
                "IS" => {
                    let op = if self.is_word("NOT") {
                        self.pos += 1;
                        "IS NOT"
                    } else {
                        "IS"
                    };
                    self.expect_word("EMPTY")?;
                    (op.to_owned(), Operand::Empty)
                }
                "WAS" => {
                    let not = self.is_word("NOT");
                    if not {
                        self.pos += 1;
                    }
                    let op = if not { "WAS NOT" } else { "WAS" };
                    if self.is_word("IN") {
                        self.pos += 1;
                        (format!("{op} IN"), self.list()?)
                    } else {
                        (op.to_owned(), self.operand()?)
                    }
                }
                "CHANGED" => ("CHANGED".to_owned(), Operand::None),
                _ => return err(format!("unknown operator {w}")),
            },
            other => return err(format!("expected operator, got {other:?}")),
        };
        Ok(Parsed::Cond(field, op, operand))
    }

    fn list(&mut self) -> Result<Operand, VerifyError> {
        self.expect(&Tok::LParen)?;
        let mut items = vec![self.operand()?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            items.push(self.operand()?);
        }
        self.expect(&Tok::RParen)?;
        Ok(Operand::List(items))
    }

    fn operand(&mut self) -> Result<Operand, VerifyError> {
        match self.bump() {
            Some(Tok::Str(s)) => Ok(Operand::Str(s)),
            Some(Tok::Num(n)) => Ok(Operand::Num(n)),
            Some(Tok::RelDate(d)) => Ok(Operand::RelDate(d)),
            Some(Tok::Word(name)) if !KEYWORDS.contains(&name.as_str()) => {
                self.expect(&Tok::LParen)?;
                let mut args = Vec::new();
                if self.peek() != Some(&Tok::RParen) {
                    args.push(self.operand()?);
                }
                self.expect(&Tok::RParen)?;
                Ok(Operand::Func(name, args))
            }
            other => err(format!("expected operand, got {other:?}")),
        }
    }
}

/// Parses JQL emitted by the builders (and nothing more).
pub fn parse_emitted(jql: &str) -> Result<ParsedQuery, VerifyError> {
    let mut p = Parser {
        toks: tokenize(jql)?,
        pos: 0,
    };
    let filter = if p.peek().is_none() || p.is_word("ORDER") {
        None
    } else {
        Some(p.or_expr()?)
    };
    let mut order = Vec::new();
    if p.is_word("ORDER") {
        p.pos += 1;
        p.expect_word("BY")?;
        loop {
            let field = p.field()?;
            let dir = match p.bump() {
                Some(Tok::Word(w)) if w == "ASC" || w == "DESC" => w,
                other => return err(format!("expected ASC/DESC, got {other:?}")),
            };
            order.push((field, dir));
            if p.peek() == Some(&Tok::Comma) {
                p.pos += 1;
            } else {
                break;
            }
        }
    }
    if p.peek().is_some() {
        return err(format!("trailing tokens at {}", p.pos));
    }
    Ok(ParsedQuery { filter, order })
}

/// The tree that rendering `query` must parse back to.
pub fn expected(query: &Query) -> ParsedQuery {
    ParsedQuery {
        filter: query.filter.as_ref().map(expected_clause),
        order: query
            .order
            .iter()
            .map(|(f, d)| (field_ref(f), d.as_str().to_owned()))
            .collect(),
    }
}

/// The tree that rendering `clause` must parse back to.
pub fn expected_clause(clause: &Clause) -> Parsed {
    match &clause.0 {
        Expr::Cond(field, pred) => {
            let operand = match pred {
                Predicate::Compare(_, v) | Predicate::Was { value: v, .. } => operand(v),
                Predicate::Text { text, .. } => text_operand(text),
                Predicate::In { values, .. } => Operand::List(values.iter().map(operand).collect()),
                Predicate::Empty { .. } => Operand::Empty,
                Predicate::Changed => Operand::None,
            };
            Parsed::Cond(field_ref(field), pred.op().to_owned(), operand)
        }
        Expr::And(items) => Parsed::And(items.iter().map(expected_clause).collect()),
        Expr::Or(items) => Parsed::Or(items.iter().map(expected_clause).collect()),
        Expr::Not(inner) => Parsed::Not(Box::new(expected_clause(inner))),
    }
}

fn text_operand(text: &TextQuery) -> Operand {
    Operand::Text {
        phrase: text.mode() == TextMode::Phrase,
        text: text.text().to_owned(),
    }
}

fn field_ref(field: &Field) -> FieldRef {
    match field {
        Field::RequestType => FieldRef::Quoted("Request Type".to_owned()),
        Field::Custom(id) => FieldRef::Custom(*id),
        Field::Named(name) => FieldRef::Quoted(name.clone()),
        other => FieldRef::Ident(other.system_name().unwrap_or_default().to_owned()),
    }
}

fn operand(value: &Value) -> Operand {
    match value {
        Value::String(s) => Operand::Str(s.clone()),
        Value::Number(n) => Operand::Num(*n),
        Value::RelativeDate(d) => Operand::RelDate(d.to_string()),
        Value::Function(f) => {
            let mut rendered = String::new();
            f.render(&mut rendered);
            let name: String = rendered.chars().take_while(|c| *c != '(').collect();
            let args = match f {
                Function::MembersOf(group) => vec![Operand::Str(group.clone())],
                Function::StartOfDay(Some(d))
                | Function::EndOfDay(Some(d))
                | Function::StartOfWeek(Some(d))
                | Function::EndOfWeek(Some(d))
                | Function::StartOfMonth(Some(d))
                | Function::EndOfMonth(Some(d))
                | Function::StartOfYear(Some(d))
                | Function::EndOfYear(Some(d)) => vec![Operand::RelDate(d.to_string())],
                _ => Vec::new(),
            };
            Operand::Func(name, args)
        }
    }
}
