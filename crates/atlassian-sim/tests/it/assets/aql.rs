//! AQL parser cases and property tests against the `atlassian::aql` builder.

use atlassian::aql::{AqlString, Attribute, Clause, Direction, Function, Query, Value};
use atlassian_sim::assets::aql::{Cmp, Evaluator, Expr, Field, Operand, SearchContext, parse};
use atlassian_sim::assets::{Scale, seed};
use proptest::prelude::*;

use super::handmade;

#[test]
fn parses_valid_queries() {
    let q = parse(r#""Belongs to"."Name" = "x" AND objectTypeId IN (1, 2) order by Label DESC"#)
        .unwrap();
    assert_eq!(q.order, Some((Field::Label, true)));
    let Some(Expr::And(left, right)) = q.filter else {
        panic!("not an AND")
    };
    assert_eq!(
        *left,
        Expr::Cond(
            Field::Attr {
                path: vec!["Belongs to".into(), "Name".into()],
                quoted: true
            },
            Cmp::Eq(Operand::Text("x".into()))
        )
    );
    assert!(matches!(*right, Expr::Cond(Field::ObjectTypeId, Cmp::In(ref v)) if v.len() == 2));
    for ok in [
        "objectType = Office AND Name LIKE SYD",
        "Name is not empty",
        "Name IS EMPTY or (Key = A-1 and Created > now())",
        r#"Owner = user("a", "b") AND Team IN (group("x"))"#,
        "Price >= -3.5",
        "order by Created",
        "   ",
        r#""a\\b\"c" NOT IN ("x")"#,
    ] {
        parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}

#[test]
fn rejects_malformed_queries_with_messages() {
    for (bad, needle) in [
        ("Name =", "expected a value"),
        ("Name", "expected an operator"),
        ("Name = x AND", "expected an attribute name"),
        ("(Name = x", "expected ')'"),
        ("Name = x)", "unexpected input"),
        ("Name IN ()", "expected a value"),
        ("Name IN (a b)", "expected ')' or ','"),
        ("Name NOT x", "expected LIKE or IN"),
        ("Name IS NOTHING", "expected EMPTY"),
        ("Name = \"abc", "unterminated string"),
        (r#"Name = "a\q""#, "invalid escape"),
        ("Name = foo()", "unsupported function"),
        ("Name = now(1)", "unsupported function"),
        ("Name HAVING x", "HAVING is not supported"),
        ("Name = x order Label", "expected 'by'"),
        ("Name ! x", "unexpected '!'"),
    ] {
        let err = parse(bad).err().unwrap_or_else(|| panic!("{bad} parsed"));
        assert!(err.0.contains(needle), "{bad}: {}", err.0);
        assert!(err.0.starts_with("AQL: "));
    }
    let deep = format!("{}Name = x{}", "(".repeat(200), ")".repeat(200));
    assert!(parse(&deep).unwrap_err().0.contains("nested too deeply"));
}

const NAMES: &[&str] = &[
    "Name",
    "Serial Number",
    "SLA tier",
    "Owner",
    "Site",
    "Status",
    "RAM (GB)",
    "Start date",
    "Support groups",
    "IP addresses",
];

fn text() -> impl Strategy<Value = AqlString> {
    "[a-zA-Z0-9 \"\\\\<>'é東.,()=-]{0,12}".prop_map(|s| AqlString::new(s).unwrap())
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::String),
        any::<i64>().prop_map(Value::Number),
        Just(Value::Function(Function::CurrentUser)),
        Just(Value::Function(Function::CurrentReporter)),
        Just(Value::Function(Function::Now)),
        Just(Value::Function(Function::StartOfDay)),
        Just(Value::Function(Function::EndOfWeek)),
        Just(Value::Function(Function::StartOfMonth)),
        text().prop_map(|t| Value::Function(Function::User(t))),
        text().prop_map(|t| Value::Function(Function::Group(t))),
    ]
}

fn attribute() -> impl Strategy<Value = Attribute> {
    let named = proptest::sample::select(NAMES).prop_map(|n| Attribute::named(n).unwrap());
    let path = (
        proptest::sample::select(&["Site", "Uplink", "Installed software"][..]),
        proptest::sample::select(NAMES),
    )
        .prop_map(|(a, b)| Attribute::path([a, b]).unwrap());
    prop_oneof![
        Just(Attribute::ObjectId),
        Just(Attribute::ObjectTypeId),
        Just(Attribute::ObjectSchemaId),
        Just(Attribute::ObjectType),
        Just(Attribute::ObjectSchema),
        Just(Attribute::Key),
        Just(Attribute::Label),
        Just(Attribute::Created),
        Just(Attribute::Updated),
        named,
        path,
    ]
}

fn leaf() -> impl Strategy<Value = Clause> {
    (
        attribute(),
        0..14usize,
        value(),
        proptest::collection::vec(value(), 1..3),
        text(),
    )
        .prop_map(|(a, op, v, vs, t)| match op {
            0 => a.eq(v),
            1 => a.ne(v),
            2 => a.lt(v),
            3 => a.gt(v),
            4 => a.le(v),
            5 => a.ge(v),
            6 => a.like(t),
            7 => a.not_like(t),
            8 => a.starts_with(t),
            9 => a.ends_with(t),
            10 => a.is_in(vs).unwrap(),
            11 => a.not_in(vs).unwrap(),
            12 => a.is_empty(),
            _ => a.is_not_empty(),
        })
}

fn clause() -> impl Strategy<Value = Clause> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..3).prop_map(|v| Clause::all(v).unwrap()),
            proptest::collection::vec(inner, 1..3).prop_map(|v| Clause::any(v).unwrap()),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn builder_queries_parse_and_evaluate(c in clause(), order in proptest::option::of((attribute(), any::<bool>()))) {
        let ws = seed(5, Scale::Small, &[]);
        let q: Query = match order {
            Some((a, desc)) => c.order_by(a, if desc { Direction::Desc } else { Direction::Asc }),
            None => c.into(),
        };
        let text = q.to_aql();
        let parsed = parse(text.as_str()).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let ev = Evaluator::new(&ws, SearchContext { account_id: "557058:assets-sim-0".into(), now_ms: 1_700_000_000_000 });
        ev.search(&parsed, |_| true).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
    }

    #[test]
    fn quoted_values_match_literally(label in "[a-zA-Z \"\\\\<>'é東%_*]{1,16}") {
        let ws = handmade::workspace(&label);
        let s = AqlString::new(label.clone()).unwrap();
        let eq = Attribute::Label.eq(s.clone()).to_aql();
        prop_assert!(handmade::run(&ws, eq.as_str()).contains(&2), "{}", eq);
        let named = Attribute::named("Name").unwrap().eq(s.clone()).to_aql();
        prop_assert!(handmade::run(&ws, named.as_str()).contains(&2), "{}", named);
        let like = Attribute::Label.like(s).to_aql();
        prop_assert!(handmade::run(&ws, like.as_str()).contains(&2), "{}", like);
    }

    #[test]
    fn parser_never_panics(input in any::<String>()) {
        let _ = parse(&input);
    }

    #[test]
    fn parser_never_panics_on_aql_like_soup(input in "[ ()\",.=!<>a-zA-Z0-9\\\\]{0,60}") {
        let _ = parse(&input);
    }
}
