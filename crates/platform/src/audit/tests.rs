#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::json;

use super::entry::{inverted, new_id};
use super::log::older_than_prefixes;
use super::*;

#[test]
fn ids_sort_newest_first() {
    let older = new_id(1_700_000_000_000);
    let newer = new_id(1_700_000_000_001);
    assert!(newer < older, "{newer} sorts before {older}");
    assert_eq!(older.len(), 13 + 1 + 16);
    assert!(crate::store::validate_key(&format!("{KEY_PREFIX}{older}")).is_ok());
    // Out-of-range instants are clamped, never panic.
    assert_eq!(inverted(-5), "9999999999999");
    assert_eq!(inverted(i64::MAX), "0000000000000");
}

#[test]
fn redaction_drops_secret_members_at_any_depth() {
    let detail = json!({
        "field": "summary",
        "apiToken": "t0k3n",
        "nested": {"client_secret": "s", "Password": "p", "ok": [{"refresh-token": "r", "x": 1}]},
        "Authorization": "Basic abc",
        "session_cookie": "c",
        "private_key": "k",
    });
    let out = redact(&detail);
    let text = out.to_string();
    for secret in [
        "t0k3n", "\"s\"", "\"p\"", "\"r\"", "Basic", "\"c\"", "\"k\"",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert_eq!(out["field"], "summary");
    assert_eq!(out["nested"]["ok"][0]["x"], 1);
    assert!(is_secret_key("X-Api-Key"));
    assert!(!is_secret_key("summary"));
}

#[test]
fn large_or_deep_detail_is_bounded() {
    let big = json!({"text": "x".repeat(MAX_DETAIL_BYTES * 2)});
    let out = redact(&big);
    assert_eq!(out["truncated"], true);
    assert!(out.to_string().len() <= MAX_DETAIL_BYTES);
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!({"a": deep});
    }
    assert!(redact(&deep).to_string().contains('…'));
}

#[test]
fn purge_prefixes_cover_exactly_the_older_instants() {
    let cutoff = 1_700_000_000_000;
    let prefixes = older_than_prefixes(cutoff);
    let covered = |ms: i64| {
        let id = inverted(ms);
        prefixes.iter().any(|p| id.starts_with(p.as_str()))
    };
    for ms in [0, 1, cutoff - 86_400_000, cutoff - 2, cutoff - 1] {
        assert!(covered(ms), "{ms} must be purged");
    }
    for ms in [cutoff, cutoff + 1, cutoff + 86_400_000, 9_999_999_999_999] {
        assert!(!covered(ms), "{ms} must be kept");
    }
    assert!(prefixes.len() <= 1 + 13 * 9);
    assert!(older_than_prefixes(0).is_empty());
}

proptest! {
    #[test]
    fn purge_prefixes_agree_with_comparison(cutoff in 1i64..9_999_999_999_999, ms in 0i64..9_999_999_999_999) {
        let id = inverted(ms);
        let covered = older_than_prefixes(cutoff).iter().any(|p| id.starts_with(p.as_str()));
        prop_assert_eq!(covered, ms < cutoff);
    }

    #[test]
    fn csv_cells_never_start_a_formula(s in "\\PC{0,40}") {
        let mut out = String::new();
        csv_cell(&mut out, &s);
        let body = out.strip_prefix('"').unwrap_or(&out);
        prop_assert!(!body.starts_with(['=', '+', '-', '@', '\t', '\r']));
    }

    #[test]
    fn form_validation_never_panics(from in "\\PC{0,30}", limit in "\\PC{0,6}", action in "\\PC{0,20}") {
        let form = AuditForm { from, limit, action, ..AuditForm::default() };
        let _ = validate(&form);
    }
}

#[test]
fn form_validation_reports_each_field() {
    let form = AuditForm {
        from: "yesterday".into(),
        to: "2026-01-01".into(),
        action: "Sign In".into(),
        outcome: "maybe".into(),
        limit: "500".into(),
        q: "x".repeat(201),
        ..AuditForm::default()
    };
    let errors = validate(&form).unwrap_err();
    for f in ["from", "action", "outcome", "limit", "q"] {
        assert!(!errors.get(f).is_empty(), "{f}: {errors}");
    }
    let reversed = AuditForm {
        from: "2026-02-01".into(),
        to: "2026-01-01".into(),
        ..AuditForm::default()
    };
    assert!(!validate(&reversed).unwrap_err().get("to").is_empty());
    let ok = validate(&AuditForm {
        from: "2026-01-01".into(),
        to: "2026-01-01".into(),
        outcome: "denied".into(),
        action: "sign_in".into(),
        ..AuditForm::default()
    })
    .unwrap();
    let day = ok.filter.to_ms.unwrap() - ok.filter.from_ms.unwrap();
    assert_eq!(day, 86_400_000 - 1, "a date covers the whole UTC day");
    assert_eq!(ok.filter.outcome, Some(Outcome::Denied));
    assert_eq!(ok.limit, 50);
}

#[test]
fn ids_of_the_same_millisecond_stay_newest_first() {
    let first = new_id(1_700_000_000_000);
    let second = new_id(1_700_000_000_000);
    assert!(second < first, "{second} should sort before {first}");
    assert_eq!(first.len(), second.len());
}
