use atlassian::jql::{DateUnit, Direction, Field, Function, RelativeDate, TextQuery};
use atlassian_sim::jql::parse::{Expr, Op, Operand, parse};
use proptest::prelude::*;

#[test]
fn parses_precedence_and_order() {
    let q = parse(r#"project = FS AND (status = "On Site" OR status in ("Travelling", 10002)) AND NOT labels is EMPTY ORDER BY updated DESC, key"#).expect("parse");
    let Some(Expr::And(items)) = q.filter else {
        panic!("and")
    };
    assert_eq!(items.len(), 3);
    assert!(matches!(items[1], Expr::Or(_)));
    assert!(matches!(items[2], Expr::Not(_)));
    assert_eq!(
        q.order,
        vec![("updated".to_owned(), false), ("key".to_owned(), true)]
    );
}

#[test]
fn parses_escapes_functions_and_custom_fields() {
    let q = parse(r#"summary ~ "a \"b\" \\ \n \u00e9" and cf[10070] = plumbing and assignee in membersOf("technicians") and created >= startOfDay(-1d) and "Request Type" != "Drive home""#).expect("parse");
    let Some(Expr::And(items)) = q.filter else {
        panic!()
    };
    assert_eq!(
        items[0],
        Expr::Clause {
            field: "summary".into(),
            op: Op::Like,
            values: vec![Operand::Str("a \"b\" \\ \n é".into())]
        }
    );
    assert!(matches!(&items[1], Expr::Clause { field, .. } if field == "cf[10070]"));
    assert!(
        matches!(&items[2], Expr::Clause { values, .. } if values == &vec![Operand::Func("membersOf".into(), vec!["technicians".into()])])
    );
    assert!(matches!(&items[4], Expr::Clause { field, op: Op::Ne, .. } if field == "Request Type"));
}

#[test]
fn rejects_malformed() {
    for bad in [
        "project =",
        "project = FS AND",
        "(status = Open",
        "status = \"x",
        "status ~~ x",
        "= x",
        "project = FS ORDER updated",
        "status in ()",
        "summary ~ \"\\q\"",
        "project = FS extra",
        "status is Open",
        "a = b )",
        "cf[abc] = 1",
        "x = y & z",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn was_and_changed() {
    let q =
        parse("status WAS NOT IN (Open, Closed) AND assignee CHANGED AND status was \"On Site\"")
            .expect("parse");
    let Some(Expr::And(items)) = q.filter else {
        panic!()
    };
    assert!(matches!(
        items[0],
        Expr::Clause {
            op: Op::WasNotIn,
            ..
        }
    ));
    assert!(matches!(
        items[1],
        Expr::Clause {
            op: Op::Changed,
            ..
        }
    ));
    assert!(matches!(items[2], Expr::Clause { op: Op::Was, .. }));
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        Just(Field::Project),
        Just(Field::Status),
        Just(Field::Assignee),
        Just(Field::Labels),
        Just(Field::Created),
        Just(Field::RequestType),
        Just(Field::Summary),
        Just(Field::Text),
        (1u64..99999).prop_map(Field::Custom),
        any::<String>().prop_map(Field::Named),
    ]
}

fn clause() -> impl Strategy<Value = atlassian::jql::Clause> {
    (field(), any::<String>(), 0u8..10, -999i32..999).prop_map(|(f, s, k, n)| match k {
        0 => f.eq(s),
        1 => f.ne(n),
        2 => f.contains(TextQuery::words(s)),
        3 => f.not_contains(TextQuery::phrase(s)),
        4 => f.is_in([s, "x".to_owned()]).expect("list"),
        5 => f.is_empty(),
        6 => f.gt(RelativeDate::new(n, DateUnit::Days)),
        7 => f.le(Function::StartOfDay(Some(RelativeDate::new(
            n,
            DateUnit::Hours,
        )))),
        8 => f.eq(Function::MembersOf(s)),
        _ => f.was_not_in([s]).expect("list"),
    })
}

proptest! {
    #[test]
    fn builder_output_parses(a in clause(), b in clause(), c in clause(), neg in any::<bool>()) {
        let expr = if neg { a.and(b.or(c)).negate() } else { a.or(b).and(c) };
        let jql = expr.order_by(Field::Updated, Direction::Desc).to_jql();
        prop_assert!(parse(jql.as_str()).is_ok(), "{}", jql.as_str());
    }

    #[test]
    fn never_panics(s in "\\PC{0,80}") {
        let _ = parse(&s);
    }

    #[test]
    fn never_panics_on_jqlish(s in "[a-z\\[\\]0-9 ()=!~<>\"\\\\,&|-]{0,60}") {
        let _ = parse(&s);
    }
}
