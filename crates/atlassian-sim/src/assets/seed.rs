//! Deterministic seeding: three schemas (IT assets, Facilities, Customer sites) whose
//! attributes cover every Assets attribute type, then objects generated type by type.

use std::collections::HashMap;

use super::model::{
    AssetObject, AssetsWorkspace, AttrKind, AttributeDef, DefaultType, ObjectSchema, ObjectType,
    ReferenceType, StatusCategory, StatusType,
};
use super::rng::SplitMix64;
use super::seed_data::{Gen, label_for};
use super::{Scale, SeedPerson};

/// How an attribute of a seeded type is declared.
#[derive(Clone, Copy)]
pub(crate) enum Spec {
    /// A default type, single-valued.
    D(DefaultType),
    /// A default type, multi-valued (max cardinality -1).
    DMulti(DefaultType),
    /// A select with options; `true` = multi-valued.
    Select(&'static [&'static str], bool),
    /// A reference to a type (by name); `true` = multi-valued.
    Ref(&'static str, &'static str, bool),
    /// Users; `true` = multi-valued.
    User(bool),
    /// Groups; `true` = multi-valued.
    Group(bool),
    /// A status.
    Status,
}

struct TypeSpec {
    name: &'static str,
    parent: Option<&'static str>,
    abstract_type: bool,
    /// Objects at [`Scale::Small`].
    count: u32,
    attrs: &'static [(&'static str, Spec)],
}

use DefaultType as T;
use Spec::*;

const SLA: &[&str] = &["Bronze", "Silver", "Gold", "Platinum \"24/7\""];
const LICENCE: &[&str] = &["Perpetual", "Subscription", "Open source"];
const DEVICE_KIND: &[&str] = &["Switch", "Router", "Firewall", "Access point"];

const IT: &[TypeSpec] = &[
    TypeSpec {
        name: "Hardware",
        parent: None,
        abstract_type: true,
        count: 0,
        attrs: &[
            ("Serial Number", D(T::Text)),
            ("Purchase Date", D(T::Date)),
            ("Purchase Price", D(T::Double)),
            ("Warranty expires", D(T::DateTime)),
            ("In use", D(T::Boolean)),
            ("Status", Status),
            ("Owner", User(false)),
            ("Notes", D(T::Textarea)),
        ],
    },
    TypeSpec {
        name: "Software licence",
        parent: None,
        abstract_type: false,
        count: 80,
        attrs: &[
            ("Vendor", D(T::Text)),
            ("Seats", D(T::Integer)),
            ("Licence type", Select(LICENCE, false)),
            ("Expires", D(T::Date)),
            ("Product page", D(T::Url)),
            ("Support email", D(T::Email)),
            ("Admins", Group(true)),
        ],
    },
    TypeSpec {
        name: "Network device",
        parent: None,
        abstract_type: false,
        count: 60,
        attrs: &[
            ("Management IP", D(T::IpAddress)),
            ("Device kind", Select(DEVICE_KIND, true)),
            ("Firmware build time", D(T::Time)),
            ("Uplink", Ref("Network device", "Connected to", false)),
            ("Status", Status),
        ],
    },
    TypeSpec {
        name: "Laptop",
        parent: Some("Hardware"),
        abstract_type: false,
        count: 600,
        attrs: &[("RAM (GB)", D(T::Integer)), ("Screen size", D(T::Double))],
    },
    TypeSpec {
        name: "Desktop",
        parent: Some("Hardware"),
        abstract_type: false,
        count: 300,
        attrs: &[("RAM (GB)", D(T::Integer))],
    },
    TypeSpec {
        name: "Server",
        parent: Some("Hardware"),
        abstract_type: false,
        count: 120,
        attrs: &[
            ("Hostname", D(T::Text)),
            ("IP addresses", DMulti(T::IpAddress)),
            (
                "Installed software",
                Ref("Software licence", "Installed", true),
            ),
        ],
    },
    TypeSpec {
        name: "Printer",
        parent: Some("Hardware"),
        abstract_type: false,
        count: 60,
        attrs: &[
            ("Colour", D(T::Boolean)),
            (
                "Network device",
                Ref("Network device", "Connected to", false),
            ),
        ],
    },
];

const FACILITIES: &[TypeSpec] = &[
    TypeSpec {
        name: "Building",
        parent: None,
        abstract_type: false,
        count: 12,
        attrs: &[
            ("Address", D(T::Textarea)),
            ("Opened", D(T::Date)),
            ("Facility managers", User(true)),
            ("Status", Status),
        ],
    },
    TypeSpec {
        name: "Floor",
        parent: None,
        abstract_type: false,
        count: 48,
        attrs: &[
            ("Building", Ref("Building", "Located in", false)),
            ("Level", D(T::Integer)),
        ],
    },
    TypeSpec {
        name: "Room",
        parent: None,
        abstract_type: false,
        count: 480,
        attrs: &[
            ("Floor", Ref("Floor", "Located in", false)),
            ("Capacity", D(T::Integer)),
            ("Has projector", D(T::Boolean)),
            ("Booking URL", D(T::Url)),
        ],
    },
    TypeSpec {
        name: "HVAC unit",
        parent: None,
        abstract_type: false,
        count: 150,
        attrs: &[
            ("Room", Ref("Room", "Located in", false)),
            ("Serviced rooms", Ref("Room", "Serves", true)),
            ("Last service", D(T::DateTime)),
            ("Service time", D(T::Time)),
            ("Power (kW)", D(T::Double)),
            ("Status", Status),
        ],
    },
];

const CUSTOMERS: &[TypeSpec] = &[
    TypeSpec {
        name: "Site",
        parent: None,
        abstract_type: false,
        count: 300,
        attrs: &[
            ("Address", D(T::Textarea)),
            ("Latitude", D(T::Text)),
            ("Longitude", D(T::Text)),
            ("Contact email", D(T::Email)),
            ("Website", D(T::Url)),
            ("Account managers", User(true)),
            ("Status", Status),
        ],
    },
    TypeSpec {
        name: "Contract",
        parent: None,
        abstract_type: false,
        count: 900,
        attrs: &[
            ("Site", Ref("Site", "Covers", false)),
            ("Start date", D(T::Date)),
            ("End date", D(T::Date)),
            ("SLA tier", Select(SLA, false)),
            ("Support groups", Group(true)),
            ("Owner", User(false)),
            ("Value", D(T::Double)),
            ("Signed at", D(T::DateTime)),
            ("Status", Status),
            ("Notes", D(T::Textarea)),
        ],
    },
];

const SCHEMAS: &[(&str, &str, &str, &[TypeSpec])] = &[
    (
        "IT Assets",
        "ITA",
        "Hardware, software licences and network devices",
        IT,
    ),
    (
        "Facilities",
        "FAC",
        "Buildings, floors, rooms & HVAC",
        FACILITIES,
    ),
    (
        "Customer sites",
        "CUS",
        "Sites and \"contracts\" <b>per customer</b>",
        CUSTOMERS,
    ),
];

const REF_TYPES: &[(&str, &str)] = &[
    ("Connected to", "#0052CC"),
    ("Installed", "#36B37E"),
    ("Located in", "#FF991F"),
    ("Serves", "#6554C0"),
    ("Covers", "#00B8D9"),
];

const ICONS: &[&str] = &[
    "Laptop", "Server", "Network", "Building", "Document", "Globe",
];

/// 2023-01-01T00:00:00Z in Unix ms: the seeded data's epoch.
pub(crate) const EPOCH_MS: i64 = 1_672_531_200_000;

fn uuid_like(rng: &mut SplitMix64) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn default_people() -> Vec<SeedPerson> {
    [
        "Ada Lovelace",
        "Grace Hopper",
        "Søren Kierkegaard",
        "Zoë \"Z\" O'Brien",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| SeedPerson {
        account_id: format!("557058:assets-sim-{i}"),
        display_name: (*n).to_owned(),
        email: format!("user{i}@example.com"),
    })
    .collect()
}

/// Builds the workspace deterministically from `seed`. `people` are the site's users that
/// user attributes refer to; when empty, four built-in people are used.
pub fn seed(seed: u64, scale: Scale, people: &[SeedPerson]) -> AssetsWorkspace {
    let mut rng = SplitMix64::new(seed ^ 0xa55e_7500_0000_0001);
    let workspace_id = uuid_like(&mut rng);
    let factor = match scale {
        Scale::Small => 1,
        Scale::Large => 32,
    };
    let people = if people.is_empty() {
        default_people()
    } else {
        people.to_vec()
    };
    let groups: Vec<String> = [
        "jira-servicemanagement-users",
        "it-admins",
        "facilities-team",
        "Ops <night> \"shift\"",
    ]
    .map(str::to_owned)
    .to_vec();
    let statuses = vec![
        status(1, "Active", StatusCategory::Active, None),
        status(2, "Inactive", StatusCategory::Inactive, None),
        status(3, "Pending", StatusCategory::Pending, None),
        status(4, "In repair", StatusCategory::Pending, Some(1)),
        status(5, "Retired \"EOL\"", StatusCategory::Inactive, Some(1)),
    ];

    let mut schemas = Vec::new();
    let mut types: Vec<ObjectType> = Vec::new();
    let mut attributes: Vec<AttributeDef> = Vec::new();
    let mut counts: Vec<(u32, u32)> = Vec::new();
    for (si, (name, key, description, specs)) in SCHEMAS.iter().enumerate() {
        let schema_id = si as u32 + 1;
        let created = EPOCH_MS + rng.range(0, 30) * 86_400_000;
        schemas.push(ObjectSchema {
            id: schema_id,
            name: (*name).to_owned(),
            key: (*key).to_owned(),
            description: (*description).to_owned(),
            created,
            updated: created + rng.range(1, 1_000_000_000),
            viewers: None,
        });
        let mut by_name: HashMap<&str, u32> = HashMap::new();
        for (pos, spec) in specs.iter().enumerate() {
            let id = types.len() as u32 + 1;
            by_name.insert(spec.name, id);
            let parent = spec.parent.and_then(|p| by_name.get(p).copied());
            let icon = rng.index(ICONS.len());
            types.push(ObjectType {
                id,
                schema_id,
                name: spec.name.to_owned(),
                description: format!("{} objects", spec.name),
                parent,
                inherited: spec.abstract_type,
                abstract_type: spec.abstract_type,
                position: pos as u32,
                icon: (
                    icon as u32 + 1,
                    ICONS.get(icon).copied().unwrap_or("").to_owned(),
                ),
                created,
                updated: created,
            });
            counts.push((id, spec.count * factor));
            let mut position = 0;
            let mut push = |attributes: &mut Vec<AttributeDef>, name: &str, kind, label, system| {
                let a = attr(attributes.len() as u32 + 1, id, name, kind, position);
                attributes.push(AttributeDef {
                    label,
                    system,
                    min_cardinality: i64::from(label),
                    ..a
                });
                position += 1;
            };
            if parent.is_none() {
                push(
                    &mut attributes,
                    "Key",
                    AttrKind::Default(T::Text),
                    false,
                    true,
                );
                push(
                    &mut attributes,
                    "Name",
                    AttrKind::Default(T::Text),
                    true,
                    false,
                );
                push(
                    &mut attributes,
                    "Created",
                    AttrKind::Default(T::DateTime),
                    false,
                    true,
                );
                push(
                    &mut attributes,
                    "Updated",
                    AttrKind::Default(T::DateTime),
                    false,
                    true,
                );
            }
            for (aname, aspec) in spec.attrs {
                let (kind, multi, options) = match *aspec {
                    D(t) => (AttrKind::Default(t), false, &[][..]),
                    DMulti(t) => (AttrKind::Default(t), true, &[][..]),
                    Select(o, m) => (AttrKind::Default(T::Select), m, o),
                    Ref(target, rt, m) => {
                        let target = by_name.get(target).copied().unwrap_or(id);
                        let ri = REF_TYPES.iter().position(|(n, _)| *n == rt).unwrap_or(0);
                        let (rname, color) = REF_TYPES.get(ri).copied().unwrap_or(("Link", "#000"));
                        let reference_type = ReferenceType {
                            id: ri as u32 + 1,
                            name: rname.to_owned(),
                            color: color.to_owned(),
                        };
                        (
                            AttrKind::Reference {
                                target,
                                reference_type,
                            },
                            m,
                            &[][..],
                        )
                    }
                    User(m) => (AttrKind::User, m, &[][..]),
                    Group(m) => (AttrKind::Group, m, &[][..]),
                    Status => (AttrKind::Status, false, &[][..]),
                };
                let aid = attributes.len() as u32 + 1;
                let mut a = attr(aid, id, aname, kind, position);
                position += 1;
                a.unique = *aname == "Serial Number";
                a.max_cardinality = if multi { -1 } else { 1 };
                a.options = options.iter().map(|s| (*s).to_owned()).collect();
                attributes.push(a);
            }
        }
    }

    let mut ws = AssetsWorkspace::new(
        workspace_id,
        schemas,
        types,
        attributes,
        statuses,
        Vec::new(),
        people,
        groups,
    );
    ws.objects = generate_objects(&ws, &counts, &mut rng);
    AssetsWorkspace::new(
        ws.workspace_id,
        ws.schemas,
        ws.types,
        ws.attributes,
        ws.statuses,
        ws.objects,
        ws.people,
        ws.groups,
    )
}

fn generate_objects(
    ws: &AssetsWorkspace,
    counts: &[(u32, u32)],
    rng: &mut SplitMix64,
) -> Vec<AssetObject> {
    let total: u32 = counts.iter().map(|(_, c)| c).sum();
    let mut objects: Vec<AssetObject> = Vec::with_capacity(total as usize);
    let mut by_type: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut key_seq: HashMap<u32, u32> = HashMap::new();
    for &(type_id, count) in counts {
        let Some(ty) = ws.object_type(type_id) else {
            continue;
        };
        let attrs: Vec<&AttributeDef> = ws
            .effective_attributes(type_id)
            .iter()
            .filter_map(|id| ws.attribute(*id))
            .filter(|a| !a.system)
            .collect();
        for n in 0..count {
            let id = objects.len() as u32 + 1;
            let seq = key_seq.entry(ty.schema_id).or_insert(0);
            *seq += 1;
            let key_num = *seq;
            let created = EPOCH_MS + rng.range(0, 600 * 86_400_000);
            let updated = created + rng.range(0, 90 * 86_400_000);
            let label = label_for(rng, &ty.name, n);
            let mut generator = Gen {
                rng: &mut *rng,
                ws,
                by_type: &by_type,
                n,
            };
            let values = attrs
                .iter()
                .filter_map(|a| {
                    let v = if a.label {
                        vec![super::model::Val::Text(label.clone())]
                    } else {
                        generator.values(a, id)
                    };
                    (!v.is_empty()).then_some((a.id, v))
                })
                .collect();
            objects.push(AssetObject {
                id,
                type_id,
                key_num,
                label,
                created,
                updated,
                values,
            });
            by_type.entry(type_id).or_default().push(id);
        }
    }
    objects
}

fn status(id: u32, name: &str, category: StatusCategory, schema_id: Option<u32>) -> StatusType {
    StatusType {
        id,
        name: name.to_owned(),
        description: format!("{name} items"),
        category,
        schema_id,
    }
}

fn attr(id: u32, type_id: u32, name: &str, kind: AttrKind, position: u32) -> AttributeDef {
    AttributeDef {
        id,
        object_type_id: type_id,
        name: name.to_owned(),
        description: String::new(),
        kind,
        label: false,
        system: false,
        unique: false,
        hidden: false,
        min_cardinality: 0,
        max_cardinality: 1,
        options: Vec::new(),
        position,
    }
}
