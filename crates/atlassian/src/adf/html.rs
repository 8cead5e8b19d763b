//! ADF → HTML that is safe to embed in our pages.
//!
//! Guarantees: every text and attribute value is HTML-escaped; only known
//! nodes and marks produce tags; links get an `href` only for `http:`,
//! `https:` and `mailto:` targets (see [`safe_href`]) and always carry
//! `rel="noopener noreferrer nofollow"`; no `style` attributes are emitted —
//! panel types, status and text colours become classes from fixed lists.
//! Emitted attributes: `href`, `rel`, `title`, `class`, `start`, `colspan`,
//! `rowspan`, `datetime`, `data-account-id`.

use std::fmt::Write as _;

use super::{Doc, MAX_DEPTH, Mark, Node, SubSup};

const LINK_REL: &str = "noopener noreferrer nofollow";

const PANEL_TYPES: &[&str] = &[
    "info", "note", "tip", "warning", "error", "success", "custom",
];

const STATUS_COLORS: &[&str] = &["neutral", "purple", "blue", "red", "yellow", "green"];

/// ADF text colour palette → class suffix.
const TEXT_COLORS: &[(&str, &str)] = &[
    ("#172b4d", "dark-gray"),
    ("#97a0af", "light-gray"),
    ("#6554c0", "purple"),
    ("#00b8d9", "teal"),
    ("#36b37e", "green"),
    ("#ff5630", "red"),
    ("#ff991f", "orange"),
    ("#0747a6", "dark-blue"),
    ("#403294", "dark-purple"),
    ("#008da6", "dark-teal"),
    ("#006644", "dark-green"),
    ("#bf2600", "dark-red"),
    ("#ff8b00", "dark-orange"),
    ("#4c9aff", "blue"),
    ("#b3d4ff", "light-blue"),
    ("#c0b6f2", "light-purple"),
    ("#79e2f2", "light-teal"),
    ("#abf5d1", "light-green"),
    ("#ffbdad", "light-red"),
    ("#ffe380", "light-yellow"),
    ("#ffc400", "yellow"),
    ("#ffffff", "white"),
];

/// Renders `doc` as an HTML fragment (see the module docs for guarantees).
pub fn render_html(doc: &Doc) -> String {
    let mut out = String::new();
    nodes(&mut out, &doc.content, 0);
    out
}

/// Returns `href` if it is an absolute `http(s)://` or `mailto:` URL with no
/// whitespace or control characters anywhere; `None` otherwise.
pub fn safe_href(href: &str) -> Option<&str> {
    if href.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (scheme, rest) = href.split_once(':')?;
    let ok = match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => rest.len() > 2 && rest.starts_with("//"),
        "mailto" => !rest.is_empty(),
        _ => false,
    };
    ok.then_some(href)
}

/// Escapes `s` for HTML text and double-quoted attribute values.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape(out, value);
    out.push('"');
}

fn nodes(out: &mut String, list: &[Node], depth: usize) {
    for n in list {
        node(out, n, depth);
    }
}

fn wrap(out: &mut String, tag: &str, class: Option<&str>, content: &[Node], depth: usize) {
    out.push('<');
    out.push_str(tag);
    if let Some(class) = class {
        attr(out, "class", class);
    }
    out.push('>');
    nodes(out, content, depth + 1);
    let _ = write!(out, "</{tag}>");
}

fn node(out: &mut String, n: &Node, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match n {
        Node::Paragraph { content } => wrap(out, "p", None, content, depth),
        Node::Text { text, marks } => text_node(out, text, marks),
        Node::HardBreak => out.push_str("<br>"),
        Node::Heading { attrs, content } => {
            let tag = format!("h{}", attrs.level.clamp(1, 6));
            wrap(out, &tag, None, content, depth);
        }
        Node::BulletList { content } => wrap(out, "ul", None, content, depth),
        Node::OrderedList { attrs, content } => {
            out.push_str("<ol");
            if attrs.order != 1 {
                attr(out, "start", &attrs.order.to_string());
            }
            out.push('>');
            nodes(out, content, depth + 1);
            out.push_str("</ol>");
        }
        Node::ListItem { content } => wrap(out, "li", None, content, depth),
        Node::CodeBlock { attrs, content } => {
            out.push_str("<pre><code");
            if let Some(lang) = attrs.language.as_deref().filter(|l| is_language(l)) {
                attr(out, "class", &format!("language-{lang}"));
            }
            out.push('>');
            for child in content {
                match child {
                    Node::Text { text, .. } => escape(out, text),
                    Node::HardBreak => out.push('\n'),
                    Node::Unknown { text } => escape(out, text),
                    _ => {}
                }
            }
            out.push_str("</code></pre>");
        }
        Node::Blockquote { content } => wrap(out, "blockquote", None, content, depth),
        Node::Rule => out.push_str("<hr>"),
        Node::Panel { attrs, content } => {
            let class = match PANEL_TYPES.iter().find(|t| **t == attrs.panel_type) {
                Some(t) => format!("adf-panel adf-panel-{t}"),
                None => "adf-panel".to_owned(),
            };
            wrap(out, "div", Some(&class), content, depth);
        }
        Node::Mention { attrs } => {
            out.push_str("<span class=\"adf-mention\"");
            attr(out, "data-account-id", &attrs.id);
            out.push('>');
            escape(out, attrs.text.as_deref().unwrap_or("@unknown"));
            out.push_str("</span>");
        }
        Node::Emoji { attrs } => {
            out.push_str("<span class=\"adf-emoji\"");
            attr(out, "title", &attrs.short_name);
            out.push('>');
            escape(out, attrs.text.as_deref().unwrap_or(&attrs.short_name));
            out.push_str("</span>");
        }
        Node::InlineCard { attrs } => {
            let url = attrs.url.as_deref().unwrap_or_default();
            match safe_href(url) {
                Some(href) => {
                    out.push_str("<a class=\"adf-inline-card\"");
                    attr(out, "href", href);
                    attr(out, "rel", LINK_REL);
                    out.push('>');
                    escape(out, url);
                    out.push_str("</a>");
                }
                None => {
                    out.push_str("<span class=\"adf-inline-card\">");
                    escape(out, url);
                    out.push_str("</span>");
                }
            }
        }
        Node::Table { content } => {
            out.push_str("<table class=\"adf-table\"><tbody>");
            nodes(out, content, depth + 1);
            out.push_str("</tbody></table>");
        }
        Node::TableRow { content } => wrap(out, "tr", None, content, depth),
        Node::TableHeader { attrs, content } | Node::TableCell { attrs, content } => {
            let tag = if matches!(n, Node::TableHeader { .. }) {
                "th"
            } else {
                "td"
            };
            out.push('<');
            out.push_str(tag);
            for (name, span) in [("colspan", attrs.colspan), ("rowspan", attrs.rowspan)] {
                if let Some(span) = span.filter(|s| (2..=1000).contains(s)) {
                    attr(out, name, &span.to_string());
                }
            }
            out.push('>');
            nodes(out, content, depth + 1);
            let _ = write!(out, "</{tag}>");
        }
        Node::MediaSingle { content } => wrap(out, "div", Some("adf-media-single"), content, depth),
        Node::Media { attrs } => {
            out.push_str("<span class=\"adf-media\">");
            escape(out, attrs.alt.as_deref().unwrap_or("[attachment]"));
            out.push_str("</span>");
        }
        Node::Status { attrs } => {
            let class = match STATUS_COLORS.iter().find(|c| **c == attrs.color) {
                Some(c) => format!("adf-status adf-status-{c}"),
                None => "adf-status".to_owned(),
            };
            out.push_str("<span");
            attr(out, "class", &class);
            out.push('>');
            escape(out, &attrs.text);
            out.push_str("</span>");
        }
        Node::Date { attrs } => match date_from_millis(&attrs.timestamp) {
            Some(date) => {
                out.push_str("<time");
                attr(out, "datetime", &date);
                out.push('>');
                escape(out, &date);
                out.push_str("</time>");
            }
            None => {
                out.push_str("<span class=\"adf-date\">");
                escape(out, &attrs.timestamp);
                out.push_str("</span>");
            }
        },
        Node::Unknown { text } => escape(out, text),
    }
}

fn is_language(lang: &str) -> bool {
    (1..=32).contains(&lang.len())
        && lang
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+#-_.".contains(c))
}

fn text_node(out: &mut String, text: &str, marks: &[Mark]) {
    let mut close: Vec<&str> = Vec::new();
    let href = marks.iter().find_map(|m| match m {
        Mark::Link { attrs } => Some(attrs),
        _ => None,
    });
    if let Some(link) = href
        && let Some(href) = safe_href(&link.href)
    {
        out.push_str("<a");
        attr(out, "href", href);
        if let Some(title) = &link.title {
            attr(out, "title", title);
        }
        attr(out, "rel", LINK_REL);
        out.push('>');
        close.push("</a>");
    }
    let simple = [
        (Mark::Strong, "<strong>", "</strong>"),
        (Mark::Em, "<em>", "</em>"),
        (Mark::Underline, "<u>", "</u>"),
        (Mark::Strike, "<s>", "</s>"),
        (Mark::Code, "<code>", "</code>"),
    ];
    for (mark, open, end) in simple {
        if marks.contains(&mark) {
            out.push_str(open);
            close.push(end);
        }
    }
    let subsup = marks.iter().find_map(|m| match m {
        Mark::Subsup { attrs } => Some(attrs.kind),
        _ => None,
    });
    if let Some(kind) = subsup {
        let (open, end) = match kind {
            SubSup::Sub => ("<sub>", "</sub>"),
            SubSup::Sup => ("<sup>", "</sup>"),
        };
        out.push_str(open);
        close.push(end);
    }
    let color = marks.iter().find_map(|m| match m {
        Mark::TextColor { attrs } => {
            let wanted = attrs.color.to_ascii_lowercase();
            TEXT_COLORS
                .iter()
                .find(|(hex, _)| *hex == wanted)
                .map(|(_, name)| *name)
        }
        _ => None,
    });
    if let Some(name) = color {
        let _ = write!(out, "<span class=\"adf-color-{name}\">");
        close.push("</span>");
    }
    escape(out, text);
    for end in close.iter().rev() {
        out.push_str(end);
    }
}

/// `YYYY-MM-DD` (UTC) for a millisecond timestamp, or `None` if it is not an
/// integer within ±100 000 years.
pub(crate) fn date_from_millis(timestamp: &str) -> Option<String> {
    let millis: i64 = timestamp.trim().parse().ok()?;
    let days = millis.div_euclid(86_400_000);
    if days.abs() > 36_500_000 {
        return None;
    }
    // Civil-from-days (proleptic Gregorian), after H. Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(format!("{year:04}-{month:02}-{day:02}"))
}
