//! Adversarial names and values (quotes, backslashes, unicode, reserved words, 200-char
//! and duplicate names, every line of the shared SQL-injection and XSS payload lists)
//! through identifiers, literals and bound loads into real databases, read back exactly.

use assets_sql::dialect::Dialect;
use assets_sql::ident::{MAX_COLUMN, MAX_TABLE, NameMap, is_valid};
use assets_sql::load::DbSink;
use assets_sql::model::{Plan, Selection, Source, plan};
use assets_sql::run::run_objects;
use assets_sql::schema::{AttrKind, Attribute, DefaultType, Metadata, ObjectType, Schema};
use assets_sql::script::ScriptSink;
use assets_sql::value::RawObject;
use atlassian::client::{AttributeValue, ReferencedObject, Scalar};

use crate::harness::{Db, Scratch};

/// Every line of the payload lists plus hand-made nasties.
fn payloads() -> Vec<String> {
    let dir = atlassian_sim::testkit::shared_dir().join("data/payloads");
    let mut out = Vec::new();
    for name in ["fuzzdb-sqli-xplatform.txt", "fuzzdb-xss-other.txt"] {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        out.extend(
            text.split('\n')
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    assert!(
        out.len() > 300,
        "payload lists not found in {}",
        dir.display()
    );
    out.extend(
        [
            "O'Brien",
            "\"double\"",
            "back\\slash\\",
            "\\'",
            "'; DROP TABLE laptop; --",
            "line\nbreak",
            "crlf\r\nline",
            "tab\there",
            "\nGO\n",
            "$(sqlcmd_var)",
            "`tick`",
            "[bracket]]",
            "Zoë \u{1F600} 日本語 \u{202E}rtl",
            "\u{2028}\u{2029}",
            "%_*?",
            "x".repeat(10_000).as_str(),
            "trailing space ",
            " ",
            "E'\\x41'",
            "\u{7f}\u{1b}[31m",
        ]
        .map(str::to_owned),
    );
    out
}

fn attr(id: &str, name: &str, kind: AttrKind, multi: bool) -> Attribute {
    Attribute {
        id: id.into(),
        name: name.into(),
        kind,
        multi,
    }
}

fn d(t: DefaultType) -> AttrKind {
    AttrKind::Default(t)
}

fn long(n: usize) -> String {
    "Very long attribute name "
        .repeat(20)
        .chars()
        .take(n)
        .collect()
}

/// Types with hostile names and attributes of several kinds with hostile names.
fn metadata() -> Metadata {
    let attrs = |p: &str, target: &str| {
        vec![
            attr(&format!("{p}1"), "Key", d(DefaultType::Text), false),
            attr(&format!("{p}2"), "Name", d(DefaultType::Text), false),
            attr(&format!("{p}3"), "select", d(DefaultType::Textarea), false),
            attr(&format!("{p}4"), "Note", d(DefaultType::Text), false),
            attr(&format!("{p}5"), "note!", d(DefaultType::Text), false),
            attr(&format!("{p}6"), &long(200), d(DefaultType::Text), false),
            attr(&format!("{p}7"), &long(199), d(DefaultType::Integer), false),
            attr(&format!("{p}8"), "a\"b'c`d]e", d(DefaultType::Select), true),
            attr(
                &format!("{p}9"),
                "Ref'; DROP TABLE x; --",
                AttrKind::Reference {
                    target_type_id: Some(target.into()),
                },
                false,
            ),
            attr(&format!("{p}10"), "Order", d(DefaultType::DateTime), false),
        ]
    };
    let names = [
        "Order",
        "Laptop",
        "laptop",
        "LAPTOP!",
        "Ünïcødé 日本",
        "x\"; DROP TABLE y; --",
    ];
    let mut types: Vec<ObjectType> = names
        .iter()
        .enumerate()
        .map(|(i, n)| ObjectType {
            id: (i + 1).to_string(),
            schema_id: "1".into(),
            name: (*n).into(),
            parent_id: None,
            attributes: attrs(&format!("{}0", i + 1), "1"),
        })
        .collect();
    types.push(ObjectType {
        id: "99".into(),
        schema_id: "1".into(),
        name: "T".repeat(200),
        parent_id: None,
        attributes: attrs("990", "99"),
    });
    Metadata {
        workspace_id: "ws-'\"\\".into(),
        schemas: vec![Schema {
            id: "1".into(),
            name: "S'chema \"x\"".into(),
            key: "S".into(),
        }],
        types,
    }
}

fn v(s: &str) -> AttributeValue {
    AttributeValue {
        value: Some(Scalar::Text(s.into())),
        display_value: Some(Scalar::Text(s.into())),
        ..AttributeValue::default()
    }
}

/// One object per payload, spread over the types.
fn objects(meta: &Metadata, payloads: &[String]) -> Vec<(String, String, String)> {
    let _ = meta;
    let types = ["1", "2", "3", "4", "5", "6", "99"];
    payloads
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let t = types[i % types.len()].to_owned();
            let id = if i % 5 == 0 {
                format!("{i}'\"\\x")
            } else {
                (i + 1000).to_string()
            };
            (t, id, p.clone())
        })
        .collect()
}

fn raw(t: &str, id: &str, p: &str, first_of_type: &str) -> RawObject {
    let pre = if t == "99" {
        "990".to_owned()
    } else {
        format!("{t}0")
    };
    let a = |n: u32| format!("{pre}{n}");
    RawObject {
        id: id.into(),
        key: Some(format!("K-{id}")),
        label: Some(p.into()),
        type_id: Some(t.into()),
        type_name: None,
        created: Some("2024-01-02T03:04:05.678Z".into()),
        updated: Some("2024-05-06T07:08:09.010Z".into()),
        attributes: vec![
            (a(1), vec![v(p)]),
            (a(3), vec![v(&format!("{p}\n{p}"))]),
            (a(6), vec![v(p)]),
            (a(7), vec![v("-42")]),
            (a(8), vec![v(p), v("plain"), v(p)]),
            (
                a(9),
                vec![AttributeValue {
                    referenced_object: Some(ReferencedObject {
                        id: Some(Scalar::Text(first_of_type.into())),
                        ..ReferencedObject::default()
                    }),
                    ..AttributeValue::default()
                }],
            ),
        ],
    }
}

/// (type id, object id, payload) of each object.
pub type Listing = Vec<(String, String, String)>;

pub fn build() -> (Metadata, Plan, Vec<RawObject>, Listing) {
    let meta = metadata();
    let mut names = NameMap::default();
    let plan = plan(&meta, &Selection::default(), &mut names, true);
    let list = objects(&meta, &payloads());
    let first = |t: &str| {
        list.iter()
            .find(|(tt, _, _)| tt == t)
            .map(|x| x.1.clone())
            .unwrap()
    };
    let ref_target = |t: &str| if t == "99" { first("99") } else { first("1") };
    let raws = list
        .iter()
        .map(|(t, id, p)| raw(t, id, p, &ref_target(t)))
        .collect();
    (meta, plan, raws, list)
}

#[test]
fn hostile_names_give_valid_distinct_identifiers() {
    let (_, plan, _, _) = build();
    let mut tables = std::collections::BTreeSet::new();
    for t in plan.all_tables() {
        assert!(is_valid(&t.name, MAX_TABLE), "{}", t.name);
        assert!(tables.insert(t.name.clone()), "duplicate table {}", t.name);
        let mut cols = std::collections::BTreeSet::new();
        for c in &t.columns {
            assert!(is_valid(&c.name, MAX_COLUMN), "{}", c.name);
            assert!(
                cols.insert(c.name.clone()),
                "duplicate column {}.{}",
                t.name,
                c.name
            );
        }
    }
    let names: Vec<&str> = plan.types.iter().map(|t| t.def.name.as_str()).collect();
    assert_eq!(&names[..4], ["order_", "laptop", "laptop_2", "laptop_3"]);
}

pub async fn check(db: &mut Db, plan: &Plan, list: &[(String, String, String)]) {
    let d = db.dialect();
    for (t, id, p) in list {
        let table = plan.types.iter().find(|x| &x.type_id == t).unwrap();
        let pre = if t == "99" {
            "990".to_owned()
        } else {
            format!("{t}0")
        };
        let col_of = |attr_id: String| {
            table
                .def
                .columns
                .iter()
                .zip(&table.sources)
                .find(|(_, s)| matches!(s, Source::Attribute(a) if a.id == attr_id))
                .map(|(c, _)| c.name.as_str())
                .unwrap()
        };
        let text_cols = vec![
            "label",
            col_of(format!("{pre}1")),
            col_of(format!("{pre}6")),
        ];
        let textarea = col_of(format!("{pre}3"));
        assert!(text_cols.len() >= 3, "{text_cols:?}");
        let select: Vec<String> = text_cols.iter().map(|c| db.as_text(&db.q(c))).collect();
        let sql = format!(
            "SELECT {}, {} FROM {} WHERE {} = {}",
            select.join(", "),
            db.as_text(&db.q(textarea)),
            db.q(&table.def.name),
            db.q("object_id"),
            d.string(id)
        );
        let rows = db.texts(&sql).await;
        assert_eq!(rows.len(), 1, "object {id:?} in {}", table.def.name);
        let row = &rows[0];
        let (last, texts) = row.split_last().unwrap();
        for (c, got) in text_cols.iter().zip(texts) {
            assert_eq!(
                got.as_deref(),
                Some(p.as_str()),
                "{d:?} {}.{c} of {id:?}",
                table.def.name
            );
        }
        assert_eq!(
            last.as_deref(),
            Some(format!("{p}\n{p}").as_str()),
            "{d:?} textarea"
        );
        let link = &table.links[0];
        let sql = format!(
            "SELECT {} FROM {} WHERE {} = {} ORDER BY {}",
            db.as_text(&db.q("value")),
            db.q(&link.def.name),
            db.q("object_id"),
            d.string(id),
            db.q("position")
        );
        let got: Vec<Option<String>> = db
            .texts(&sql)
            .await
            .into_iter()
            .map(|mut r| r.remove(0))
            .collect();
        assert_eq!(
            got,
            vec![Some(p.clone()), Some("plain".into()), Some(p.clone())],
            "{d:?} link"
        );
    }
    let total: i64 = {
        let mut n = 0;
        for t in &plan.types {
            n += db
                .count(&format!("SELECT object_id FROM {}", db.q(&t.def.name)))
                .await;
        }
        n
    };
    assert_eq!(total as usize, list.len());
}

async fn direct_load(dialect: Dialect) {
    let (_, plan, raws, list) = build();
    let scratch = Scratch::new(dialect).await;
    let mut sink = DbSink::connect(&scratch.target).await.unwrap();
    run_objects(&plan, &mut sink, raws.clone()).await.unwrap();
    let mut db = scratch.connect().await;
    check(&mut db, &plan, &list).await;
    // A second run without some objects deletes exactly those (the first object of each
    // type, which the others reference, stays).
    let mut sink = DbSink::connect(&scratch.target).await.unwrap();
    let keep = |i: usize| !(7..14).contains(&i);
    let kept: Vec<RawObject> = raws
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, r)| r.clone())
        .collect();
    run_objects(&plan, &mut sink, kept).await.unwrap();
    let kept_list: Vec<_> = list
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, x)| x.clone())
        .collect();
    check(&mut db, &plan, &kept_list).await;
    drop(db);
    scratch.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_round_trip_postgres() {
    direct_load(Dialect::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_round_trip_mariadb() {
    direct_load(Dialect::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_round_trip_sqlite() {
    direct_load(Dialect::Sqlite).await;
}

async fn script_load(dialect: Dialect) {
    let (_, plan, raws, list) = build();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adversarial.sql");
    let file = tokio::fs::File::create(&path).await.unwrap();
    let mut sink = ScriptSink::new(tokio::io::BufWriter::new(file), dialect);
    run_objects(&plan, &mut sink, raws).await.unwrap();
    if dialect == Dialect::MsSql {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(crate::scripts::parse_mssql(&text) > 20);
        return;
    }
    let scratch = Scratch::new(dialect).await;
    crate::scripts::load_with_client(&scratch, &path);
    crate::scripts::load_with_client(&scratch, &path);
    let mut db = scratch.connect().await;
    check(&mut db, &plan, &list).await;
    drop(db);
    scratch.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_scripts_round_trip_psql() {
    script_load(Dialect::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_scripts_round_trip_mariadb_client() {
    script_load(Dialect::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_scripts_round_trip_sqlite3() {
    script_load(Dialect::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_script_mssql_parses() {
    script_load(Dialect::MsSql).await;
}
