//! What to answer for a request path: the HTML shell, an asset, a redirect, or
//! an error, always with the security headers. Pure, so it is unit-tested
//! natively.

use crate::assets::{ASSETS, Asset};

/// The console's only HTML page; the app routes inside it by URL fragment.
const SHELL: &str = "/console/index.html";

/// Sent on every response, errors included. No inline script or style is
/// allowed anywhere; the page may not be framed; `fetch` may reach only this
/// origin (`default-src 'self'` covers `connect-src`).
const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// Assets are revalidated on every use (`no-cache` plus a strong ETag, so the
/// answer is usually a body-less `304`): their names carry no version, and a
/// browser must never mix modules of two releases.
const ASSET_CACHE: &str = "no-cache";
/// The shell is where secrets are shown: never stored by any cache.
const SHELL_CACHE: &str = "no-store";

/// The request method, as far as it matters here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `GET`.
    Get,
    /// `HEAD`: the headers of a `GET`, no body.
    Head,
    /// Anything else: `405`.
    Other,
}

/// A response to send.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, security headers included.
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: &'static [u8],
}

fn reply(status: u16, body: &'static [u8]) -> Reply {
    Reply {
        status,
        headers: SECURITY_HEADERS
            .iter()
            .map(|(n, v)| (*n, (*v).to_owned()))
            .collect(),
        body,
    }
}

fn text(status: u16, body: &'static str) -> Reply {
    let mut r = reply(status, body.as_bytes());
    r.headers
        .push(("content-type", "text/plain; charset=utf-8".into()));
    r.headers.push(("cache-control", SHELL_CACHE.into()));
    r
}

fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// Whether an `If-None-Match` value names `etag` (RFC 9110 13.1.2: weak
/// comparison, so `W/"x"` matches `"x"`; `*` matches any current file).
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

/// The answer to `verb` on `path` with the request's `If-None-Match` value
/// (empty when absent).
pub fn respond(verb: Verb, path: &str, if_none_match: &str) -> Reply {
    if verb == Verb::Other {
        let mut r = text(405, "method not allowed\n");
        r.headers.push(("allow", "GET, HEAD".into()));
        return r;
    }
    // `/console` has no trailing slash: relative links would resolve one
    // level up, so send the browser to the canonical address.
    if path == "/console" {
        let mut r = text(308, "moved to /console/\n");
        r.headers.push(("location", "/console/".into()));
        return r;
    }
    let (file, cache) = match path {
        "/console/" | SHELL => (asset(SHELL), SHELL_CACHE),
        _ => (asset(path), ASSET_CACHE),
    };
    let Some(file) = file else {
        return text(404, "not found\n");
    };
    let fresh = cache == ASSET_CACHE && matches(if_none_match, file.etag);
    let mut r = reply(
        if fresh { 304 } else { 200 },
        if fresh || verb == Verb::Head {
            b""
        } else {
            file.body
        },
    );
    r.headers.push(("content-type", file.content_type.into()));
    r.headers.push(("cache-control", cache.into()));
    if cache == ASSET_CACHE {
        r.headers.push(("etag", file.etag.into()));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'r>(r: &'r Reply, name: &str) -> Option<&'r str> {
        r.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn assert_secured(r: &Reply) {
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(header(r, name), Some(value), "{name} on {}", r.status);
        }
    }

    #[test]
    fn shell_is_html_never_stored_and_secured() {
        for path in ["/console/", "/console/index.html"] {
            let r = respond(Verb::Get, path, "");
            assert_eq!(r.status, 200);
            assert_eq!(header(&r, "content-type"), Some("text/html; charset=utf-8"));
            assert_eq!(header(&r, "cache-control"), Some("no-store"));
            assert_eq!(header(&r, "etag"), None);
            assert!(r.body.starts_with(b"<!doctype html>"));
            assert_secured(&r);
        }
    }

    #[test]
    fn shell_ignores_if_none_match() {
        assert_eq!(respond(Verb::Get, "/console/", "*").status, 200);
    }

    #[test]
    fn asset_has_type_etag_and_revalidates_to_304() {
        let r = respond(Verb::Get, "/console/js/app.js", "");
        assert_eq!(r.status, 200);
        assert_eq!(
            header(&r, "content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(header(&r, "cache-control"), Some("no-cache"));
        let etag = header(&r, "etag").expect("etag").to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34);
        let again = respond(Verb::Get, "/console/js/app.js", &format!("\"x\", {etag}"));
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
        assert_eq!(header(&again, "etag"), Some(etag.as_str()));
        assert_secured(&again);
        let weak = respond(Verb::Get, "/console/js/app.js", &format!("W/{etag}"));
        assert_eq!(weak.status, 304);
        let other = respond(Verb::Get, "/console/js/app.js", "\"0000\"");
        assert_eq!(other.status, 200);
    }

    #[test]
    fn css_has_its_content_type() {
        let r = respond(Verb::Get, "/console/css/console.css", "");
        assert_eq!(r.status, 200);
        assert_eq!(header(&r, "content-type"), Some("text/css; charset=utf-8"));
    }

    #[test]
    fn head_has_headers_without_body() {
        let r = respond(Verb::Head, "/console/js/app.js", "");
        assert_eq!(r.status, 200);
        assert!(r.body.is_empty());
        assert!(header(&r, "etag").is_some());
    }

    #[test]
    fn unknown_and_traversing_paths_are_404_and_secured() {
        for path in [
            "/console/nope.js",
            "/console/../Cargo.toml",
            "/console/js/../index.html",
            "/console/%2e%2e/x",
            "/console//js/app.js",
        ] {
            let r = respond(Verb::Get, path, "");
            assert_eq!(r.status, 404, "{path}");
            assert_secured(&r);
        }
    }

    #[test]
    fn other_methods_are_405_with_allow() {
        let r = respond(Verb::Other, "/console/", "");
        assert_eq!(r.status, 405);
        assert_eq!(header(&r, "allow"), Some("GET, HEAD"));
        assert_secured(&r);
    }

    #[test]
    fn bare_console_redirects_to_slash() {
        let r = respond(Verb::Get, "/console", "");
        assert_eq!(r.status, 308);
        assert_eq!(header(&r, "location"), Some("/console/"));
    }

    /// The console renders API values as text only: no script may parse a
    /// string as HTML or code.
    #[test]
    fn no_script_turns_strings_into_html_or_code() {
        let scripts: Vec<_> = ASSETS.iter().filter(|a| a.path.ends_with(".js")).collect();
        assert!(scripts.len() >= 10, "every screen is a module");
        for a in scripts {
            let js = std::str::from_utf8(a.body).expect("utf-8");
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
                "setTimeout('",
                "createContextualFragment",
                "localStorage.setItem",
                "document.cookie =",
            ] {
                assert!(!js.contains(sink), "{}: {sink}", a.path);
            }
        }
    }

    #[test]
    fn no_asset_contains_inline_script_or_style() {
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".html")) {
            let html = std::str::from_utf8(a.body).expect("utf-8");
            assert!(!html.contains("<style"), "{}", a.path);
            assert!(!html.contains(" style="), "{}", a.path);
            for tag in html.split("<script").skip(1) {
                let open = tag.split('>').next().unwrap_or("");
                assert!(open.contains("src="), "{}: inline script", a.path);
            }
            let handler = html.split(" on").skip(1).any(|rest| {
                let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
                !name.is_empty() && rest[name.len()..].starts_with('=')
            });
            assert!(!handler, "{}: inline event handler", a.path);
        }
    }
}
