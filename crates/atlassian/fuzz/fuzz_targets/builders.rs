//! Builds JQL and AQL from arbitrary input and asserts that the emitted text
//! parses back to exactly the intended structure with every value intact.
//!
//! Input layout: the first byte picks operators and how clauses are combined;
//! the rest is split on 0xFF (never valid UTF-8) into up to six values, each
//! decoded lossily.
#![no_main]

use atlassian::aql::{self, AqlString, Attribute, AttributePath};
use atlassian::jql::{self, Clause, DateUnit, Direction, Field, Function, RelativeDate, TextQuery};
use libfuzzer_sys::fuzz_target;

fn values(data: &[u8]) -> Vec<String> {
    let mut parts: Vec<String> = data
        .split(|b| *b == 0xFF)
        .take(6)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    while parts.len() < 6 {
        parts.push(String::new());
    }
    parts
}

fn jql_leaf(op: u8, field: Field, v: &str, w: &str) -> Clause {
    let list = [
        jql::Value::from(v),
        jql::Value::from(w),
        jql::Value::Number(i64::from(op)),
    ];
    let clause = match op % 14 {
        0 => Ok(field.eq(v)),
        1 => Ok(field.ne(Function::MembersOf(v.to_owned()))),
        2 => Ok(field.contains(TextQuery::words(v))),
        3 => Ok(field.not_contains(TextQuery::phrase(v))),
        4 => field.is_in(list),
        5 => field.not_in(list),
        6 => Ok(field.is_empty()),
        7 => Ok(field.is_not_empty()),
        8 => Ok(field.was(v)),
        9 => field.was_not_in(list),
        10 => Ok(field.changed()),
        11 => Ok(field.gt(RelativeDate::new(i32::from(op) - 128, DateUnit::Days))),
        12 => Ok(field.le(Function::StartOfDay(RelativeDate::parse(v).ok()))),
        _ => Ok(field.ge(i64::from(op))),
    };
    // Lists above are never empty.
    clause.unwrap_or_else(|_| Field::Key.is_empty())
}

fn check_jql(shape: u8, v: &[String]) {
    let fields = [
        Field::Summary,
        Field::named(v[0].clone()),
        Field::Custom(u64::from(shape)),
        Field::RequestType,
        Field::named(v[5].clone()),
    ];
    let mut clause: Option<Clause> = None;
    for (i, field) in fields.into_iter().enumerate() {
        let op = shape.rotate_left(i as u32).wrapping_add(i as u8 * 3);
        let mut leaf = jql_leaf(op, field, &v[i % 6], &v[(i + 1) % 6]);
        if (shape >> i) & 1 == 1 {
            leaf = !leaf;
        }
        clause = Some(match clause {
            None => leaf,
            Some(c) if (shape >> (i + 2)) & 1 == 1 => c.and(leaf),
            Some(c) => c.or(leaf),
        });
    }
    let Some(clause) = clause else { return };
    let dir = if shape & 0x80 == 0 {
        Direction::Asc
    } else {
        Direction::Desc
    };
    let query = clause.order_by(Field::named(v[3].clone()), dir);
    let text = query.to_jql();
    assert_eq!(
        jql::verify::parse_emitted(text.as_str()),
        Ok(jql::verify::expected(&query)),
        "{text}"
    );
    if let Ok(date) = RelativeDate::parse(&v[2]) {
        assert_eq!(RelativeDate::parse(&date.to_string()), Ok(date));
    }
}

fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

fn check_aql(shape: u8, v: &[String]) {
    let texts: Vec<AqlString> = v
        .iter()
        .filter_map(|s| match AqlString::new(s.clone()) {
            Ok(t) => Some(t),
            Err(_) => {
                assert!(has_control(s), "rejected clean text {s:?}");
                None
            }
        })
        .collect();
    if texts.is_empty() {
        return;
    }
    let t = |i: usize| texts[i % texts.len()].clone();
    let mut clause: Option<aql::Clause> = None;
    for i in 0..5usize {
        let attr = match (shape as usize + i) % 4 {
            0 => Attribute::from(t(i)),
            1 => {
                AttributePath::new(vec![t(i), t(i + 1)]).map_or(Attribute::Label, Attribute::Named)
            }
            2 => Attribute::Label,
            _ => Attribute::ObjectTypeId,
        };
        let op = shape.wrapping_mul(7).wrapping_add(i as u8);
        let leaf = match op % 8 {
            0 => attr.eq(t(i + 2)),
            1 => attr.like(t(i)),
            2 => attr.not_like(t(i + 1)),
            3 => attr.starts_with(t(i)),
            4 => attr
                .is_in([aql::Value::from(t(i)), aql::Function::User(t(i + 1)).into()])
                .unwrap_or_else(|_| Attribute::Key.is_empty()),
            5 => attr.is_not_empty(),
            6 => attr.ne(i64::from(op)),
            _ => attr.ends_with(t(i + 3)),
        };
        clause = Some(match clause {
            None => leaf,
            Some(c) if (shape >> i) & 1 == 1 => c.and(leaf),
            Some(c) => c.or(leaf),
        });
    }
    let Some(clause) = clause else { return };
    let query = clause.order_by(Attribute::from(t(0)), aql::Direction::Desc);
    let text = query.to_aql();
    assert_eq!(
        aql::verify::parse_emitted(text.as_str()),
        Ok(aql::verify::expected(&query)),
        "{text}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let v = values(rest);
    check_jql(shape, &v);
    check_aql(shape, &v);
});
