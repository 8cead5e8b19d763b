//! The fuzzdb attack corpora through both query builders (as every kind of
//! value) and through the ADF renderer (text, links, mentions, code, attrs).

use atlassian::adf::{
    self, CodeBlockAttrs, DateAttrs, Doc, EmojiAttrs, InlineCardAttrs, LinkAttrs, Mark, MediaAttrs,
    MentionAttrs, Node, PanelAttrs, StatusAttrs, TextColorAttrs,
};
use atlassian::{aql, jql};

use crate::support::{assert_safe_html, corpus, unescape};

const SQLI: &str = "fuzzdb-sqli-xplatform.txt";
const XSS: &str = "fuzzdb-xss-other.txt";

fn all_lines() -> Vec<String> {
    let mut lines = corpus(SQLI);
    lines.extend(corpus(XSS));
    lines
}

#[test]
fn corpora_cannot_change_jql_structure() {
    let lines = all_lines();
    for (i, line) in lines.iter().enumerate() {
        let other = &lines[(i + 1) % lines.len()];
        for (a, b) in [(line, other), (other, line)] {
            let (q, want) = crate::jql::template(a, b, line, other);
            let text = q.to_jql();
            assert_eq!(
                jql::verify::parse_emitted(text.as_str()),
                Ok(want),
                "payload {line:?}"
            );
        }
    }
}

#[test]
fn corpora_cannot_change_aql_structure() {
    let lines = all_lines();
    for (i, line) in lines.iter().enumerate() {
        let other = &lines[(i + 1) % lines.len()];
        let (q, want) = crate::aql::template(line, other, line)
            .unwrap_or_else(|e| panic!("payload {line:?} rejected: {e}"));
        let text = q.to_aql();
        assert_eq!(
            aql::verify::parse_emitted(text.as_str()),
            Ok(want),
            "payload {line:?}"
        );
    }
}

fn placements(p: &str) -> Vec<Node> {
    let link = |href: &str| Mark::Link {
        attrs: LinkAttrs {
            href: href.into(),
            title: Some(p.into()),
        },
    };
    vec![
        Node::paragraph(vec![Node::marked(p, vec![Mark::Strong, link(p)])]),
        Node::paragraph(vec![Node::marked("click", vec![link(p)])]),
        Node::paragraph(vec![Node::marked(
            "js",
            vec![link(&format!("javascript:{p}"))],
        )]),
        Node::paragraph(vec![Node::marked(
            p,
            vec![Mark::TextColor {
                attrs: TextColorAttrs { color: p.into() },
            }],
        )]),
        Node::paragraph(vec![Node::Mention {
            attrs: MentionAttrs {
                id: p.into(),
                text: Some(p.into()),
            },
        }]),
        Node::CodeBlock {
            attrs: CodeBlockAttrs {
                language: Some(p.into()),
            },
            content: vec![Node::text(p)],
        },
        Node::Panel {
            attrs: PanelAttrs {
                panel_type: p.into(),
            },
            content: vec![Node::paragraph(vec![Node::text(p)])],
        },
        Node::paragraph(vec![
            Node::Status {
                attrs: StatusAttrs {
                    text: p.into(),
                    color: p.into(),
                },
            },
            Node::Emoji {
                attrs: EmojiAttrs {
                    short_name: p.into(),
                    id: Some(p.into()),
                    text: Some(p.into()),
                },
            },
            Node::InlineCard {
                attrs: InlineCardAttrs {
                    url: Some(p.into()),
                },
            },
            Node::Date {
                attrs: DateAttrs {
                    timestamp: p.into(),
                },
            },
            Node::Unknown { text: p.into() },
        ]),
        Node::MediaSingle {
            content: vec![Node::Media {
                attrs: MediaAttrs {
                    alt: Some(p.into()),
                },
            }],
        },
    ]
}

#[test]
fn xss_corpus_renders_inert_html() {
    for line in corpus(XSS).iter().chain(corpus(SQLI).iter()) {
        let html = adf::render_html(&Doc::new(placements(line)));
        assert_safe_html(&html);
        // The text placement survives verbatim (after unescaping).
        let para = adf::render_html(&Doc::new(vec![Node::paragraph(vec![Node::text(
            line.as_str(),
        )])]));
        let inner = para
            .strip_prefix("<p>")
            .and_then(|r| r.strip_suffix("</p>"))
            .unwrap();
        assert_eq!(unescape(inner), line.replace('\0', "\u{fffd}"));
    }
}

#[test]
fn xss_corpus_in_json_documents_renders_inert_html() {
    for line in corpus(XSS) {
        let doc = serde_json::json!({
            "type": "doc", "version": 1,
            "content": [
                {"type": "paragraph", "content": [
                    {"type": "text", "text": line, "marks": [{"type": "link", "attrs": {"href": line}}, {"type": line}]},
                    {"type": line, "attrs": {"onload": line}, "content": [{"type": "text", "text": line}]}
                ]},
                {"type": "heading", "attrs": {"level": line}, "content": [{"type": "text", "text": line}]},
                {"type": "panel", "attrs": {"panelType": line, "style": line}, "content": []}
            ]
        });
        let doc: Doc = serde_json::from_value(doc).unwrap();
        assert_safe_html(&adf::render_html(&doc));
    }
}
