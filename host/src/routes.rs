//! Route matching as Spin's HTTP trigger does it: routes are sanitised (made
//! absolute, one trailing slash stripped), `/...` becomes a trailing wildcard,
//! the last of duplicate routes wins, private routes are skipped, and the most
//! specific match wins (exact before wildcard, longer prefix before shorter).
//! Matching itself is delegated to `routefinder`, the crate Spin uses, so that
//! the edge cases (trailing slashes, `:name` segments) behave identically.

use anyhow::{Result, anyhow};

use crate::manifest::{HttpTrigger, RouteConfig};

/// What a route leads to.
#[derive(Debug, Clone)]
struct Handler {
    component: String,
    /// The sanitised route as written (with `/...`), base `/` applied.
    based_route: String,
    /// The route exactly as written in the manifest.
    raw_route: String,
    /// `Some(prefix)` for trailing-wildcard routes.
    wildcard_prefix: Option<String>,
}

/// The application's router.
#[derive(Debug)]
pub struct Router {
    inner: routefinder::Router<Handler>,
}

/// The outcome of routing one request path.
#[derive(Debug, Clone)]
pub struct RouteMatch {
    /// Component that handles the request.
    pub component: String,
    /// Value of `spin-matched-route`.
    pub based_route: String,
    /// Value of `spin-raw-component-route`.
    pub raw_route: String,
    /// Value of `spin-path-info`: the part matched by a trailing wildcard.
    pub path_info: String,
    /// Named `:segment` captures, for `spin-path-match-<name>` headers.
    pub named: Vec<(String, String)>,
}

impl RouteMatch {
    /// Value of `spin-component-route`: the raw route without a `/...` suffix.
    pub fn raw_route_or_prefix(&self) -> &str {
        self.raw_route
            .strip_suffix("/...")
            .unwrap_or(&self.raw_route)
    }
}

/// Removes a single trailing slash, as Spin does (and only one).
fn strip_one_slash(s: &str) -> &str {
    s.strip_suffix('/').unwrap_or(s)
}

impl Router {
    /// Builds the router from the manifest's HTTP triggers, in manifest order.
    pub fn build(triggers: &[HttpTrigger]) -> Result<Self> {
        // Deduplicate by raw route: a later duplicate replaces the earlier one
        // but keeps its position, like an insertion-ordered map.
        let mut entries: Vec<Handler> = Vec::new();
        for trigger in triggers {
            let RouteConfig::Route(raw) = &trigger.route else {
                continue;
            };
            let absolute = if raw.starts_with('/') {
                raw.clone()
            } else {
                format!("/{raw}")
            };
            // The base is always `/`, which sanitises to the empty string.
            let based_route = strip_one_slash(&absolute).to_string();
            let wildcard_prefix = based_route
                .strip_suffix("/...")
                .or_else(|| based_route.strip_suffix("/*"))
                .map(str::to_string);
            let handler = Handler {
                component: trigger.component.clone(),
                based_route,
                raw_route: raw.clone(),
                wildcard_prefix,
            };
            match entries.iter_mut().find(|h| h.raw_route == *raw) {
                Some(existing) => {
                    eprintln!(
                        "duplicate route {raw:?}: component {:?} replaced by {:?}",
                        existing.component, handler.component
                    );
                    *existing = handler;
                }
                None => entries.push(handler),
            }
        }
        let mut inner = routefinder::Router::new();
        for handler in entries {
            let spec = match &handler.wildcard_prefix {
                Some(prefix) if handler.based_route.ends_with("/...") => format!("{prefix}/*"),
                _ => handler.based_route.clone(),
            };
            let component = handler.component.clone();
            inner.add(spec.as_str(), handler).map_err(|e| {
                anyhow!("Error parsing route {spec} associated with component {component}: {e}")
            })?;
        }
        Ok(Self { inner })
    }

    /// Routes a request path (without query), or `None` for a 404.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let found = self.inner.best_match(path)?;
        let handler = found.handler();
        let captures = found.captures();
        // routefinder ignores trailing slashes; Spin keeps them in path-info.
        let path_info = match captures.wildcard() {
            None => String::new(),
            Some(w) => match (w.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_string(),
                (false, false) => format!("/{w}"),
                (false, true) => format!("/{w}/"),
            },
        };
        let named = captures
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Some(RouteMatch {
            component: handler.component.clone(),
            based_route: handler.based_route.clone(),
            raw_route: handler.raw_route.clone(),
            path_info,
            named,
        })
    }

    /// `(component, display)` for each reachable route, in manifest order;
    /// the display is what Spin prints after the base URL.
    pub fn listing(&self) -> Vec<(String, String)> {
        self.inner
            .iter()
            .map(|(_, h)| {
                let shown = match &h.wildcard_prefix {
                    Some(prefix) => format!("{prefix} (wildcard)"),
                    None => h.based_route.clone(),
                };
                (h.component.clone(), shown)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let triggers: Vec<HttpTrigger> = routes
            .iter()
            .map(|(c, r)| HttpTrigger {
                route: RouteConfig::Route((*r).to_string()),
                component: (*c).to_string(),
                id: None,
            })
            .collect();
        Router::build(&triggers).unwrap_or_else(|e| panic!("{e}"))
    }

    fn comp(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.component)
    }

    #[test]
    fn most_specific_wins() {
        let r = router(&[
            ("all", "/..."),
            ("one", "/one/..."),
            ("onetwo", "/one/two/..."),
            ("exact", "/one/two"),
        ]);
        assert_eq!(comp(&r, "/one/two").as_deref(), Some("exact"));
        assert_eq!(comp(&r, "/one/two/three").as_deref(), Some("onetwo"));
        assert_eq!(comp(&r, "/one/x").as_deref(), Some("one"));
        assert_eq!(comp(&r, "/").as_deref(), Some("all"));
    }

    #[test]
    fn path_info_keeps_trailing_slash() {
        let r = router(&[("c", "/test/...")]);
        let info = |p: &str| r.route(p).map(|m| m.path_info);
        assert_eq!(info("/test").as_deref(), Some(""));
        assert_eq!(info("/test/").as_deref(), Some("/"));
        assert_eq!(info("/test/hello").as_deref(), Some("/hello"));
        assert_eq!(info("/test/hello/").as_deref(), Some("/hello/"));
        assert!(r.route("/other").is_none());
    }

    #[test]
    fn exact_route_and_slash() {
        let r = router(&[("foo", "/foo/")]);
        assert_eq!(comp(&r, "/foo").as_deref(), Some("foo"));
        assert_eq!(comp(&r, "/foo/").as_deref(), Some("foo"));
        assert_eq!(comp(&r, "/foo/bar"), None);
    }

    #[test]
    fn duplicates_last_wins_and_listing() {
        let r = router(&[("a", "/x"), ("b", "/x"), ("w", "/...")]);
        assert_eq!(comp(&r, "/x").as_deref(), Some("b"));
        let listing = r.listing();
        assert_eq!(listing.len(), 2);
        assert!(listing.contains(&("w".to_string(), " (wildcard)".to_string())));
    }

    #[test]
    fn named_segments() {
        let r = router(&[("c", "/users/:id/...")]);
        let m = r.route("/users/42/x").unwrap_or_else(|| panic!("no match"));
        assert_eq!(m.named, vec![("id".to_string(), "42".to_string())]);
        assert_eq!(m.raw_route_or_prefix(), "/users/:id");
    }
}
