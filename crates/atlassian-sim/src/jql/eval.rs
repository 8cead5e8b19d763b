//! Compiles a parsed query against the model (resolving fields, functions and dates)
//! and evaluates it per issue.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use jiff::{Span, Timestamp, tz::TimeZone};

use super::parse::{Expr, Op, Operand, Query};
use super::text::{text_match, text_of};
use crate::model::{FieldKind, Issue, Model};

/// A field the evaluator understands.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum F {
    Project,
    Key,
    IssueType,
    Status,
    StatusCategory,
    User(&'static str),
    Priority,
    Labels,
    Date(&'static str),
    Text(&'static str),
    Resolution,
    RequestType,
    Custom(String, FieldKind),
}

#[derive(Clone, Debug)]
enum V {
    Str(String),
    Users(BTreeSet<String>),
    Time(Timestamp),
}

#[derive(Clone, Debug)]
enum C {
    And(Vec<C>),
    Or(Vec<C>),
    Not(Box<C>),
    Cond { f: F, op: Op, vals: Vec<V> },
}

/// A query ready to run.
#[derive(Clone, Debug)]
pub struct Compiled {
    filter: Option<C>,
    order: Vec<(F, bool)>,
    user: String,
}

fn field_of(m: &Model, name: &str) -> Result<F, String> {
    let l = name.to_lowercase();
    Ok(match l.as_str() {
        "project" => F::Project,
        "key" | "issuekey" | "id" | "issue" => F::Key,
        "issuetype" | "type" => F::IssueType,
        "status" => F::Status,
        "statuscategory" | "category" => F::StatusCategory,
        "assignee" => F::User("assignee"),
        "reporter" => F::User("reporter"),
        "creator" => F::User("creator"),
        "priority" => F::Priority,
        "labels" | "label" => F::Labels,
        "created" | "createddate" => F::Date("created"),
        "updated" | "updateddate" => F::Date("updated"),
        "resolved" | "resolutiondate" => F::Date("resolutiondate"),
        "summary" => F::Text("summary"),
        "description" => F::Text("description"),
        "comment" => F::Text("comment"),
        "text" => F::Text("text"),
        "resolution" => F::Resolution,
        "request type" | "request-type" | "cf[10010]" | "customfield_10010" => F::RequestType,
        _ => match m.field(name) {
            Some(d) if d.custom => F::Custom(d.id.clone(), d.kind),
            _ => {
                return Err(format!(
                    "Field '{name}' does not exist or you do not have permission to view it."
                ));
            }
        },
    })
}

fn tz(m: &Model) -> TimeZone {
    TimeZone::get(&m.site.time_zone).unwrap_or(TimeZone::UTC)
}

fn relative(s: &str) -> Option<Span> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let unit = rest.chars().last()?;
    let digits = rest.get(..rest.len() - unit.len_utf8())?;
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let n = if neg { -n } else { n };
    Some(match unit {
        'y' => Span::new().years(n),
        'M' => Span::new().months(n),
        'w' => Span::new().weeks(n),
        'd' => Span::new().days(n),
        'h' => Span::new().hours(n),
        'm' => Span::new().minutes(n),
        _ => return None,
    })
}

fn parse_date(m: &Model, s: &str, now: Timestamp) -> Option<Timestamp> {
    if let Some(span) = relative(s) {
        return now
            .to_zoned_datetime(tz(m))
            .checked_add(span)
            .ok()
            .map(|z| z.timestamp());
    }
    let norm = s.replace('/', "-");
    for fmt in ["%Y-%m-%d %H:%M", "%Y-%m-%d"] {
        let with_time = if fmt.len() == 8 {
            format!("{norm} 00:00")
        } else {
            norm.clone()
        };
        if let Ok(dt) = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", &with_time) {
            return dt.to_zoned_datetime(tz(m)).ok().map(|z| z.timestamp());
        }
    }
    None
}

fn date_func(m: &Model, name: &str, args: &[String], now: Timestamp) -> Result<Timestamp, String> {
    let z = now.to_zoned_datetime(tz(m));
    let offset = match args.first() {
        Some(a) => Some(relative(a).ok_or_else(|| {
            format!("The argument '{a}' of the function '{name}' is not a valid date offset.")
        })?),
        None => None,
    };
    let base = match name.to_lowercase().as_str() {
        "now" => Ok(z.clone()),
        "startofday" => z.start_of_day(),
        "endofday" => z.end_of_day(),
        "startofweek" => z.start_of_day().and_then(|d| {
            d.checked_sub(Span::new().days(i64::from(d.weekday().to_monday_zero_offset())))
        }),
        "endofweek" => z.end_of_day().and_then(|d| {
            d.checked_add(Span::new().days(6 - i64::from(d.weekday().to_monday_zero_offset())))
        }),
        "startofmonth" => z.first_of_month().and_then(|d| d.start_of_day()),
        "endofmonth" => z.last_of_month().and_then(|d| d.end_of_day()),
        "startofyear" => z.first_of_year().and_then(|d| d.start_of_day()),
        "endofyear" => z.last_of_year().and_then(|d| d.end_of_day()),
        _ => {
            return Err(format!(
                "Unable to find JQL function '{name}({})'.",
                args.join(", ")
            ));
        }
    }
    .map_err(|e| e.to_string())?;
    let shifted = match offset {
        Some(o) => base.checked_add(o).map_err(|e| e.to_string())?,
        None => base,
    };
    Ok(shifted.timestamp())
}

fn value(
    m: &Model,
    f: &F,
    fname: &str,
    o: &Operand,
    user: &str,
    now: Timestamp,
) -> Result<V, String> {
    if let Operand::Func(name, args) = o {
        return match (name.to_lowercase().as_str(), f) {
            ("currentuser", F::User(_)) if args.is_empty() => {
                Ok(V::Users([user.to_owned()].into()))
            }
            ("membersof", F::User(_)) => {
                let g = args
                    .first()
                    .ok_or("Function 'membersOf' expects one argument.")?;
                let grp = m.groups.get(g).ok_or_else(|| {
                    format!("The group '{g}' used in the function 'membersOf' does not exist.")
                })?;
                Ok(V::Users(grp.members.clone()))
            }
            (_, F::Date(_)) | (_, F::Custom(_, FieldKind::DateTime)) => {
                date_func(m, name, args, now).map(V::Time)
            }
            _ => Err(format!(
                "Unable to find JQL function '{name}({})' for the field '{fname}'.",
                args.join(", ")
            )),
        };
    }
    let s = o.text().unwrap_or_default().to_owned();
    let is_date = matches!(f, F::Date(_) | F::Custom(_, FieldKind::DateTime));
    if is_date {
        return parse_date(m, &s, now)
            .map(V::Time)
            .ok_or_else(|| format!("Date value '{s}' for field '{fname}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."));
    }
    let exists = match f {
        F::Project => {
            m.project(&s).is_some() || m.projects.iter().any(|p| p.name.eq_ignore_ascii_case(&s))
        }
        F::IssueType => m
            .issue_types
            .values()
            .any(|t| t.id == s || t.name.eq_ignore_ascii_case(&s)),
        F::Status => m.status(&s).is_some(),
        F::Priority => m.priority(&s).is_some(),
        F::StatusCategory => [
            "new",
            "indeterminate",
            "done",
            "to do",
            "in progress",
            "2",
            "3",
            "4",
        ]
        .contains(&s.to_lowercase().as_str()),
        F::Resolution => m.resolution(&s).is_some() || s.eq_ignore_ascii_case("unresolved"),
        _ => true,
    };
    if !exists {
        return Err(format!(
            "The value '{s}' does not exist for the field '{fname}'."
        ));
    }
    if let F::User(_) = f {
        let id = m
            .user_by_email(&s)
            .map_or(s.clone(), |u| u.account_id.clone());
        return Ok(V::Users([id].into()));
    }
    Ok(V::Str(s))
}

fn compile_expr(m: &Model, e: &Expr, user: &str, now: Timestamp) -> Result<C, String> {
    Ok(match e {
        Expr::And(items) => C::And(
            items
                .iter()
                .map(|i| compile_expr(m, i, user, now))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(items) => C::Or(
            items
                .iter()
                .map(|i| compile_expr(m, i, user, now))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(i) => C::Not(Box::new(compile_expr(m, i, user, now)?)),
        Expr::Clause { field, op, values } => {
            let f = field_of(m, field)?;
            let ordered = matches!(
                f,
                F::Date(_)
                    | F::Key
                    | F::Priority
                    | F::Custom(_, FieldKind::DateTime | FieldKind::Number)
            );
            let text = matches!(f, F::Text(_) | F::Custom(_, FieldKind::Text));
            let ok = match op {
                Op::Gt | Op::Ge | Op::Lt | Op::Le => ordered,
                Op::Like | Op::NotLike => text,
                Op::Was | Op::WasNot | Op::WasIn | Op::WasNotIn | Op::Changed => matches!(
                    f,
                    F::Status | F::User("assignee") | F::Priority | F::Resolution
                ),
                Op::Eq | Op::Ne | Op::In | Op::NotIn => !matches!(f, F::Text(_)),
                Op::Is | Op::IsNot => true,
            };
            if !ok {
                return Err(format!(
                    "The operator '{}' is not supported by the '{field}' field.",
                    op_str(*op)
                ));
            }
            let vals = if text {
                values
                    .iter()
                    .map(|v| V::Str(v.text().unwrap_or_default().to_owned()))
                    .collect()
            } else {
                values
                    .iter()
                    .map(|v| value(m, &f, field, v, user, now))
                    .collect::<Result<_, _>>()?
            };
            C::Cond { f, op: *op, vals }
        }
    })
}

fn op_str(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Like => "~",
        Op::NotLike => "!~",
        Op::In => "in",
        Op::NotIn => "not in",
        Op::Is => "is",
        Op::IsNot => "is not",
        Op::Was => "was",
        Op::WasNot => "was not",
        Op::WasIn => "was in",
        Op::WasNotIn => "was not in",
        Op::Changed => "changed",
    }
}

/// Compiles `q` for `user` at `now`; errors are Jira's messages.
pub fn compile(m: &Model, q: &Query, user: &str, now: Timestamp) -> Result<Compiled, String> {
    let filter = q
        .filter
        .as_ref()
        .map(|e| compile_expr(m, e, user, now))
        .transpose()?;
    let mut order = Vec::new();
    for (name, asc) in &q.order {
        let f = field_of(m, name)?;
        if matches!(
            f,
            F::Text("text" | "comment" | "description")
                | F::Custom(_, FieldKind::Location | FieldKind::Assets | FieldKind::Adf)
        ) {
            return Err(format!("Field '{name}' does not support sorting."));
        }
        order.push((f, *asc));
    }
    Ok(Compiled {
        filter,
        order,
        user: user.to_owned(),
    })
}

/// Comparable scalar values of a field on an issue (many for multi-valued fields).
pub(super) fn scalars(m: &Model, i: &Issue, f: &F) -> Vec<String> {
    match f {
        F::Project => m
            .project(&i.project_id)
            .map(|p| vec![p.id.clone(), p.key.clone(), p.name.clone()])
            .unwrap_or_default(),
        F::Key => vec![i.key.clone(), i.id.clone()],
        F::IssueType => m
            .issue_types
            .get(&i.issue_type)
            .map(|t| vec![t.id.clone(), t.name.clone()])
            .unwrap_or_default(),
        F::Status => m
            .statuses
            .get(&i.status)
            .map(|s| vec![s.id.clone(), s.name.clone()])
            .unwrap_or_default(),
        F::StatusCategory => m
            .statuses
            .get(&i.status)
            .map(|s| {
                let (id, k, _, n) = s.category.parts();
                vec![id.to_string(), k.to_owned(), n.to_owned()]
            })
            .unwrap_or_default(),
        F::User("assignee") => i.assignee.iter().cloned().collect(),
        F::User("creator") => vec![i.creator.clone()],
        F::User(_) => vec![i.reporter.clone()],
        F::Priority => m
            .priority(&i.priority)
            .map(|p| vec![p.id.clone(), p.name.clone()])
            .unwrap_or_default(),
        F::Labels => i.labels.clone(),
        F::Resolution => i
            .resolution
            .as_deref()
            .and_then(|r| m.resolution(r))
            .map(|r| vec![r.id.clone(), r.name.clone()])
            .unwrap_or_default(),
        F::RequestType => i
            .request_type
            .as_deref()
            .and_then(|r| m.request_types.iter().find(|t| t.id == r))
            .map(|t| vec![t.id.clone(), t.name.clone()])
            .unwrap_or_default(),
        F::Text(id) => m
            .field_value(i, id)
            .map(|v| vec![text_of(&v)])
            .unwrap_or_default(),
        F::Date(_) => Vec::new(),
        F::Custom(id, kind) => match i.custom.get(id) {
            None => Vec::new(),
            Some(v) => match kind {
                FieldKind::Labels => v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                FieldKind::Assets => v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .flat_map(|x| {
                                ["objectId", "id"].map(|k| {
                                    x.get(k).and_then(|s| s.as_str()).unwrap_or("").to_owned()
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                _ => vec![text_of(v)],
            },
        },
    }
}

fn time_of(m: &Model, i: &Issue, f: &F) -> Option<Timestamp> {
    match f {
        F::Date("created") => Some(i.created),
        F::Date("updated") => Some(i.updated),
        F::Date(_) => i.resolution_date,
        F::Custom(id, FieldKind::DateTime) => i
            .custom
            .get(id)
            .and_then(|v| v.as_str())
            .and_then(crate::model::ops::parse_jira_time),
        _ => {
            let _ = m;
            None
        }
    }
}

fn key_num(k: &str) -> (String, u64) {
    let (p, n) = k.rsplit_once('-').unwrap_or((k, "0"));
    (p.to_uppercase(), n.parse().unwrap_or(0))
}

fn priority_rank(m: &Model, s: &str) -> usize {
    m.priorities
        .iter()
        .position(|p| p.id == s || p.name.eq_ignore_ascii_case(s))
        .unwrap_or(usize::MAX)
}

fn cmp_scalar(m: &Model, i: &Issue, f: &F, v: &V) -> Option<Ordering> {
    match (f, v) {
        (F::Key, V::Str(s)) => {
            let (a, b) = (key_num(&i.key), key_num(s));
            (a.0 == b.0).then(|| a.1.cmp(&b.1))
        }
        // Higher priority (lower rank) compares greater, as in Jira.
        (F::Priority, V::Str(s)) => Some(priority_rank(m, s).cmp(&priority_rank(m, &i.priority))),
        (F::Custom(id, FieldKind::Number), V::Str(s)) => {
            let a = i.custom.get(id).and_then(serde_json::Value::as_f64)?;
            a.partial_cmp(&s.parse::<f64>().ok()?)
        }
        (_, V::Time(t)) => time_of(m, i, f).map(|x| x.cmp(t)),
        _ => None,
    }
}

fn eq_any(m: &Model, i: &Issue, f: &F, vals: &[V]) -> bool {
    let have = scalars(m, i, f);
    vals.iter().any(|v| match v {
        V::Str(s) => {
            if matches!(f, F::Resolution) && s.eq_ignore_ascii_case("unresolved") {
                return i.resolution.is_none();
            }
            have.iter().any(|h| h.eq_ignore_ascii_case(s))
        }
        V::Users(set) => have.iter().any(|h| set.contains(h)),
        V::Time(t) => time_of(m, i, f) == Some(*t),
    })
}

fn history_values(i: &Issue, f: &F) -> Vec<String> {
    let fid = match f {
        F::Status => "status",
        F::User(_) => "assignee",
        F::Priority => "priority",
        _ => "resolution",
    };
    i.changelog
        .iter()
        .flat_map(|h| h.items.iter())
        .filter(|it| it.field_id == fid)
        .flat_map(|it| {
            [
                it.from.clone(),
                it.from_string.clone(),
                it.to.clone(),
                it.to_string.clone(),
            ]
        })
        .flatten()
        .collect()
}

fn was(m: &Model, i: &Issue, f: &F, vals: &[V]) -> bool {
    let mut have = scalars(m, i, f);
    have.extend(history_values(i, f));
    vals.iter().any(|v| match v {
        V::Str(s) => {
            let ids: Vec<String> = match f {
                F::Status => m.status(s).map(|x| vec![x.id.clone()]).unwrap_or_default(),
                _ => Vec::new(),
            };
            have.iter()
                .any(|h| h.eq_ignore_ascii_case(s) || ids.contains(h))
        }
        V::Users(set) => have.iter().any(|h| set.contains(h)),
        V::Time(_) => false,
    })
}

fn eval(m: &Model, c: &C, i: &Issue) -> bool {
    match c {
        C::And(items) => items.iter().all(|x| eval(m, x, i)),
        C::Or(items) => items.iter().any(|x| eval(m, x, i)),
        C::Not(x) => !eval(m, x, i),
        C::Cond { f, op, vals } => {
            let empty = || match f {
                F::Date(_) | F::Custom(_, FieldKind::DateTime) => time_of(m, i, f).is_none(),
                F::Custom(id, _) => i
                    .custom
                    .get(id)
                    .is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty)),
                _ => scalars(m, i, f).iter().all(String::is_empty),
            };
            match op {
                Op::Is => empty(),
                Op::IsNot => !empty(),
                Op::Eq | Op::In => eq_any(m, i, f, vals),
                Op::Ne | Op::NotIn => !empty() && !eq_any(m, i, f, vals),
                Op::Like => vals
                    .iter()
                    .all(|v| matches!(v, V::Str(s) if text_match(m, i, f, s))),
                Op::NotLike => vals
                    .iter()
                    .all(|v| matches!(v, V::Str(s) if !text_match(m, i, f, s))),
                Op::Gt => {
                    vals.first().and_then(|v| cmp_scalar(m, i, f, v)) == Some(Ordering::Greater)
                }
                Op::Ge => matches!(
                    vals.first().and_then(|v| cmp_scalar(m, i, f, v)),
                    Some(Ordering::Greater | Ordering::Equal)
                ),
                Op::Lt => vals.first().and_then(|v| cmp_scalar(m, i, f, v)) == Some(Ordering::Less),
                Op::Le => matches!(
                    vals.first().and_then(|v| cmp_scalar(m, i, f, v)),
                    Some(Ordering::Less | Ordering::Equal)
                ),
                Op::Was | Op::WasIn => was(m, i, f, vals),
                Op::WasNot | Op::WasNotIn => !was(m, i, f, vals),
                Op::Changed => !history_values(i, f).is_empty(),
            }
        }
    }
}

fn sort_key_cmp(m: &Model, f: &F, a: &Issue, b: &Issue) -> Ordering {
    match f {
        F::Key => key_num(&a.key).cmp(&key_num(&b.key)),
        F::Priority => priority_rank(m, &b.priority).cmp(&priority_rank(m, &a.priority)),
        F::Date(_) | F::Custom(_, FieldKind::DateTime) => time_of(m, a, f).cmp(&time_of(m, b, f)),
        F::User(_) => {
            let name = |i: &Issue| {
                scalars(m, i, f)
                    .first()
                    .and_then(|id| m.user(id))
                    .map(|u| u.display_name.clone())
            };
            name(a).cmp(&name(b))
        }
        _ => scalars(m, a, f)
            .first()
            .map(|s| s.to_lowercase())
            .cmp(&scalars(m, b, f).first().map(|s| s.to_lowercase())),
    }
}

impl Compiled {
    /// Whether the query restricts the results (Jira refuses unbounded `search/jql`).
    pub fn is_bounded(&self) -> bool {
        self.filter.is_some()
    }

    /// Whether `i` matches (visibility is checked by the caller).
    pub fn matches(&self, m: &Model, i: &Issue) -> bool {
        self.filter.as_ref().is_none_or(|c| eval(m, c, i))
    }

    /// Matching issue indexes the user may browse, sorted (default: newest first).
    pub fn run(&self, m: &Model) -> Vec<usize> {
        let visible = m.browsable_projects(&self.user);
        let mut hits: Vec<usize> = m
            .issues
            .iter()
            .enumerate()
            .filter(|(_, i)| visible.contains(&i.project_id) && self.matches(m, i))
            .map(|(n, _)| n)
            .collect();
        hits.sort_by(|&x, &y| {
            let (a, b) = (&m.issues[x], &m.issues[y]);
            for (f, asc) in &self.order {
                let o = sort_key_cmp(m, f, a, b);
                let o = if *asc { o } else { o.reverse() };
                if o != Ordering::Equal {
                    return o;
                }
            }
            y.cmp(&x)
        });
        hits
    }
}
