//! Operand values: validated strings, numbers and functions.

use super::{AqlError, AqlString};

/// A value on the right of an operator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// Quoted, escaped text.
    String(AqlString),
    /// An integer (ids), emitted as digits.
    Number(i64),
    /// A function from a fixed list.
    Function(Function),
}

impl Value {
    /// A validated string value.
    pub fn string(s: impl Into<String>) -> Result<Self, AqlError> {
        Ok(Value::String(AqlString::new(s)?))
    }
    pub(super) fn render(&self, out: &mut String) {
        match self {
            Value::String(s) => s.render(out),
            Value::Number(n) => out.push_str(&n.to_string()),
            Value::Function(f) => f.render(out),
        }
    }
}

impl From<AqlString> for Value {
    fn from(s: AqlString) -> Self {
        Value::String(s)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n)
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Number(n.into())
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Number(n.into())
    }
}
impl From<Function> for Value {
    fn from(f: Function) -> Self {
        Value::Function(f)
    }
}

/// AQL functions from a fixed list; arguments are validated and escaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Function {
    /// `currentUser()`
    CurrentUser,
    /// `currentReporter()`
    CurrentReporter,
    /// `now()`
    Now,
    /// `startOfDay()`
    StartOfDay,
    /// `endOfDay()`
    EndOfDay,
    /// `startOfWeek()`
    StartOfWeek,
    /// `endOfWeek()`
    EndOfWeek,
    /// `startOfMonth()`
    StartOfMonth,
    /// `endOfMonth()`
    EndOfMonth,
    /// `user("accountId")`
    User(AqlString),
    /// `group("name")`
    Group(AqlString),
}

impl Function {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Function::CurrentUser => "currentUser",
            Function::CurrentReporter => "currentReporter",
            Function::Now => "now",
            Function::StartOfDay => "startOfDay",
            Function::EndOfDay => "endOfDay",
            Function::StartOfWeek => "startOfWeek",
            Function::EndOfWeek => "endOfWeek",
            Function::StartOfMonth => "startOfMonth",
            Function::EndOfMonth => "endOfMonth",
            Function::User(_) => "user",
            Function::Group(_) => "group",
        }
    }
    pub(super) fn arg(&self) -> Option<&AqlString> {
        match self {
            Function::User(s) | Function::Group(s) => Some(s),
            _ => None,
        }
    }
    pub(super) fn render(&self, out: &mut String) {
        out.push_str(self.name());
        out.push('(');
        if let Some(arg) = self.arg() {
            arg.render(out);
        }
        out.push(')');
    }
}
