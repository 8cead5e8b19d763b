//! Verification helper (not API): a strict tokenizer/parser for exactly the
//! AQL subset the builders emit; see [`crate::jql::verify`] for the idea.

use super::{Attribute, Clause, Expr, Operand as BuiltOperand, Query, Value};

/// A parsed attribute reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrRef {
    /// Unquoted built-in name.
    Ident(String),
    /// Quoted names joined with `.` (unescaped).
    Path(Vec<String>),
}

/// A parsed operand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// String literal (unescaped).
    Str(String),
    /// Number.
    Num(i64),
    /// Function call with its string argument, if any.
    Func(String, Option<String>),
    /// Parenthesised list.
    List(Vec<Operand>),
    /// None (`IS EMPTY`, `IS NOT EMPTY`).
    None,
}

/// A parsed boolean expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// `attr op operand`
    Cond(AttrRef, String, Operand),
    /// `a AND b AND …`
    And(Vec<Parsed>),
    /// `a OR b OR …`
    Or(Vec<Parsed>),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    /// The filter.
    pub filter: Parsed,
    /// `order by` attribute and `asc`/`desc`.
    pub order: Option<(AttrRef, String)>,
}

/// Why emitted text did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, VerifyError> {
    Err(VerifyError(msg.into()))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Dot,
    Op(&'static str),
    Str(String),
    Word(String),
    Num(i64),
}

const KEYWORDS: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "EMPTY",
    "LIKE",
    "startswith",
    "endswith",
    "order",
    "by",
    "asc",
    "desc",
];

fn tokenize(s: &str) -> Result<Vec<Tok>, VerifyError> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match c {
            ' ' => i += 1,
            '(' | ')' | ',' | '.' => {
                toks.push(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    ',' => Tok::Comma,
                    _ => Tok::Dot,
                });
                i += 1;
            }
            '!' | '<' | '>' | '=' => {
                let (op, len) = match (c, next) {
                    ('!', Some('=')) => ("!=", 2),
                    ('<', Some('=')) => ("<=", 2),
                    ('>', Some('=')) => (">=", 2),
                    ('<', _) => ("<", 1),
                    ('>', _) => (">", 1),
                    ('=', _) => ("=", 1),
                    _ => return err(format!("bad operator at {i}")),
                };
                toks.push(Tok::Op(op));
                i += len;
            }
            '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return err("unterminated string"),
                        Some('"') => break,
                        Some('\\') => match chars.get(i + 1) {
                            Some(e @ ('\\' | '"')) => {
                                text.push(*e);
                                i += 2;
                            }
                            _ => return err("bad escape"),
                        },
                        Some(c) if c.is_control() || *c == '\u{2028}' || *c == '\u{2029}' => {
                            return err("control character in string");
                        }
                        Some(c) => {
                            text.push(*c);
                            i += 1;
                        }
                    }
                }
                toks.push(Tok::Str(text));
                i += 1;
            }
            c if c.is_ascii_alphabetic() => {
                let start = i;
                while chars.get(i).is_some_and(char::is_ascii_alphanumeric) {
                    i += 1;
                }
                toks.push(Tok::Word(chars[start..i].iter().collect()));
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let digits: String = chars[start..i].iter().collect();
                toks.push(Tok::Num(
                    digits.parse().map_err(|_| VerifyError("number".into()))?,
                ));
                if chars.get(i).is_some_and(|c| c.is_alphanumeric()) {
                    return err("junk after number");
                }
            }
            other => return err(format!("unexpected {other:?} at {i}")),
        }
    }
    Ok(toks)
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
    fn expect(&mut self, t: &Tok) -> Result<(), VerifyError> {
        if self.peek() == Some(t) {
            self.pos += 1;
            Ok(())
        } else {
            err(format!("expected {t:?} at token {}", self.pos))
        }
    }
    fn expect_word(&mut self, w: &str) -> Result<(), VerifyError> {
        self.expect(&Tok::Word(w.to_owned()))
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
        let mut items = vec![self.primary()?];
        while self.is_word("AND") {
            self.pos += 1;
            items.push(self.primary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Parsed::And(items)
        })
    }

    fn primary(&mut self) -> Result<Parsed, VerifyError> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let inner = self.or_expr()?;
            self.expect(&Tok::RParen)?;
            if !matches!(inner, Parsed::And(_) | Parsed::Or(_)) {
                return err("needless parentheses");
            }
            return Ok(inner);
        }
        let attr = self.attribute()?;
        let (op, operand) = match self.bump() {
            Some(Tok::Op(op)) => (op.to_owned(), self.operand()?),
            Some(Tok::Word(w)) => match w.as_str() {
                "LIKE" | "startswith" | "endswith" => (w, self.operand()?),
                "IN" => ("IN".to_owned(), self.list()?),
                "NOT" => match self.bump() {
                    Some(Tok::Word(x)) if x == "IN" => ("NOT IN".to_owned(), self.list()?),
                    Some(Tok::Word(x)) if x == "LIKE" => ("NOT LIKE".to_owned(), self.operand()?),
                    other => return err(format!("bad NOT operator {other:?}")),
                },
                "IS" => {
                    let op = if self.is_word("NOT") {
                        self.pos += 1;
                        "IS NOT EMPTY"
                    } else {
                        "IS EMPTY"
                    };
                    self.expect_word("EMPTY")?;
                    (op.to_owned(), Operand::None)
                }
                _ => return err(format!("unknown operator {w}")),
            },
            other => return err(format!("expected operator, got {other:?}")),
        };
        Ok(Parsed::Cond(attr, op, operand))
    }

    fn attribute(&mut self) -> Result<AttrRef, VerifyError> {
        match self.bump() {
            Some(Tok::Word(w)) if !KEYWORDS.contains(&w.as_str()) => Ok(AttrRef::Ident(w)),
            Some(Tok::Str(first)) => {
                let mut names = vec![first];
                while self.peek() == Some(&Tok::Dot) {
                    self.pos += 1;
                    match self.bump() {
                        Some(Tok::Str(s)) => names.push(s),
                        other => return err(format!("expected name after '.', got {other:?}")),
                    }
                }
                Ok(AttrRef::Path(names))
            }
            other => err(format!("expected attribute, got {other:?}")),
        }
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
            Some(Tok::Word(name)) if !KEYWORDS.contains(&name.as_str()) => {
                self.expect(&Tok::LParen)?;
                let arg = match self.peek() {
                    Some(Tok::Str(s)) => {
                        let s = s.clone();
                        self.pos += 1;
                        Some(s)
                    }
                    _ => None,
                };
                self.expect(&Tok::RParen)?;
                Ok(Operand::Func(name, arg))
            }
            other => err(format!("expected operand, got {other:?}")),
        }
    }
}

/// Parses AQL emitted by the builders (and nothing more).
pub fn parse_emitted(aql: &str) -> Result<ParsedQuery, VerifyError> {
    let mut p = Parser {
        toks: tokenize(aql)?,
        pos: 0,
    };
    let filter = p.or_expr()?;
    let mut order = None;
    if p.is_word("order") {
        p.pos += 1;
        p.expect_word("by")?;
        let attr = p.attribute()?;
        let dir = match p.bump() {
            Some(Tok::Word(w)) if w == "asc" || w == "desc" => w,
            other => return err(format!("expected asc/desc, got {other:?}")),
        };
        order = Some((attr, dir));
    }
    if p.peek().is_some() {
        return err(format!("trailing tokens at {}", p.pos));
    }
    Ok(ParsedQuery { filter, order })
}

/// The tree that rendering `query` must parse back to.
pub fn expected(query: &Query) -> ParsedQuery {
    ParsedQuery {
        filter: expected_clause(&query.filter),
        order: query
            .order
            .as_ref()
            .map(|(a, d)| (attr_ref(a), d.as_str().to_owned())),
    }
}

/// The tree that rendering `clause` must parse back to.
pub fn expected_clause(clause: &Clause) -> Parsed {
    match &clause.0 {
        Expr::Cond(attr, op, operand) => {
            let operand = match operand {
                BuiltOperand::One(v) => value(v),
                BuiltOperand::List(values) => Operand::List(values.iter().map(value).collect()),
                BuiltOperand::None => Operand::None,
            };
            Parsed::Cond(attr_ref(attr), op.as_str().to_owned(), operand)
        }
        Expr::And(items) => Parsed::And(items.iter().map(expected_clause).collect()),
        Expr::Or(items) => Parsed::Or(items.iter().map(expected_clause).collect()),
    }
}

fn attr_ref(attr: &Attribute) -> AttrRef {
    match attr {
        Attribute::Named(path) => {
            AttrRef::Path(path.names().iter().map(|n| n.as_str().to_owned()).collect())
        }
        other => AttrRef::Ident(other.builtin_name().unwrap_or_default().to_owned()),
    }
}

fn value(v: &Value) -> Operand {
    match v {
        Value::String(s) => Operand::Str(s.0.clone()),
        Value::Number(n) => Operand::Num(*n),
        Value::Function(f) => Operand::Func(f.name().to_owned(), f.arg().map(|a| a.0.clone())),
    }
}
