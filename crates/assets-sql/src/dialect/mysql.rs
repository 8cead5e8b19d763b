//! MySQL/MariaDB: back-quoted identifiers, utf8mb4 with a binary collation, `DATETIME(3)`
//! in UTC, `ON DUPLICATE KEY UPDATE`. Text holding a backslash or a control character is
//! written as a hex literal with a charset introducer, so neither `NO_BACKSLASH_ESCAPES`
//! nor the command-line client changes its meaning.

use crate::model::ColumnType;

pub(super) fn column_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Id => "VARCHAR(191)",
        ColumnType::Text => "TEXT",
        ColumnType::LongText => "LONGTEXT",
        ColumnType::Integer => "BIGINT",
        ColumnType::Boolean => "BOOLEAN",
        ColumnType::Double => "DOUBLE",
        ColumnType::Date => "DATE",
        ColumnType::Time => "TIME",
        ColumnType::DateTime => "DATETIME(3)",
    }
}

pub(super) fn string(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.chars().any(|c| c == '\\' || c.is_control()) {
        let mut out = String::with_capacity(s.len() * 2 + 12);
        out.push_str("_utf8mb4 X'");
        for b in s.bytes() {
            out.push_str(&format!("{b:02X}"));
        }
        out.push('\'');
        return out;
    }
    format!("'{}'", s.replace('\'', "''"))
}
