//! Evaluation correctness on a small handmade workspace.

use atlassian_sim::assets::aql::{Evaluator, SearchContext, parse};
use atlassian_sim::assets::{
    AssetObject, AssetsWorkspace, AttrKind, AttributeDef, DefaultType, ObjectSchema, ObjectType,
    ReferenceType, SeedPerson, Val,
};

const T0: i64 = 1_700_000_000_000;

fn attr(id: u32, name: &str, kind: AttrKind) -> AttributeDef {
    AttributeDef {
        id,
        object_type_id: 1,
        name: name.into(),
        description: String::new(),
        kind,
        label: name == "Name",
        system: matches!(name, "Key" | "Created" | "Updated"),
        unique: false,
        hidden: false,
        min_cardinality: 0,
        max_cardinality: if name == "Tags" { -1 } else { 1 },
        options: if name == "Tags" {
            vec!["a".into(), "b".into()]
        } else {
            Vec::new()
        },
        position: id,
    }
}

fn obj(id: u32, type_id: u32, label: &str, mut values: Vec<(u32, Vec<Val>)>) -> AssetObject {
    values.push((2, vec![Val::Text(label.into())]));
    values.sort_by_key(|(a, _)| *a);
    AssetObject {
        id,
        type_id,
        key_num: id,
        label: label.into(),
        created: T0 + i64::from(id),
        updated: T0 + 10,
        values,
    }
}

/// Three objects; object 2's label is `label2`.
pub fn workspace(label2: &str) -> AssetsWorkspace {
    let ty = |id: u32, name: &str, parent: Option<u32>| ObjectType {
        id,
        schema_id: 1,
        name: name.into(),
        description: String::new(),
        parent,
        inherited: parent.is_none(),
        abstract_type: false,
        position: id,
        icon: (1, "Box".into()),
        created: T0,
        updated: T0,
    };
    let reference = AttrKind::Reference {
        target: 1,
        reference_type: ReferenceType {
            id: 1,
            name: "Child of".into(),
            color: "#000".into(),
        },
    };
    let attributes = vec![
        attr(1, "Key", AttrKind::Default(DefaultType::Text)),
        attr(2, "Name", AttrKind::Default(DefaultType::Text)),
        attr(3, "Created", AttrKind::Default(DefaultType::DateTime)),
        attr(4, "Updated", AttrKind::Default(DefaultType::DateTime)),
        attr(5, "Count", AttrKind::Default(DefaultType::Integer)),
        attr(6, "Tags", AttrKind::Default(DefaultType::Select)),
        attr(7, "Owner", AttrKind::User),
        attr(8, "Parent", reference),
        attr(9, "When", AttrKind::Default(DefaultType::Date)),
        attr(10, "Team", AttrKind::Group),
    ];
    let day = |s: &str| {
        let (y, rest) = s.split_once('-').unwrap();
        let (m, d) = rest.split_once('-').unwrap();
        // days_from_civil for 2024-01-xx only.
        assert_eq!((y, m), ("2024", "01"));
        19_723 + d.parse::<i64>().unwrap() - 1
    };
    let objects = vec![
        obj(
            1,
            1,
            "plain",
            vec![
                (5, vec![Val::Int(5)]),
                (6, vec![Val::Text("a".into()), Val::Text("b".into())]),
                (7, vec![Val::User(0)]),
                (9, vec![Val::Date(day("2024-01-10"))]),
            ],
        ),
        obj(
            2,
            1,
            label2,
            vec![
                (5, vec![Val::Int(10)]),
                (8, vec![Val::Ref(1)]),
                (10, vec![Val::Group(0)]),
            ],
        ),
        obj(
            3,
            2,
            "<b>bold</b>",
            vec![
                (6, vec![Val::Text("b".into())]),
                (7, vec![Val::User(1)]),
                (8, vec![Val::Ref(2)]),
            ],
        ),
    ];
    let people = (0..2)
        .map(|i| SeedPerson {
            account_id: format!("acc-{i}"),
            display_name: format!("Person {i}"),
            email: format!("p{i}@x.org"),
        })
        .collect();
    AssetsWorkspace::new(
        "ws-1".into(),
        vec![ObjectSchema {
            id: 1,
            name: "Test".into(),
            key: "T".into(),
            description: String::new(),
            created: T0,
            updated: T0,
            viewers: None,
        }],
        vec![ty(1, "Thing", None), ty(2, "Sub", Some(1))],
        attributes,
        Vec::new(),
        objects,
        people,
        vec!["g0".into()],
    )
}

pub fn run(ws: &AssetsWorkspace, q: &str) -> Vec<u32> {
    let ev = Evaluator::new(
        ws,
        SearchContext {
            account_id: "acc-0".into(),
            now_ms: T0 + 1_000_000,
        },
    );
    let query = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    ev.search(&query, |_| true)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .iter()
        .map(|o| o.id)
        .collect()
}

#[test]
fn evaluation_cases() {
    let ws = workspace(r#"He said "hi" \o/"#);
    let cases: &[(&str, &[u32])] = &[
        ("", &[1, 2, 3]),
        ("Count = 5", &[1]),
        ("Count > 5", &[2]),
        ("Count >= 5", &[1, 2]),
        ("Count < 5.5", &[1]),
        ("Count IS EMPTY", &[3]),
        ("Count IS NOT EMPTY", &[1, 2]),
        ("Count != 5", &[2]),
        ("Tags = b", &[1, 3]),
        ("Tags IN (a)", &[1]),
        ("Tags NOT IN (a)", &[3]),
        (r#"Label = "He said \"hi\" \\o/""#, &[2]),
        (r#"Name LIKE "BOLD""#, &[3]),
        (r#"Name NOT LIKE "bold""#, &[1, 2]),
        (r#"Name startswith "he""#, &[2]),
        (r#"Name endswith "o/""#, &[2]),
        (r#""Parent"."Name" = plain"#, &[2]),
        ("Parent.Parent.Name = plain", &[3]),
        (r#""Parent" = "T-1""#, &[2]),
        ("Parent = plain", &[2]),
        ("Owner = currentUser()", &[1]),
        (r#"Owner IN (user("acc-1"))"#, &[3]),
        (r#"Owner = "Person 1""#, &[3]),
        (r#"Team = group("G0")"#, &[2]),
        ("Owner = currentReporter()", &[]),
        ("objectType = Sub", &[3]),
        ("objecttypeid = 1", &[1, 2]),
        ("objectTypeId != 1", &[3]),
        ("objectTypeId IN (1, 2) AND objectType = Thing", &[1, 2]),
        ("objectTypeId = 2 OR objectType = Thing", &[1, 2, 3]),
        ("objectTypeId = 2 OR Count = 5", &[1, 3]),
        (r#"objectSchema = "T""#, &[1, 2, 3]),
        (r#"When < "2024-02-01""#, &[1]),
        ("When = 2024-01-10", &[1]),
        ("When > now()", &[1]),
        ("When < now()", &[]),
        ("Created < now()", &[1, 2, 3]),
        ("Created < startOfDay()", &[]),
        ("Created > startOfWeek()", &[1, 2, 3]),
        ("Updated <= endOfMonth()", &[1, 2, 3]),
        (r#"Key IN ("T-1", "t-3")"#, &[1, 3]),
        ("Key > T-1", &[2, 3]),
        ("objectId > 1 AND (Count = 5 OR Count IS EMPTY)", &[3]),
        ("objectId = 1 OR objectId = 3 AND Count IS EMPTY", &[1, 3]),
        ("objectId > 0 order by Count desc", &[2, 1, 3]),
        ("order by Count", &[1, 2, 3]),
        ("order by Label", &[3, 2, 1]),
        ("objectId IN (1, 2) order by objectId desc", &[2, 1]),
        ("Count = abc", &[]),
    ];
    for (q, want) in cases {
        assert_eq!(run(&ws, q), *want, "{q}");
    }
}
