//! In-app feedback: a rating and a text, stored locally (never sent anywhere), listed and
//! exported as CSV by admins.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One piece of feedback as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// When it was sent.
    pub at: Timestamp,
    /// Who sent it (account id).
    pub account_id: String,
    /// Their display name at the time.
    pub display_name: String,
    /// 1 (bad) to 5 (great).
    pub rating: u8,
    /// What they wrote.
    pub text: String,
    /// The page it was sent from (a path).
    pub page: String,
}

/// Problems of a form as (field, reason).
pub type Problems = Vec<(&'static str, String)>;

/// Longest feedback text.
pub const MAX_TEXT: usize = 4000;

/// Checks a submitted rating, text and page; returns the clean values or the problems.
pub fn check_feedback(
    rating: &str,
    text: &str,
    page: &str,
) -> Result<(u8, String, String), Problems> {
    let mut errors = Vec::new();
    let rating = match rating.trim().parse::<u8>() {
        Ok(r) if (1..=5).contains(&r) => r,
        _ => {
            errors.push(("rating", "choose a rating from 1 to 5".to_owned()));
            0
        }
    };
    let text = text.trim();
    if text.is_empty() {
        errors.push(("text", "tell us what you think".to_owned()));
    } else if text.chars().count() > MAX_TEXT {
        errors.push(("text", format!("at most {MAX_TEXT} characters")));
    }
    // Only a local path is kept: anything else becomes "/".
    let page = if page.starts_with('/')
        && !page.starts_with("//")
        && !page.contains('\\')
        && page.len() <= 300
    {
        page.to_owned()
    } else {
        "/".to_owned()
    };
    if errors.is_empty() {
        Ok((rating, text.to_owned(), page))
    } else {
        Err(errors)
    }
}

/// Filters of the admin list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FeedbackFilter {
    /// Only this rating (1–5), empty for all.
    pub rating: String,
    /// Only entries whose text contains this (case-insensitive).
    pub q: String,
}

impl FeedbackFilter {
    /// Whether `f` passes.
    pub fn matches(&self, f: &Feedback) -> bool {
        let rating_ok = self.rating.parse::<u8>().map_or(true, |r| r == f.rating);
        let q = self.q.trim().to_lowercase();
        rating_ok && (q.is_empty() || f.text.to_lowercase().contains(&q))
    }
}

/// A CSV cell: quoted, quotes doubled, and a leading `=`, `+`, `-`, `@`, tab or CR
/// neutralised with an apostrophe so spreadsheets do not run it as a formula.
pub fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

/// The CSV export (header row, then one row per entry, CRLF line ends).
pub fn to_csv(items: &[Feedback]) -> String {
    let mut out = String::from("\"time\",\"account_id\",\"name\",\"rating\",\"page\",\"text\"\r\n");
    for f in items {
        let row = [
            f.at.to_string(),
            f.account_id.clone(),
            f.display_name.clone(),
            f.rating.to_string(),
            f.page.clone(),
            f.text.clone(),
        ];
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_input() {
        assert_eq!(
            check_feedback("4", " nice ", "/techdesk"),
            Ok((4, "nice".into(), "/techdesk".into()))
        );
        assert_eq!(check_feedback("5", "x", "https://evil").unwrap().2, "/");
        assert_eq!(check_feedback("5", "x", "//evil").unwrap().2, "/");
        let errs = check_feedback("9", " ", "/").unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(check_feedback("1", &"a".repeat(MAX_TEXT + 1), "/").is_err());
    }

    #[test]
    fn csv_guards_formulas_and_quotes() {
        assert_eq!(csv_cell("=1+1"), "\"'=1+1\"");
        assert_eq!(csv_cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_cell("-2"), "\"'-2\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        let f = Feedback {
            at: Timestamp::from_second(0).unwrap(),
            account_id: "a1".into(),
            display_name: "Leo".into(),
            rating: 5,
            text: "=HYPERLINK(\"x\")\nline".into(),
            page: "/techdesk".into(),
        };
        let csv = to_csv(&[f]);
        assert!(csv.starts_with("\"time\""));
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\nline\""));
    }

    #[test]
    fn filters() {
        let f = Feedback {
            at: Timestamp::from_second(0).unwrap(),
            account_id: "a".into(),
            display_name: "n".into(),
            rating: 2,
            text: "Slow Queue".into(),
            page: "/".into(),
        };
        assert!(FeedbackFilter::default().matches(&f));
        let by = |rating: &str, q: &str| FeedbackFilter {
            rating: rating.into(),
            q: q.into(),
        };
        assert!(by("2", "queue").matches(&f));
        assert!(!by("3", "").matches(&f));
        assert!(!by("", "fast").matches(&f));
    }
}
