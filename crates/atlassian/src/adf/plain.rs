//! Plain text ⇄ ADF.

use super::{Doc, MAX_DEPTH, Node};

/// The normalisation [`Doc::from_plain_text`] applies, so that
/// `Doc::from_plain_text(s).to_plain_text() == normalize_plain_text(s)`:
///
/// 1. `\r\n` and lone `\r` become `\n`;
/// 2. leading and trailing `\n` are removed;
/// 3. runs of three or more `\n` become exactly two (one blank line).
///
/// Lines holding only spaces or tabs are *not* blank: they are kept as text.
pub fn normalize_plain_text(s: &str) -> String {
    let unified = s.replace("\r\n", "\n").replace('\r', "\n");
    let trimmed = unified.trim_matches('\n');
    let mut out = String::with_capacity(trimmed.len());
    let mut newlines = 0;
    for c in trimmed.chars() {
        if c == '\n' {
            newlines += 1;
            if newlines <= 2 {
                out.push('\n');
            }
        } else {
            newlines = 0;
            out.push(c);
        }
    }
    out
}

impl Doc {
    /// Builds a comment body: one paragraph per block of lines separated by
    /// empty lines, with a `hardBreak` for each single newline inside a block.
    /// See [`normalize_plain_text`] for what is normalised.
    pub fn from_plain_text(text: &str) -> Doc {
        let normalized = normalize_plain_text(text);
        let content = normalized
            .split("\n\n")
            .filter(|block| !block.is_empty())
            .map(|block| {
                let mut inline = Vec::new();
                for (i, line) in block.split('\n').enumerate() {
                    if i > 0 {
                        inline.push(Node::HardBreak);
                    }
                    if !line.is_empty() {
                        inline.push(Node::text(line));
                    }
                }
                Node::Paragraph { content: inline }
            })
            .collect();
        Doc::new(content)
    }

    /// Plain text of the document: blocks separated by a blank line, hard
    /// breaks as newlines, list items prefixed with `- ` / `1. `, table cells
    /// separated by ` | `, mentions/emoji/status by their text, dates as
    /// `YYYY-MM-DD`, media as `[attachment]`.
    pub fn to_plain_text(&self) -> String {
        blocks_text(&self.content, 0)
    }
}

fn blocks_text(nodes: &[Node], depth: usize) -> String {
    let parts: Vec<String> = nodes.iter().map(|n| block_text(n, depth)).collect();
    parts.join("\n\n")
}

fn block_text(node: &Node, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return String::new();
    }
    let d = depth + 1;
    match node {
        Node::Paragraph { content } | Node::Heading { content, .. } => inline_text(content, d),
        Node::CodeBlock { content, .. } => inline_text(content, d),
        Node::BulletList { content } => list_text(content, None, d),
        Node::OrderedList { attrs, content } => list_text(content, Some(attrs.order), d),
        Node::ListItem { content }
        | Node::Panel { content, .. }
        | Node::TableHeader { content, .. }
        | Node::TableCell { content, .. } => blocks_text(content, d),
        Node::Blockquote { content } => blocks_text(content, d)
            .split('\n')
            .map(|line| format!("> {line}"))
            .collect::<Vec<_>>()
            .join("\n"),
        Node::Rule => "---".to_owned(),
        Node::Table { content } => content
            .iter()
            .map(|row| block_text(row, d))
            .collect::<Vec<_>>()
            .join("\n"),
        Node::TableRow { content } => content
            .iter()
            .map(|cell| block_text(cell, d))
            .collect::<Vec<_>>()
            .join(" | "),
        Node::MediaSingle { content } => inline_text(content, d),
        other => inline_text(std::slice::from_ref(other), d),
    }
}

fn list_text(items: &[Node], start: Option<u32>, depth: usize) -> String {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let marker = match start {
            None => "- ".to_owned(),
            Some(n) => format!("{}. ", u64::from(n) + i as u64),
        };
        let text = block_text(item, depth);
        let indented = text.replace('\n', "\n  ");
        out.push(format!("{marker}{indented}"));
    }
    out.join("\n")
}

fn inline_text(nodes: &[Node], depth: usize) -> String {
    let mut out = String::new();
    for node in nodes {
        match node {
            Node::Text { text, .. } => out.push_str(text),
            Node::HardBreak => out.push('\n'),
            Node::Mention { attrs } => out.push_str(attrs.text.as_deref().unwrap_or("@unknown")),
            Node::Emoji { attrs } => {
                out.push_str(attrs.text.as_deref().unwrap_or(&attrs.short_name));
            }
            Node::InlineCard { attrs } => out.push_str(attrs.url.as_deref().unwrap_or_default()),
            Node::Status { attrs } => out.push_str(&attrs.text),
            Node::Date { attrs } => out.push_str(
                &super::html::date_from_millis(&attrs.timestamp)
                    .unwrap_or_else(|| attrs.timestamp.clone()),
            ),
            Node::Media { attrs } => {
                out.push_str(attrs.alt.as_deref().unwrap_or("[attachment]"));
            }
            Node::Unknown { text } => out.push_str(text),
            block => out.push_str(&block_text(block, depth)),
        }
    }
    out
}
