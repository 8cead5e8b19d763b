//! Text search (`~`, `!~`): Lucene-style words or phrases, matched case-insensitively.

use super::eval::{F, scalars};
use crate::model::render::adf_text;
use crate::model::{Issue, Model};

pub(super) fn text_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(_) => adf_text(v),
        other => other.to_string(),
    }
}

fn lucene_words(q: &str) -> (bool, Vec<String>) {
    let mut out = String::new();
    let mut chars = q.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    let t = out.trim();
    let phrase =
        t.len() >= 2 && t.starts_with('"') && t.ends_with('"') && !q.trim().ends_with("\\\"");
    if phrase {
        return (true, vec![t[1..t.len() - 1].to_lowercase()]);
    }
    (
        false,
        t.split_whitespace()
            .map(|w| w.trim_end_matches('*').to_lowercase())
            .filter(|w| !w.is_empty())
            .collect(),
    )
}

pub(super) fn text_match(m: &Model, i: &Issue, f: &F, q: &str) -> bool {
    let hay = match f {
        F::Text("text") => {
            let mut s = format!(
                "{} {}",
                i.summary,
                i.description.as_ref().map(adf_text).unwrap_or_default()
            );
            for c in &i.comments {
                s.push(' ');
                s.push_str(&adf_text(&c.body));
            }
            for v in i.custom.values() {
                if let Some(t) = v.as_str() {
                    s.push(' ');
                    s.push_str(t);
                }
            }
            s
        }
        F::Text("comment") => i
            .comments
            .iter()
            .map(|c| adf_text(&c.body))
            .collect::<Vec<_>>()
            .join(" "),
        _ => scalars(m, i, f).join(" "),
    }
    .to_lowercase();
    let (_, words) = lucene_words(q);
    !words.is_empty() && words.iter().all(|w| hay.contains(w.as_str()))
}
