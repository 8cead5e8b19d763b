//! CSV export of audit entries: RFC 4180 (CRLF line ends, fields quoted when they contain
//! `"`, `,`, CR or LF, quotes doubled) and safe to open in a spreadsheet: a cell starting
//! with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'` so it is never read as a formula.

use std::fmt::Write as _;

use super::entry::{ActorKind, AuditEntry};

const COLUMNS: [&str; 11] = [
    "id",
    "at",
    "site",
    "actor_kind",
    "actor_id",
    "actor",
    "action",
    "target",
    "outcome",
    "request_id",
    "detail",
];

/// The header line.
pub fn header() -> String {
    let mut out = String::new();
    push_row(&mut out, COLUMNS.iter().copied());
    out
}

/// Appends one entry as a CSV line.
pub fn write_row(out: &mut String, e: &AuditEntry) {
    let at = e.at().to_string();
    let kind = match e.actor.kind {
        ActorKind::User => "user",
        ActorKind::ApiKey => "api_key",
        ActorKind::System => "system",
    };
    let detail = e.detail.to_string();
    push_row(
        out,
        [
            e.id.as_str(),
            at.as_str(),
            e.site.as_str(),
            kind,
            e.actor.id.as_str(),
            e.actor.display.as_str(),
            e.action.as_str(),
            e.target.as_str(),
            e.outcome.as_str(),
            e.request_id.as_deref().unwrap_or(""),
            detail.as_str(),
        ],
    );
}

fn push_row<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, cell);
    }
    out.push_str("\r\n");
}

/// One cell: neutralised against formula injection, then quoted per RFC 4180 if needed.
pub fn push_cell(out: &mut String, cell: &str) {
    let guarded = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = cell.contains(['"', ',', '\r', '\n']);
    if needs_quotes {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    for c in cell.chars() {
        if c == '"' {
            out.push_str("\"\"");
        } else {
            let _ = out.write_char(c);
        }
    }
    if needs_quotes {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(s: &str) -> String {
        let mut out = String::new();
        push_cell(&mut out, s);
        out
    }

    #[test]
    fn rfc4180_quoting() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("cr\rhere"), "\"cr\rhere\"");
    }

    #[test]
    fn formula_injection_is_neutralised() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+SUM(A1)"), "'+SUM(A1)");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@cmd"), "'@cmd");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(
            cell("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn header_is_one_crlf_line() {
        let h = header();
        assert!(h.starts_with("id,at,site,"));
        assert!(h.ends_with("detail\r\n"));
        assert_eq!(h.matches("\r\n").count(), 1);
    }
}
