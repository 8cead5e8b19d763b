//! Recursive-descent AQL parser.
//!
//! ```text
//! query   := [or] ["order" "by" field ["asc"|"desc"]] EOF
//! or      := and ("OR" and)*
//! and     := primary ("AND" primary)*
//! primary := "(" or ")" | field cmp
//! field   := name ("." name)*          name := STRING | WORD
//! cmp     := ("="|"!="|"<"|">"|"<="|">="|"LIKE"|"NOT" "LIKE"|"startswith"|"endswith") value
//!          | ["NOT"] "IN" "(" value ("," value)* ")" | "IS" ["NOT"] "EMPTY"
//! value   := STRING | WORD | WORD "(" [STRING ("," STRING)*] ")"
//! ```

use super::lexer::{Tok, tokenize};
use super::{AqlError, Cmp, Expr, Field, Func, InstantFn, Operand, Query};

const MAX_DEPTH: usize = 64;
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "empty",
    "like",
    "startswith",
    "endswith",
    "order",
    "having",
];

/// Parses AQL text into a [`Query`].
pub fn parse(input: &str) -> Result<Query, AqlError> {
    let toks = tokenize(input)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let filter = if p.at_end() || p.at_keyword("order") {
        None
    } else {
        Some(p.or()?)
    };
    let mut order = None;
    if p.eat_keyword("order") {
        if !p.eat_keyword("by") {
            return p.fail("expected 'by' after 'order'");
        }
        let field = p.field()?;
        let desc = if p.eat_keyword("desc") {
            true
        } else {
            p.eat_keyword("asc");
            false
        };
        order = Some((field, desc));
    }
    if !p.at_end() {
        return p.fail("unexpected input");
    }
    Ok(Query { filter, order })
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }
    fn fail<T>(&self, what: &str) -> Result<T, AqlError> {
        let at = match self.toks.get(self.pos) {
            Some((p, t)) => format!("at position {p} ({})", describe(t)),
            None => "at end of query".to_owned(),
        };
        Err(AqlError(format!("AQL: {what} {at}")))
    }
    fn at_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn eat_keyword(&mut self, kw: &str) -> bool {
        let hit = self.at_keyword(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn eat(&mut self, tok: &Tok) -> bool {
        let hit = self.peek() == Some(tok);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn or(&mut self) -> Result<Expr, AqlError> {
        let mut left = self.and()?;
        while self.eat_keyword("or") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, AqlError> {
        let mut left = self.primary()?;
        while self.eat_keyword("and") {
            let right = self.primary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, AqlError> {
        if self.eat(&Tok::LParen) {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return self.fail("parentheses nested too deeply");
            }
            let e = self.or()?;
            if !self.eat(&Tok::RParen) {
                return self.fail("expected ')'");
            }
            self.depth -= 1;
            return Ok(e);
        }
        let field = self.field()?;
        let cmp = self.cmp()?;
        Ok(Expr::Cond(field, cmp))
    }

    fn name(&mut self) -> Result<(String, bool), AqlError> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok((s, true))
            }
            Some(Tok::Word(w)) if !is_keyword(w) => {
                let w = w.clone();
                self.pos += 1;
                Ok((w, false))
            }
            _ => self.fail("expected an attribute name"),
        }
    }

    fn field(&mut self) -> Result<Field, AqlError> {
        let (first, quoted) = self.name()?;
        let mut path = vec![first];
        while self.eat(&Tok::Dot) {
            path.push(self.name()?.0);
        }
        if path.len() == 1 && !quoted {
            let builtin = match path.first().map(|s| s.to_ascii_lowercase()).as_deref() {
                Some("objectid") => Some(Field::ObjectId),
                Some("objecttypeid") => Some(Field::ObjectTypeId),
                Some("objectschemaid") => Some(Field::ObjectSchemaId),
                Some("objecttype") => Some(Field::ObjectType),
                Some("objectschema") => Some(Field::ObjectSchema),
                Some("key") => Some(Field::Key),
                Some("label") => Some(Field::Label),
                Some("created") => Some(Field::Created),
                Some("updated") => Some(Field::Updated),
                _ => None,
            };
            if let Some(b) = builtin {
                return Ok(b);
            }
        }
        Ok(Field::Attr { path, quoted })
    }

    fn cmp(&mut self) -> Result<Cmp, AqlError> {
        if let Some(Tok::Op(op)) = self.peek() {
            let op = *op;
            self.pos += 1;
            let v = self.value()?;
            return Ok(match op {
                "=" => Cmp::Eq(v),
                "!=" => Cmp::Ne(v),
                "<" => Cmp::Lt(v),
                ">" => Cmp::Gt(v),
                "<=" => Cmp::Le(v),
                _ => Cmp::Ge(v),
            });
        }
        if self.eat_keyword("like") {
            return Ok(Cmp::Like(self.value()?));
        }
        if self.eat_keyword("startswith") {
            return Ok(Cmp::StartsWith(self.value()?));
        }
        if self.eat_keyword("endswith") {
            return Ok(Cmp::EndsWith(self.value()?));
        }
        if self.eat_keyword("in") {
            return Ok(Cmp::In(self.list()?));
        }
        if self.eat_keyword("not") {
            if self.eat_keyword("like") {
                return Ok(Cmp::NotLike(self.value()?));
            }
            if self.eat_keyword("in") {
                return Ok(Cmp::NotIn(self.list()?));
            }
            return self.fail("expected LIKE or IN after NOT");
        }
        if self.eat_keyword("is") {
            let not = self.eat_keyword("not");
            if !self.eat_keyword("empty") {
                return self.fail("expected EMPTY");
            }
            return Ok(if not { Cmp::IsNotEmpty } else { Cmp::IsEmpty });
        }
        if self.at_keyword("having") {
            return self.fail("HAVING is not supported");
        }
        self.fail("expected an operator")
    }

    fn list(&mut self) -> Result<Vec<Operand>, AqlError> {
        if !self.eat(&Tok::LParen) {
            return self.fail("expected '('");
        }
        let mut out = vec![self.value()?];
        while self.eat(&Tok::Comma) {
            out.push(self.value()?);
        }
        if !self.eat(&Tok::RParen) {
            return self.fail("expected ')' or ','");
        }
        Ok(out)
    }

    fn value(&mut self) -> Result<Operand, AqlError> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(Operand::Text(s))
            }
            Some(Tok::Word(w)) if !is_keyword(w) => {
                let w = w.clone();
                self.pos += 1;
                if self.eat(&Tok::LParen) {
                    let mut args = Vec::new();
                    if !self.eat(&Tok::RParen) {
                        loop {
                            match self.peek() {
                                Some(Tok::Str(s) | Tok::Word(s)) => {
                                    args.push(s.clone());
                                    self.pos += 1;
                                }
                                _ => return self.fail("expected a function argument"),
                            }
                            if self.eat(&Tok::RParen) {
                                break;
                            }
                            if !self.eat(&Tok::Comma) {
                                return self.fail("expected ')' or ','");
                            }
                        }
                    }
                    return self.function(&w, args);
                }
                Ok(Operand::Text(w))
            }
            _ => self.fail("expected a value"),
        }
    }

    fn function(&self, name: &str, args: Vec<String>) -> Result<Operand, AqlError> {
        let lower = name.to_ascii_lowercase();
        let instant = match lower.as_str() {
            "now" => Some(InstantFn::Now),
            "startofday" => Some(InstantFn::StartOfDay),
            "endofday" => Some(InstantFn::EndOfDay),
            "startofweek" => Some(InstantFn::StartOfWeek),
            "endofweek" => Some(InstantFn::EndOfWeek),
            "startofmonth" => Some(InstantFn::StartOfMonth),
            "endofmonth" => Some(InstantFn::EndOfMonth),
            _ => None,
        };
        let func = match (lower.as_str(), instant) {
            (_, Some(f)) if args.is_empty() => Func::Instant(f),
            ("currentuser", _) if args.is_empty() => Func::CurrentUser,
            ("currentreporter", _) if args.is_empty() => Func::CurrentReporter,
            ("user", _) if !args.is_empty() => Func::User(args),
            ("group", _) if !args.is_empty() => Func::Group(args),
            _ => {
                return Err(AqlError(format!(
                    "AQL: unsupported function {name}() with {} argument(s)",
                    args.len()
                )));
            }
        };
        Ok(Operand::Func(func))
    }
}

fn is_keyword(w: &str) -> bool {
    KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k))
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::Dot => "'.'".into(),
        Tok::Op(o) => format!("'{o}'"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Word(w) => format!("'{w}'"),
    }
}
