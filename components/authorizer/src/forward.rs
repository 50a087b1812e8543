//! Forward-auth: recovering the original request that a gateway asks about.
//!
//! - `/authorize` with `X-Forwarded-Method`/`X-Forwarded-Uri` (Traefik) or
//!   `X-Original-Method`/`X-Original-URI` (nginx `auth_request`).
//!   `X-Original-URI` needs `X-Original-Method` next to it: nginx's auth
//!   subrequest is always a `GET` (measured with nginx 1.22 in
//!   tests/gateway_nginx.rs), so falling back to the subrequest's own method
//!   would let a `DELETE` pass as a `GET` when a config forgets the header.
//!   Traefik always sends `X-Forwarded-Method`; without it the request's own
//!   method is used.
//! - `/authorize/<original path>` (Envoy `ext_authz` with `path_prefix`), with
//!   the request's own method: Envoy sends the check with the original one.
//!
//! These headers are read on `/authorize` only, and trusted because only the
//! gateway can reach `/authorize` (docs/gateways.md). A header given twice,
//! or one name from each family for the same thing, is refused, never
//! guessed.

use flowgate::path::{NormalPath, normalise};

/// The original request a gateway asks about.
pub struct Target {
    /// Its method.
    pub method: String,
    /// Its path, normalised.
    pub path: NormalPath,
}

fn single<'h>(
    headers: &'h [(String, Vec<u8>)],
    names: &[&str],
) -> Result<Option<&'h str>, &'static str> {
    let mut found = None;
    for (name, value) in headers {
        if names.iter().any(|n| name.eq_ignore_ascii_case(n)) {
            if found.is_some() {
                return Err("forwarded header given twice");
            }
            found = Some(std::str::from_utf8(value).map_err(|_| "forwarded header not UTF-8")?);
        }
    }
    Ok(found)
}

fn has(headers: &[(String, Vec<u8>)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Finds the original method and path, or says why not.
pub fn target(
    raw_path: &str,
    method: &str,
    headers: &[(String, Vec<u8>)],
) -> Result<Target, &'static str> {
    let forwarded_method = single(headers, &["x-forwarded-method", "x-original-method"])?;
    let forwarded_uri = single(headers, &["x-forwarded-uri", "x-original-uri"])?;
    let (method, uri) = match raw_path.strip_prefix("/authorize") {
        Some("") => {
            let uri = forwarded_uri.ok_or("no X-Forwarded-Uri or X-Original-URI")?;
            if forwarded_method.is_none() && has(headers, "x-original-uri") {
                return Err("X-Original-URI without X-Original-Method");
            }
            (forwarded_method.unwrap_or(method), uri)
        }
        Some(rest) => {
            if forwarded_uri.is_some() {
                return Err("both a path and a forwarded URI");
            }
            (method, rest)
        }
        None => return Err("not a forward-auth path"),
    };
    let path = uri.split_once('?').map_or(uri, |(p, _)| p);
    let path = normalise(path).map_err(|_| "unsafe original path")?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("malformed original method");
    }
    Ok(Target {
        method: method.to_owned(),
        path,
    })
}
