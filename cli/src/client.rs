//! The HTTP side: one blocking `ureq` agent (rustls), bearer authentication,
//! and the mapping of answers to [`Failure`]s. Requests can only be made for
//! a [`Route`] of the table in `api.rs`.

use std::time::Duration;

use serde_json::Value;
use ureq::Agent;
use ureq::http;

use crate::Failure;
use crate::api::{Method, Route};

/// Largest answer read (the export of a large deployment is the biggest).
const MAX_ANSWER: u64 = 256 * 1024 * 1024;

/// A connection to one flowgate app.
pub struct Client {
    agent: Agent,
    /// `scheme://host[:port][/base]`, without a trailing slash.
    base: String,
    authorization: String,
}

/// A successful answer.
#[derive(Debug)]
pub struct Answer {
    /// The body as the server sent it.
    pub text: String,
}

impl Answer {
    /// The body as JSON; an empty body (`204`) is `null`.
    pub fn json(&self) -> Result<Value, Failure> {
        if self.text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&self.text).map_err(|e| {
            Failure::Unreachable(format!(
                "the server's answer is not JSON ({e}); is --server a flowgate app?"
            ))
        })
    }
}

/// Checks a server URL and returns it without a trailing slash.
pub fn server_url(raw: &str) -> Result<String, Failure> {
    let bad = |why: &str| Failure::Usage(format!("--server `{raw}`: {why}"));
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(|| bad("must start with https:// or http://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("names no host"));
    }
    if rest.contains(['?', '#', '@']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(
            "must be scheme://host[:port][/path], without credentials, query or fragment",
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// Whether requests to `base` cross the network unencrypted: plain HTTP to
/// a host other than this machine.
fn in_clear(base: &str) -> bool {
    let Some(rest) = base.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if authority.starts_with('[') {
        authority
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default().to_owned()
    };
    !(host == "localhost" || host == "[::1]" || host.starts_with("127."))
}

impl Client {
    /// A client for `server` (already checked by [`server_url`]) that sends
    /// `token` as a bearer token.
    pub fn new(server: String, token: &str) -> Result<Self, Failure> {
        if token.is_empty() || token.chars().any(|c| c.is_control() || c == ' ') {
            return Err(Failure::Usage(
                "the API token is empty or holds spaces or control characters".into(),
            ));
        }
        if in_clear(&server) {
            eprintln!(
                "flowgate: warning: {server} is plain HTTP to another machine: the token crosses the network unencrypted"
            );
        }
        let config = Agent::config_builder()
            .http_status_as_error(false)
            // The API never redirects; a redirect means a wrong --server, and
            // following it could carry the token somewhere else.
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .user_agent(concat!("flowgate-cli/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            agent: Agent::new_with_config(config),
            base: server,
            authorization: format!("Bearer {token}"),
        })
    }

    /// Calls `route` with path `params`, `query` and an optional JSON body.
    /// A non-2xx answer is [`Failure::Refused`].
    pub fn call(
        &self,
        route: &Route,
        params: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, Failure> {
        let body = body.map(Value::to_string);
        self.send(route, params, query, body.map(String::into_bytes))
    }

    /// Like [`Client::call`] with a body that is already JSON text.
    pub fn send(
        &self,
        route: &Route,
        params: &[&str],
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Answer, Failure> {
        let path = route.path(params, query).map_err(|e| Failure::Usage(e.0))?;
        let url = format!("{}{path}", self.base);
        let method = match route.method {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Put => http::Method::PUT,
            Method::Patch => http::Method::PATCH,
            Method::Delete => http::Method::DELETE,
        };
        let builder = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", &self.authorization)
            .header("accept", "application/json");
        let unreachable =
            |e: ureq::Error| Failure::Unreachable(format!("cannot reach {}: {e}", self.base));
        let built =
            |e: http::Error| Failure::Usage(format!("cannot build a request for {url}: {e}"));
        let response = match body {
            Some(bytes) => {
                let request = builder
                    .header("content-type", "application/json")
                    .body(bytes)
                    .map_err(built)?;
                self.agent.run(request)
            }
            // PUT and POST without a body still say so (`Content-Length: 0`).
            None if matches!(route.method, Method::Put | Method::Post) => {
                let request = builder.body(Vec::new()).map_err(built)?;
                self.agent.run(request)
            }
            None => {
                let request = builder.body(()).map_err(built)?;
                self.agent.run(request)
            }
        };
        let mut response = response.map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(unreachable)?;
        if (200..300).contains(&status) {
            Ok(Answer { text })
        } else {
            Err(Failure::Refused { status, body: text })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_url_loses_its_trailing_slash() {
        assert_eq!(
            server_url("https://flowgate.example/").ok().as_deref(),
            Some("https://flowgate.example")
        );
    }

    #[test]
    fn server_url_without_scheme_or_with_credentials_is_refused() {
        for bad in [
            "flowgate.example",
            "ftp://x",
            "https://",
            "https://user:pw@host",
            "https://host/?q",
            "https://host /",
        ] {
            assert!(server_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn plain_http_off_the_machine_is_in_clear() {
        assert!(!in_clear("http://127.0.0.1:3000"));
        assert!(!in_clear("http://localhost"));
        assert!(!in_clear("http://[::1]:3000/x"));
        assert!(!in_clear("https://flowgate.example"));
        assert!(in_clear("http://flowgate.example"));
        assert!(in_clear("http://localhost.evil.example"));
    }
}
