//! AQL (Assets Query Language): a tokenizer, a recursive-descent parser into [`Query`],
//! and an evaluator over an [`super::AssetsWorkspace`].
//!
//! Supported: built-in fields `objectId`, `objectTypeId`, `objectSchemaId`, `objectType`,
//! `objectSchema`, `Key`, `Label`, `Created`, `Updated`; attribute names (quoted, or bare
//! single words) and dotted reference paths; operators `=`, `!=`, `<`, `>`, `<=`, `>=`,
//! `LIKE`, `NOT LIKE`, `IN (…)`, `NOT IN (…)`, `IS EMPTY`, `IS NOT EMPTY`, `startswith`,
//! `endswith`; `AND`, `OR`, parentheses; `order by X [asc|desc]`; functions
//! `currentUser()`, `currentReporter()` (matches nothing outside a ticket), `user("…")`,
//! `group("…")`, `now()`, `startOfDay()`/`endOfDay()`/`startOfWeek()`/`endOfWeek()`/
//! `startOfMonth()`/`endOfMonth()` (UTC). An empty query (or only `order by`) matches all.

mod eval;
mod lexer;
mod parser;

pub(crate) use eval::NumText;
pub use eval::{Evaluator, SearchContext};
pub use parser::parse;

/// A parse or resolution error; the message is what the API returns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AqlError(pub String);

/// A built-in or attribute field.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// `objectId`
    ObjectId,
    /// `objectTypeId`
    ObjectTypeId,
    /// `objectSchemaId`
    ObjectSchemaId,
    /// `objectType`
    ObjectType,
    /// `objectSchema`
    ObjectSchema,
    /// `Key`
    Key,
    /// `Label`
    Label,
    /// `Created`
    Created,
    /// `Updated`
    Updated,
    /// An attribute name or reference path; `quoted` when the first name was quoted.
    Attr {
        /// Names, outermost first.
        path: Vec<String>,
        /// Whether the first name was written in quotes.
        quoted: bool,
    },
}

/// An AQL function call.
#[derive(Clone, Debug, PartialEq)]
pub enum Func {
    /// `currentUser()`
    CurrentUser,
    /// `currentReporter()`
    CurrentReporter,
    /// `now()` and the start/end-of-period functions.
    Instant(InstantFn),
    /// `user("accountId", …)`
    User(Vec<String>),
    /// `group("name", …)`
    Group(Vec<String>),
}

/// Time functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstantFn {
    /// `now()`
    Now,
    /// `startOfDay()`
    StartOfDay,
    /// `endOfDay()`
    EndOfDay,
    /// `startOfWeek()` (Monday)
    StartOfWeek,
    /// `endOfWeek()`
    EndOfWeek,
    /// `startOfMonth()`
    StartOfMonth,
    /// `endOfMonth()`
    EndOfMonth,
}

/// A value on the right of an operator.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A quoted string, bare word or number (AQL treats them alike).
    Text(String),
    /// A function call.
    Func(Func),
}

/// A comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Cmp {
    /// `=`
    Eq(Operand),
    /// `!=`
    Ne(Operand),
    /// `<`
    Lt(Operand),
    /// `>`
    Gt(Operand),
    /// `<=`
    Le(Operand),
    /// `>=`
    Ge(Operand),
    /// `LIKE` (contains, case-insensitive)
    Like(Operand),
    /// `NOT LIKE`
    NotLike(Operand),
    /// `startswith`
    StartsWith(Operand),
    /// `endswith`
    EndsWith(Operand),
    /// `IN (…)`
    In(Vec<Operand>),
    /// `NOT IN (…)`
    NotIn(Vec<Operand>),
    /// `IS EMPTY`
    IsEmpty,
    /// `IS NOT EMPTY`
    IsNotEmpty,
}

/// A boolean expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `field cmp`
    Cond(Field, Cmp),
    /// `a AND b`
    And(Box<Expr>, Box<Expr>),
    /// `a OR b`
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// The filter; `None` matches every object.
    pub filter: Option<Expr>,
    /// `order by` field and whether descending.
    pub order: Option<(Field, bool)>,
}
