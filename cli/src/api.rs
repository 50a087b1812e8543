//! The management routes this command line calls, as one table. A request
//! can only be made through one of these constants, and the macro puts every
//! constant into [`ROUTES`], so `flowgate api-routes` (and the test that
//! compares it with `/admin/v1/openapi.json`) sees every route in use.

use std::fmt;

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// One route: a method and a path template below `/admin/v1`, with
/// `{name}` placeholders as in the OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub template: &'static str,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}{}", self.method.as_str(), PREFIX, self.template)
    }
}

/// Where the API lives on the server.
pub const PREFIX: &str = "/admin/v1";

macro_rules! routes {
    ($($name:ident = $method:ident $template:literal;)*) => {
        $(pub const $name: Route = Route { method: Method::$method, template: $template };)*
        /// Every route the command line calls.
        pub const ROUTES: &[Route] = &[$($name),*];
    };
}

routes! {
    ACCOUNTS_LIST = Get "/accounts";
    ACCOUNTS_CREATE = Post "/accounts";
    ACCOUNT_GET = Get "/accounts/{id}";
    ACCOUNT_UPDATE = Patch "/accounts/{id}";
    ACCOUNT_DELETE = Delete "/accounts/{id}";
    ACCOUNT_DISABLE = Post "/accounts/{id}/disable";
    ACCOUNT_ENABLE = Post "/accounts/{id}/enable";
    ACCOUNT_RESET = Post "/accounts/{id}/reset-credential";
    ACCOUNT_FLOWS = Get "/accounts/{id}/flows";
    ACCOUNT_USAGE = Get "/accounts/{id}/usage";
    TOKENS_LIST = Get "/accounts/{id}/tokens";
    TOKENS_CREATE = Post "/accounts/{id}/tokens";
    TOKEN_REVOKE = Delete "/accounts/{id}/tokens/{token_id}";
    CERTIFICATES_ADD = Post "/accounts/{id}/certificates";
    CERTIFICATE_RETIRE = Delete "/accounts/{id}/certificates/{thumbprint}";
    KEYS_ADD = Post "/accounts/{id}/keys";
    KEY_RETIRE = Delete "/accounts/{id}/keys/{kid}";
    FLOWS_LIST = Get "/flows";
    FLOW_GET = Get "/flows/{flow}";
    FLOW_ACCESS = Get "/flows/{flow}/access";
    GRANT_ACCOUNT = Put "/flows/{flow}/access/{id}";
    REVOKE_ACCOUNT = Delete "/flows/{flow}/access/{id}";
    GRANT_GROUP = Put "/flows/{flow}/access/groups/{group}";
    REVOKE_GROUP = Delete "/flows/{flow}/access/groups/{group}";
    ROLES_LIST = Get "/roles";
    ROLES_CREATE = Post "/roles";
    ROLE_GET = Get "/roles/{name}";
    ROLE_DELETE = Delete "/roles/{name}";
    GROUPS_LIST = Get "/groups";
    GROUPS_CREATE = Post "/groups";
    GROUP_GET = Get "/groups/{name}";
    GROUP_DELETE = Delete "/groups/{name}";
    MEMBER_ADD = Put "/groups/{name}/members/{id}";
    MEMBER_REMOVE = Delete "/groups/{name}/members/{id}";
    AUDIT_LIST = Get "/audit";
    EXPORT = Get "/export";
    IMPORT = Post "/import";
    PRUNE = Post "/maintenance/prune";
}

/// Why a path or query could not be built from the arguments.
#[derive(Debug)]
pub struct BadArgument(pub String);

/// Whether `c` may appear in a path segment as is. The server matches
/// segments literally (it does not percent-decode them), so anything else is
/// refused here instead of being sent in a form the server would misread.
fn segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | ':')
}

/// Appends `value` to a query string, percent-encoding every byte outside
/// the unreserved set of RFC 3986. The server decodes query names and values
/// once (`src/admin/query.rs`, `+` as a space), so any text is sent
/// faithfully: `a&b=c` arrives as `a&b=c`, not as two parameters.
fn push_query_value(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

impl Route {
    /// The path with `params` put into the placeholders, in order.
    pub fn path(&self, params: &[&str], query: &[(&str, String)]) -> Result<String, BadArgument> {
        let mut path = String::from(PREFIX);
        let mut params = params.iter();
        for segment in self.template.split('/').skip(1) {
            path.push('/');
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let value = params.next().ok_or_else(|| {
                    BadArgument(format!("internal: no value for `{name}` in {self}"))
                })?;
                if value.is_empty()
                    || value == &"."
                    || value == &".."
                    || !value.chars().all(segment_char)
                {
                    return Err(BadArgument(format!(
                        "`{value}` is not a valid {name}: use letters, digits, '-', '.', '_', '~', ':'"
                    )));
                }
                path.push_str(value);
            } else {
                path.push_str(segment);
            }
        }
        for (i, (name, value)) in query.iter().enumerate() {
            path.push(if i == 0 { '?' } else { '&' });
            path.push_str(name);
            path.push('=');
            push_query_value(value, &mut path);
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_in_order() {
        let path = TOKEN_REVOKE.path(&["abc", "def"], &[]).map_err(|e| e.0);
        assert_eq!(path.as_deref(), Ok("/admin/v1/accounts/abc/tokens/def"));
    }

    #[test]
    fn query_values_are_appended() {
        let path = AUDIT_LIST
            .path(
                &[],
                &[
                    ("target", "account:x/token:y".into()),
                    ("limit", "5".into()),
                ],
            )
            .map_err(|e| e.0);
        assert_eq!(
            path.as_deref(),
            Ok("/admin/v1/audit?target=account%3Ax%2Ftoken%3Ay&limit=5")
        );
    }

    #[test]
    fn segment_with_slash_or_dots_is_refused() {
        for bad in ["a/b", "..", ".", "", "a%2fb", "a b", "a?b"] {
            assert!(ACCOUNT_GET.path(&[bad], &[]).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn query_values_are_percent_encoded_so_separators_arrive_as_text() {
        for (value, sent) in [
            ("a&b", "a%26b"),
            ("a=b", "a%3Db"),
            ("a%20b", "a%2520b"),
            ("a#b", "a%23b"),
            ("a+b c", "a%2Bb%20c"),
            ("né", "n%C3%A9"),
        ] {
            let path = AUDIT_LIST
                .path(&[], &[("target", value.into())])
                .map_err(|e| e.0);
            assert_eq!(
                path,
                Ok(format!("/admin/v1/audit?target={sent}")),
                "{value:?}"
            );
        }
    }

    #[test]
    fn every_route_is_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(!ROUTES[i + 1..].contains(a), "{a} listed twice");
        }
    }

    /// The command line calls only routes of the core's route table (issue
    /// 12), which the management component dispatches from.
    #[test]
    fn every_route_is_in_the_core_route_table() {
        for route in ROUTES {
            let known = flowgate::admin::routes::ROUTES
                .iter()
                .any(|r| r.method == route.method.as_str() && r.path == route.template);
            assert!(known, "{route} is not in flowgate::admin::routes::ROUTES");
        }
    }
}
