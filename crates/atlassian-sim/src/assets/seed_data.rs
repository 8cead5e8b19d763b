//! Value generation for seeded objects, including deliberately awkward text (quotes,
//! backslashes, unicode, HTML-ish markup) so downstream escaping is exercised.

use std::collections::HashMap;

use super::model::{AssetsWorkspace, AttrKind, AttributeDef, DefaultType, Val};
use super::rng::SplitMix64;
use super::seed::EPOCH_MS;
use super::time::DAY_MS;

const AWKWARD: &[&str] = &[
    "He said \"hello\"",
    "C:\\Temp\\new",
    "<b>bold</b> & <i>brave</i>",
    "Zürich Straße",
    "東京オフィス",
    "O'Neil's desk",
    "emoji 🚀 rocket",
    "tab-free; semi;colon, comma",
];

const VENDORS: &[&str] = &[
    "Atlassian",
    "Microsoft",
    "JetBrains s.r.o.",
    "\"Quoted\" Vendor Ltd",
    "Ünïcode GmbH",
    "<script>alert(1)</script> Inc",
];

const CITIES: &[(&str, f64, f64)] = &[
    ("Sydney", -33.8688, 151.2093),
    ("Zürich", 47.3769, 8.5417),
    ("São Paulo", -23.5505, -46.6333),
    ("Reykjavík", 64.1466, -21.9426),
    ("Tōkyō", 35.6762, 139.6503),
    ("Austin", 30.2672, -97.7431),
];

/// A label for the `n`th object of a type; about one in twelve is awkward.
pub(crate) fn label_for(rng: &mut SplitMix64, type_name: &str, n: u32) -> String {
    let prefix: String = type_name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect();
    let base = format!("{prefix}-{:05}", n + 1);
    if rng.chance(8) {
        let extra = rng.pick(AWKWARD).copied().unwrap_or("");
        format!("{base} {extra}")
    } else {
        base
    }
}

/// Generates attribute values for one object.
pub(crate) struct Gen<'a> {
    /// Randomness.
    pub(crate) rng: &'a mut SplitMix64,
    /// The workspace (types, attributes, people, groups, statuses).
    pub(crate) ws: &'a AssetsWorkspace,
    /// Object ids generated so far, per type.
    pub(crate) by_type: &'a HashMap<u32, Vec<u32>>,
    /// The object's index within its type.
    pub(crate) n: u32,
}

impl Gen<'_> {
    /// Values for attribute `a` on object `object_id` (empty = no value).
    pub(crate) fn values(&mut self, a: &AttributeDef, object_id: u32) -> Vec<Val> {
        let multi = a.max_cardinality < 0;
        // Unique and required attributes are always set; others are empty 10% of the time.
        if !a.unique && a.min_cardinality == 0 && self.rng.chance(10) {
            return Vec::new();
        }
        let how_many = if multi {
            self.rng.range(1, 3) as usize
        } else {
            1
        };
        match &a.kind {
            AttrKind::Reference { target, .. } => {
                let empty = Vec::new();
                let pool = self.by_type.get(target).unwrap_or(&empty);
                let mut out: Vec<Val> = Vec::new();
                for _ in 0..how_many {
                    if let Some(&id) = self.rng.pick(pool)
                        && id != object_id
                        && !out.contains(&Val::Ref(id))
                    {
                        out.push(Val::Ref(id));
                    }
                }
                out
            }
            AttrKind::User => self.distinct(how_many, self.ws.people.len(), Val::User),
            AttrKind::Group => self.distinct(how_many, self.ws.groups.len(), Val::Group),
            AttrKind::Status => {
                let pool: Vec<u32> = self.ws.statuses.iter().map(|s| s.id).collect();
                self.rng
                    .pick(&pool)
                    .map(|id| Val::Status(*id))
                    .into_iter()
                    .collect()
            }
            AttrKind::Default(DefaultType::Select) => {
                let mut out: Vec<Val> = Vec::new();
                for _ in 0..how_many {
                    if let Some(o) = self.rng.pick(&a.options) {
                        let v = Val::Text(o.clone());
                        if !out.contains(&v) {
                            out.push(v);
                        }
                    }
                }
                out
            }
            AttrKind::Default(t) => (0..how_many)
                .map(|_| self.default_value(*t, &a.name))
                .collect(),
        }
    }

    fn distinct(&mut self, k: usize, len: usize, f: fn(u32) -> Val) -> Vec<Val> {
        let mut out: Vec<Val> = Vec::new();
        for _ in 0..k {
            let v = f(self.rng.index(len) as u32);
            if len > 0 && !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }

    fn default_value(&mut self, t: DefaultType, name: &str) -> Val {
        let r = &mut *self.rng;
        let n = self.n;
        match t {
            DefaultType::Text => Val::Text(match name {
                "Serial Number" => format!("SN-{:08X}-{n}", r.next_u64() as u32),
                "Hostname" => format!("srv-{n:04}.corp.example"),
                "Vendor" => r.pick(VENDORS).copied().unwrap_or("").to_owned(),
                "Latitude" | "Longitude" => {
                    let (_, lat, lng) = r.pick(CITIES).copied().unwrap_or(("", 0.0, 0.0));
                    let jitter = r.range(-5000, 5000) as f64 / 100_000.0;
                    let v = if name == "Latitude" { lat } else { lng };
                    format!("{:.5}", v + jitter)
                }
                _ => r.pick(AWKWARD).copied().unwrap_or("").to_owned(),
            }),
            DefaultType::Textarea => Val::Text(if name == "Address" {
                let (city, _, _) = r.pick(CITIES).copied().unwrap_or(("", 0.0, 0.0));
                format!("{} Main Street\n{city}", r.range(1, 400))
            } else {
                let a = r.pick(AWKWARD).copied().unwrap_or("");
                format!("<p>Note {n}: {a}</p>\nLine two with \"quotes\" and \\backslash\\")
            }),
            DefaultType::Integer => Val::Int(match name {
                "RAM (GB)" => 8 << r.range(0, 3),
                "Level" => r.range(-2, 30),
                "Seats" => r.range(1, 5000),
                _ => r.range(1, 200),
            }),
            DefaultType::Boolean => Val::Bool(r.chance(50)),
            DefaultType::Double => Val::Double(r.range(100, 9_999_999) as f64 / 100.0),
            DefaultType::Date => Val::Date(EPOCH_MS / DAY_MS + r.range(-3000, 3000)),
            DefaultType::Time => Val::Time(r.range(0, 86_399) as u32),
            DefaultType::DateTime => {
                let ms = EPOCH_MS + r.range(-1000, 1500) * DAY_MS + r.range(0, DAY_MS - 1);
                Val::DateTime(ms / 1000 * 1000)
            }
            DefaultType::Url => Val::Text(format!(
                "https://example.com/{}/{n}?q=a%20b&x=\"y\"",
                name.to_lowercase().replace(' ', "-")
            )),
            DefaultType::Email => Val::Text(format!("contact.{n}+tag@example.org")),
            DefaultType::IpAddress => Val::Text(if r.chance(20) {
                format!("2001:db8::{:x}", r.below(0xffff))
            } else {
                format!("10.{}.{}.{}", r.below(256), r.below(256), r.range(1, 254))
            }),
            DefaultType::Select => Val::Text(String::new()),
        }
    }
}
