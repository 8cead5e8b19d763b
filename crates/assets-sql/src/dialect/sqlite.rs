//! SQLite: double-quoted identifiers, `''` doubling, ISO-8601 text for dates and times,
//! 0/1 booleans, `ON CONFLICT` upserts.

use crate::model::ColumnType;

pub(super) fn column_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Id | ColumnType::Text | ColumnType::LongText => "TEXT",
        ColumnType::Integer | ColumnType::Boolean => "INTEGER",
        ColumnType::Double => "REAL",
        ColumnType::Date | ColumnType::Time | ColumnType::DateTime => "TEXT",
    }
}

/// `'…'` with `''` doubling; control characters are spliced in with `char()` because the
/// `sqlite3` shell drops a carriage return at the end of an input line.
pub(super) fn string(s: &str) -> String {
    if !s.chars().any(|c| c.is_control()) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_control() {
            if !cur.is_empty() {
                parts.push(format!("'{}'", cur.replace('\'', "''")));
                cur.clear();
            }
            parts.push(format!("char({})", u32::from(c)));
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        parts.push(format!("'{}'", cur.replace('\'', "''")));
    }
    format!("({})", parts.join(" || "))
}
