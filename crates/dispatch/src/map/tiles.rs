//! The map's tile server: a URL template and its attribution, checked before they are saved,
//! and the Content-Security-Policy of the map page that lets those tiles (and nothing else)
//! in.
//!
//! A template is `https://` only, names a real host (optionally with a `{s}.` subdomain
//! placeholder in front), carries no user name or password, and holds `{z}`, `{x}` and `{y}`
//! (`{r}`, Leaflet's retina suffix, is allowed too). Anything else is refused with the field
//! and the reason.

use serde::{Deserialize, Serialize};

/// Longest tile URL template.
pub const MAX_URL_CHARS: usize = 300;
/// Longest attribution text.
pub const MAX_ATTRIBUTION_CHARS: usize = 200;
/// Form field of the URL template.
pub const URL_FIELD: &str = "tile_url";
/// Form field of the attribution.
pub const ATTRIBUTION_FIELD: &str = "tile_attribution";

/// Placeholders Leaflet fills in a template (besides the `{s}` subdomain).
const PLACEHOLDERS: [&str; 4] = ["z", "x", "y", "r"];
/// Placeholders every template needs.
const REQUIRED: [&str; 3] = ["z", "x", "y"];
/// Characters allowed after the host (path and query), besides letters and digits.
const PATH_PUNCTUATION: &str = "-._~/?&=%+:@!$,;{}";

/// A checked tile server setting. Built by [`MapTiles::new`]; read back from the store as
/// saved (it was checked then).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapTiles {
    url: String,
    #[serde(default)]
    attribution: String,
}

/// One refused field: its form name and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TileProblem {
    /// [`URL_FIELD`] or [`ATTRIBUTION_FIELD`].
    pub field: &'static str,
    /// What is wrong, in words.
    pub reason: String,
}

impl MapTiles {
    /// Checks a URL template and its attribution; every problem comes back with its field.
    pub fn new(url: &str, attribution: &str) -> Result<Self, Vec<TileProblem>> {
        let mut problems = Vec::new();
        let url = check_url(url).unwrap_or_else(|reason| {
            problems.push(TileProblem {
                field: URL_FIELD,
                reason,
            });
            String::new()
        });
        let attribution = check_attribution(attribution).unwrap_or_else(|reason| {
            problems.push(TileProblem {
                field: ATTRIBUTION_FIELD,
                reason,
            });
            String::new()
        });
        if problems.is_empty() {
            Ok(Self { url, attribution })
        } else {
            Err(problems)
        }
    }

    /// The URL template, for Leaflet's tile layer.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The attribution, plain text (escaped wherever it is shown).
    pub fn attribution(&self) -> &str {
        &self.attribution
    }

    /// The CSP source of the tiles: `https://host[:port]`, or `https://*.host[:port]` when
    /// the template picks a `{s}` subdomain.
    pub fn origin(&self) -> String {
        let rest = self.url.strip_prefix("https://").unwrap_or(&self.url);
        let authority = rest.split(['/', '?']).next().unwrap_or(rest);
        match authority.strip_prefix("{s}.") {
            Some(host) => format!("https://*.{host}"),
            None => format!("https://{authority}"),
        }
    }

    /// The map page's Content-Security-Policy: the platform's, with the tile origin added to
    /// `img-src` and nothing else changed.
    pub fn content_security_policy(&self) -> String {
        with_img_source(platform::web::CONTENT_SECURITY_POLICY, &self.origin())
    }
}

/// `policy` with `source` appended to its `img-src` directive (added when it has none).
pub fn with_img_source(policy: &str, source: &str) -> String {
    let mut found = false;
    let mut directives: Vec<String> = policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            if d.split_whitespace().next() == Some("img-src") {
                found = true;
                format!("{d} {source}")
            } else {
                d.to_owned()
            }
        })
        .collect();
    if !found {
        directives.push(format!("img-src {source}"));
    }
    directives.join("; ")
}

fn check_attribution(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().count() > MAX_ATTRIBUTION_CHARS {
        return Err(format!("at most {MAX_ATTRIBUTION_CHARS} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("one line of plain text, without control characters".into());
    }
    Ok(text.to_owned())
}

fn check_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err(
            "enter a tile URL template such as https://tile.example.org/{z}/{x}/{y}.png".into(),
        );
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!("at most {MAX_URL_CHARS} characters"));
    }
    let rest = match url.get(..8) {
        Some(scheme) if scheme.eq_ignore_ascii_case("https://") => &url[8..],
        _ => return Err("must start with https:// (no other scheme is allowed)".into()),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') {
        return Err("must not contain a user name or password (user@host)".into());
    }
    let (host, port) = split_port(authority)?;
    let host = host.to_ascii_lowercase();
    let (subdomains, bare) = match host.strip_prefix("{s}.") {
        Some(bare) => (true, bare),
        None => (false, host.as_str()),
    };
    check_host(bare)?;
    if path.contains('#') {
        return Err("must not contain a # fragment".into());
    }
    if let Some(c) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || PATH_PUNCTUATION.contains(*c)))
    {
        return Err(format!(
            "'{c}' is not allowed in the URL; percent-encode it"
        ));
    }
    let names = placeholders(path)?;
    if names.iter().any(|n| n == "s") {
        return Err(
            "{s} may only stand first in the host name, as in https://{s}.tile.example.org/…"
                .into(),
        );
    }
    if let Some(unknown) = names.iter().find(|n| !PLACEHOLDERS.contains(&n.as_str())) {
        return Err(format!(
            "{{{unknown}}} is not a placeholder the map fills; use {{z}}, {{x}}, {{y}} (and {{s}}, {{r}})"
        ));
    }
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|p| !names.iter().any(|n| n == *p))
        .map(|p| format!("{{{p}}}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "must contain {{z}}, {{x}} and {{y}} (missing {})",
            missing.join(", ")
        ));
    }
    let prefix = if subdomains { "{s}." } else { "" };
    Ok(format!("https://{prefix}{bare}{port}{path}"))
}

/// Host and `:port` (empty when none) of an authority.
fn split_port(authority: &str) -> Result<(&str, String), String> {
    if authority.starts_with('[') {
        return Err("needs a host name, not an IP address".into());
    }
    match authority.rsplit_once(':') {
        None => Ok((authority, String::new())),
        Some((host, port)) => match port.parse::<u16>() {
            Ok(p)
                if p > 0 && !port.starts_with('0') && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Ok((host, format!(":{p}")))
            }
            _ => Err("the port must be a number from 1 to 65535".into()),
        },
    }
}

/// A real DNS host name: dot-separated labels of letters, digits and hyphens, a top-level
/// domain of letters (so no IP address), at least two labels and not under `localhost`
/// (which names the viewer's own machine).
fn check_host(host: &str) -> Result<(), String> {
    let why = || {
        "needs a real host name such as tile.example.org (not an IP address, not a single name \
         like localhost)"
            .to_string()
    };
    if host.is_empty() || host.len() > 253 {
        return Err(why());
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return Err(why());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let tld = labels.last().copied().unwrap_or_default();
    let tld_ok = tld != "localhost"
        && tld.len() >= 2
        && (tld.bytes().all(|b| b.is_ascii_lowercase()) || tld.starts_with("xn--"));
    if labels.iter().all(|l| label_ok(l)) && tld_ok {
        Ok(())
    } else {
        Err(why())
    }
}

/// The names inside `{…}`; unbalanced braces are refused.
fn placeholders(path: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("has a } without its {".into());
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("has a { without its }".into());
        };
        let name = &after[..close];
        if name.contains('{') {
            return Err("has a { without its }".into());
        }
        out.push(name.to_owned());
        rest = &after[close + 1..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn url_reason(url: &str) -> String {
        let problems = MapTiles::new(url, "").unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, URL_FIELD);
        problems[0].reason.clone()
    }

    #[test]
    fn good_templates_are_kept() {
        let t = MapTiles::new(
            "  https://{s}.Tile.Example.org/{z}/{x}/{y}{r}.png?key=abc ",
            "© Example contributors",
        )
        .unwrap();
        assert_eq!(
            t.url(),
            "https://{s}.tile.example.org/{z}/{x}/{y}{r}.png?key=abc"
        );
        assert_eq!(t.attribution(), "© Example contributors");
        let t = MapTiles::new("https://tiles.example.com:8443/{z}/{x}/{y}.png", "").unwrap();
        assert_eq!(t.origin(), "https://tiles.example.com:8443");
    }

    #[test]
    fn other_schemes_are_refused() {
        for url in [
            "http://tile.example.org/{z}/{x}/{y}.png",
            "javascript:alert(1)//{z}/{x}/{y}",
            "JavaScript://tile.example.org/{z}/{x}/{y}",
            "//tile.example.org/{z}/{x}/{y}.png",
            "data:image/png;base64,{z}{x}{y}",
            "ftp://tile.example.org/{z}/{x}/{y}.png",
        ] {
            assert!(url_reason(url).contains("https://"), "{url}");
        }
    }

    #[test]
    fn placeholders_are_required_and_known() {
        let r = url_reason("https://tile.example.org/{z}/{y}.png");
        assert!(r.contains("missing {x}"), "{r}");
        let r = url_reason("https://tile.example.org/tiles.png");
        assert!(r.contains("missing {z}, {x}, {y}"), "{r}");
        let r = url_reason("https://tile.example.org/{z}/{x}/{y}.png?k={accessToken}");
        assert!(r.contains("{accessToken} is not a placeholder"), "{r}");
        let r = url_reason("https://tile.example.org/{s}/{z}/{x}/{y}.png");
        assert!(r.contains("first in the host name"), "{r}");
        let r = url_reason("https://tile.example.org/{z/{x}/{y}.png");
        assert!(r.contains("without its }"), "{r}");
        let r = url_reason("https://tile.{s}.example.org/{z}/{x}/{y}.png");
        assert!(r.contains("real host name"), "{r}");
    }

    #[test]
    fn user_info_ip_addresses_and_odd_hosts_are_refused() {
        let r = url_reason("https://user:pass@tile.example.org/{z}/{x}/{y}.png");
        assert!(r.contains("user name or password"), "{r}");
        let r = url_reason("https://@tile.example.org/{z}/{x}/{y}.png");
        assert!(r.contains("user name or password"), "{r}");
        for url in [
            "https://127.0.0.1/{z}/{x}/{y}.png",
            "https://localhost/{z}/{x}/{y}.png",
            "https://tiles.localhost/{z}/{x}/{y}.png",
            "https://{s}.example/{z}/{x}/{y}.png",
            "https://tile.example.1/{z}/{x}/{y}.png",
            "https:///{z}/{x}/{y}.png",
            "https://-bad.example.org/{z}/{x}/{y}.png",
            "https://tile_server.example.org/{z}/{x}/{y}.png",
            "https://tile.example.org;script-src *.evil.example/{z}/{x}/{y}",
            "https://tile.example.org /{z}/{x}/{y}.png",
        ] {
            assert!(url_reason(url).contains("real host name"), "{url}");
        }
        assert!(url_reason("https://[::1]/{z}/{x}/{y}.png").contains("not an IP address"));
        assert!(url_reason("https://tile.example.org:0/{z}/{x}/{y}.png").contains("port"));
        assert!(url_reason("https://tile.example.org:http/{z}/{x}/{y}.png").contains("port"));
    }

    #[test]
    fn odd_characters_and_long_values_are_refused() {
        let r = url_reason("https://tile.example.org/{z}/{x}/{y}.png?a=\"b\"");
        assert!(r.contains("percent-encode"), "{r}");
        let r = url_reason("https://tile.example.org/{z}/{x}/{y}.png#top");
        assert!(r.contains("fragment"), "{r}");
        let long = format!(
            "https://tile.example.org/{}/{{z}}/{{x}}/{{y}}.png",
            "a".repeat(280)
        );
        assert!(url_reason(&long).contains("at most 300"));
        let exactly = format!(
            "https://tile.example.org/{}/{{z}}/{{x}}/{{y}}",
            "a".repeat(MAX_URL_CHARS - 37)
        );
        assert_eq!(exactly.chars().count(), MAX_URL_CHARS);
        assert!(MapTiles::new(&exactly, "").is_ok());
        assert!(url_reason("  ").contains("enter a tile URL"));
    }

    #[test]
    fn attribution_is_one_short_line_of_text() {
        let ok = "https://tile.example.org/{z}/{x}/{y}.png";
        let p = MapTiles::new(ok, &"x".repeat(MAX_ATTRIBUTION_CHARS + 1)).unwrap_err();
        assert_eq!(p[0].field, ATTRIBUTION_FIELD);
        assert!(p[0].reason.contains("at most 200"));
        let p = MapTiles::new(ok, "line\nbreak").unwrap_err();
        assert_eq!(p[0].field, ATTRIBUTION_FIELD);
        let t = MapTiles::new(ok, "<b>OSM</b> & co").unwrap();
        assert_eq!(
            t.attribution(),
            "<b>OSM</b> & co",
            "kept as text, escaped when shown"
        );
        // Both fields wrong: both reported.
        let p = MapTiles::new("http://x", "\u{7}").unwrap_err();
        assert_eq!(
            p.iter().map(|p| p.field).collect::<Vec<_>>(),
            [URL_FIELD, ATTRIBUTION_FIELD]
        );
    }

    #[test]
    fn csp_adds_the_tile_origin_to_img_src_only() {
        let base = platform::web::CONTENT_SECURITY_POLICY;
        let t = MapTiles::new("https://tile.example.org/{z}/{x}/{y}.png", "").unwrap();
        let csp = t.content_security_policy();
        assert!(
            csp.contains("img-src 'self' data: https://tile.example.org;"),
            "{csp}"
        );
        assert_eq!(csp.replace(" https://tile.example.org", ""), base);
        let t = MapTiles::new("https://{s}.tile.example.org/{z}/{x}/{y}.png", "").unwrap();
        let csp = t.content_security_policy();
        assert!(
            csp.contains("img-src 'self' data: https://*.tile.example.org;"),
            "{csp}"
        );
        assert_eq!(csp.replace(" https://*.tile.example.org", ""), base);
        assert_eq!(csp.matches("example.org").count(), 1, "nowhere else");
        assert_eq!(
            with_img_source("default-src 'self'", "https://a.example"),
            "default-src 'self'; img-src https://a.example"
        );
    }

    #[test]
    fn stored_settings_round_trip() {
        let t = MapTiles::new("https://tile.example.org/{z}/{x}/{y}.png", "OSM").unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<MapTiles>(&json).unwrap(), t);
    }
}
