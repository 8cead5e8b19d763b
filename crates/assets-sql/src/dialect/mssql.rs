//! SQL Server: bracketed identifiers, `N''` strings (line breaks, control characters and
//! `$(` are spliced with `NCHAR()` so `sqlcmd` neither splits batches on a `GO` line inside
//! a value nor substitutes variables), `DATETIMEOFFSET(3)`, `MERGE` upserts.

use crate::model::ColumnType;

pub(super) fn column_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Id => "NVARCHAR(191)",
        ColumnType::Text | ColumnType::LongText => "NVARCHAR(MAX)",
        ColumnType::Integer => "BIGINT",
        ColumnType::Boolean => "BIT",
        ColumnType::Double => "FLOAT",
        ColumnType::Date => "DATE",
        ColumnType::Time => "TIME(0)",
        ColumnType::DateTime => "DATETIMEOFFSET(3)",
    }
}

pub(super) fn string(s: &str) -> String {
    let needs_split = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if needs_split(c) || (c == '$' && chars.peek() == Some(&'(')) {
            if !cur.is_empty() {
                parts.push(format!("N'{}'", cur.replace('\'', "''")));
                cur.clear();
            }
            parts.push(format!("NCHAR({})", u32::from(c)));
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() || parts.is_empty() {
        parts.push(format!("N'{}'", cur.replace('\'', "''")));
    }
    if parts.len() == 1 {
        return parts.pop().unwrap_or_default();
    }
    format!("(CAST(N'' AS NVARCHAR(MAX)) + {})", parts.join(" + "))
}
