//! Seeding: determinism, coverage of attribute types, inheritance, references, scale.

use std::collections::HashSet;

use atlassian_sim::assets::{AttrKind, DefaultType, Scale, Val, seed};

#[test]
fn same_seed_gives_identical_workspace_and_other_seed_differs() {
    let a = seed(42, Scale::Small, &[]);
    let b = seed(42, Scale::Small, &[]);
    assert_eq!(a, b);
    let c = seed(43, Scale::Small, &[]);
    assert_ne!(a.workspace_id, c.workspace_id);
    assert_ne!(a.objects, c.objects);
}

#[test]
fn small_has_a_few_thousand_objects_in_three_schemas() {
    let ws = seed(1, Scale::Small, &[]);
    assert_eq!(ws.schemas.len(), 3);
    assert!(
        (2000..6000).contains(&ws.objects.len()),
        "{}",
        ws.objects.len()
    );
    for (i, o) in ws.objects.iter().enumerate() {
        assert_eq!(o.id as usize, i + 1, "ids are dense and ordered");
    }
}

#[test]
fn every_attribute_type_is_used_with_values() {
    let ws = seed(7, Scale::Small, &[]);
    let mut used: HashSet<u32> = HashSet::new();
    for o in &ws.objects {
        for (aid, vals) in &o.values {
            if !vals.is_empty() {
                used.insert(*aid);
            }
        }
    }
    let with_values = |pred: &dyn Fn(&atlassian_sim::assets::AttributeDef) -> bool| {
        ws.attributes
            .iter()
            .any(|a| pred(a) && used.contains(&a.id))
    };
    for t in DefaultType::ALL {
        assert!(
            with_values(&|a| a.kind == AttrKind::Default(t)),
            "default type {t:?} missing"
        );
    }
    for multi in [false, true] {
        let m = |a: &atlassian_sim::assets::AttributeDef| (a.max_cardinality < 0) == multi;
        assert!(with_values(&|a| matches!(
            a.kind,
            AttrKind::Reference { .. }
        ) && m(a)));
        assert!(with_values(&|a| a.kind == AttrKind::User && m(a)));
    }
    assert!(with_values(&|a| a.kind == AttrKind::Group));
    assert!(with_values(&|a| a.kind == AttrKind::Status));
    assert!(with_values(&|a| a.kind
        == AttrKind::Default(DefaultType::Select)
        && a.max_cardinality < 0));
    // Some object holds several values in a multi-valued attribute.
    assert!(
        ws.objects
            .iter()
            .any(|o| o.values.iter().any(|(_, v)| v.len() > 1))
    );
    // Awkward text is present.
    let texts: Vec<&str> = ws
        .objects
        .iter()
        .flat_map(|o| o.values.iter().flat_map(|(_, v)| v))
        .filter_map(|v| match v {
            Val::Text(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    for needle in ["\"", "\\", "<b>", "ü", "東京"] {
        assert!(
            texts.iter().any(|t| t.contains(needle)),
            "no value containing {needle}"
        );
    }
}

#[test]
fn children_carry_inherited_attributes_and_references_resolve() {
    let ws = seed(3, Scale::Small, &[]);
    let hardware = ws.types.iter().find(|t| t.name == "Hardware").unwrap();
    let laptop = ws.types.iter().find(|t| t.name == "Laptop").unwrap();
    assert_eq!(laptop.parent, Some(hardware.id));
    assert!(hardware.abstract_type && hardware.inherited);
    let serial = ws
        .attributes
        .iter()
        .find(|a| a.name == "Serial Number" && a.object_type_id == hardware.id)
        .unwrap();
    assert!(ws.effective_attributes(laptop.id).contains(&serial.id));
    let laptops: Vec<_> = ws
        .objects
        .iter()
        .filter(|o| o.type_id == laptop.id)
        .collect();
    assert!(!laptops.is_empty());
    assert!(laptops.iter().all(|o| !ws.values(o, serial.id).is_empty()));
    assert_eq!(ws.type_object_count(hardware.id), 0);

    for o in &ws.objects {
        for (aid, vals) in &o.values {
            let a = ws.attribute(*aid).unwrap();
            assert!(ws.effective_attributes(o.type_id).contains(aid));
            for v in vals {
                match (v, &a.kind) {
                    (Val::Ref(id), AttrKind::Reference { target, .. }) => {
                        assert_eq!(ws.object(*id).unwrap().type_id, *target);
                    }
                    (Val::User(i), AttrKind::User) => assert!((*i as usize) < ws.people.len()),
                    (Val::Group(i), AttrKind::Group) => assert!((*i as usize) < ws.groups.len()),
                    (Val::Status(s), AttrKind::Status) => assert!(ws.status(*s).is_some()),
                    (Val::Ref(_) | Val::User(_) | Val::Group(_) | Val::Status(_), k) => {
                        panic!("value {v:?} in attribute of kind {k:?}")
                    }
                    _ => {}
                }
            }
        }
    }
    let refs = ws.linkable_objects();
    assert_eq!(refs.len(), ws.objects.len());
    assert!(refs[0].object_key.starts_with("ITA-"));
}

#[test]
fn large_generates_about_100k_objects() {
    let started = std::time::Instant::now();
    let ws = seed(9, Scale::Large, &[]);
    let n = ws.objects.len();
    assert!((90_000..=110_000).contains(&n), "{n}");
    eprintln!("large seed: {n} objects in {:?}", started.elapsed());
}
