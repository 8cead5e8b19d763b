//! ADF: serde tolerance, plain text, HTML snapshot and safety.

use atlassian::adf::{self, Doc, Mark, Node, normalize_plain_text, render_html, safe_href};
use proptest::prelude::*;
use serde_json::json;

use crate::support::assert_safe_html;

fn rich_json() -> serde_json::Value {
    json!({
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Outage <b>"}]},
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Hi "},
                {"type": "mention", "attrs": {"id": "5b10:abc", "text": "@Jane", "accessLevel": ""}},
                {"type": "text", "text": ", see "},
                {"type": "text", "text": "docs", "marks": [
                    {"type": "strong"}, {"type": "link", "attrs": {"href": "https://example.com/a?b=1&c=\"2\"", "title": "T"}}
                ]},
                {"type": "hardBreak"},
                {"type": "text", "text": "bad", "marks": [{"type": "link", "attrs": {"href": "javascript:alert(1)"}}, {"type": "em"}]},
                {"type": "text", "text": " x", "marks": [{"type": "code"}, {"type": "strike"}, {"type": "underline"}]},
                {"type": "text", "text": "2", "marks": [{"type": "subsup", "attrs": {"type": "sup"}}]},
                {"type": "text", "text": "red", "marks": [{"type": "textColor", "attrs": {"color": "#FF5630"}}]},
                {"type": "text", "text": "odd", "marks": [{"type": "textColor", "attrs": {"color": "red; x:expression(1)"}}, {"type": "annotation", "attrs": {"id": "x"}}]},
                {"type": "emoji", "attrs": {"shortName": ":smile:", "id": "1f604", "text": "😄"}},
                {"type": "status", "attrs": {"text": "DONE", "color": "green", "localId": "x"}},
                {"type": "date", "attrs": {"timestamp": "1700000000000"}},
                {"type": "inlineCard", "attrs": {"url": "https://jira.example.com/browse/HELP-1"}}
            ]},
            {"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]},
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "two"}]}]}
            ]},
            {"type": "orderedList", "attrs": {"order": 3}, "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "three"}]}]}
            ]},
            {"type": "codeBlock", "attrs": {"language": "rust"}, "content": [{"type": "text", "text": "fn main() { \"<>\" }"}]},
            {"type": "blockquote", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "quoted"}]}]},
            {"type": "rule"},
            {"type": "panel", "attrs": {"panelType": "warning"}, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "careful"}]}]},
            {"type": "table", "attrs": {"isNumberColumnEnabled": false}, "content": [
                {"type": "tableRow", "content": [
                    {"type": "tableHeader", "attrs": {"colspan": 2, "background": "#fff"}, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "H"}]}]}
                ]},
                {"type": "tableRow", "content": [
                    {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}]},
                    {"type": "tableCell", "attrs": {"rowspan": 1}, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "b"}]}]}
                ]}
            ]},
            {"type": "mediaSingle", "attrs": {"layout": "center"}, "content": [
                {"type": "media", "attrs": {"id": "abc", "type": "file", "collection": "x", "alt": "screenshot.png"}}
            ]},
            {"type": "extension", "attrs": {"extensionKey": "evil", "onclick": "alert(1)"}, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "inner <i>text</i>"}]}
            ]},
            {"type": "paragraph", "content": [{"type": "inlineCard", "attrs": {"url": "data:text/html,<script>"}}]}
        ]
    })
}

const RICH_HTML: &str = concat!(
    "<h2>Outage &lt;b&gt;</h2>",
    "<p>Hi <span class=\"adf-mention\" data-account-id=\"5b10:abc\">@Jane</span>, see ",
    "<a href=\"https://example.com/a?b=1&amp;c=&quot;2&quot;\" title=\"T\" rel=\"noopener noreferrer nofollow\"><strong>docs</strong></a>",
    "<br>",
    "<em>bad</em>",
    "<u><s><code> x</code></s></u>",
    "<sup>2</sup>",
    "<span class=\"adf-color-red\">red</span>",
    "odd",
    "<span class=\"adf-emoji\" title=\":smile:\">😄</span>",
    "<span class=\"adf-status adf-status-green\">DONE</span>",
    "<time datetime=\"2023-11-14\">2023-11-14</time>",
    "<a class=\"adf-inline-card\" href=\"https://jira.example.com/browse/HELP-1\" rel=\"noopener noreferrer nofollow\">https://jira.example.com/browse/HELP-1</a>",
    "</p>",
    "<ul><li><p>one</p></li><li><p>two</p></li></ul>",
    "<ol start=\"3\"><li><p>three</p></li></ol>",
    "<pre><code class=\"language-rust\">fn main() { &quot;&lt;&gt;&quot; }</code></pre>",
    "<blockquote><p>quoted</p></blockquote>",
    "<hr>",
    "<div class=\"adf-panel adf-panel-warning\"><p>careful</p></div>",
    "<table class=\"adf-table\"><tbody><tr><th colspan=\"2\"><p>H</p></th></tr><tr><td><p>a</p></td><td><p>b</p></td></tr></tbody></table>",
    "<div class=\"adf-media-single\"><span class=\"adf-media\">screenshot.png</span></div>",
    "inner &lt;i&gt;text&lt;/i&gt;",
    "<p><span class=\"adf-inline-card\">data:text/html,&lt;script&gt;</span></p>",
);

#[test]
fn rich_document_html_snapshot() {
    let doc: Doc = serde_json::from_value(rich_json()).unwrap();
    let html = render_html(&doc);
    assert_eq!(html, RICH_HTML);
    assert_safe_html(&html);
}

#[test]
fn tolerant_deserialisation() {
    let doc: Doc = serde_json::from_value(rich_json()).unwrap();
    assert_eq!(doc.version, 1);
    assert_eq!(
        doc.content[10],
        Node::Unknown {
            text: "inner <i>text</i>".into()
        }
    );
    let Node::Paragraph { content } = &doc.content[1] else {
        panic!("paragraph expected")
    };
    let Node::Text { marks, .. } = &content[9] else {
        panic!("text expected")
    };
    assert_eq!(marks[1], Mark::Unknown);
    // Wrong shapes and unknown types degrade instead of failing.
    let odd: Doc = serde_json::from_value(json!({"type": "doc", "content": [
        {"type": "heading", "attrs": {"level": "x"}, "content": [{"type": "text", "text": "t"}]},
        {"type": "mention"},
        {"type": 7},
        "just a string",
        {"type": "hardBreak", "attrs": {"text": "\n"}},
        {"type": "date", "attrs": {"timestamp": 0}},
        {"type": "heading", "attrs": {"level": 200}, "content": []}
    ]}))
    .unwrap();
    assert_eq!(odd.content[0], Node::Unknown { text: "t".into() });
    assert_eq!(
        odd.content[1],
        Node::Unknown {
            text: String::new()
        }
    );
    assert_eq!(
        odd.content[2],
        Node::Unknown {
            text: String::new()
        }
    );
    assert_eq!(
        odd.content[3],
        Node::Unknown {
            text: String::new()
        }
    );
    assert_eq!(odd.content[4], Node::HardBreak);
    assert_eq!(
        render_html(&odd),
        "t<br><time datetime=\"1970-01-01\">1970-01-01</time><h6></h6>"
    );
    // Too-deep JSON is an error, never a crash.
    let nested = "{\"type\":\"blockquote\",\"content\":[".repeat(200);
    let json = format!(
        "{{\"type\":\"doc\",\"content\":[{nested}{}]}}",
        "]}".repeat(200)
    );
    assert!(serde_json::from_str::<Doc>(&json).is_err());
}

#[test]
fn deep_documents_render_without_overflow() {
    let mut node = Node::text("deep");
    for _ in 0..500 {
        node = Node::Blockquote {
            content: vec![node],
        };
    }
    let doc = Doc::new(vec![node]);
    let html = render_html(&doc);
    assert!(html.starts_with("<blockquote>") && !html.contains("deep"));
    assert!(doc.to_plain_text().len() < 2000);
}

#[test]
fn plain_text_to_adf_json() {
    let doc = Doc::from_plain_text("Hello\r\nworld\n\n\n\nSecond <p>\n");
    assert_eq!(
        serde_json::to_value(&doc).unwrap(),
        json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Hello"}, {"type": "hardBreak"}, {"type": "text", "text": "world"}
            ]},
            {"type": "paragraph", "content": [{"type": "text", "text": "Second <p>"}]}
        ]})
    );
    assert_eq!(doc.to_plain_text(), "Hello\nworld\n\nSecond <p>");
    assert_eq!(
        render_html(&doc),
        "<p>Hello<br>world</p><p>Second &lt;p&gt;</p>"
    );
    assert_eq!(Doc::from_plain_text(""), Doc::default());
    assert_eq!(Doc::from_plain_text("\n\r\n"), Doc::default());
    let back: Doc = serde_json::from_value(serde_json::to_value(&doc).unwrap()).unwrap();
    assert_eq!(back, doc);
}

#[test]
fn rich_document_plain_text() {
    let doc: Doc = serde_json::from_value(rich_json()).unwrap();
    let text = doc.to_plain_text();
    let want = "Outage <b>\n\n\
        Hi @Jane, see docs\nbad x2redodd😄DONE2023-11-14https://jira.example.com/browse/HELP-1\n\n\
        - one\n- two\n\n3. three\n\nfn main() { \"<>\" }\n\n> quoted\n\n---\n\ncareful\n\n\
        H\na | b\n\nscreenshot.png\n\ninner <i>text</i>\n\ndata:text/html,<script>";
    assert_eq!(text, want);
}

#[test]
fn href_allow_list() {
    for ok in [
        "https://a.example/x",
        "http://a",
        "HTTPS://A.EXAMPLE",
        "mailto:a@b.c",
    ] {
        assert_eq!(safe_href(ok), Some(ok), "{ok}");
    }
    for bad in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        " javascript:x",
        "java\nscript:x",
        "\u{1}javascript:x",
        "data:text/html,<script>",
        "vbscript:x",
        "//evil.example",
        "/relative",
        "relative",
        "https:",
        "https:/x",
        "http://a b",
        "https://a\u{0}",
        "mailto:",
        "javascript&colon;alert(1)",
        "https\u{200b}://x",
        "file:///etc/passwd",
        "",
    ] {
        assert_eq!(safe_href(bad), None, "{bad:?}");
    }
    let doc = Doc::new(vec![Node::paragraph(vec![Node::marked(
        "x",
        vec![Mark::Link {
            attrs: adf::LinkAttrs {
                href: "java\tscript:alert(1)".into(),
                title: None,
            },
        }],
    )])]);
    assert_eq!(render_html(&doc), "<p>x</p>");
}

#[test]
fn normalisation_rules() {
    assert_eq!(
        normalize_plain_text("\r\n\na\r\rb\n\n\n\nc \n \nd\n\n"),
        "a\n\nb\n\nc \n \nd"
    );
    assert_eq!(normalize_plain_text("x"), "x");
}

fn adf_json() -> impl Strategy<Value = serde_json::Value> {
    let word = prop_oneof![
        any::<String>(),
        Just("<script>alert(1)</script>".to_owned()),
        Just("javascript:alert(1)".to_owned()),
        Just("\" onmouseover=\"x".to_owned()),
        Just("https://ok.example/?a=\"<>".to_owned()),
    ];
    let types = prop_oneof![
        Just("paragraph"),
        Just("text"),
        Just("heading"),
        Just("bulletList"),
        Just("listItem"),
        Just("codeBlock"),
        Just("panel"),
        Just("mention"),
        Just("emoji"),
        Just("inlineCard"),
        Just("status"),
        Just("date"),
        Just("table"),
        Just("tableCell"),
        Just("media"),
        Just("script"),
    ];
    let mark = (
        prop_oneof![
            Just("link"),
            Just("strong"),
            Just("textColor"),
            Just("subsup"),
            Just("onclick")
        ],
        word.clone(),
    )
        .prop_map(
            |(t, w)| json!({"type": t, "attrs": {"href": w, "color": w, "type": w, "title": w}}),
        );
    let leaf = (types.clone(), word.clone(), proptest::collection::vec(mark, 0..3)).prop_map(|(t, w, marks)| {
        json!({"type": t, "text": w, "marks": marks, "attrs": {
            "level": 1, "id": w, "text": w, "url": w, "shortName": w, "color": w, "timestamp": w,
            "panelType": w, "language": w, "alt": w, "style": w, "onerror": w
        }})
    });
    leaf.prop_recursive(4, 40, 5, move |inner| {
        (types.clone(), proptest::collection::vec(inner, 0..5))
            .prop_map(|(t, content)| json!({"type": t, "content": content, "attrs": {"level": 3}}))
    })
}

proptest! {
    #[test]
    fn plain_text_round_trips(s in prop_oneof![any::<String>(), "[ab \t\n\r<>&\"']{0,40}".boxed()]) {
        let doc = Doc::from_plain_text(&s);
        prop_assert_eq!(doc.to_plain_text(), normalize_plain_text(&s));
        assert_safe_html(&render_html(&doc));
        let json = serde_json::to_string(&doc).unwrap();
        prop_assert_eq!(serde_json::from_str::<Doc>(&json).unwrap(), doc);
    }

    #[test]
    fn arbitrary_documents_render_safely(content in proptest::collection::vec(adf_json(), 0..4)) {
        let doc: Doc = serde_json::from_value(json!({"type": "doc", "version": 1, "content": content})).unwrap();
        assert_safe_html(&render_html(&doc));
        let _ = doc.to_plain_text();
    }
}
