//! AQL builder: exact output and structure-preservation properties.

use atlassian::aql::verify::{self, AttrRef, Operand, Parsed, ParsedQuery};
use atlassian::aql::{
    AqlError, AqlString, Attribute, AttributePath, Clause, Direction, Function, Query, Value,
};
use proptest::prelude::*;

fn t(s: &str) -> AqlString {
    AqlString::new(s).expect("test text has no control characters")
}

#[test]
fn simple_conditions() {
    let sn = || Attribute::named("Serial Number").unwrap();
    let cases: Vec<(Clause, &str)> = vec![
        (Attribute::ObjectId.eq(123), "objectId = 123"),
        (Attribute::ObjectTypeId.eq(5), "objectTypeId = 5"),
        (Attribute::ObjectSchemaId.eq(1), "objectSchemaId = 1"),
        (
            Attribute::ObjectType.eq(t("Laptop")),
            r#"objectType = "Laptop""#,
        ),
        (
            Attribute::ObjectSchema.eq(t("ITSM")),
            r#"objectSchema = "ITSM""#,
        ),
        (Attribute::Key.eq(t("ITSM-42")), r#"Key = "ITSM-42""#),
        (Attribute::Label.ne(t("old")), r#"Label != "old""#),
        (
            sn().eq(t(r#"15" Screen \ A"#)),
            r#""Serial Number" = "15\" Screen \\ A""#,
        ),
        (
            Attribute::Created.gt(Function::StartOfDay),
            "Created > startOfDay()",
        ),
        (Attribute::Updated.ge(Function::Now), "Updated >= now()"),
        (Attribute::named("RAM").unwrap().lt(8), r#""RAM" < 8"#),
        (Attribute::named("RAM").unwrap().le(-8), r#""RAM" <= -8"#),
        (Attribute::Label.like(t("mac")), r#"Label LIKE "mac""#),
        (
            Attribute::Label.not_like(t("win")),
            r#"Label NOT LIKE "win""#,
        ),
        (
            Attribute::Label.starts_with(t("LT-")),
            r#"Label startswith "LT-""#,
        ),
        (
            Attribute::Label.ends_with(t("-01")),
            r#"Label endswith "-01""#,
        ),
        (sn().is_empty(), r#""Serial Number" IS EMPTY"#),
        (sn().is_not_empty(), r#""Serial Number" IS NOT EMPTY"#),
        (
            Attribute::named("Owner").unwrap().eq(Function::CurrentUser),
            r#""Owner" = currentUser()"#,
        ),
        (
            Attribute::named("Owner")
                .unwrap()
                .eq(Function::CurrentReporter),
            r#""Owner" = currentReporter()"#,
        ),
        (
            Attribute::named("Owner")
                .unwrap()
                .eq(Function::User(t("557058:\"x\""))),
            r#""Owner" = user("557058:\"x\"")"#,
        ),
        (
            Attribute::named("Team")
                .unwrap()
                .eq(Function::Group(t("jira-admins"))),
            r#""Team" = group("jira-admins")"#,
        ),
        (
            Attribute::path(["Belongs to Department", "Name"])
                .unwrap()
                .eq(t("HR")),
            r#""Belongs to Department"."Name" = "HR""#,
        ),
        (
            Attribute::ObjectTypeId.is_in([1, 2, 3]).unwrap(),
            "objectTypeId IN (1, 2, 3)",
        ),
        (
            Attribute::Label.not_in([t("a"), t("b\"")]).unwrap(),
            r#"Label NOT IN ("a", "b\"")"#,
        ),
    ];
    for (clause, want) in cases {
        assert_eq!(clause.to_aql().as_str(), want);
        let q = Query::filter(clause);
        assert_eq!(
            verify::parse_emitted(want),
            Ok(verify::expected(&q)),
            "{want}"
        );
    }
}

#[test]
fn errors() {
    assert_eq!(
        AqlString::new("a\nb"),
        Err(AqlError::ControlCharacter { position: 1 })
    );
    assert_eq!(
        AqlString::new("é\u{0}"),
        Err(AqlError::ControlCharacter { position: 1 })
    );
    assert_eq!(
        AqlString::new("\u{2028}"),
        Err(AqlError::ControlCharacter { position: 0 })
    );
    assert_eq!(
        AqlString::new("\u{85}"),
        Err(AqlError::ControlCharacter { position: 0 })
    );
    assert_eq!(
        Value::string("\t"),
        Err(AqlError::ControlCharacter { position: 0 })
    );
    assert_eq!(
        Attribute::named("a\rb"),
        Err(AqlError::ControlCharacter { position: 1 })
    );
    assert_eq!(
        Attribute::path(Vec::<String>::new()),
        Err(AqlError::EmptyPath)
    );
    assert_eq!(
        Attribute::Key.is_in(Vec::<i64>::new()),
        Err(AqlError::EmptyList)
    );
    assert_eq!(
        Attribute::Key.not_in(Vec::<i64>::new()),
        Err(AqlError::EmptyList)
    );
    assert_eq!(
        AqlString::try_from("ok").map(|s| s.as_str().to_owned()),
        Ok("ok".to_owned())
    );
    assert!(AqlString::try_from(String::from("\u{1b}[31m")).is_err());
}

#[test]
fn composition_and_order() {
    let a = || Attribute::ObjectTypeId.eq(5);
    let b = || Attribute::Key.eq(t("K-1"));
    let c = || Attribute::Label.like(t("x"));
    assert_eq!(
        a().and(b()).and(c()).to_aql().as_str(),
        r#"objectTypeId = 5 AND Key = "K-1" AND Label LIKE "x""#
    );
    assert_eq!(
        a().and(b().or(c())).to_aql().as_str(),
        r#"objectTypeId = 5 AND (Key = "K-1" OR Label LIKE "x")"#
    );
    assert_eq!(
        a().or(b()).and(c()).to_aql().as_str(),
        r#"(objectTypeId = 5 OR Key = "K-1") AND Label LIKE "x""#
    );
    assert_eq!(Clause::all(Vec::new()), None);
    assert_eq!(Clause::any([a()]), Some(a()));
    let q = a().order_by(Attribute::named("Serial Number").unwrap(), Direction::Desc);
    let aql = q.to_aql();
    assert_eq!(
        aql.as_str(),
        r#"objectTypeId = 5 order by "Serial Number" desc"#
    );
    assert_eq!(aql.to_string(), aql.as_str());
    assert_eq!(
        serde_json::to_value(&aql).unwrap(),
        serde_json::json!(aql.as_str())
    );
    assert_eq!(
        Clause::any([a(), b()])
            .unwrap()
            .order_by(Attribute::Label, Direction::Asc)
            .to_aql()
            .as_str(),
        r#"objectTypeId = 5 OR Key = "K-1" order by Label asc"#
    );
}

#[test]
fn verifier_rejects_naive_concatenation() {
    let evil = r#"x" OR objectSchemaId = "2"#;
    let naive = format!(r#"Key = "{evil}""#);
    let built = Attribute::Key.eq(t(evil));
    let want = verify::expected(&Query::filter(built.clone()));
    assert_ne!(verify::parse_emitted(&naive).ok(), Some(want.clone()));
    assert_eq!(verify::parse_emitted(built.to_aql().as_str()), Ok(want));
}

/// Strings biased towards AQL syntax; may contain control characters.
pub fn nasty() -> impl Strategy<Value = String> {
    super::jql::nasty()
}

fn text() -> impl Strategy<Value = AqlString> {
    nasty().prop_filter_map("control characters are rejected", |s| {
        AqlString::new(s).ok()
    })
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::String),
        any::<i64>().prop_map(Value::Number),
        Just(Value::Function(Function::CurrentUser)),
        text().prop_map(|s| Value::Function(Function::User(s))),
        text().prop_map(|s| Value::Function(Function::Group(s))),
    ]
}

fn attribute() -> impl Strategy<Value = Attribute> {
    prop_oneof![
        Just(Attribute::ObjectTypeId),
        Just(Attribute::Key),
        Just(Attribute::Label),
        proptest::collection::vec(text(), 1..3)
            .prop_map(|names| Attribute::Named(AttributePath::new(names).expect("non-empty path"))),
    ]
}

fn leaf() -> impl Strategy<Value = Clause> {
    let values = proptest::collection::vec(value(), 1..4);
    (attribute(), 0..14u8, value(), values, text()).prop_map(|(a, k, v, vs, s)| match k {
        0 => a.eq(v),
        1 => a.ne(v),
        2 => a.lt(v),
        3 => a.gt(v),
        4 => a.le(v),
        5 => a.ge(v),
        6 => a.like(s),
        7 => a.not_like(s),
        8 => a.starts_with(s),
        9 => a.ends_with(s),
        10 => a.is_in(vs).expect("non-empty list"),
        11 => a.not_in(vs).expect("non-empty list"),
        12 => a.is_empty(),
        _ => a.is_not_empty(),
    })
}

/// Arbitrary clause trees built through the public API.
pub fn clause() -> impl Strategy<Value = Clause> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.or(b)),
            proptest::collection::vec(inner.clone(), 1..4)
                .prop_map(|v| Clause::all(v).expect("non-empty vec")),
            proptest::collection::vec(inner, 1..4)
                .prop_map(|v| Clause::any(v).expect("non-empty vec")),
        ]
    })
}

/// A fixed template with every kind of value slot, and its intended tree
/// (an error when a value holds a control character).
pub fn template(a: &str, b: &str, c: &str) -> Result<(Query, ParsedQuery), AqlError> {
    let str_ = |v: &str| Operand::Str(v.to_owned());
    let q = Attribute::ObjectTypeId
        .eq(5)
        .and(
            Attribute::named(a)?
                .eq(AqlString::new(b)?)
                .or(Attribute::Label.like(AqlString::new(c)?)),
        )
        .and(Attribute::Key.is_in([AqlString::new(a)?, AqlString::new(c)?])?)
        .and(Attribute::named("Owner")?.eq(Function::User(AqlString::new(b)?)))
        .order_by(Attribute::path([c, a])?, Direction::Asc);
    let want = ParsedQuery {
        filter: Parsed::And(vec![
            Parsed::Cond(
                AttrRef::Ident("objectTypeId".into()),
                "=".into(),
                Operand::Num(5),
            ),
            Parsed::Or(vec![
                Parsed::Cond(AttrRef::Path(vec![a.into()]), "=".into(), str_(b)),
                Parsed::Cond(AttrRef::Ident("Label".into()), "LIKE".into(), str_(c)),
            ]),
            Parsed::Cond(
                AttrRef::Ident("Key".into()),
                "IN".into(),
                Operand::List(vec![str_(a), str_(c)]),
            ),
            Parsed::Cond(
                AttrRef::Path(vec!["Owner".into()]),
                "=".into(),
                Operand::Func("user".into(), Some(b.into())),
            ),
        ]),
        order: Some((AttrRef::Path(vec![c.into(), a.into()]), "asc".into())),
    };
    Ok((q, want))
}

fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

proptest! {
    #[test]
    fn values_never_change_template_structure(a in nasty(), b in nasty(), c in nasty()) {
        match template(&a, &b, &c) {
            Ok((q, want)) => prop_assert_eq!(verify::parse_emitted(q.to_aql().as_str()), Ok(want)),
            Err(e) => {
                let is_control = matches!(e, AqlError::ControlCharacter { .. });
                prop_assert!(is_control, "unexpected error {:?}", e);
                prop_assert!(has_control(&a) || has_control(&b) || has_control(&c));
            }
        }
    }

    #[test]
    fn any_built_clause_parses_back_to_its_structure(c in clause(), dir in any::<bool>()) {
        let dir = if dir { Direction::Asc } else { Direction::Desc };
        for q in [Query::filter(c.clone()), c.order_by(Attribute::Label, dir)] {
            let aql = q.to_aql();
            prop_assert_eq!(verify::parse_emitted(aql.as_str()), Ok(verify::expected(&q)), "{}", aql);
        }
    }

    #[test]
    fn control_characters_always_rejected(s in any::<String>()) {
        prop_assert_eq!(AqlString::new(s.clone()).is_err(), has_control(&s));
    }
}
