//! Shared helpers: attack-corpus loading and a minimal HTML safety checker.

use std::path::PathBuf;

/// Directory of the shared attack corpora: under `JSMKIT_SHARED_DIR` when set (the test
/// command sets it), else `shared/` beside the repository.
pub fn payload_dir() -> PathBuf {
    std::env::var_os("JSMKIT_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("data/payloads")
}

/// Lines of a corpus file, untrimmed. Fails loudly if the file is missing.
pub fn corpus(name: &str) -> Vec<String> {
    let path = payload_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "attack corpus {} cannot be read ({e}). These tests need the shared data folder \
             beside the repository (…/shared/data/payloads); they must not be skipped.",
            path.display()
        )
    });
    let text = String::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("corpus {} is not UTF-8: {e}", path.display()));
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    assert!(
        lines.len() > 100,
        "corpus {} looks truncated ({} lines)",
        path.display(),
        lines.len()
    );
    lines
}

const TAGS: &[&str] = &[
    "p",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "pre",
    "code",
    "blockquote",
    "hr",
    "div",
    "span",
    "a",
    "table",
    "tbody",
    "tr",
    "th",
    "td",
    "time",
    "strong",
    "em",
    "u",
    "s",
    "sub",
    "sup",
];

const ATTRS: &[&str] = &[
    "href",
    "rel",
    "title",
    "class",
    "start",
    "colspan",
    "rowspan",
    "datetime",
    "data-account-id",
];

/// Decodes the entities our renderer emits.
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Checks rendered HTML: only allow-listed tags and attributes, every
/// attribute double-quoted without raw `"`/`<`/`>`, no `on…`/`style`
/// attributes, `href` only http(s)/mailto, no `<script` anywhere.
pub fn assert_safe_html(html: &str) {
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "script tag in {html}"
    );
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after
            .find('>')
            .unwrap_or_else(|| panic!("unterminated tag in {html}"));
        check_tag(&after[..end], html);
        rest = &after[end + 1..];
    }
    assert!(!rest.contains('>'), "stray '>' in text of {html}");
}

fn check_tag(tag: &str, html: &str) {
    let body = tag.strip_prefix('/').unwrap_or(tag);
    let (name, mut attrs) = body.split_once(' ').unwrap_or((body, ""));
    assert!(TAGS.contains(&name), "tag {name:?} not allowed in {html}");
    while !attrs.is_empty() {
        let (attr, after) = attrs
            .split_once("=\"")
            .unwrap_or_else(|| panic!("malformed attributes {attrs:?} in {html}"));
        let (value, after) = after
            .split_once('"')
            .unwrap_or_else(|| panic!("unterminated attribute in {html}"));
        assert!(
            ATTRS.contains(&attr),
            "attribute {attr:?} not allowed in {html}"
        );
        assert!(
            !value.contains(['<', '>']),
            "raw angle bracket in attribute of {html}"
        );
        if attr == "href" {
            let href = unescape(value).to_ascii_lowercase();
            assert!(
                href.starts_with("http://")
                    || href.starts_with("https://")
                    || href.starts_with("mailto:"),
                "unsafe href {value:?} in {html}"
            );
        }
        attrs = after.strip_prefix(' ').unwrap_or(after);
        assert!(
            after.is_empty() || after.starts_with(' '),
            "attributes run together in {html}"
        );
    }
}
