//! PostgreSQL: double-quoted identifiers, `E''` strings when a backslash is present,
//! `timestamptz`, `ON CONFLICT` upserts, deferrable foreign keys added by `DO` blocks.

use crate::model::ColumnType;

pub(super) fn column_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Id | ColumnType::Text | ColumnType::LongText => "text",
        ColumnType::Integer => "bigint",
        ColumnType::Boolean => "boolean",
        ColumnType::Double => "double precision",
        ColumnType::Date => "date",
        ColumnType::Time => "time",
        ColumnType::DateTime => "timestamptz",
    }
}

/// A string literal that means the same whatever `standard_conforming_strings` is.
pub(super) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 3);
    if s.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A field of COPY's text format.
pub(crate) fn copy_field(s: &str, out: &mut String) {
    // The escaped characters are ASCII, so byte positions are character boundaries:
    // runs between them are copied whole.
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            _ => continue,
        };
        out.push_str(s.get(from..i).unwrap_or_default());
        out.push_str(esc);
        from = i + 1;
    }
    out.push_str(s.get(from..).unwrap_or_default());
}
