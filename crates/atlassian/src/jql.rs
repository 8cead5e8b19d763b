//! Jira Query Language (JQL) built only through typed builders.
//!
//! There is deliberately no way to turn caller text into query *syntax*: field
//! names come from [`Field`] (custom fields by numeric id, or a quoted name),
//! functions from [`Function`], operators from the builder methods, and every
//! caller-supplied value is emitted as a double-quoted JQL string literal.
//!
//! # String escaping
//!
//! Inside a JQL string literal `\` becomes `\\`, `"` becomes `\"`, newline,
//! carriage return and tab become `\n`, `\r`, `\t`, and every other control
//! character (Unicode `Cc`) as well as U+2028/U+2029 becomes `\uXXXX`. The
//! emitted query therefore never contains a raw line break.
//!
//! # Text search (`~`)
//!
//! Values of `~` / `!~` go through Jira's Lucene query parser *after* JQL
//! unquoting, so [`TextQuery`] additionally escapes, with a backslash, each of
//! the Lucene special characters `+ - & | ! ( ) { } [ ] ^ " ~ * ? : \ /`
//! (so wildcards, fuzzy/proximity, ranges, grouping, `&&`, `||` and field
//! prefixes are literal). In [`TextQuery::words`] mode a whole word `AND`,
//! `OR` or `NOT` also gets its first letter escaped (`\AND`) so it is a term,
//! not an operator. [`TextQuery::phrase`] wraps the escaped text in Lucene
//! phrase quotes, which makes the words match as one phrase in order.
//!
//! ```
//! use atlassian::jql::{Direction, Field, Function};
//! let jql = Field::Project
//!     .eq("HELP")
//!     .and(Field::Assignee.eq(Function::CurrentUser))
//!     .order_by(Field::Updated, Direction::Desc)
//!     .to_jql();
//! assert_eq!(
//!     jql.as_str(),
//!     r#"project = "HELP" AND assignee = currentUser() ORDER BY updated DESC"#
//! );
//! ```

use std::fmt::{self, Write as _};
use std::ops::Not;

mod text;
mod value;
#[doc(hidden)]
pub mod verify;

pub use text::{LUCENE_SPECIAL, TextMode, TextQuery};
pub use value::{DateUnit, Function, RelativeDate, Value};

/// Errors from building JQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JqlError {
    /// `IN`, `NOT IN`, `WAS IN` and `WAS NOT IN` need at least one value.
    #[error("a JQL list operator needs at least one value")]
    EmptyList,
    /// A relative date did not match `[+-]?digits(1..=6)unit`, unit one of `y M w d h m`.
    #[error("invalid JQL relative date {0:?} (expected e.g. -5d, 2w, +4h)")]
    InvalidRelativeDate(String),
}

/// A field reference: a system field from a fixed list, a custom field by
/// numeric id (`cf[10010]`) or a field by name (always quoted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// `project`
    Project,
    /// `assignee`
    Assignee,
    /// `reporter`
    Reporter,
    /// `status`
    Status,
    /// `statusCategory`
    StatusCategory,
    /// `created`
    Created,
    /// `updated`
    Updated,
    /// `resolved`
    Resolved,
    /// `due`
    Due,
    /// `issuetype`
    IssueType,
    /// `key`
    Key,
    /// `parent`
    Parent,
    /// `text` (all text fields)
    Text,
    /// `summary`
    Summary,
    /// `description`
    Description,
    /// `comment`
    Comment,
    /// `resolution`
    Resolution,
    /// `priority`
    Priority,
    /// `labels`
    Labels,
    /// `organizations` (Jira Service Management)
    Organizations,
    /// `"Request Type"` (Jira Service Management)
    RequestType,
    /// A custom field by id, emitted as `cf[<id>]`.
    Custom(u64),
    /// Any field by name, emitted as an escaped, quoted name.
    Named(String),
}

impl Field {
    /// A field referenced by its (display) name; emitted quoted and escaped.
    pub fn named(name: impl Into<String>) -> Self {
        Field::Named(name.into())
    }

    fn system_name(&self) -> Option<&'static str> {
        Some(match self {
            Field::Project => "project",
            Field::Assignee => "assignee",
            Field::Reporter => "reporter",
            Field::Status => "status",
            Field::StatusCategory => "statusCategory",
            Field::Created => "created",
            Field::Updated => "updated",
            Field::Resolved => "resolved",
            Field::Due => "due",
            Field::IssueType => "issuetype",
            Field::Key => "key",
            Field::Parent => "parent",
            Field::Text => "text",
            Field::Summary => "summary",
            Field::Description => "description",
            Field::Comment => "comment",
            Field::Resolution => "resolution",
            Field::Priority => "priority",
            Field::Labels => "labels",
            Field::Organizations => "organizations",
            Field::RequestType | Field::Custom(_) | Field::Named(_) => return None,
        })
    }

    fn render(&self, out: &mut String) {
        match self {
            Field::RequestType => push_string(out, "Request Type"),
            Field::Custom(id) => {
                let _ = write!(out, "cf[{id}]");
            }
            Field::Named(name) => push_string(out, name),
            other => out.push_str(other.system_name().unwrap_or_default()),
        }
    }

    fn pred(self, pred: Predicate) -> Clause {
        Clause(Expr::Cond(self, pred))
    }

    /// `field = value`
    pub fn eq(self, value: impl Into<Value>) -> Clause {
        self.pred(Predicate::Compare(CmpOp::Eq, value.into()))
    }
    /// `field != value`
    pub fn ne(self, value: impl Into<Value>) -> Clause {
        self.pred(Predicate::Compare(CmpOp::Ne, value.into()))
    }
    /// `field > value`
    pub fn gt(self, value: impl Into<Value>) -> Clause {
        self.pred(Predicate::Compare(CmpOp::Gt, value.into()))
    }
    /// `field >= value`
    pub fn ge(self, value: impl Into<Value>) -> Clause {
        self.pred(Predicate::Compare(CmpOp::Ge, value.into()))
    }
    /// `field < value`
    pub fn lt(self, value: impl Into<Value>) -> Clause {
        self.pred(Predicate::Compare(CmpOp::Lt, value.into()))
    }
    /// `field <= value`
    pub fn le(self, value: impl Into<Value>) -> Clause {
        self.pred(Predicate::Compare(CmpOp::Le, value.into()))
    }
    /// `field ~ "…"` (text search, see [`TextQuery`]).
    pub fn contains(self, text: TextQuery) -> Clause {
        self.pred(Predicate::Text {
            negated: false,
            text,
        })
    }
    /// `field !~ "…"`
    pub fn not_contains(self, text: TextQuery) -> Clause {
        self.pred(Predicate::Text {
            negated: true,
            text,
        })
    }
    /// `field IN (v1, v2, …)`; errors on an empty list.
    pub fn is_in<V: Into<Value>>(
        self,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Clause, JqlError> {
        Ok(self.pred(Predicate::In {
            op: ListOp::In,
            values: list(values)?,
        }))
    }
    /// `field NOT IN (v1, v2, …)`; errors on an empty list.
    pub fn not_in<V: Into<Value>>(
        self,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Clause, JqlError> {
        Ok(self.pred(Predicate::In {
            op: ListOp::NotIn,
            values: list(values)?,
        }))
    }
    /// `field IS EMPTY`
    pub fn is_empty(self) -> Clause {
        self.pred(Predicate::Empty { negated: false })
    }
    /// `field IS NOT EMPTY`
    pub fn is_not_empty(self) -> Clause {
        self.pred(Predicate::Empty { negated: true })
    }
    /// `field WAS value`
    pub fn was(self, value: impl Into<Value>) -> Clause {
        self.pred(Predicate::Was {
            negated: false,
            value: value.into(),
        })
    }
    /// `field WAS NOT value`
    pub fn was_not(self, value: impl Into<Value>) -> Clause {
        self.pred(Predicate::Was {
            negated: true,
            value: value.into(),
        })
    }
    /// `field WAS IN (…)`; errors on an empty list.
    pub fn was_in<V: Into<Value>>(
        self,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Clause, JqlError> {
        Ok(self.pred(Predicate::In {
            op: ListOp::WasIn,
            values: list(values)?,
        }))
    }
    /// `field WAS NOT IN (…)`; errors on an empty list.
    pub fn was_not_in<V: Into<Value>>(
        self,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Clause, JqlError> {
        Ok(self.pred(Predicate::In {
            op: ListOp::WasNotIn,
            values: list(values)?,
        }))
    }
    /// `field CHANGED`
    pub fn changed(self) -> Clause {
        self.pred(Predicate::Changed)
    }
}

fn list<V: Into<Value>>(values: impl IntoIterator<Item = V>) -> Result<Vec<Value>, JqlError> {
    let values: Vec<Value> = values.into_iter().map(Into::into).collect();
    if values.is_empty() {
        Err(JqlError::EmptyList)
    } else {
        Ok(values)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ListOp {
    In,
    NotIn,
    WasIn,
    WasNotIn,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Predicate {
    Compare(CmpOp, Value),
    Text { negated: bool, text: TextQuery },
    In { op: ListOp, values: Vec<Value> },
    Empty { negated: bool },
    Was { negated: bool, value: Value },
    Changed,
}

impl Predicate {
    fn op(&self) -> &'static str {
        match self {
            Predicate::Compare(op, _) => match op {
                CmpOp::Eq => "=",
                CmpOp::Ne => "!=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
            },
            Predicate::Text { negated: false, .. } => "~",
            Predicate::Text { negated: true, .. } => "!~",
            Predicate::In { op, .. } => match op {
                ListOp::In => "IN",
                ListOp::NotIn => "NOT IN",
                ListOp::WasIn => "WAS IN",
                ListOp::WasNotIn => "WAS NOT IN",
            },
            Predicate::Empty { negated: false } => "IS",
            Predicate::Empty { negated: true } => "IS NOT",
            Predicate::Was { negated: false, .. } => "WAS",
            Predicate::Was { negated: true, .. } => "WAS NOT",
            Predicate::Changed => "CHANGED",
        }
    }

    fn render(&self, out: &mut String) {
        out.push_str(self.op());
        match self {
            Predicate::Compare(_, v) | Predicate::Was { value: v, .. } => {
                out.push(' ');
                v.render(out);
            }
            Predicate::Text { text, .. } => {
                out.push(' ');
                push_string(out, &text.to_lucene());
            }
            Predicate::In { values, .. } => {
                out.push_str(" (");
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.render(out);
                }
                out.push(')');
            }
            Predicate::Empty { .. } => out.push_str(" EMPTY"),
            Predicate::Changed => {}
        }
    }
}

/// A boolean JQL expression; compose with [`Clause::and`], [`Clause::or`]
/// and `!` ([`Not`]). Parentheses are inserted automatically.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Clause(Expr);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Expr {
    Cond(Field, Predicate),
    And(Vec<Clause>),
    Or(Vec<Clause>),
    Not(Box<Clause>),
}

impl Clause {
    /// `self AND other` (extends an existing `AND` chain on the left).
    pub fn and(self, other: Clause) -> Clause {
        match self.0 {
            Expr::And(mut items) => {
                items.push(other);
                Clause(Expr::And(items))
            }
            e => Clause(Expr::And(vec![Clause(e), other])),
        }
    }
    /// `self OR other` (extends an existing `OR` chain on the left).
    pub fn or(self, other: Clause) -> Clause {
        match self.0 {
            Expr::Or(mut items) => {
                items.push(other);
                Clause(Expr::Or(items))
            }
            e => Clause(Expr::Or(vec![Clause(e), other])),
        }
    }
    /// `NOT (self)`
    pub fn negate(self) -> Clause {
        Clause(Expr::Not(Box::new(self)))
    }
    /// All clauses joined with `AND`; `None` for an empty iterator.
    pub fn all(clauses: impl IntoIterator<Item = Clause>) -> Option<Clause> {
        let mut items: Vec<Clause> = clauses.into_iter().collect();
        match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(Clause(Expr::And(items))),
        }
    }
    /// Any of the clauses, joined with `OR`; `None` for an empty iterator.
    pub fn any(clauses: impl IntoIterator<Item = Clause>) -> Option<Clause> {
        let mut items: Vec<Clause> = clauses.into_iter().collect();
        match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(Clause(Expr::Or(items))),
        }
    }
    /// A query of this clause ordered by `field`.
    pub fn order_by(self, field: Field, direction: Direction) -> Query {
        Query::filter(self).order_by(field, direction)
    }
    /// The JQL text of this clause.
    pub fn to_jql(&self) -> Jql {
        Query::filter(self.clone()).to_jql()
    }

    fn render(&self, out: &mut String) {
        match &self.0 {
            Expr::Cond(field, pred) => {
                field.render(out);
                out.push(' ');
                pred.render(out);
            }
            Expr::And(items) | Expr::Or(items) => {
                let joiner = if matches!(self.0, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(joiner);
                    }
                    item.render_operand(out);
                }
            }
            Expr::Not(inner) => {
                out.push_str("NOT (");
                inner.render(out);
                out.push(')');
            }
        }
    }

    /// Renders as an operand of AND/OR: compound expressions get parentheses.
    fn render_operand(&self, out: &mut String) {
        if matches!(self.0, Expr::And(_) | Expr::Or(_)) {
            out.push('(');
            self.render(out);
            out.push(')');
        } else {
            self.render(out);
        }
    }
}

impl Not for Clause {
    type Output = Clause;
    fn not(self) -> Clause {
        self.negate()
    }
}

/// Sort direction for `ORDER BY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `ASC`
    Asc,
    /// `DESC`
    Desc,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Asc => "ASC",
            Direction::Desc => "DESC",
        }
    }
}

/// A whole JQL query: an optional filter plus `ORDER BY` keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Query {
    filter: Option<Clause>,
    order: Vec<(Field, Direction)>,
}

impl Query {
    /// A query matching everything (empty JQL).
    pub fn new() -> Self {
        Query::default()
    }
    /// A query with the given filter.
    pub fn filter(clause: Clause) -> Self {
        Query {
            filter: Some(clause),
            order: Vec::new(),
        }
    }
    /// Adds a sort key (later keys break ties of earlier ones).
    pub fn order_by(mut self, field: Field, direction: Direction) -> Self {
        self.order.push((field, direction));
        self
    }
    /// Renders the query.
    pub fn to_jql(&self) -> Jql {
        let mut out = String::new();
        if let Some(filter) = &self.filter {
            filter.render(&mut out);
        }
        for (i, (field, direction)) in self.order.iter().enumerate() {
            out.push_str(match (i, out.is_empty()) {
                (0, true) => "ORDER BY ",
                (0, false) => " ORDER BY ",
                _ => ", ",
            });
            field.render(&mut out);
            out.push(' ');
            out.push_str(direction.as_str());
        }
        Jql(out)
    }
}

impl From<Clause> for Query {
    fn from(clause: Clause) -> Self {
        Query::filter(clause)
    }
}

/// Rendered JQL text. Only obtainable from the builders in this module.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Jql(String);

impl Jql {
    /// The query text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The query text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Jql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Jql {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Appends `s` as a double-quoted JQL string literal.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
