//! Flows as declared in `policies/*.toml`: which path prefix a flow owns,
//! which methods and credential types it accepts, and where proxy mode sends
//! it. The files are checked and compiled into the components at build time
//! (crate `flowgate-flows`), so no request pays for parsing them.

use std::borrow::Cow;

use serde::Deserialize;

use crate::account::CredentialType;
use crate::path::{NormalPath, normalise};

/// HTTP methods a flow may accept, as a bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MethodSet(pub u16);

/// The methods a policy may name, in bit order.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

impl MethodSet {
    /// Whether `method` (upper case, as on the wire) is in the set.
    pub fn contains(self, method: &str) -> bool {
        METHODS
            .iter()
            .position(|m| *m == method)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// The names in the set.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        METHODS
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, m)| *m)
    }
}

/// Credential types a flow accepts, as a bit set over [`CredentialType::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CredentialSet(pub u8);

impl CredentialSet {
    /// Whether `t` is in the set.
    pub fn contains(self, t: CredentialType) -> bool {
        let i = CredentialType::ALL
            .iter()
            .position(|x| *x == t)
            .unwrap_or(0);
        self.0 & (1 << i) != 0
    }
}

/// Where proxy mode forwards a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upstream {
    /// A fixed origin, `scheme://host:port`.
    Url(Cow<'static, str>),
    /// The Spin variable that holds the origin.
    Variable(Cow<'static, str>),
}

/// One flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Identifier used in grants and URLs.
    pub id: Cow<'static, str>,
    /// Free text.
    pub description: Cow<'static, str>,
    /// Normalised path prefix, matched on whole segments.
    pub path_prefix: Cow<'static, str>,
    /// Accepted methods.
    pub methods: MethodSet,
    /// Upstream for proxy mode; without one the flow is forward-auth only.
    pub upstream: Option<Upstream>,
    /// Accepted credential types (an account's API tokens count as its type).
    pub credential_types: CredentialSet,
    /// The project the flow belongs to (scope levels).
    pub project: Cow<'static, str>,
    /// The environment the flow belongs to (scope levels).
    pub environment: Cow<'static, str>,
}

/// Why a policy file is refused, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file is not valid TOML of the expected shape.
    #[error("{file}: {message}")]
    Syntax {
        /// The file name.
        file: String,
        /// What the parser said.
        message: String,
    },
    /// A field has a value that is not allowed.
    #[error("{file}: field `{field}`: {message}")]
    Field {
        /// The file name.
        file: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowFile {
    id: String,
    #[serde(default)]
    description: String,
    path_prefix: String,
    methods: Vec<String>,
    #[serde(default)]
    upstream: Option<UpstreamFile>,
    #[serde(default)]
    credential_types: Option<Vec<String>>,
    #[serde(default = "default_name")]
    project: String,
    #[serde(default = "default_name")]
    environment: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum UpstreamFile {
    Url(String),
    Variable(String),
}

fn default_name() -> String {
    "default".to_owned()
}

/// Whether `s` is a valid identifier: 1-64 of `[a-z0-9_-]`, starting with a
/// letter or digit. Flow ids, project and environment names use it.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Whether `s` is an origin `http(s)://host[:port]` with nothing after it.
pub fn is_origin(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// Parses one policy file.
pub fn parse_flow(file: &str, text: &str) -> Result<Flow, PolicyError> {
    let raw: FlowFile = toml::from_str(text).map_err(|e| PolicyError::Syntax {
        file: file.to_owned(),
        message: e.message().to_owned(),
    })?;
    let field = |field: &'static str, message: &str| PolicyError::Field {
        file: file.to_owned(),
        field,
        message: message.to_owned(),
    };
    if !is_identifier(&raw.id) {
        return Err(field("id", "1-64 characters of a-z, 0-9, _ and -"));
    }
    for (name, value) in [("project", &raw.project), ("environment", &raw.environment)] {
        if !is_identifier(value) {
            return Err(field(name, "1-64 characters of a-z, 0-9, _ and -"));
        }
    }
    let prefix = normalise(&raw.path_prefix)
        .map_err(|e| field("path_prefix", &format!("not a safe path: {e}")))?;
    let prefix = prefix.as_str().trim_end_matches('/');
    if prefix.is_empty() || prefix != raw.path_prefix {
        return Err(field(
            "path_prefix",
            "must be in normal form, not `/`, without a trailing slash",
        ));
    }
    if prefix == "/authorize"
        || prefix.starts_with("/authorize/")
        || ["/oauth2", "/.well-known", "/admin", "/console"]
            .iter()
            .any(|reserved| prefix == *reserved || prefix.starts_with(&format!("{reserved}/")))
    {
        return Err(field("path_prefix", "overlaps a route of flowgate itself"));
    }
    let mut methods = MethodSet::default();
    for m in &raw.methods {
        let i = METHODS
            .iter()
            .position(|x| x == m)
            .ok_or_else(|| field("methods", &format!("unknown method {m:?}")))?;
        methods.0 |= 1 << i;
    }
    if methods.0 == 0 {
        return Err(field("methods", "at least one method"));
    }
    let credential_types = match raw.credential_types {
        None => CredentialSet(
            CredentialType::ALL
                .iter()
                .enumerate()
                .filter(|(_, t)| **t != CredentialType::Poller)
                .fold(0, |set, (i, _)| set | (1 << i)),
        ),
        Some(names) => {
            let mut set = 0u8;
            for name in &names {
                let t = CredentialType::parse(name)
                    .ok_or_else(|| field("credential_types", &format!("unknown type {name:?}")))?;
                let i = CredentialType::ALL
                    .iter()
                    .position(|x| *x == t)
                    .unwrap_or(0);
                set |= 1 << i;
            }
            if set == 0 {
                return Err(field("credential_types", "at least one type"));
            }
            CredentialSet(set)
        }
    };
    let upstream = match raw.upstream {
        None => None,
        Some(UpstreamFile::Url(url)) if is_origin(&url) => Some(Upstream::Url(url.into())),
        Some(UpstreamFile::Url(_)) => {
            return Err(field(
                "upstream",
                "url must be an origin, http(s)://host:port",
            ));
        }
        Some(UpstreamFile::Variable(v)) if is_identifier(&v) && !v.contains('-') => {
            Some(Upstream::Variable(v.into()))
        }
        Some(UpstreamFile::Variable(_)) => {
            return Err(field("upstream", "variable must be a Spin variable name"));
        }
    };
    Ok(Flow {
        id: raw.id.into(),
        description: raw.description.into(),
        path_prefix: prefix.to_owned().into(),
        methods,
        upstream,
        credential_types,
        project: raw.project.into(),
        environment: raw.environment.into(),
    })
}

/// Checks a whole set of flows: ids and prefixes unique.
pub fn check_set(flows: &[Flow]) -> Result<(), PolicyError> {
    for (i, a) in flows.iter().enumerate() {
        for b in &flows[i + 1..] {
            if a.id == b.id {
                return Err(PolicyError::Field {
                    file: format!("flow {}", a.id),
                    field: "id",
                    message: "declared twice".into(),
                });
            }
            if a.path_prefix == b.path_prefix {
                return Err(PolicyError::Field {
                    file: format!("flows {} and {}", a.id, b.id),
                    field: "path_prefix",
                    message: "the same prefix twice".into(),
                });
            }
        }
    }
    Ok(())
}

/// The flow owning `path`: the longest prefix that matches whole segments.
pub fn flow_for_path<'f>(flows: &'f [Flow], path: &NormalPath) -> Option<&'f Flow> {
    flows
        .iter()
        .filter(|f| path.starts_with_segments(&f.path_prefix))
        .max_by_key(|f| f.path_prefix.len())
}

/// The flow with id `id`.
pub fn flow_by_id<'f>(flows: &'f [Flow], id: &str) -> Option<&'f Flow> {
    flows.iter().find(|f| f.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDERS: &str = r#"
        id = "orders"
        path_prefix = "/flows/orders"
        methods = ["GET", "POST"]
        upstream = { variable = "orders_upstream" }
    "#;

    #[test]
    fn a_valid_flow_parses_with_defaults() {
        let flow = parse_flow("orders.toml", ORDERS).expect("valid");
        assert_eq!(flow.id, "orders");
        assert!(flow.methods.contains("GET") && flow.methods.contains("POST"));
        assert!(!flow.methods.contains("DELETE"));
        assert!(flow.credential_types.contains(CredentialType::ApiKey));
        assert!(!flow.credential_types.contains(CredentialType::Poller));
        assert_eq!(
            flow.upstream,
            Some(Upstream::Variable("orders_upstream".into()))
        );
        assert_eq!(flow.project, "default");
    }

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            (ORDERS.replace("\"orders\"", "\"Orders!\""), "id"),
            (
                ORDERS.replace("/flows/orders", "/flows/../orders"),
                "path_prefix",
            ),
            (
                ORDERS.replace("/flows/orders", "/flows/orders/"),
                "path_prefix",
            ),
            (ORDERS.replace("/flows/orders", "/admin/x"), "path_prefix"),
            (ORDERS.replace("/flows/orders", "/console"), "path_prefix"),
            (ORDERS.replace("\"POST\"", "\"BREW\""), "methods"),
            (
                ORDERS.replace("variable = \"orders_upstream\"", "url = \"http://h/x\""),
                "upstream",
            ),
        ];
        for (text, expected) in cases {
            match parse_flow("f.toml", &text) {
                Err(PolicyError::Field { field, .. }) => assert_eq!(field, expected, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let unknown = format!("{ORDERS}\nextra = 1");
        assert!(matches!(
            parse_flow("f.toml", &unknown),
            Err(PolicyError::Syntax { .. })
        ));
    }

    /// Issue 13: the console's route belongs to the `console` component; a
    /// flow there would be shadowed by it (or shadow it), so the build that
    /// compiles `policies/` refuses it. Whole segments only.
    #[test]
    fn issue13_policy_under_console_is_refused() {
        for prefix in ["/console", "/console/x", "/console/js/app.js"] {
            match parse_flow("f.toml", &ORDERS.replace("/flows/orders", prefix)) {
                Err(PolicyError::Field { field, message, .. }) => {
                    assert_eq!(field, "path_prefix", "{prefix}");
                    assert!(message.contains("flowgate itself"), "{prefix}: {message}");
                }
                other => panic!("{prefix}: {other:?}"),
            }
        }
        parse_flow("f.toml", &ORDERS.replace("/flows/orders", "/consoles")).expect("not /console");
    }

    #[test]
    fn longest_whole_segment_prefix_wins() {
        let a = parse_flow("a", ORDERS).expect("a");
        let b = parse_flow(
            "b",
            &ORDERS
                .replace("\"orders\"", "\"bulk\"")
                .replace("/flows/orders", "/flows/orders/bulk"),
        )
        .expect("b");
        let flows = [a, b];
        check_set(&flows).expect("distinct");
        let find = |p: &str| flow_for_path(&flows, &normalise(p).expect("ok")).map(|f| &*f.id);
        assert_eq!(find("/flows/orders/1"), Some("orders"));
        assert_eq!(find("/flows/orders/bulk/1"), Some("bulk"));
        assert_eq!(find("/flows/orders/bulky"), Some("orders"));
        assert_eq!(find("/flows/ordersx"), None);
        assert_eq!(find("/flows"), None);
    }
}
