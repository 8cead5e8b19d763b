//! JQL tokenizer and recursive-descent parser.

/// A JQL operand value.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A quoted string.
    Str(String),
    /// An unquoted word (number, key, relative date, name).
    Word(String),
    /// A function call with its (string) arguments.
    Func(String, Vec<String>),
}

impl Operand {
    /// The text of a string/word operand.
    pub fn text(&self) -> Option<&str> {
        match self {
            Operand::Str(s) | Operand::Word(s) => Some(s),
            Operand::Func(..) => None,
        }
    }
}

/// An operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `~`
    Like,
    /// `!~`
    NotLike,
    /// `IN`
    In,
    /// `NOT IN`
    NotIn,
    /// `IS`
    Is,
    /// `IS NOT`
    IsNot,
    /// `WAS`
    Was,
    /// `WAS NOT`
    WasNot,
    /// `WAS IN`
    WasIn,
    /// `WAS NOT IN`
    WasNotIn,
    /// `CHANGED`
    Changed,
}

/// A boolean expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// All must hold.
    And(Vec<Expr>),
    /// Any must hold.
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// `field op operand(s)`; `EMPTY` is represented by an empty operand list with `Is`/`IsNot`.
    Clause {
        /// Field as written (unquoted).
        field: String,
        /// Operator.
        op: Op,
        /// Operands (one for scalar operators, many for lists, none for EMPTY/CHANGED).
        values: Vec<Operand>,
    },
}

/// A parsed query.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Query {
    /// The filter, `None` for an empty query.
    pub filter: Option<Expr>,
    /// `ORDER BY` keys: field and ascending?
    pub order: Vec<(String, bool)>,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Op(&'static str),
    Str(String),
    Word(String),
}

/// A syntax error with its character position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError(msg.into()))
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | ':' | '/' | '+' | '*' | '$' | '#')
}

fn tokenize(input: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((Tok::LParen, pos));
                i += 1;
            }
            ')' => {
                out.push((Tok::RParen, pos));
                i += 1;
            }
            ',' => {
                out.push((Tok::Comma, pos));
                i += 1;
            }
            '=' => {
                out.push((Tok::Op("="), pos));
                i += 1;
            }
            '~' => {
                out.push((Tok::Op("~"), pos));
                i += 1;
            }
            '!' | '>' | '<' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('!', Some('=')) => ("!=", 2),
                    ('!', Some('~')) => ("!~", 2),
                    ('!', _) => ("!", 1),
                    ('>', Some('=')) => (">=", 2),
                    ('<', Some('=')) => ("<=", 2),
                    ('>', _) => (">", 1),
                    _ => ("<", 1),
                };
                out.push((Tok::Op(op), pos));
                i += len;
            }
            '&' | '|' => {
                if chars.get(i + 1) == Some(&c) {
                    out.push((Tok::Op(if c == '&' { "&&" } else { "||" }), pos));
                    i += 2;
                } else {
                    return err(format!(
                        "The character '{c}' is a reserved JQL character. You must enclose it in a string or use the escape '\\u{:04x}' instead. (line 1, character {})",
                        c as u32,
                        pos + 1
                    ));
                }
            }
            '"' | '\'' => {
                let quote = c;
                let mut s = String::new();
                i += 1;
                loop {
                    let Some(&ch) = chars.get(i) else {
                        return err(format!(
                            "The quoted string starting at character {} is missing its closing quote.",
                            pos + 1
                        ));
                    };
                    i += 1;
                    match ch {
                        ch if ch == quote => break,
                        '\\' => {
                            let Some(&e) = chars.get(i) else {
                                return err(format!(
                                    "An escape sequence at character {} is incomplete.",
                                    i
                                ));
                            };
                            i += 1;
                            match e {
                                '"' | '\'' | '\\' | ' ' => s.push(e),
                                'n' => s.push('\n'),
                                'r' => s.push('\r'),
                                't' => s.push('\t'),
                                'u' => {
                                    let hex: String = chars.iter().skip(i).take(4).collect();
                                    let code = (hex.len() == 4)
                                        .then(|| u32::from_str_radix(&hex, 16).ok())
                                        .flatten()
                                        .and_then(char::from_u32);
                                    match code {
                                        Some(ch) => {
                                            s.push(ch);
                                            i += 4;
                                        }
                                        None => {
                                            return err(format!(
                                                "The unicode escape sequence '\\u{hex}' at character {} is invalid.",
                                                i - 1
                                            ));
                                        }
                                    }
                                }
                                other => {
                                    return err(format!(
                                        "The escape sequence '\\{other}' at character {} is invalid.",
                                        i - 1
                                    ));
                                }
                            }
                        }
                        ch => s.push(ch),
                    }
                }
                out.push((Tok::Str(s), pos));
            }
            c if is_word_char(c) => {
                let mut s = String::new();
                while let Some(&ch) = chars.get(i) {
                    if is_word_char(ch) {
                        s.push(ch);
                        i += 1;
                    } else if ch == '[' && s.eq_ignore_ascii_case("cf") {
                        let end = chars.iter().skip(i).position(|&x| x == ']');
                        let Some(end) = end else {
                            return err(format!("Unclosed '[' at character {}.", i + 1));
                        };
                        let inner: String = chars[i + 1..i + end].iter().collect();
                        if inner.is_empty() || !inner.chars().all(|d| d.is_ascii_digit()) {
                            return err(format!("The custom field id 'cf[{inner}]' is invalid."));
                        }
                        s = format!("cf[{inner}]");
                        i += end + 1;
                    } else {
                        break;
                    }
                }
                out.push((Tok::Word(s), pos));
            }
            other => {
                return err(format!(
                    "The character '{other}' is a reserved JQL character. You must enclose it in a string or use the escape '\\u{:04x}' instead. (line 1, character {})",
                    other as u32,
                    pos + 1
                ));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

fn kw(t: Option<&Tok>, word: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
}

const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "is", "empty", "null", "order", "by", "was", "changed", "asc", "desc",
];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }
    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|t| &t.0)
    }
    fn describe(&self) -> String {
        match self.toks.get(self.pos) {
            None => "the end of the query".to_owned(),
            Some((t, p)) => {
                let text = match t {
                    Tok::LParen => "(".to_owned(),
                    Tok::RParen => ")".to_owned(),
                    Tok::Comma => ",".to_owned(),
                    Tok::Op(o) => (*o).to_owned(),
                    Tok::Str(s) => format!("\"{s}\""),
                    Tok::Word(w) => w.clone(),
                };
                format!("'{text}' at position {}", p + 1)
            }
        }
    }
    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.0.clone());
        self.pos += 1;
        t
    }

    fn or_expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.and_expr()?];
        while kw(self.peek(), "or") || self.peek() == Some(&Tok::Op("||")) {
            self.pos += 1;
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.not_expr()?];
        while kw(self.peek(), "and") || self.peek() == Some(&Tok::Op("&&")) {
            self.pos += 1;
            items.push(self.not_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn not_expr(&mut self) -> Result<Expr, SyntaxError> {
        self.depth += 1;
        if self.depth > 200 {
            return err("The query is nested too deeply.");
        }
        let r = if kw(self.peek(), "not") || self.peek() == Some(&Tok::Op("!")) {
            self.pos += 1;
            self.not_expr().map(|e| Expr::Not(Box::new(e)))
        } else if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or_expr()?;
            if self.peek() != Some(&Tok::RParen) {
                return err(format!("Expecting ')' but got {}.", self.describe()));
            }
            self.pos += 1;
            Ok(e)
        } else {
            self.clause()
        };
        self.depth -= 1;
        r
    }

    fn field(&mut self) -> Result<String, SyntaxError> {
        match self.peek() {
            Some(Tok::Word(w)) if !RESERVED.contains(&w.to_lowercase().as_str()) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => err(format!(
                "Expecting a field name but got {}.",
                self.describe()
            )),
        }
    }

    fn clause(&mut self) -> Result<Expr, SyntaxError> {
        let field = self.field()?;
        let op = match self.bump() {
            Some(Tok::Op(o)) => match o {
                "=" => Op::Eq,
                "!=" => Op::Ne,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "<" => Op::Lt,
                "<=" => Op::Le,
                "~" => Op::Like,
                "!~" => Op::NotLike,
                _ => {
                    self.pos -= 1;
                    return err(format!("Expecting operator but got {}.", self.describe()));
                }
            },
            Some(Tok::Word(w)) => match w.to_lowercase().as_str() {
                "in" => Op::In,
                "not" if kw(self.peek(), "in") => {
                    self.pos += 1;
                    Op::NotIn
                }
                "is" if kw(self.peek(), "not") => {
                    self.pos += 1;
                    Op::IsNot
                }
                "is" => Op::Is,
                "was" if kw(self.peek(), "not") && kw(self.peek_at(1), "in") => {
                    self.pos += 2;
                    Op::WasNotIn
                }
                "was" if kw(self.peek(), "not") => {
                    self.pos += 1;
                    Op::WasNot
                }
                "was" if kw(self.peek(), "in") => {
                    self.pos += 1;
                    Op::WasIn
                }
                "was" => Op::Was,
                "changed" => Op::Changed,
                _ => {
                    self.pos -= 1;
                    return err(format!("Expecting operator but got {}.", self.describe()));
                }
            },
            _ => {
                self.pos = self.pos.saturating_sub(1);
                return err(format!("Expecting operator but got {}.", self.describe()));
            }
        };
        let values = match op {
            Op::Changed => Vec::new(),
            Op::Is | Op::IsNot => {
                if kw(self.peek(), "empty") || kw(self.peek(), "null") {
                    self.pos += 1;
                    Vec::new()
                } else {
                    return err(format!(
                        "Expecting 'EMPTY' or 'NULL' but got {}.",
                        self.describe()
                    ));
                }
            }
            Op::In | Op::NotIn | Op::WasIn | Op::WasNotIn => self.list()?,
            _ => {
                if kw(self.peek(), "empty") || kw(self.peek(), "null") {
                    self.pos += 1;
                    let op = match op {
                        Op::Eq => Op::Is,
                        Op::Ne => Op::IsNot,
                        _ => {
                            return err(
                                "EMPTY can only be used with the operators =, !=, IS and IS NOT.",
                            );
                        }
                    };
                    return Ok(Expr::Clause {
                        field,
                        op,
                        values: Vec::new(),
                    });
                }
                vec![self.operand()?]
            }
        };
        Ok(Expr::Clause { field, op, values })
    }

    fn list(&mut self) -> Result<Vec<Operand>, SyntaxError> {
        if self.peek() != Some(&Tok::LParen) {
            // A function returning a list (e.g. membersOf("g")).
            return Ok(vec![self.operand()?]);
        }
        self.pos += 1;
        let mut out = vec![self.operand()?];
        loop {
            match self.bump() {
                Some(Tok::Comma) => out.push(self.operand()?),
                Some(Tok::RParen) => return Ok(out),
                _ => {
                    self.pos -= 1;
                    return err(format!("Expecting ',' or ')' but got {}.", self.describe()));
                }
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, SyntaxError> {
        match self.bump() {
            Some(Tok::Str(s)) => Ok(Operand::Str(s)),
            Some(Tok::Word(w)) if self.peek() == Some(&Tok::LParen) => {
                self.pos += 1;
                let mut args = Vec::new();
                if self.peek() == Some(&Tok::RParen) {
                    self.pos += 1;
                    return Ok(Operand::Func(w, args));
                }
                loop {
                    match self.bump() {
                        Some(Tok::Str(s) | Tok::Word(s)) => args.push(s),
                        _ => {
                            self.pos -= 1;
                            return err(format!(
                                "Expecting a function argument but got {}.",
                                self.describe()
                            ));
                        }
                    }
                    match self.bump() {
                        Some(Tok::Comma) => {}
                        Some(Tok::RParen) => return Ok(Operand::Func(w, args)),
                        _ => {
                            self.pos -= 1;
                            return err(format!(
                                "Expecting ',' or ')' but got {}.",
                                self.describe()
                            ));
                        }
                    }
                }
            }
            Some(Tok::Word(w)) if !RESERVED.contains(&w.to_lowercase().as_str()) => {
                Ok(Operand::Word(w))
            }
            _ => {
                self.pos = self.pos.saturating_sub(1);
                err(format!(
                    "Expecting either a value, list or function but got {}.",
                    self.describe()
                ))
            }
        }
    }
}

/// Parses a JQL query.
pub fn parse(input: &str) -> Result<Query, SyntaxError> {
    let toks = tokenize(input)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let mut q = Query::default();
    if p.peek().is_some() && !kw(p.peek(), "order") {
        q.filter = Some(p.or_expr()?);
    }
    if kw(p.peek(), "order") {
        p.pos += 1;
        if !kw(p.peek(), "by") {
            return err(format!("Expecting 'by' but got {}.", p.describe()));
        }
        p.pos += 1;
        loop {
            let f = p.field()?;
            let asc = if kw(p.peek(), "asc") {
                p.pos += 1;
                true
            } else if kw(p.peek(), "desc") {
                p.pos += 1;
                false
            } else {
                true
            };
            q.order.push((f, asc));
            if p.peek() == Some(&Tok::Comma) {
                p.pos += 1;
            } else {
                break;
            }
        }
    }
    if p.peek().is_some() {
        return err(format!(
            "Expecting either 'OR' or 'AND' but got {}.",
            p.describe()
        ));
    }
    Ok(q)
}
