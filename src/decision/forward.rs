//! Forward-auth: recovering the original request a gateway asks about.
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
//! guessed. Every refusal is `403` (the gateway, not the caller, sent a
//! request flowgate cannot place).

use crate::path::{NormalPath, normalise};

/// The original request a gateway asks about.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    /// Its method.
    pub method: String,
    /// Its path, normalised.
    pub path: NormalPath,
}

/// Why the original request cannot be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardError {
    /// A forwarded method or URI header given twice, or from both families.
    #[error("forwarded header given twice")]
    Duplicate,
    /// A forwarded header that is not UTF-8.
    #[error("forwarded header not UTF-8")]
    NotUtf8,
    /// `/authorize` without a forwarded URI.
    #[error("no X-Forwarded-Uri or X-Original-URI")]
    NoUri,
    /// nginx's `X-Original-URI` without `X-Original-Method`.
    #[error("X-Original-URI without X-Original-Method")]
    NoOriginalMethod,
    /// `/authorize/<path>` and a forwarded URI at once.
    #[error("both a path and a forwarded URI")]
    PathAndUri,
    /// Not `/authorize` or under it.
    #[error("not a forward-auth path")]
    NotForwardAuth,
    /// The original path is ambiguous or unsafe (`crate::path`).
    #[error("unsafe original path")]
    UnsafePath,
    /// The original method is not an upper-case token.
    #[error("malformed original method")]
    Method,
}

fn single<'h, I>(headers: I, names: &[&str]) -> Result<Option<&'h str>, ForwardError>
where
    I: IntoIterator<Item = (&'h str, &'h [u8])>,
{
    let mut found = None;
    for (name, value) in headers {
        if names.iter().any(|n| name.eq_ignore_ascii_case(n)) {
            if found.is_some() {
                return Err(ForwardError::Duplicate);
            }
            found = Some(std::str::from_utf8(value).map_err(|_| ForwardError::NotUtf8)?);
        }
    }
    Ok(found)
}

/// Finds the original method and path of a request to `raw_path` (the
/// forward-auth route, without its query) made with `method` and `headers`.
pub fn target<'h, I>(raw_path: &str, method: &str, headers: I) -> Result<Target, ForwardError>
where
    I: IntoIterator<Item = (&'h str, &'h [u8])> + Clone,
{
    let forwarded_method = single(
        headers.clone(),
        &["x-forwarded-method", "x-original-method"],
    )?;
    let forwarded_uri = single(headers.clone(), &["x-forwarded-uri", "x-original-uri"])?;
    let (method, uri) = match raw_path.strip_prefix("/authorize") {
        Some("") => {
            let uri = forwarded_uri.ok_or(ForwardError::NoUri)?;
            let nginx = headers
                .into_iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("x-original-uri"));
            if forwarded_method.is_none() && nginx {
                return Err(ForwardError::NoOriginalMethod);
            }
            (forwarded_method.unwrap_or(method), uri)
        }
        Some(rest) if rest.starts_with('/') => {
            if forwarded_uri.is_some() {
                return Err(ForwardError::PathAndUri);
            }
            (method, rest)
        }
        _ => return Err(ForwardError::NotForwardAuth),
    };
    let path = uri.split_once('?').map_or(uri, |(p, _)| p);
    let path = normalise(path).map_err(|_| ForwardError::UnsafePath)?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ForwardError::Method);
    }
    Ok(Target {
        method: method.to_owned(),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(raw: &str, method: &str, headers: &[(&str, &str)]) -> Result<Target, ForwardError> {
        target(raw, method, headers.iter().map(|(n, v)| (*n, v.as_bytes())))
    }

    fn ok(raw: &str, method: &str, headers: &[(&str, &str)]) -> (String, String) {
        let target = t(raw, method, headers).expect("recovered");
        (target.method, target.path.to_string())
    }

    #[test]
    fn traefik_headers_give_method_and_path_without_query() {
        assert_eq!(
            ok(
                "/authorize",
                "GET",
                &[
                    ("X-Forwarded-Method", "POST"),
                    ("X-Forwarded-Uri", "/flows/orders/1?x=y")
                ]
            ),
            ("POST".into(), "/flows/orders/1".into())
        );
        // Traefik without the method header: the request's own method.
        assert_eq!(
            ok("/authorize", "PUT", &[("x-forwarded-uri", "/flows/orders")]),
            ("PUT".into(), "/flows/orders".into())
        );
    }

    #[test]
    fn nginx_uri_without_its_method_is_refused() {
        assert_eq!(
            t("/authorize", "GET", &[("X-Original-URI", "/flows/orders")]),
            Err(ForwardError::NoOriginalMethod)
        );
        assert_eq!(
            ok(
                "/authorize",
                "GET",
                &[
                    ("X-Original-Method", "DELETE"),
                    ("X-Original-URI", "/flows/orders")
                ]
            ),
            ("DELETE".into(), "/flows/orders".into())
        );
    }

    #[test]
    fn envoy_path_prefix_uses_the_path_and_the_own_method() {
        assert_eq!(
            ok("/authorize/flows/orders/7", "DELETE", &[]),
            ("DELETE".into(), "/flows/orders/7".into())
        );
        assert_eq!(
            t(
                "/authorize/flows/orders",
                "GET",
                &[("X-Forwarded-Uri", "/flows/reports")]
            ),
            Err(ForwardError::PathAndUri)
        );
    }

    #[test]
    fn duplicates_mixed_families_and_missing_uri_are_refused() {
        assert_eq!(
            t(
                "/authorize",
                "GET",
                &[("X-Forwarded-Uri", "/a"), ("x-forwarded-uri", "/a")]
            ),
            Err(ForwardError::Duplicate)
        );
        assert_eq!(
            t(
                "/authorize",
                "GET",
                &[
                    ("X-Forwarded-Method", "GET"),
                    ("X-Original-Method", "POST"),
                    ("X-Forwarded-Uri", "/a")
                ]
            ),
            Err(ForwardError::Duplicate)
        );
        assert_eq!(t("/authorize", "GET", &[]), Err(ForwardError::NoUri));
    }

    #[test]
    fn unsafe_paths_bad_methods_and_other_routes_are_refused() {
        for uri in ["/flows/%2e%2e/x", "relative", "/a\\b", "/a%00b", "/a%2fb"] {
            assert_eq!(
                t(
                    "/authorize",
                    "GET",
                    &[("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", uri)]
                ),
                Err(ForwardError::UnsafePath),
                "{uri}"
            );
        }
        for method in ["get", "", "G T", "GET\r"] {
            assert_eq!(
                t(
                    "/authorize",
                    "GET",
                    &[("X-Forwarded-Method", method), ("X-Forwarded-Uri", "/a")]
                ),
                Err(ForwardError::Method),
                "{method:?}"
            );
        }
        assert_eq!(
            t("/authorizeX", "GET", &[]),
            Err(ForwardError::NotForwardAuth)
        );
        let bytes: [(&str, &[u8]); 1] = [("X-Forwarded-Uri", b"/flows/\xff")];
        assert_eq!(
            target("/authorize", "GET", bytes),
            Err(ForwardError::NotUtf8)
        );
    }
}
