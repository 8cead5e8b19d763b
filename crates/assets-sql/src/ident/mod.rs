//! SQL identifiers from Assets names: ASCII snake_case, never a reserved word, unique,
//! within every dialect's length limit, and stable across runs through a [`NameMap`]
//! keyed by Assets ids (callers persist it and pass it back in).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Longest table name: PostgreSQL's 63 less room for the `__stg` / `__old` suffixes the
/// MariaDB loader adds (MySQL allows 64).
pub const MAX_TABLE: usize = 56;
/// Longest column name (PostgreSQL's limit is 63 bytes; MySQL 64; SQL Server 128).
pub const MAX_COLUMN: usize = 63;

/// Columns every object table has; attribute columns never take these names.
pub const COMMON_COLUMNS: &[&str] = &[
    "object_id",
    "object_key",
    "label",
    "object_type_id",
    "object_type",
    "created",
    "updated",
    "workspace_id",
];

/// Tables of the export itself; object tables never take these names.
pub const META_TABLES: &[&str] = &["assets_sql_catalog", "assets_sql_runs", "assets_sql_seen"];

mod reserved;
use reserved::RESERVED;

/// Whether `word` (lower case) is reserved in some dialect.
pub fn is_reserved(word: &str) -> bool {
    RESERVED.binary_search(&word).is_ok()
}

/// ASCII snake_case of an Assets name: letters and digits kept (lower-cased, a `_` where
/// a lower-case letter or digit meets an upper-case one), everything else one `_`, no
/// leading/trailing/double `_`, a leading digit prefixed with `n_`, a reserved word
/// suffixed with `_`, at most `max` characters (at least 1 is assumed). May return an
/// empty string when the name holds no ASCII letter or digit.
pub fn snake(name: &str, max: usize) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = c.is_ascii_lowercase();
            out.push(c.to_ascii_lowercase());
        } else {
            prev_lower = false;
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "n_");
    }
    finish(out, max)
}

/// Cuts to `max`, trims `_` and escapes reserved words.
fn finish(mut s: String, max: usize) -> String {
    s.truncate(max);
    while s.ends_with('_') {
        s.pop();
    }
    if is_reserved(&s) {
        if s.len() + 1 > max {
            s.truncate(max.saturating_sub(2));
            while s.ends_with('_') {
                s.pop();
            }
            s.push_str("_x");
        } else {
            s.push('_');
        }
    }
    s
}

/// `base` made unique against `taken` by a `_2`, `_3`… suffix (cutting `base` to fit
/// `max`); an empty `base` becomes `fallback`. The result is added to `taken`.
pub fn unique(base: &str, fallback: &str, taken: &mut BTreeSet<String>, max: usize) -> String {
    let base = if base.is_empty() {
        snake(fallback, max)
    } else {
        base.to_owned()
    };
    let base = if base.is_empty() {
        "x".to_owned()
    } else {
        base
    };
    let mut candidate = base.clone();
    let mut n: u64 = 1;
    while taken.contains(&candidate) || is_reserved(&candidate) {
        n += 1;
        let suffix = format!("_{n}");
        let mut stem = base.clone();
        stem.truncate(max.saturating_sub(suffix.len()));
        while stem.ends_with('_') {
            stem.pop();
        }
        candidate = format!("{stem}{suffix}");
    }
    taken.insert(candidate.clone());
    candidate
}

/// The names given so far, keyed by Assets ids. Entries are never removed: a type or
/// attribute that is renamed in Assets keeps its table/column, and one that disappears and
/// comes back gets its old name again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameMap {
    /// Object type id → table name.
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
    /// `typeId/attributeId` → column name in the type's table.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// `typeId/attributeId` → link table name (multi-valued attributes).
    #[serde(default)]
    pub links: BTreeMap<String, String>,
}

/// The key of an attribute of a type in [`NameMap::columns`] / [`NameMap::links`].
pub fn attr_key(type_id: &str, attr_id: &str) -> String {
    format!("{type_id}/{attr_id}")
}

impl NameMap {
    fn all_tables(&self) -> BTreeSet<String> {
        let mut taken: BTreeSet<String> = META_TABLES.iter().map(|s| (*s).to_owned()).collect();
        taken.extend(self.tables.values().cloned());
        taken.extend(self.links.values().cloned());
        taken
    }

    /// The table of a type, assigning one from `name` if new.
    pub fn table(&mut self, type_id: &str, name: &str) -> String {
        if let Some(t) = self.tables.get(type_id) {
            return t.clone();
        }
        let mut taken = self.all_tables();
        let t = unique(
            &snake(name, MAX_TABLE),
            &format!("type_{type_id}"),
            &mut taken,
            MAX_TABLE,
        );
        self.tables.insert(type_id.to_owned(), t.clone());
        t
    }

    /// The link table of a multi-valued attribute: `<type table>_<attribute>`.
    pub fn link(&mut self, type_id: &str, attr_id: &str, table: &str, name: &str) -> String {
        let key = attr_key(type_id, attr_id);
        if let Some(t) = self.links.get(&key) {
            return t.clone();
        }
        let mut taken = self.all_tables();
        let attr = snake(name, MAX_TABLE);
        let attr = if attr.is_empty() {
            format!("attr_{}", snake(attr_id, 20))
        } else {
            attr
        };
        let base = snake(&format!("{table}_{attr}"), MAX_TABLE);
        let t = unique(
            &base,
            &format!("link_{type_id}_{attr_id}"),
            &mut taken,
            MAX_TABLE,
        );
        self.links.insert(key, t.clone());
        t
    }

    /// The column of a single-valued attribute in its type's table.
    pub fn column(&mut self, type_id: &str, attr_id: &str, name: &str) -> String {
        let key = attr_key(type_id, attr_id);
        if let Some(c) = self.columns.get(&key) {
            return c.clone();
        }
        let prefix = format!("{type_id}/");
        let mut taken: BTreeSet<String> = COMMON_COLUMNS.iter().map(|s| (*s).to_owned()).collect();
        taken.extend(
            self.columns
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(_, v)| v.clone()),
        );
        let c = unique(
            &snake(name, MAX_COLUMN),
            &format!("attr_{attr_id}"),
            &mut taken,
            MAX_COLUMN,
        );
        self.columns.insert(key, c.clone());
        c
    }
}

/// Whether `s` is an identifier this module can produce.
pub fn is_valid(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !is_reserved(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reserved_list_is_sorted() {
        let mut sorted = RESERVED.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, RESERVED);
    }

    #[test]
    fn examples() {
        assert_eq!(snake("RAM (GB)", 63), "ram_gb");
        assert_eq!(snake("Serial Number", 63), "serial_number");
        assert_eq!(snake("serialNumber", 63), "serial_number");
        assert_eq!(snake("Key", 63), "key_");
        assert_eq!(snake("Order", 63), "order_");
        assert_eq!(snake("3D printer", 63), "n_3d_printer");
        assert_eq!(snake("Søren", 63), "s_ren");
        assert_eq!(snake("日本", 63), "");
        assert_eq!(snake("__x__", 63), "x");
        assert_eq!(snake("a\"; DROP TABLE x; --", 63), "a_drop_table_x");
    }

    #[test]
    fn duplicates_and_common_columns_are_disambiguated() {
        let mut m = NameMap::default();
        assert_eq!(m.table("1", "Laptop"), "laptop");
        assert_eq!(m.table("2", "laptop!"), "laptop_2");
        assert_eq!(m.table("3", "Assets SQL catalog"), "assets_sql_catalog_2");
        assert_eq!(m.column("1", "a", "Created"), "created_2");
        assert_eq!(m.column("1", "b", "Label"), "label_2");
        assert_eq!(m.column("1", "c", "日本"), "attr_c");
        assert_eq!(m.column("2", "a", "Created"), "created_2");
        assert_eq!(
            m.link("1", "d", "laptop", "IP addresses"),
            "laptop_ip_addresses"
        );
        assert_eq!(m.table("4", "Laptop IP addresses"), "laptop_ip_addresses_2");
    }

    #[test]
    fn renamed_attribute_keeps_its_column() {
        let mut m = NameMap::default();
        let first = m.column("1", "7", "Serial Number");
        let json = serde_json::to_string(&m).unwrap_or_default();
        let mut back: NameMap = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back.column("1", "7", "Serial no."), first);
        assert_eq!(back.column("1", "8", "Serial Number"), "serial_number_2");
    }

    #[test]
    fn long_names_are_cut() {
        let long = "x".repeat(200);
        let mut m = NameMap::default();
        let a = m.table("1", &long);
        let b = m.table("2", &long);
        assert_eq!(a.len(), MAX_TABLE);
        assert!(b.len() <= MAX_TABLE && b != a, "{b}");
        let c = m.column("1", "1", &long);
        assert_eq!(c.len(), MAX_COLUMN);
    }

    proptest! {
        #[test]
        fn any_names_give_valid_unique_stable_identifiers(
            names in proptest::collection::vec(any::<String>(), 1..20),
            long in "[A-Za-z ]{150,220}",
        ) {
            let mut names = names;
            names.push(long.clone());
            names.push(long);
            let mut m = NameMap::default();
            let mut tables = BTreeSet::new();
            let mut cols = BTreeSet::new();
            for (i, n) in names.iter().enumerate() {
                let id = i.to_string();
                let t = m.table(&id, n);
                prop_assert!(is_valid(&t, MAX_TABLE), "{t:?}");
                prop_assert!(!t.contains("__"), "{t:?}");
                prop_assert!(tables.insert(t.clone()));
                let c = m.column("0", &id, n);
                prop_assert!(is_valid(&c, MAX_COLUMN), "{c:?}");
                prop_assert!(!COMMON_COLUMNS.contains(&c.as_str()));
                prop_assert!(cols.insert(c.clone()));
                let l = m.link("0", &id, "t", n);
                prop_assert!(is_valid(&l, MAX_TABLE));
                prop_assert!(tables.insert(l));
            }
            let mut again = m.clone();
            for (i, n) in names.iter().enumerate() {
                let id = i.to_string();
                prop_assert_eq!(again.table(&id, n), m.tables[&id].clone());
                prop_assert_eq!(again.column("0", &id, "renamed"), m.columns[&attr_key("0", &id)].clone());
            }
        }
    }
}
