//! Jira Assets Query Language (AQL) built only through typed builders.
//!
//! Values are always emitted as double-quoted strings with `\` → `\\` and
//! `"` → `\"`; ids and other integers are emitted as digits. Control
//! characters (Unicode `Cc`) and U+2028/U+2029 cannot be represented safely
//! in AQL, so text containing them is rejected with
//! [`AqlError::ControlCharacter`] when an [`AqlString`] is made. Attribute
//! names are always quoted; object/type/schema ids are preferred over names.
//!
//! ```
//! use atlassian::aql::{Attribute, AqlString};
//! let aql = Attribute::ObjectTypeId
//!     .eq(5)
//!     .and(Attribute::named("Serial Number")?.eq(AqlString::new("SN-1")?))
//!     .to_aql();
//! assert_eq!(aql.as_str(), r#"objectTypeId = 5 AND "Serial Number" = "SN-1""#);
//! # Ok::<(), atlassian::aql::AqlError>(())
//! ```

use std::fmt;

mod value;
#[doc(hidden)]
pub mod verify;

pub use value::{Function, Value};

/// Errors from building AQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AqlError {
    /// The text contains a control character at this char index.
    #[error("AQL text contains a control character at position {position}")]
    ControlCharacter {
        /// Index (in chars) of the first offending character.
        position: usize,
    },
    /// `IN` / `NOT IN` need at least one value.
    #[error("an AQL list operator needs at least one value")]
    EmptyList,
    /// An attribute path needs at least one name.
    #[error("an AQL attribute path needs at least one name")]
    EmptyPath,
}

/// Text that can be embedded in AQL: guaranteed free of control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AqlString(String);

impl AqlString {
    /// Validates `s`; errors if it holds a control character.
    pub fn new(s: impl Into<String>) -> Result<Self, AqlError> {
        let s = s.into();
        match s
            .chars()
            .position(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
        {
            Some(position) => Err(AqlError::ControlCharacter { position }),
            None => Ok(AqlString(s)),
        }
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn render(&self, out: &mut String) {
        out.push('"');
        for c in self.0.chars() {
            if c == '\\' || c == '"' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
}

impl TryFrom<&str> for AqlString {
    type Error = AqlError;
    fn try_from(s: &str) -> Result<Self, AqlError> {
        AqlString::new(s)
    }
}

impl TryFrom<String> for AqlString {
    type Error = AqlError;
    fn try_from(s: String) -> Result<Self, AqlError> {
        AqlString::new(s)
    }
}

/// An attribute reference: a built-in from a fixed list or a quoted name / dotted path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Attribute {
    /// `objectId`
    ObjectId,
    /// `objectTypeId`
    ObjectTypeId,
    /// `objectSchemaId`
    ObjectSchemaId,
    /// `objectType` (by name)
    ObjectType,
    /// `objectSchema` (by name)
    ObjectSchema,
    /// `Key`
    Key,
    /// `Label`
    Label,
    /// `Created`
    Created,
    /// `Updated`
    Updated,
    /// A named attribute or a reference path (`"Belongs to"."Name"`), each name quoted.
    Named(AttributePath),
}

/// One or more attribute names (a reference chain); never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttributePath(Vec<AqlString>);

impl AttributePath {
    /// A path of validated names; errors if `names` is empty.
    pub fn new(names: Vec<AqlString>) -> Result<Self, AqlError> {
        if names.is_empty() {
            Err(AqlError::EmptyPath)
        } else {
            Ok(AttributePath(names))
        }
    }
    /// The names, outermost first.
    pub fn names(&self) -> &[AqlString] {
        &self.0
    }
}

impl From<AqlString> for Attribute {
    fn from(name: AqlString) -> Self {
        Attribute::Named(AttributePath(vec![name]))
    }
}

impl Attribute {
    /// A named attribute, e.g. `"Serial Number"`.
    pub fn named(name: impl Into<String>) -> Result<Self, AqlError> {
        Ok(AqlString::new(name)?.into())
    }
    /// A reference path such as `"Belongs to Department"."Name"`.
    pub fn path<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Result<Self, AqlError> {
        let names = names
            .into_iter()
            .map(AqlString::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Attribute::Named(AttributePath::new(names)?))
    }

    fn builtin_name(&self) -> Option<&'static str> {
        Some(match self {
            Attribute::ObjectId => "objectId",
            Attribute::ObjectTypeId => "objectTypeId",
            Attribute::ObjectSchemaId => "objectSchemaId",
            Attribute::ObjectType => "objectType",
            Attribute::ObjectSchema => "objectSchema",
            Attribute::Key => "Key",
            Attribute::Label => "Label",
            Attribute::Created => "Created",
            Attribute::Updated => "Updated",
            Attribute::Named(_) => return None,
        })
    }

    fn render(&self, out: &mut String) {
        match self {
            Attribute::Named(path) => {
                for (i, name) in path.0.iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    name.render(out);
                }
            }
            other => out.push_str(other.builtin_name().unwrap_or_default()),
        }
    }

    fn pred(self, op: Op, operand: Operand) -> Clause {
        Clause(Expr::Cond(self, op, operand))
    }
    fn one(self, op: Op, value: impl Into<Value>) -> Clause {
        self.pred(op, Operand::One(value.into()))
    }
    fn many<V: Into<Value>>(
        self,
        op: Op,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Clause, AqlError> {
        let values: Vec<Value> = values.into_iter().map(Into::into).collect();
        if values.is_empty() {
            return Err(AqlError::EmptyList);
        }
        Ok(self.pred(op, Operand::List(values)))
    }

    /// `attr = value`
    pub fn eq(self, value: impl Into<Value>) -> Clause {
        self.one(Op::Eq, value)
    }
    /// `attr != value`
    pub fn ne(self, value: impl Into<Value>) -> Clause {
        self.one(Op::Ne, value)
    }
    /// `attr < value`
    pub fn lt(self, value: impl Into<Value>) -> Clause {
        self.one(Op::Lt, value)
    }
    /// `attr > value`
    pub fn gt(self, value: impl Into<Value>) -> Clause {
        self.one(Op::Gt, value)
    }
    /// `attr <= value`
    pub fn le(self, value: impl Into<Value>) -> Clause {
        self.one(Op::Le, value)
    }
    /// `attr >= value`
    pub fn ge(self, value: impl Into<Value>) -> Clause {
        self.one(Op::Ge, value)
    }
    /// `attr LIKE "text"` (contains).
    pub fn like(self, text: AqlString) -> Clause {
        self.one(Op::Like, text)
    }
    /// `attr NOT LIKE "text"`
    pub fn not_like(self, text: AqlString) -> Clause {
        self.one(Op::NotLike, text)
    }
    /// `attr startswith "text"`
    pub fn starts_with(self, text: AqlString) -> Clause {
        self.one(Op::StartsWith, text)
    }
    /// `attr endswith "text"`
    pub fn ends_with(self, text: AqlString) -> Clause {
        self.one(Op::EndsWith, text)
    }
    /// `attr IN (…)`; errors on an empty list.
    pub fn is_in<V: Into<Value>>(
        self,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Clause, AqlError> {
        self.many(Op::In, values)
    }
    /// `attr NOT IN (…)`; errors on an empty list.
    pub fn not_in<V: Into<Value>>(
        self,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Clause, AqlError> {
        self.many(Op::NotIn, values)
    }
    /// `attr IS EMPTY`
    pub fn is_empty(self) -> Clause {
        self.pred(Op::IsEmpty, Operand::None)
    }
    /// `attr IS NOT EMPTY`
    pub fn is_not_empty(self) -> Clause {
        self.pred(Op::IsNotEmpty, Operand::None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Like,
    NotLike,
    In,
    NotIn,
    IsEmpty,
    IsNotEmpty,
    StartsWith,
    EndsWith,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::Like => "LIKE",
            Op::NotLike => "NOT LIKE",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
            Op::IsEmpty => "IS EMPTY",
            Op::IsNotEmpty => "IS NOT EMPTY",
            Op::StartsWith => "startswith",
            Op::EndsWith => "endswith",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Operand {
    One(Value),
    List(Vec<Value>),
    None,
}

/// A boolean AQL expression; compose with [`Clause::and`] / [`Clause::or`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Clause(Expr);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Expr {
    Cond(Attribute, Op, Operand),
    And(Vec<Clause>),
    Or(Vec<Clause>),
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
    /// All clauses joined with `AND`; `None` for an empty iterator.
    pub fn all(clauses: impl IntoIterator<Item = Clause>) -> Option<Clause> {
        let mut items: Vec<Clause> = clauses.into_iter().collect();
        match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(Clause(Expr::And(items))),
        }
    }
    /// Any of the clauses joined with `OR`; `None` for an empty iterator.
    pub fn any(clauses: impl IntoIterator<Item = Clause>) -> Option<Clause> {
        let mut items: Vec<Clause> = clauses.into_iter().collect();
        match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(Clause(Expr::Or(items))),
        }
    }
    /// A query of this clause ordered by `attribute`.
    pub fn order_by(self, attribute: Attribute, direction: Direction) -> Query {
        Query {
            filter: self,
            order: Some((attribute, direction)),
        }
    }
    /// The AQL text of this clause.
    pub fn to_aql(&self) -> Aql {
        let mut out = String::new();
        self.render(&mut out);
        Aql(out)
    }

    fn render(&self, out: &mut String) {
        match &self.0 {
            Expr::Cond(attr, op, operand) => {
                attr.render(out);
                out.push(' ');
                out.push_str(op.as_str());
                match operand {
                    Operand::One(v) => {
                        out.push(' ');
                        v.render(out);
                    }
                    Operand::List(values) => {
                        out.push_str(" (");
                        for (i, v) in values.iter().enumerate() {
                            if i > 0 {
                                out.push_str(", ");
                            }
                            v.render(out);
                        }
                        out.push(')');
                    }
                    Operand::None => {}
                }
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
                    let compound = matches!(item.0, Expr::And(_) | Expr::Or(_));
                    if compound {
                        out.push('(');
                    }
                    item.render(out);
                    if compound {
                        out.push(')');
                    }
                }
            }
        }
    }
}

/// Sort direction for `order by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `asc`
    Asc,
    /// `desc`
    Desc,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        }
    }
}

/// A filter with an optional `order by` (AQL sorts by one attribute).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    filter: Clause,
    order: Option<(Attribute, Direction)>,
}

impl Query {
    /// A query of `filter`, unordered.
    pub fn filter(filter: Clause) -> Self {
        Query {
            filter,
            order: None,
        }
    }
    /// Renders the query.
    pub fn to_aql(&self) -> Aql {
        let mut out = String::new();
        self.filter.render(&mut out);
        if let Some((attr, direction)) = &self.order {
            out.push_str(" order by ");
            attr.render(&mut out);
            out.push(' ');
            out.push_str(direction.as_str());
        }
        Aql(out)
    }
}

impl From<Clause> for Query {
    fn from(clause: Clause) -> Self {
        Query::filter(clause)
    }
}

/// Rendered AQL text. Only obtainable from the builders in this module.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Aql(String);

impl Aql {
    /// The query text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The query text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Aql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Aql {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
