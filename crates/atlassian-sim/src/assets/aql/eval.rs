//! AQL evaluation. Text comparisons are case-insensitive, as in Assets. A multi-valued
//! attribute matches `=`, `IN`, `LIKE`, … when any value does; `!=`, `NOT IN` and
//! `NOT LIKE` match when the attribute has values and none of them matches. Type
//! mismatches (e.g. `"RAM (GB)" > "abc"`) simply do not match.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::super::model::{AssetObject, AssetsWorkspace, Val};
use super::super::time::{
    DAY_MS, civil_from_days, days_from_civil, fmt_date, fmt_datetime, fmt_time, parse_instant,
    parse_time,
};
use super::{AqlError, Cmp, Expr, Field, Func, InstantFn, Operand, Query};

/// Who is searching and when (for `currentUser()` and `now()`).
#[derive(Clone, Debug)]
pub struct SearchContext {
    /// The caller's account id.
    pub account_id: String,
    /// "Now" in Unix milliseconds.
    pub now_ms: i64,
}

/// Evaluates queries against one workspace.
pub struct Evaluator<'a> {
    ws: &'a AssetsWorkspace,
    ctx: SearchContext,
    /// (type id, lower-case attribute name) → attribute id, over effective attributes.
    names: HashMap<(u32, String), u32>,
    all_names: HashSet<String>,
}

#[derive(Clone, Debug)]
enum Cell<'a> {
    Text(&'a str),
    Num(f64),
    Bool(bool),
    Instant(i64),
    Date(i64),
    Time(u32),
    Ref(u32),
    User(u32),
    Group(u32),
    Status(u32),
    Key(&'a str, u32),
}

/// Sort key: rank (numbers, keys, text), text part, numeric part.
type SortKey = (u8, String, f64);

enum Rv {
    Text(String),
    Instant(i64),
    Accounts(Vec<String>),
    Groups(Vec<String>),
    Nothing,
}

const BUILTINS: &[&str] = &[
    "objectid",
    "objecttypeid",
    "objectschemaid",
    "objecttype",
    "objectschema",
    "key",
    "label",
    "created",
    "updated",
];

impl<'a> Evaluator<'a> {
    /// An evaluator for `ws` on behalf of `ctx`.
    pub fn new(ws: &'a AssetsWorkspace, ctx: SearchContext) -> Self {
        let mut names = HashMap::new();
        let mut all_names = HashSet::new();
        for t in &ws.types {
            for id in ws.effective_attributes(t.id) {
                if let Some(a) = ws.attribute(*id) {
                    let lower = a.name.to_lowercase();
                    all_names.insert(lower.clone());
                    names.entry((t.id, lower)).or_insert(a.id);
                }
            }
        }
        Evaluator {
            ws,
            ctx,
            names,
            all_names,
        }
    }

    /// Checks that every attribute name in `q` exists in the workspace.
    pub fn check(&self, q: &Query) -> Result<(), AqlError> {
        fn walk(ev: &Evaluator<'_>, e: &Expr) -> Result<(), AqlError> {
            match e {
                Expr::Cond(f, _) => ev.check_field(f),
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(ev, a)?;
                    walk(ev, b)
                }
            }
        }
        if let Some(e) = &q.filter {
            walk(self, e)?;
        }
        if let Some((f, _)) = &q.order {
            self.check_field(f)?;
        }
        Ok(())
    }

    fn check_field(&self, f: &Field) -> Result<(), AqlError> {
        if let Field::Attr { path, .. } = f {
            for name in path {
                let lower = name.to_lowercase();
                if !self.all_names.contains(&lower) && !BUILTINS.contains(&lower.as_str()) {
                    return Err(AqlError(format!("AQL: no attribute named \"{name}\"")));
                }
            }
        }
        Ok(())
    }

    /// Objects matching `q` that `visible` admits, in id order or by `order by`.
    pub fn search(
        &self,
        q: &Query,
        visible: impl Fn(&AssetObject) -> bool,
    ) -> Result<Vec<&'a AssetObject>, AqlError> {
        self.check(q)?;
        // A filter on the object's type alone (`objectTypeId = 12`, the exporter's query)
        // has one answer per type: evaluate it once per type instead of once per object.
        let per_type = q.filter.as_ref().is_some_and(type_level);
        let mut by_type: HashMap<u32, bool> = HashMap::new();
        let mut hits: Vec<&'a AssetObject> = self
            .ws
            .objects
            .iter()
            .filter(|o| {
                visible(o)
                    && q.filter.as_ref().is_none_or(|e| {
                        if per_type {
                            *by_type
                                .entry(o.type_id)
                                .or_insert_with(|| self.matches(e, o))
                        } else {
                            self.matches(e, o)
                        }
                    })
            })
            .collect();
        if let Some((field, desc)) = &q.order {
            let mut keyed: Vec<(Option<SortKey>, &'a AssetObject)> = hits
                .into_iter()
                .map(|o| (self.cells(o, field).first().map(|c| self.sort_key(c)), o))
                .collect();
            keyed.sort_by(|(ka, a), (kb, b)| {
                let by_key = match (ka, kb) {
                    (Some(x), Some(y)) => {
                        let c =
                            x.0.cmp(&y.0)
                                .then_with(|| x.1.cmp(&y.1))
                                .then(x.2.total_cmp(&y.2));
                        if *desc { c.reverse() } else { c }
                    }
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                };
                by_key.then(a.id.cmp(&b.id))
            });
            hits = keyed.into_iter().map(|(_, o)| o).collect();
        }
        Ok(hits)
    }

    /// Whether `o` satisfies `e`.
    pub fn matches(&self, e: &Expr, o: &AssetObject) -> bool {
        match e {
            Expr::And(a, b) => self.matches(a, o) && self.matches(b, o),
            Expr::Or(a, b) => self.matches(a, o) || self.matches(b, o),
            Expr::Cond(field, cmp) => {
                let cells = self.cells(o, field);
                let any = |v: &Operand, f: &dyn Fn(&Cell<'_>, &Rv) -> bool| {
                    let rv = self.resolve(v);
                    cells.iter().any(|c| f(c, &rv))
                };
                let ord = |v: &Operand, ok: fn(Ordering) -> bool| {
                    any(v, &|c, rv| self.order(c, rv).is_some_and(ok))
                };
                let eq = |c: &Cell<'_>, rv: &Rv| self.eq(c, rv);
                match cmp {
                    Cmp::Eq(v) => any(v, &eq),
                    Cmp::Ne(v) => !cells.is_empty() && !any(v, &eq),
                    Cmp::Lt(v) => ord(v, Ordering::is_lt),
                    Cmp::Gt(v) => ord(v, Ordering::is_gt),
                    Cmp::Le(v) => ord(v, Ordering::is_le),
                    Cmp::Ge(v) => ord(v, Ordering::is_ge),
                    Cmp::Like(v) => any(v, &|c, rv| self.text_op(c, rv, |h, n| h.contains(n))),
                    Cmp::NotLike(v) => {
                        !cells.is_empty()
                            && !any(v, &|c, rv| self.text_op(c, rv, |h, n| h.contains(n)))
                    }
                    Cmp::StartsWith(v) => {
                        any(v, &|c, rv| self.text_op(c, rv, |h, n| h.starts_with(n)))
                    }
                    Cmp::EndsWith(v) => any(v, &|c, rv| self.text_op(c, rv, |h, n| h.ends_with(n))),
                    Cmp::In(vs) => vs.iter().any(|v| any(v, &eq)),
                    Cmp::NotIn(vs) => !cells.is_empty() && !vs.iter().any(|v| any(v, &eq)),
                    Cmp::IsEmpty => cells.is_empty(),
                    Cmp::IsNotEmpty => !cells.is_empty(),
                }
            }
        }
    }

    fn builtin(&self, o: &'a AssetObject, lower: &str) -> Option<Vec<Cell<'a>>> {
        let ws = self.ws;
        let ty = ws.object_type(o.type_id);
        let schema = ty.and_then(|t| ws.schema(t.schema_id));
        Some(match lower {
            "objectid" => vec![Cell::Num(f64::from(o.id))],
            "objecttypeid" => vec![Cell::Num(f64::from(o.type_id))],
            "objectschemaid" => schema
                .map(|s| Cell::Num(f64::from(s.id)))
                .into_iter()
                .collect(),
            "objecttype" => ty.map(|t| Cell::Text(&t.name)).into_iter().collect(),
            "objectschema" => schema
                .map(|s| vec![Cell::Text(&s.name), Cell::Text(&s.key)])
                .unwrap_or_default(),
            "key" => schema
                .map(|s| Cell::Key(&s.key, o.key_num))
                .into_iter()
                .collect(),
            "label" => vec![Cell::Text(&o.label)],
            "created" => vec![Cell::Instant(o.created)],
            "updated" => vec![Cell::Instant(o.updated)],
            _ => return None,
        })
    }

    fn cells(&self, o: &'a AssetObject, field: &Field) -> Vec<Cell<'a>> {
        let name = match field {
            Field::ObjectId => "objectid",
            Field::ObjectTypeId => "objecttypeid",
            Field::ObjectSchemaId => "objectschemaid",
            Field::ObjectType => "objecttype",
            Field::ObjectSchema => "objectschema",
            Field::Key => "key",
            Field::Label => "label",
            Field::Created => "created",
            Field::Updated => "updated",
            Field::Attr { path, .. } => return self.path_cells(o, path, 0),
        };
        self.builtin(o, name).unwrap_or_default()
    }

    fn path_cells(&self, o: &'a AssetObject, path: &[String], depth: usize) -> Vec<Cell<'a>> {
        let Some((first, rest)) = path.split_first() else {
            return Vec::new();
        };
        let lower = first.to_lowercase();
        let cells = match self.names.get(&(o.type_id, lower.clone())) {
            Some(&aid) => match self.ws.attribute(aid) {
                Some(a) if a.system => self.builtin(o, &lower).unwrap_or_default(),
                Some(_) => self.ws.values(o, aid).iter().map(cell_of).collect(),
                None => Vec::new(),
            },
            None => self.builtin(o, &lower).unwrap_or_default(),
        };
        if rest.is_empty() || depth > 16 {
            return if rest.is_empty() { cells } else { Vec::new() };
        }
        cells
            .iter()
            .filter_map(|c| match c {
                Cell::Ref(id) => self.ws.object(*id),
                _ => None,
            })
            .flat_map(|r| self.path_cells(r, rest, depth + 1))
            .collect()
    }

    fn resolve(&self, v: &Operand) -> Rv {
        match v {
            Operand::Text(t) => Rv::Text(t.clone()),
            Operand::Func(Func::CurrentUser) => Rv::Accounts(vec![self.ctx.account_id.clone()]),
            Operand::Func(Func::CurrentReporter) => Rv::Nothing,
            Operand::Func(Func::User(a)) => Rv::Accounts(a.clone()),
            Operand::Func(Func::Group(g)) => Rv::Groups(g.clone()),
            Operand::Func(Func::Instant(f)) => Rv::Instant(instant(*f, self.ctx.now_ms)),
        }
    }

    fn eq(&self, c: &Cell<'_>, rv: &Rv) -> bool {
        let ws = self.ws;
        match (c, rv) {
            (_, Rv::Nothing) => false,
            (Cell::User(i), Rv::Accounts(list)) => ws
                .people
                .get(*i as usize)
                .is_some_and(|p| list.contains(&p.account_id)),
            (Cell::Group(i), Rv::Groups(list)) => ws
                .groups
                .get(*i as usize)
                .is_some_and(|g| list.iter().any(|x| x.eq_ignore_ascii_case(g))),
            (Cell::Instant(ms), Rv::Instant(x)) => ms == x,
            (Cell::Date(d), Rv::Instant(x)) => *d == x.div_euclid(DAY_MS),
            (_, Rv::Accounts(_) | Rv::Groups(_) | Rv::Instant(_)) => false,
            (c, Rv::Text(t)) => match c {
                Cell::Num(n) => t.trim().parse::<f64>().is_ok_and(|x| x == *n),
                Cell::Bool(b) => t.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
                Cell::Instant(ms) => match parse_instant(t) {
                    Some(x) if t.trim().len() == 10 => {
                        ms.div_euclid(DAY_MS) == x.div_euclid(DAY_MS)
                    }
                    Some(x) => *ms == x,
                    None => false,
                },
                Cell::Date(d) => parse_instant(t).is_some_and(|x| x.div_euclid(DAY_MS) == *d),
                Cell::Time(s) => parse_time(t) == Some(*s),
                Cell::Ref(id) => {
                    *t == id.to_string()
                        || ws
                            .object(*id)
                            .is_some_and(|r| ci_eq(&r.label, t) || ci_eq(&ws.object_key(r), t))
                }
                Cell::User(i) => ws.people.get(*i as usize).is_some_and(|p| {
                    p.account_id == *t || ci_eq(&p.display_name, t) || ci_eq(&p.email, t)
                }),
                Cell::Status(id) => {
                    *t == id.to_string() || ws.status(*id).is_some_and(|s| ci_eq(&s.name, t))
                }
                other => ci_eq(&self.display(other), t),
            },
        }
    }

    fn order(&self, c: &Cell<'_>, rv: &Rv) -> Option<Ordering> {
        match (c, rv) {
            (Cell::Instant(ms), Rv::Instant(x)) => Some(ms.cmp(x)),
            (Cell::Date(d), Rv::Instant(x)) => Some((d * DAY_MS).cmp(x)),
            (_, Rv::Text(t)) => match c {
                Cell::Num(n) => n.partial_cmp(&t.trim().parse::<f64>().ok()?),
                Cell::Instant(ms) => Some(ms.cmp(&parse_instant(t)?)),
                Cell::Date(d) => Some((d * DAY_MS).cmp(&parse_instant(t)?)),
                Cell::Time(s) => Some(s.cmp(&parse_time(t)?)),
                Cell::Bool(_) => None,
                Cell::Key(p, n) => match t.rsplit_once('-') {
                    Some((tp, tn)) if tp.eq_ignore_ascii_case(p) => Some(n.cmp(&tn.parse().ok()?)),
                    _ => Some(self.display(c).to_lowercase().cmp(&t.to_lowercase())),
                },
                _ => Some(self.display(c).to_lowercase().cmp(&t.to_lowercase())),
            },
            _ => None,
        }
    }

    fn text_op(&self, c: &Cell<'_>, rv: &Rv, f: fn(&str, &str) -> bool) -> bool {
        match rv {
            Rv::Text(t) => f(&self.display(c).to_lowercase(), &t.to_lowercase()),
            other => self.eq(c, other),
        }
    }

    fn display(&self, c: &Cell<'_>) -> String {
        let ws = self.ws;
        match c {
            Cell::Text(s) => (*s).to_owned(),
            Cell::Num(n) => fmt_num(*n),
            Cell::Bool(b) => b.to_string(),
            Cell::Instant(ms) => fmt_datetime(*ms),
            Cell::Date(d) => fmt_date(*d),
            Cell::Time(s) => fmt_time(*s),
            Cell::Ref(id) => ws.object(*id).map(|o| o.label.clone()).unwrap_or_default(),
            Cell::User(i) => ws
                .people
                .get(*i as usize)
                .map(|p| p.display_name.clone())
                .unwrap_or_default(),
            Cell::Group(i) => ws.groups.get(*i as usize).cloned().unwrap_or_default(),
            Cell::Status(id) => ws.status(*id).map(|s| s.name.clone()).unwrap_or_default(),
            Cell::Key(p, n) => format!("{p}-{n}"),
        }
    }

    fn sort_key(&self, c: &Cell<'_>) -> SortKey {
        match c {
            Cell::Num(n) => (0, String::new(), *n),
            Cell::Instant(ms) => (0, String::new(), *ms as f64),
            Cell::Date(d) => (0, String::new(), (d * DAY_MS) as f64),
            Cell::Time(s) => (0, String::new(), f64::from(*s)),
            Cell::Key(p, n) => (1, p.to_lowercase(), f64::from(*n)),
            other => (2, self.display(other).to_lowercase(), 0.0),
        }
    }
}

fn cell_of(v: &Val) -> Cell<'_> {
    match v {
        Val::Text(s) => Cell::Text(s),
        Val::Int(i) => Cell::Num(*i as f64),
        Val::Bool(b) => Cell::Bool(*b),
        Val::Double(d) => Cell::Num(*d),
        Val::Date(d) => Cell::Date(*d),
        Val::Time(t) => Cell::Time(*t),
        Val::DateTime(ms) => Cell::Instant(*ms),
        Val::Ref(id) => Cell::Ref(*id),
        Val::User(i) => Cell::User(*i),
        Val::Group(i) => Cell::Group(*i),
        Val::Status(id) => Cell::Status(*id),
    }
}

fn ci_eq(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// Whether `e` reads only fields that every object of one type shares (its type and
/// schema), so its answer is the same for all objects of a type.
fn type_level(e: &Expr) -> bool {
    match e {
        Expr::Cond(field, _) => matches!(
            field,
            Field::ObjectTypeId | Field::ObjectType | Field::ObjectSchemaId | Field::ObjectSchema
        ),
        Expr::And(a, b) | Expr::Or(a, b) => type_level(a) && type_level(b),
    }
}

/// Formats a number as Assets shows it: integers without a fraction.
pub(crate) fn fmt_num(n: f64) -> String {
    NumText(n).to_string()
}

/// A number shown as Assets shows it (see [`fmt_num`]), written without an intermediate
/// `String`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NumText(pub f64);

impl std::fmt::Display for NumText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        if n.fract() == 0.0 && n.abs() < 1e15 {
            write!(f, "{}", n as i64)
        } else {
            write!(f, "{n}")
        }
    }
}

fn instant(f: InstantFn, now: i64) -> i64 {
    let day = now.div_euclid(DAY_MS);
    let week_start = day - (day + 3).rem_euclid(7);
    let (y, m, _) = civil_from_days(day);
    let month_start = days_from_civil(y, m, 1);
    let next_month = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    match f {
        InstantFn::Now => now,
        InstantFn::StartOfDay => day * DAY_MS,
        InstantFn::EndOfDay => (day + 1) * DAY_MS - 1,
        InstantFn::StartOfWeek => week_start * DAY_MS,
        InstantFn::EndOfWeek => (week_start + 7) * DAY_MS - 1,
        InstantFn::StartOfMonth => month_start * DAY_MS,
        InstantFn::EndOfMonth => next_month * DAY_MS - 1,
    }
}
