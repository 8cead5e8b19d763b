//! JQL builder: exact output and structure-preservation properties.

use atlassian::jql::verify::{self, FieldRef, Operand, Parsed, ParsedQuery};
use atlassian::jql::{
    Clause, DateUnit, Direction, Field, Function, JqlError, Query, RelativeDate, TextQuery, Value,
};
use proptest::prelude::*;

fn s(v: &str) -> Operand {
    Operand::Str(v.to_owned())
}
fn ident(v: &str) -> FieldRef {
    FieldRef::Ident(v.to_owned())
}
fn cond(f: FieldRef, op: &str, o: Operand) -> Parsed {
    Parsed::Cond(f, op.to_owned(), o)
}

#[test]
fn simple_conditions() {
    let cases: Vec<(Clause, &str)> = vec![
        (Field::Project.eq("HELP"), r#"project = "HELP""#),
        (Field::Status.ne("Done"), r#"status != "Done""#),
        (
            Field::Created.gt(RelativeDate::new(-5, DateUnit::Days)),
            "created > -5d",
        ),
        (
            Field::Updated.ge(Function::StartOfDay(None)),
            "updated >= startOfDay()",
        ),
        (
            Field::Due.lt(Function::EndOfWeek(Some(RelativeDate::new(
                1,
                DateUnit::Weeks,
            )))),
            "due < endOfWeek(1w)",
        ),
        (
            Field::Resolved.le("2024-01-31"),
            r#"resolved <= "2024-01-31""#,
        ),
        (
            Field::Assignee.eq(Function::CurrentUser),
            "assignee = currentUser()",
        ),
        (
            Field::Reporter.eq(Value::account_id("5b10ac8d82e05b22cc7d4ef5")),
            r#"reporter = "5b10ac8d82e05b22cc7d4ef5""#,
        ),
        (
            Field::StatusCategory.eq("To Do"),
            r#"statusCategory = "To Do""#,
        ),
        (
            Field::IssueType.eq("[System] Incident"),
            r#"issuetype = "[System] Incident""#,
        ),
        (Field::Key.eq("HELP-12"), r#"key = "HELP-12""#),
        (Field::Parent.eq("HELP-1"), r#"parent = "HELP-1""#),
        (Field::Resolution.is_empty(), "resolution IS EMPTY"),
        (Field::Priority.is_not_empty(), "priority IS NOT EMPTY"),
        (Field::Labels.eq("vip"), r#"labels = "vip""#),
        (Field::Organizations.eq("ACME"), r#"organizations = "ACME""#),
        (
            Field::RequestType.eq("Get IT help"),
            r#""Request Type" = "Get IT help""#,
        ),
        (Field::Custom(10010).eq("x"), r#"cf[10010] = "x""#),
        (Field::named("Story Points").gt(5), r#""Story Points" > 5"#),
        (Field::named(r#"We"ird\"#).eq(-3i64), r#""We\"ird\\" = -3"#),
        (Field::Status.was("Open"), r#"status WAS "Open""#),
        (Field::Status.was_not("Open"), r#"status WAS NOT "Open""#),
        (Field::Assignee.changed(), "assignee CHANGED"),
        (
            Field::Assignee.eq(Function::MembersOf("it \"ops\"".into())),
            r#"assignee = membersOf("it \"ops\"")"#,
        ),
        (
            Field::Created.gt(Function::StartOfMonth(Some(RelativeDate::new(
                -1,
                DateUnit::Months,
            )))),
            "created > startOfMonth(-1M)",
        ),
        (Field::Updated.lt(Function::Now), "updated < now()"),
        (
            Field::Assignee.eq(Function::CurrentLogin),
            "assignee = currentLogin()",
        ),
    ];
    for (clause, want) in cases {
        assert_eq!(clause.to_jql().as_str(), want);
        let parsed = verify::parse_emitted(want).expect(want);
        assert_eq!(parsed, verify::expected(&Query::filter(clause)), "{want}");
    }
}

#[test]
fn list_operators() {
    let open = ["Open", "In \"Progress\""];
    assert_eq!(
        Field::Status.is_in(open).unwrap().to_jql().as_str(),
        r#"status IN ("Open", "In \"Progress\"")"#
    );
    assert_eq!(
        Field::Priority.not_in(["Low"]).unwrap().to_jql().as_str(),
        r#"priority NOT IN ("Low")"#
    );
    assert_eq!(
        Field::Status.was_in(["A", "B"]).unwrap().to_jql().as_str(),
        r#"status WAS IN ("A", "B")"#
    );
    assert_eq!(
        Field::Status
            .was_not_in([Value::from(1), Value::from("x")])
            .unwrap()
            .to_jql()
            .as_str(),
        r#"status WAS NOT IN (1, "x")"#
    );
    assert_eq!(
        Field::Status.is_in(Vec::<Value>::new()),
        Err(JqlError::EmptyList)
    );
    assert_eq!(
        Field::Status.not_in(Vec::<&str>::new()),
        Err(JqlError::EmptyList)
    );
    assert_eq!(
        Field::Status.was_in(Vec::<&str>::new()),
        Err(JqlError::EmptyList)
    );
    assert_eq!(
        Field::Status.was_not_in(Vec::<&str>::new()),
        Err(JqlError::EmptyList)
    );
}

#[test]
fn string_escapes() {
    let q = Field::Summary.eq("a\"b\\c\nd\re\tf\u{1}g\u{7f}h\u{2028}i'j😀");
    assert_eq!(
        q.to_jql().as_str(),
        r#"summary = "a\"b\\c\nd\re\tf\u0001g\u007fh\u2028i'j😀""#
    );
}

#[test]
fn text_search_escapes_lucene() {
    let words = Field::Summary.contains(TextQuery::words("a+b AND c* OR (d) NOT x ANDY"));
    assert_eq!(
        words.to_jql().as_str(),
        r#"summary ~ "a\\+b \\AND c\\* \\OR \\(d\\) \\NOT x ANDY""#
    );
    let phrase = Field::Text.not_contains(TextQuery::phrase(r#"say "hi" \ ok?"#));
    assert_eq!(
        phrase.to_jql().as_str(),
        r#"text !~ "\"say \\\"hi\\\" \\\\ ok\\?\"""#
    );
    let all = TextQuery::words(r#"+-&|!(){}[]^"~*?:\/"#).to_lucene();
    assert_eq!(all, r#"\+\-\&\|\!\(\)\{\}\[\]\^\"\~\*\?\:\\\/"#);
    assert_eq!(TextQuery::phrase("").to_lucene(), "\"\"");
}

#[test]
fn composition_parenthesises() {
    let a = || Field::Project.eq("A");
    let b = || Field::Status.eq("B");
    let c = || Field::Priority.eq("C");
    assert_eq!(
        a().and(b()).and(c()).to_jql().as_str(),
        r#"project = "A" AND status = "B" AND priority = "C""#
    );
    assert_eq!(
        a().and(b().or(c())).to_jql().as_str(),
        r#"project = "A" AND (status = "B" OR priority = "C")"#
    );
    assert_eq!(
        a().and(b()).or(c()).to_jql().as_str(),
        r#"(project = "A" AND status = "B") OR priority = "C""#
    );
    assert_eq!((!a()).to_jql().as_str(), r#"NOT (project = "A")"#);
    assert_eq!(
        a().and(!b().or(c())).to_jql().as_str(),
        r#"project = "A" AND NOT (status = "B" OR priority = "C")"#
    );
    assert_eq!(
        a().and(Clause::all([b(), c()]).unwrap()).to_jql().as_str(),
        r#"project = "A" AND (status = "B" AND priority = "C")"#
    );
    assert_eq!(Clause::any([a()]), Some(a()));
    assert_eq!(Clause::all(Vec::new()), None);
    assert_eq!(
        Clause::any([a(), b(), c()])
            .unwrap()
            .negate()
            .to_jql()
            .as_str(),
        r#"NOT (project = "A" OR status = "B" OR priority = "C")"#
    );
}

#[test]
fn order_by() {
    assert_eq!(Query::new().to_jql().as_str(), "");
    assert_eq!(
        Query::new()
            .order_by(Field::Created, Direction::Desc)
            .to_jql()
            .as_str(),
        "ORDER BY created DESC"
    );
    let q = Field::Project
        .eq("HELP")
        .order_by(Field::Priority, Direction::Desc)
        .order_by(Field::Custom(10020), Direction::Asc)
        .order_by(Field::RequestType, Direction::Asc);
    let jql = q.to_jql();
    assert_eq!(
        jql.as_str(),
        r#"project = "HELP" ORDER BY priority DESC, cf[10020] ASC, "Request Type" ASC"#
    );
    assert_eq!(jql.to_string(), jql.as_str());
    assert_eq!(
        serde_json::to_string(&jql).unwrap(),
        serde_json::to_string(jql.as_str()).unwrap()
    );
    assert_eq!(
        verify::parse_emitted(jql.as_str()).unwrap(),
        verify::expected(&q)
    );
}

#[test]
fn relative_dates_are_strict() {
    for (ok, shown) in [
        ("-5d", "-5d"),
        ("2w", "2w"),
        ("+4h", "4h"),
        ("10M", "10M"),
        ("1y", "1y"),
        ("-30m", "-30m"),
        ("999999d", "999999d"),
    ] {
        assert_eq!(RelativeDate::parse(ok).unwrap().to_string(), shown);
    }
    for bad in [
        "", "-", "d", "5", "5dd", "5 d", " 5d", "5d ", "5x", "1234567d", "5d OR x", "−5d", "٣d",
        "--5d", "+-5d", "5D", "0x5d",
    ] {
        assert_eq!(
            RelativeDate::parse(bad),
            Err(JqlError::InvalidRelativeDate(bad.to_owned())),
            "{bad:?}"
        );
    }
    let d = RelativeDate::parse("-7w").unwrap();
    assert_eq!((d.amount(), d.unit()), (-7, DateUnit::Weeks));
}

#[test]
fn verifier_rejects_naive_concatenation() {
    let evil = r#"x" OR project = "SECRET"#;
    let naive = format!(r#"summary = "{evil}""#);
    let want = verify::expected(&Query::filter(Field::Summary.eq(evil)));
    assert_ne!(verify::parse_emitted(&naive).ok(), Some(want.clone()));
    assert_eq!(
        verify::parse_emitted(Field::Summary.eq(evil).to_jql().as_str()).unwrap(),
        want
    );
    assert!(
        verify::parse_emitted("summary ~ \"a*\"").is_err(),
        "unescaped wildcard accepted"
    );
    assert!(
        verify::parse_emitted("summary ~ \"a AND b\"").is_err(),
        "bare Lucene AND accepted"
    );
    assert!(
        verify::parse_emitted("summary = \"a\nb\"").is_err(),
        "raw newline accepted"
    );
}

/// Strings biased towards JQL/Lucene syntax, plus arbitrary Unicode.
pub fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"'\\\\()\\[\\]{} ,~!=<>*?:+&|^/\\-%$#@;.\n\r\t\u{0}\u{2028}é😀a-zA-Z0-9]{0,24}",
        proptest::collection::vec(
            prop_oneof![
                Just("AND"),
                Just("OR"),
                Just("NOT"),
                Just("ORDER BY"),
                Just("EMPTY"),
                Just("\""),
                Just("\\"),
                Just("\\\""),
                Just("("),
                Just(")"),
                Just(" "),
                Just("\n"),
                Just(","),
                Just("cf[1]"),
                Just("~"),
                Just("*"),
                Just("\\u0022"),
                Just("currentUser()"),
            ],
            0..12
        )
        .prop_map(|parts| parts.concat()),
    ]
}

fn unit() -> impl Strategy<Value = DateUnit> {
    prop_oneof![
        Just(DateUnit::Years),
        Just(DateUnit::Months),
        Just(DateUnit::Weeks),
        Just(DateUnit::Days),
        Just(DateUnit::Hours),
        Just(DateUnit::Minutes),
    ]
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        Just(Field::Project),
        Just(Field::Summary),
        Just(Field::Text),
        Just(Field::RequestType),
        Just(Field::StatusCategory),
        any::<u64>().prop_map(Field::Custom),
        nasty().prop_map(Field::Named),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        nasty().prop_map(Value::String),
        any::<i64>().prop_map(Value::Number),
        nasty().prop_map(|g| Value::Function(Function::MembersOf(g))),
        Just(Value::Function(Function::CurrentUser)),
        (any::<i32>(), unit()).prop_map(|(a, u)| Value::RelativeDate(RelativeDate::new(a, u))),
        (any::<i32>(), unit()).prop_map(|(a, u)| Value::Function(Function::StartOfDay(Some(
            RelativeDate::new(a, u)
        )))),
    ]
}

fn leaf() -> impl Strategy<Value = Clause> {
    let values = proptest::collection::vec(value(), 1..4);
    (field(), 0..17u8, value(), values, nasty(), any::<bool>()).prop_map(|(f, k, v, vs, t, p)| {
        let text = if p {
            TextQuery::phrase(t)
        } else {
            TextQuery::words(t)
        };
        match k {
            0 => f.eq(v),
            1 => f.ne(v),
            2 => f.gt(v),
            3 => f.ge(v),
            4 => f.lt(v),
            5 => f.le(v),
            6 => f.contains(text),
            7 => f.not_contains(text),
            8 => f.is_in(vs).expect("non-empty list"),
            9 => f.not_in(vs).expect("non-empty list"),
            10 => f.is_empty(),
            11 => f.is_not_empty(),
            12 => f.was(v),
            13 => f.was_not(v),
            14 => f.was_in(vs).expect("non-empty list"),
            15 => f.was_not_in(vs).expect("non-empty list"),
            _ => f.changed(),
        }
    })
}

/// Arbitrary clause trees built only through the public builder API.
pub fn clause() -> impl Strategy<Value = Clause> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.or(b)),
            inner.clone().prop_map(|a| !a),
            proptest::collection::vec(inner.clone(), 1..4)
                .prop_map(|v| Clause::all(v).expect("non-empty vec")),
            proptest::collection::vec(inner, 1..4)
                .prop_map(|v| Clause::any(v).expect("non-empty vec")),
        ]
    })
}

fn query() -> impl Strategy<Value = Query> {
    let dir = prop_oneof![Just(Direction::Asc), Just(Direction::Desc)];
    (
        proptest::option::of(clause()),
        proptest::collection::vec((field(), dir), 0..3),
    )
        .prop_map(|(filter, order)| {
            let q = filter.map_or_else(Query::new, Query::filter);
            order.into_iter().fold(q, |q, (f, d)| q.order_by(f, d))
        })
}

/// A fixed template with every kind of value slot, and its intended tree.
pub fn template(a: &str, b: &str, c: &str, d: &str) -> (Query, ParsedQuery) {
    let q = Field::Project
        .eq(a)
        .and(
            Field::Summary
                .contains(TextQuery::phrase(b))
                .or(Field::Text.contains(TextQuery::words(b))),
        )
        .and(
            Field::Labels
                .is_in([c, d])
                .unwrap_or_else(|_| Field::Labels.is_empty()),
        )
        .and(!Field::Assignee.eq(Value::account_id(d)))
        .and(Field::named(c).is_not_empty())
        .and(Field::Assignee.eq(Function::MembersOf(a.to_owned())))
        .order_by(Field::named(d), Direction::Desc);
    let want = ParsedQuery {
        filter: Some(Parsed::And(vec![
            cond(ident("project"), "=", s(a)),
            Parsed::Or(vec![
                cond(
                    ident("summary"),
                    "~",
                    Operand::Text {
                        phrase: true,
                        text: b.to_owned(),
                    },
                ),
                cond(
                    ident("text"),
                    "~",
                    Operand::Text {
                        phrase: false,
                        text: b.to_owned(),
                    },
                ),
            ]),
            cond(ident("labels"), "IN", Operand::List(vec![s(c), s(d)])),
            Parsed::Not(Box::new(cond(ident("assignee"), "=", s(d)))),
            cond(FieldRef::Quoted(c.to_owned()), "IS NOT", Operand::Empty),
            cond(
                ident("assignee"),
                "=",
                Operand::Func("membersOf".into(), vec![s(a)]),
            ),
        ])),
        order: vec![(FieldRef::Quoted(d.to_owned()), "DESC".to_owned())],
    };
    (q, want)
}

proptest! {
    #[test]
    fn values_never_change_template_structure(a in nasty(), b in nasty(), c in nasty(), d in nasty()) {
        let (q, want) = template(&a, &b, &c, &d);
        let jql = q.to_jql();
        prop_assert!(!jql.as_str().contains(['\n', '\r']));
        prop_assert_eq!(verify::parse_emitted(jql.as_str()), Ok(want));
    }

    #[test]
    fn any_built_query_parses_back_to_its_structure(q in query()) {
        let jql = q.to_jql();
        prop_assert_eq!(verify::parse_emitted(jql.as_str()), Ok(verify::expected(&q)), "{}", jql);
    }

    #[test]
    fn relative_date_parse_never_panics_and_round_trips(raw in "[+\\-]?[0-9]{0,8}[yMwdhmx ]?", a in -999_999i32..=999_999, u in unit()) {
        if let Ok(d) = RelativeDate::parse(&raw) {
            prop_assert_eq!(RelativeDate::parse(&d.to_string()), Ok(d));
        }
        let d = RelativeDate::new(a, u);
        prop_assert_eq!(RelativeDate::parse(&d.to_string()), Ok(d));
    }
}
