//! Operand values: strings, numbers, functions and relative dates.

use std::fmt::{self, Write as _};

use super::{JqlError, push_string};

/// A value on the right of an operator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// Any text (also user account ids, keys, dates): always quoted and escaped.
    String(String),
    /// An integer, emitted as decimal digits.
    Number(i64),
    /// A function from a fixed list.
    Function(Function),
    /// A relative date such as `-5d`.
    RelativeDate(RelativeDate),
}

impl Value {
    /// A string value (quoted and escaped).
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }
    /// A user account id; emitted as a quoted string.
    pub fn account_id(id: impl Into<String>) -> Self {
        Value::String(id.into())
    }

    pub(super) fn render(&self, out: &mut String) {
        match self {
            Value::String(s) => push_string(out, s),
            Value::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Function(f) => f.render(out),
            Value::RelativeDate(d) => {
                let _ = write!(out, "{d}");
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::String(s.clone())
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
impl From<RelativeDate> for Value {
    fn from(d: RelativeDate) -> Self {
        Value::RelativeDate(d)
    }
}

/// JQL functions from a fixed list; arguments are typed and escaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Function {
    /// `currentUser()`
    CurrentUser,
    /// `currentLogin()`
    CurrentLogin,
    /// `lastLogin()`
    LastLogin,
    /// `now()`
    Now,
    /// `startOfDay()` / `startOfDay(-1d)`
    StartOfDay(Option<RelativeDate>),
    /// `endOfDay()`
    EndOfDay(Option<RelativeDate>),
    /// `startOfWeek()`
    StartOfWeek(Option<RelativeDate>),
    /// `endOfWeek()`
    EndOfWeek(Option<RelativeDate>),
    /// `startOfMonth()`
    StartOfMonth(Option<RelativeDate>),
    /// `endOfMonth()`
    EndOfMonth(Option<RelativeDate>),
    /// `startOfYear()`
    StartOfYear(Option<RelativeDate>),
    /// `endOfYear()`
    EndOfYear(Option<RelativeDate>),
    /// `membersOf("group")` with the group name escaped.
    MembersOf(String),
}

impl Function {
    pub(super) fn render(&self, out: &mut String) {
        let (name, offset) = match self {
            Function::CurrentUser => ("currentUser", None),
            Function::CurrentLogin => ("currentLogin", None),
            Function::LastLogin => ("lastLogin", None),
            Function::Now => ("now", None),
            Function::StartOfDay(o) => ("startOfDay", o.as_ref()),
            Function::EndOfDay(o) => ("endOfDay", o.as_ref()),
            Function::StartOfWeek(o) => ("startOfWeek", o.as_ref()),
            Function::EndOfWeek(o) => ("endOfWeek", o.as_ref()),
            Function::StartOfMonth(o) => ("startOfMonth", o.as_ref()),
            Function::EndOfMonth(o) => ("endOfMonth", o.as_ref()),
            Function::StartOfYear(o) => ("startOfYear", o.as_ref()),
            Function::EndOfYear(o) => ("endOfYear", o.as_ref()),
            Function::MembersOf(group) => {
                out.push_str("membersOf(");
                push_string(out, group);
                out.push(')');
                return;
            }
        };
        out.push_str(name);
        out.push('(');
        if let Some(offset) = offset {
            let _ = write!(out, "{offset}");
        }
        out.push(')');
    }
}

/// Unit of a [`RelativeDate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateUnit {
    /// `y`
    Years,
    /// `M`
    Months,
    /// `w`
    Weeks,
    /// `d`
    Days,
    /// `h`
    Hours,
    /// `m`
    Minutes,
}

impl DateUnit {
    fn letter(self) -> char {
        match self {
            DateUnit::Years => 'y',
            DateUnit::Months => 'M',
            DateUnit::Weeks => 'w',
            DateUnit::Days => 'd',
            DateUnit::Hours => 'h',
            DateUnit::Minutes => 'm',
        }
    }
    fn from_letter(c: char) -> Option<Self> {
        Some(match c {
            'y' => DateUnit::Years,
            'M' => DateUnit::Months,
            'w' => DateUnit::Weeks,
            'd' => DateUnit::Days,
            'h' => DateUnit::Hours,
            'm' => DateUnit::Minutes,
            _ => return None,
        })
    }
}

/// A relative date/duration such as `-5d` or `2w` (emitted unquoted; the
/// grammar is `-?digits unit`, so it cannot carry syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RelativeDate {
    amount: i32,
    unit: DateUnit,
}

impl RelativeDate {
    /// A relative date of `amount` units (negative is in the past).
    pub fn new(amount: i32, unit: DateUnit) -> Self {
        RelativeDate { amount, unit }
    }

    /// Parses the strict grammar `[+-]?[0-9]{1,6}[yMwdhm]`.
    pub fn parse(s: &str) -> Result<Self, JqlError> {
        let err = || JqlError::InvalidRelativeDate(s.to_owned());
        let (negative, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let mut chars = rest.chars();
        let unit = chars
            .next_back()
            .and_then(DateUnit::from_letter)
            .ok_or_else(err)?;
        let digits = chars.as_str();
        if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let magnitude: i32 = digits.parse().map_err(|_| err())?;
        Ok(RelativeDate {
            amount: if negative { -magnitude } else { magnitude },
            unit,
        })
    }

    /// Signed amount.
    pub fn amount(&self) -> i32 {
        self.amount
    }
    /// Unit.
    pub fn unit(&self) -> DateUnit {
        self.unit
    }
}

impl fmt::Display for RelativeDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit.letter())
    }
}
