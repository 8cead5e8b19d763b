//! Atlassian Document Format (ADF): serde types, plain-text conversion and
//! safe HTML rendering.
//!
//! Deserialisation is tolerant: a node or mark whose `type` is unknown, or
//! whose known shape does not match, becomes [`Node::Unknown`] (keeping only
//! the plain text of its descendant `text` nodes) or [`Mark::Unknown`]
//! (keeping nothing). Unknown variants serialise with type `"unknown"`, so do
//! not send documents that contain them back to Jira.
//!
//! Outgoing documents (comment bodies) are built with
//! [`Doc::from_plain_text`]; incoming ones are shown with [`render_html`].

use serde::{Deserialize, Deserializer, Serialize};

mod html;
mod plain;

pub use html::{render_html, safe_href};
pub use plain::normalize_plain_text;

/// Nesting deeper than this is not rendered or converted (stack safety).
pub const MAX_DEPTH: usize = 100;

/// A whole ADF document: `{"type":"doc","version":1,"content":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "doc")]
pub struct Doc {
    /// ADF version (always 1 today).
    #[serde(default = "one")]
    pub version: u32,
    /// Top-level block nodes.
    #[serde(default, deserialize_with = "de_nodes")]
    pub content: Vec<Node>,
}

fn one() -> u32 {
    1
}

impl Doc {
    /// A version-1 document with the given blocks.
    pub fn new(content: Vec<Node>) -> Self {
        Doc {
            version: 1,
            content,
        }
    }
}

impl Default for Doc {
    fn default() -> Self {
        Doc::new(Vec::new())
    }
}

/// An ADF node. Container nodes hold `content`; leaf nodes hold `attrs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Node {
    /// Paragraph of inline nodes.
    Paragraph {
        /// Inline nodes.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// A run of text with marks.
    Text {
        /// The text.
        text: String,
        /// Formatting marks.
        #[serde(
            default,
            skip_serializing_if = "Vec::is_empty",
            deserialize_with = "de_marks"
        )]
        marks: Vec<Mark>,
    },
    /// Line break inside a paragraph.
    HardBreak,
    /// Heading of inline nodes.
    Heading {
        /// Level 1–6.
        attrs: HeadingAttrs,
        /// Inline nodes.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// Bulleted list of `listItem`s.
    BulletList {
        /// List items.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// Numbered list of `listItem`s.
    OrderedList {
        /// Start number.
        #[serde(default)]
        attrs: OrderedListAttrs,
        /// List items.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// List item of block nodes.
    ListItem {
        /// Blocks.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// Code block of text nodes.
    CodeBlock {
        /// Language.
        #[serde(default)]
        attrs: CodeBlockAttrs,
        /// Text nodes.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// Quotation of blocks.
    Blockquote {
        /// Blocks.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// Horizontal rule.
    Rule,
    /// Info/note/warning… panel of blocks.
    Panel {
        /// Panel type.
        #[serde(default)]
        attrs: PanelAttrs,
        /// Blocks.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// User mention.
    Mention {
        /// Account id and display text.
        attrs: MentionAttrs,
    },
    /// Emoji.
    Emoji {
        /// Short name and text.
        attrs: EmojiAttrs,
    },
    /// Smart link.
    InlineCard {
        /// URL.
        attrs: InlineCardAttrs,
    },
    /// Table of rows.
    Table {
        /// Rows.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// Table row of cells.
    TableRow {
        /// Cells.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// Header cell of blocks.
    TableHeader {
        /// Spans.
        #[serde(default)]
        attrs: CellAttrs,
        /// Blocks.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// Data cell of blocks.
    TableCell {
        /// Spans.
        #[serde(default)]
        attrs: CellAttrs,
        /// Blocks.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// Media container (placeholder).
    MediaSingle {
        /// Media nodes.
        #[serde(default, deserialize_with = "de_nodes")]
        content: Vec<Node>,
    },
    /// Attachment (placeholder: only the alt text is kept).
    Media {
        /// Alt text.
        #[serde(default)]
        attrs: MediaAttrs,
    },
    /// Status lozenge.
    Status {
        /// Text and colour.
        attrs: StatusAttrs,
    },
    /// Date (timestamp in milliseconds).
    Date {
        /// Timestamp.
        attrs: DateAttrs,
    },
    /// A node that was not understood; only its plain text is kept.
    #[serde(skip_deserializing)]
    Unknown {
        /// Concatenated text of the node's descendant `text` nodes.
        text: String,
    },
}

impl Node {
    /// A plain text node.
    pub fn text(text: impl Into<String>) -> Self {
        Node::Text {
            text: text.into(),
            marks: Vec::new(),
        }
    }
    /// A text node with marks.
    pub fn marked(text: impl Into<String>, marks: Vec<Mark>) -> Self {
        Node::Text {
            text: text.into(),
            marks,
        }
    }
    /// A paragraph.
    pub fn paragraph(content: Vec<Node>) -> Self {
        Node::Paragraph { content }
    }

    /// Tolerant conversion from JSON (never fails; see module docs).
    pub fn from_json(value: &serde_json::Value) -> Self {
        Node::deserialize(value).unwrap_or_else(|_| Node::Unknown {
            text: text_of(value),
        })
    }
}

/// `heading` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadingAttrs {
    /// Level (rendered clamped to 1–6).
    pub level: u8,
}

/// `orderedList` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderedListAttrs {
    /// First number.
    #[serde(default = "one")]
    pub order: u32,
}

impl Default for OrderedListAttrs {
    fn default() -> Self {
        OrderedListAttrs { order: 1 }
    }
}

/// `codeBlock` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CodeBlockAttrs {
    /// Language name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// `panel` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PanelAttrs {
    /// `info`, `note`, `tip`, `warning`, `error`, `success` or `custom`.
    #[serde(default)]
    pub panel_type: String,
}

/// `mention` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentionAttrs {
    /// Account id.
    pub id: String,
    /// Display text, usually `@Name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `emoji` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmojiAttrs {
    /// Short name such as `:smile:`.
    pub short_name: String,
    /// Emoji id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unicode text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `inlineCard` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineCardAttrs {
    /// Target URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `tableHeader` / `tableCell` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CellAttrs {
    /// Column span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colspan: Option<u32>,
    /// Row span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rowspan: Option<u32>,
}

/// `media` attributes (placeholder).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MediaAttrs {
    /// Alt text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
}

/// `status` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusAttrs {
    /// Label.
    pub text: String,
    /// `neutral`, `purple`, `blue`, `red`, `yellow` or `green`.
    #[serde(default)]
    pub color: String,
}

/// `date` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateAttrs {
    /// Milliseconds since the Unix epoch, as a string (numbers are accepted).
    #[serde(deserialize_with = "de_stringish")]
    pub timestamp: String,
}

/// A text mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Mark {
    /// Bold.
    Strong,
    /// Italic.
    Em,
    /// Inline code.
    Code,
    /// Strike-through.
    Strike,
    /// Underline.
    Underline,
    /// Hyperlink.
    Link {
        /// Target and title.
        attrs: LinkAttrs,
    },
    /// Subscript / superscript.
    Subsup {
        /// Which one.
        attrs: SubsupAttrs,
    },
    /// Text colour.
    TextColor {
        /// `#rrggbb`.
        attrs: TextColorAttrs,
    },
    /// A mark that was not understood (ignored when rendering).
    #[serde(skip_deserializing)]
    Unknown,
}

/// `link` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkAttrs {
    /// Target URL (rendered only for http, https and mailto).
    pub href: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `subsup` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsupAttrs {
    /// `sub` or `sup`.
    #[serde(rename = "type")]
    pub kind: SubSup,
}

/// Subscript or superscript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubSup {
    /// Subscript.
    Sub,
    /// Superscript.
    Sup,
}

/// `textColor` attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextColorAttrs {
    /// `#rrggbb`.
    pub color: String,
}

fn de_nodes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Node>, D::Error> {
    let values = Vec::<serde_json::Value>::deserialize(d)?;
    Ok(values.iter().map(Node::from_json).collect())
}

fn de_marks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Mark>, D::Error> {
    let values = Vec::<serde_json::Value>::deserialize(d)?;
    Ok(values
        .iter()
        .map(|v| Mark::deserialize(v).unwrap_or(Mark::Unknown))
        .collect())
}

fn de_stringish<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("expected a string or number")),
    }
}

/// Plain text of the `text` nodes under `value`, in document order
/// (iterative, so any nesting depth is safe).
fn text_of(value: &serde_json::Value) -> String {
    let mut out = String::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        if v.get("type").and_then(|t| t.as_str()) == Some("text")
            && let Some(text) = v.get("text").and_then(|t| t.as_str())
        {
            out.push_str(text);
        }
        if let Some(children) = v.get("content").and_then(|c| c.as_array()) {
            stack.extend(children.iter().rev());
        }
    }
    out
}
