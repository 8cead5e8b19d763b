//! Quoting and literal escaping per dialect, checked by decoding the emitted literals
//! with small reference readers of each dialect's string syntax.

use super::*;
use proptest::prelude::*;

/// Reads a `'…'` body with `''` doubling (and `\` escapes when `backslash`); returns the
/// text and the rest of the input.
fn read_quoted(s: &str, backslash: bool) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('\'')?.char_indices().peekable();
    let body = s.get(1..)?;
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => {
                if let Some((_, '\'')) = chars.peek() {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some((out, body.get(i + 1..)?));
                }
            }
            '\\' if backslash => {
                let (_, n) = chars.next()?;
                out.push(n);
            }
            c => out.push(c),
        }
    }
    None
}

fn decode(d: Dialect, lit: &str) -> Option<String> {
    match d {
        Dialect::Sqlite => {
            let Some(inner) = lit.strip_prefix('(').and_then(|l| l.strip_suffix(')')) else {
                let (s, rest) = read_quoted(lit, false)?;
                return rest.is_empty().then_some(s);
            };
            let mut out = String::new();
            for part in inner.split(" || ") {
                if let Some(code) = part.strip_prefix("char(").and_then(|p| p.strip_suffix(')')) {
                    out.push(char::from_u32(code.parse().ok()?)?);
                } else {
                    let (s, rest) = read_quoted(part, false)?;
                    if !rest.is_empty() || s.chars().any(char::is_control) {
                        return None;
                    }
                    out.push_str(&s);
                }
            }
            Some(out)
        }
        Dialect::Postgres => {
            let (body, backslash) = match lit.strip_prefix('E') {
                Some(b) => (b, true),
                None => (lit, false),
            };
            let (s, rest) = read_quoted(body, backslash)?;
            rest.is_empty().then_some(s)
        }
        Dialect::MySql => {
            if let Some(hex) = lit
                .strip_prefix("_utf8mb4 X'")
                .and_then(|h| h.strip_suffix('\''))
            {
                let bytes: Option<Vec<u8>> = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                    .collect();
                return String::from_utf8(bytes?).ok();
            }
            if lit.contains('\\') {
                return None;
            }
            let (s, rest) = read_quoted(lit, false)?;
            rest.is_empty().then_some(s)
        }
        Dialect::MsSql => {
            let inner = match lit.strip_prefix("(CAST(N'' AS NVARCHAR(MAX)) + ") {
                Some(rest) => rest.strip_suffix(')')?,
                None => lit,
            };
            let mut out = String::new();
            let mut rest = inner;
            loop {
                if let Some(r) = rest.strip_prefix("NCHAR(") {
                    let end = r.find(')')?;
                    let code: u32 = r.get(..end)?.parse().ok()?;
                    out.push(char::from_u32(code)?);
                    rest = r.get(end + 1..)?;
                } else {
                    let (s, r) = read_quoted(rest.strip_prefix('N')?, false)?;
                    if s.contains('\n') || s.contains('\r') || s.contains("$(") {
                        return None;
                    }
                    out.push_str(&s);
                    rest = r;
                }
                match rest.strip_prefix(" + ") {
                    Some(r) => rest = r,
                    None => break,
                }
            }
            rest.is_empty().then_some(out)
        }
    }
}

#[test]
fn quoting() {
    assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
    assert_eq!(Dialect::Sqlite.quote("order"), "\"order\"");
    assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
    assert_eq!(Dialect::MsSql.quote("a]b"), "[a]]b]");
}

#[test]
fn literal_examples() {
    let s = "O'Brien \\ 'x'";
    assert_eq!(Dialect::Postgres.string("O'Brien"), "'O''Brien'");
    assert_eq!(Dialect::Postgres.string(s), "E'O''Brien \\\\ ''x'''");
    assert_eq!(Dialect::Sqlite.string(s), "'O''Brien \\ ''x'''");
    assert_eq!(Dialect::MySql.string("O'Brien"), "'O''Brien'");
    assert_eq!(Dialect::MySql.string("a\\b"), "_utf8mb4 X'615C62'");
    assert_eq!(Dialect::MsSql.string("O'Brien"), "N'O''Brien'");
    assert_eq!(
        Dialect::MsSql.string("a\nGO\n$(x)"),
        "(CAST(N'' AS NVARCHAR(MAX)) + N'a' + NCHAR(10) + N'GO' + NCHAR(10) + NCHAR(36) + N'(x)')"
    );
    assert_eq!(Dialect::MsSql.string(""), "N''");
}

#[test]
fn typed_literals() {
    let ts: jiff::Timestamp = "2024-01-02T03:04:05.678Z".parse().unwrap_or_default();
    let v = Value::DateTime(ts);
    assert_eq!(
        Dialect::Postgres.literal(&v),
        "'2024-01-02 03:04:05.678+00'"
    );
    assert_eq!(Dialect::MySql.literal(&v), "'2024-01-02 03:04:05.678'");
    assert_eq!(Dialect::Sqlite.literal(&v), "'2024-01-02T03:04:05.678Z'");
    assert_eq!(
        Dialect::MsSql.literal(&v),
        "N'2024-01-02T03:04:05.678+00:00'"
    );
    assert_eq!(Dialect::Postgres.literal(&Value::Bool(true)), "TRUE");
    assert_eq!(Dialect::MsSql.literal(&Value::Bool(false)), "0");
    assert_eq!(Dialect::Sqlite.literal(&Value::Double(0.1)), "0.1");
    assert_eq!(Dialect::MySql.literal(&Value::Double(f64::NAN)), "NULL");
    assert_eq!(Dialect::MySql.literal(&Value::Int(-7)), "-7");
    assert_eq!(Dialect::Postgres.literal(&Value::Null), "NULL");
    assert_eq!(
        Dialect::Sqlite.literal(&Value::Date(jiff::civil::date(2024, 2, 29))),
        "'2024-02-29'"
    );
    assert_eq!(
        Dialect::MySql.literal(&Value::Time(jiff::civil::time(7, 5, 0, 0))),
        "'07:05:00'"
    );
}

#[test]
fn dialect_names_parse() {
    for d in Dialect::ALL {
        assert_eq!(d.name().parse::<Dialect>(), Ok(d));
    }
    assert!("oracle".parse::<Dialect>().is_err());
}

proptest! {
    #[test]
    fn string_literals_decode_to_the_input(s in any::<String>()) {
        let s = s.replace('\0', "");
        for d in Dialect::ALL {
            let lit = d.string(&s);
            prop_assert_eq!(decode(d, &lit), Some(s.clone()), "{:?}: {}", d, lit);
            if d == Dialect::MsSql {
                prop_assert!(!lit.contains('\n') && !lit.contains("$("));
            }
            if d == Dialect::MySql {
                prop_assert!(!lit.contains('\\'));
            }
        }
    }

}

proptest::proptest! {
    #[test]
    fn copy_fields_escape_exactly_the_special_characters(s in "(?s:.{0,40})|[a\\\\\t\r\nß€😀]{0,20}") {
        let mut want = String::new();
        for c in s.chars() {
            match c {
                '\\' => want.push_str("\\\\"),
                '\n' => want.push_str("\\n"),
                '\r' => want.push_str("\\r"),
                '\t' => want.push_str("\\t"),
                c => want.push(c),
            }
        }
        let mut got = String::from("prefix|");
        super::postgres::copy_field(&s, &mut got);
        proptest::prop_assert_eq!(got, format!("prefix|{want}"));
    }
}
