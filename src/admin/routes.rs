//! The route table of `/admin/v1`, defined once: every route's method, path
//! template, operation, the permission it needs and the audit action of a
//! mutation. The management component finds a request's route here and
//! dispatches on its [`Operation`]; [`super::access`] checks the permission
//! named here; `tests/openapi.rs` holds the OpenAPI document to this table,
//! and the command line's own table (`cli/src/api.rs`) is checked against it.

/// What a route does: the management component calls the matching
/// [`Admin`](super::Admin) method for each.
/// Not `#[non_exhaustive]`: the component matches on it exhaustively, so a
/// route added here does not build until it is dispatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// The OpenAPI document (answered before authentication).
    OpenApi,
    /// flowgate's client-certificate CA, PEM (answered before
    /// authentication; docs/service-keys.md).
    CaCertificate,
    /// Who the caller is and what it may do.
    Me,
    /// List accounts.
    ListAccounts,
    /// Create an account.
    CreateAccount,
    /// Read an account.
    ReadAccount,
    /// Change an account's description, roles or groups.
    UpdateAccount,
    /// Delete an account.
    DeleteAccount,
    /// The kill switch: disable an account.
    DisableAccount,
    /// Enable a disabled account.
    EnableAccount,
    /// Reset an account's generated secret.
    ResetCredential,
    /// The flows an account may invoke, and why.
    AccountFlows,
    /// An account's hourly usage figures over a period.
    AccountUsage,
    /// List an account's API tokens.
    ListTokens,
    /// Create an API token.
    CreateToken,
    /// Revoke an API token.
    RevokeToken,
    /// Add a client certificate to an `mtls` account.
    AddCertificate,
    /// Remove a client certificate.
    RemoveCertificate,
    /// Add a public key to a `private_key_jwt` account.
    AddKey,
    /// Remove a public key.
    RemoveKey,
    /// List flows.
    ListFlows,
    /// Read a flow.
    ReadFlow,
    /// Who may invoke a flow.
    FlowAccess,
    /// Grant a flow to an account.
    GrantAccount,
    /// Revoke an account's grant of a flow.
    RevokeAccount,
    /// Grant a flow to a group.
    GrantGroup,
    /// Revoke a group's grant of a flow.
    RevokeGroup,
    /// List roles.
    ListRoles,
    /// Create a custom role.
    CreateRole,
    /// Read a role.
    ReadRole,
    /// Delete a custom role.
    DeleteRole,
    /// List groups.
    ListGroups,
    /// Create a group.
    CreateGroup,
    /// Read a group.
    ReadGroup,
    /// Delete a group.
    DeleteGroup,
    /// Add an account to a group.
    AddMember,
    /// Remove an account from a group.
    RemoveMember,
    /// Read the audit log.
    AuditLog,
    /// Export accounts, groups and roles.
    Export,
    /// Import a document (or plan it, with `?dry_run=true`).
    Import,
    /// Delete expired records.
    Prune,
}

/// One route of `/admin/v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method, upper-case.
    pub method: &'static str,
    /// The path below `/admin/v1`, with `{name}` placeholders as in the
    /// OpenAPI document.
    pub path: &'static str,
    /// What it does.
    pub operation: Operation,
    /// The permission it needs; `None` for the two routes open to any
    /// caller (`/me` to every authenticated one, `/openapi.json` and
    /// `/ca.pem` to all).
    pub permission: Option<&'static str>,
    /// The audit action of a mutation; `None` for a read, which is not
    /// audited.
    pub action: Option<&'static str>,
    /// The audit target, with the path's placeholders filled in. A route that
    /// creates an object names it in the target once it exists.
    pub target: &'static str,
    /// For a route that takes `?dry_run=true`: the permission of a dry run,
    /// which writes nothing and is therefore a read, not audited.
    pub dry_run: Option<&'static str>,
}

impl Route {
    /// The permission this request needs.
    pub fn permission(&self, dry_run: bool) -> Option<&'static str> {
        match self.dry_run {
            Some(permission) if dry_run => Some(permission),
            _ => self.permission,
        }
    }

    /// The audit action of this request; `None`: not audited.
    pub fn action(&self, dry_run: bool) -> Option<&'static str> {
        if dry_run && self.dry_run.is_some() {
            None
        } else {
            self.action
        }
    }
}

/// The audit action of a request refused before its route was found or its
/// input read (a body too large, a malformed path or query).
pub const REFUSED_ACTION: &str = "request.refused";
/// The audit action of a request refused for want of a permission.
pub const DENIED_ACTION: &str = "permission.denied";

macro_rules! routes {
    ($($method:literal $path:literal => $operation:ident, $permission:expr, $action:expr, $target:literal $(, dry_run $dry:literal)?;)*) => {
        /// Every route of `/admin/v1`.
        pub const ROUTES: &[Route] = &[$(Route {
            method: $method,
            path: $path,
            operation: Operation::$operation,
            permission: $permission,
            action: $action,
            target: $target,
            dry_run: routes!(@dry $($dry)?),
        }),*];
    };
    (@dry) => { None };
    (@dry $dry:literal) => { Some($dry) };
}

const R_ACCOUNTS: Option<&str> = Some("accounts:read");
const W_ACCOUNTS: Option<&str> = Some("accounts:write");
const W_GRANTS: Option<&str> = Some("grants:write");
const R_GROUPS: Option<&str> = Some("groups:read");
const W_GROUPS: Option<&str> = Some("groups:write");
const R_ROLES: Option<&str> = Some("roles:read");
const W_ROLES: Option<&str> = Some("roles:write");

routes! {
    "GET" "/openapi.json" => OpenApi, None, None, "";
    "GET" "/ca.pem" => CaCertificate, None, None, "";
    "GET" "/me" => Me, None, None, "";
    "GET" "/accounts" => ListAccounts, R_ACCOUNTS, None, "";
    "POST" "/accounts" => CreateAccount, W_ACCOUNTS, Some("account.create"), "account";
    "GET" "/accounts/{id}" => ReadAccount, R_ACCOUNTS, None, "";
    "PATCH" "/accounts/{id}" => UpdateAccount, W_ACCOUNTS, Some("account.update"), "account:{id}";
    "DELETE" "/accounts/{id}" => DeleteAccount, W_ACCOUNTS, Some("account.delete"), "account:{id}";
    "POST" "/accounts/{id}/disable" => DisableAccount, W_ACCOUNTS, Some("account.disable"), "account:{id}";
    "POST" "/accounts/{id}/enable" => EnableAccount, W_ACCOUNTS, Some("account.enable"), "account:{id}";
    "POST" "/accounts/{id}/reset-credential" => ResetCredential, W_ACCOUNTS, Some("credential.reset"), "account:{id}";
    "GET" "/accounts/{id}/flows" => AccountFlows, R_ACCOUNTS, None, "";
    "GET" "/accounts/{id}/usage" => AccountUsage, R_ACCOUNTS, None, "";
    "GET" "/accounts/{id}/tokens" => ListTokens, R_ACCOUNTS, None, "";
    "POST" "/accounts/{id}/tokens" => CreateToken, W_ACCOUNTS, Some("token.create"), "account:{id}";
    "DELETE" "/accounts/{id}/tokens/{token_id}" => RevokeToken, W_ACCOUNTS, Some("token.revoke"), "account:{id}/token:{token_id}";
    "POST" "/accounts/{id}/certificates" => AddCertificate, W_ACCOUNTS, Some("certificate.add"), "account:{id}";
    "DELETE" "/accounts/{id}/certificates/{thumbprint}" => RemoveCertificate, W_ACCOUNTS, Some("certificate.remove"), "account:{id}/certificate:{thumbprint}";
    "POST" "/accounts/{id}/keys" => AddKey, W_ACCOUNTS, Some("key.add"), "account:{id}";
    "DELETE" "/accounts/{id}/keys/{kid}" => RemoveKey, W_ACCOUNTS, Some("key.remove"), "account:{id}/key:{kid}";
    "GET" "/flows" => ListFlows, R_ACCOUNTS, None, "";
    "GET" "/flows/{flow}" => ReadFlow, R_ACCOUNTS, None, "";
    "GET" "/flows/{flow}/access" => FlowAccess, R_ACCOUNTS, None, "";
    "PUT" "/flows/{flow}/access/{id}" => GrantAccount, W_GRANTS, Some("grant.create"), "flow:{flow}/account:{id}";
    "DELETE" "/flows/{flow}/access/{id}" => RevokeAccount, W_GRANTS, Some("grant.revoke"), "flow:{flow}/account:{id}";
    "PUT" "/flows/{flow}/access/groups/{group}" => GrantGroup, W_GRANTS, Some("grant.create"), "flow:{flow}/group:{group}";
    "DELETE" "/flows/{flow}/access/groups/{group}" => RevokeGroup, W_GRANTS, Some("grant.revoke"), "flow:{flow}/group:{group}";
    "GET" "/roles" => ListRoles, R_ROLES, None, "";
    "POST" "/roles" => CreateRole, W_ROLES, Some("role.create"), "role";
    "GET" "/roles/{name}" => ReadRole, R_ROLES, None, "";
    "DELETE" "/roles/{name}" => DeleteRole, W_ROLES, Some("role.delete"), "role:{name}";
    "GET" "/groups" => ListGroups, R_GROUPS, None, "";
    "POST" "/groups" => CreateGroup, W_GROUPS, Some("group.create"), "group";
    "GET" "/groups/{name}" => ReadGroup, R_GROUPS, None, "";
    "DELETE" "/groups/{name}" => DeleteGroup, W_GROUPS, Some("group.delete"), "group:{name}";
    "PUT" "/groups/{name}/members/{id}" => AddMember, W_GROUPS, Some("group.add_member"), "group:{name}/account:{id}";
    "DELETE" "/groups/{name}/members/{id}" => RemoveMember, W_GROUPS, Some("group.remove_member"), "group:{name}/account:{id}";
    "GET" "/audit" => AuditLog, Some("audit:read"), None, "";
    "GET" "/export" => Export, Some("config:read"), None, "";
    "POST" "/import" => Import, Some("config:write"), Some("config.import"), "config", dry_run "config:read";
    "POST" "/maintenance/prune" => Prune, Some("maintenance:write"), Some("maintenance.prune"), "maintenance";
}

/// A request's route and the values of its placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'s> {
    /// The route.
    pub route: &'static Route,
    params: Vec<(&'static str, &'s str)>,
}

impl<'s> Matched<'s> {
    /// The value of the placeholder `{name}`; empty if the route has none of
    /// that name (a mistake in the caller, never in request input).
    pub fn param(&self, name: &str) -> &'s str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v)
    }

    /// The audit target, the placeholders filled in.
    pub fn target(&self) -> String {
        let mut out = self.route.target.to_owned();
        for (name, value) in &self.params {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }
}

/// Where a request leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'s> {
    /// To a route.
    Found(Matched<'s>),
    /// To a path that exists with other methods: these, for `Allow`.
    MethodNotAllowed(Vec<&'static str>),
    /// Nowhere.
    NotFound,
}

/// The segments of a path template, without the leading `/`.
fn template(route: &Route) -> impl Iterator<Item = &'static str> {
    route.path.trim_start_matches('/').split('/')
}

/// The placeholders of `route` filled from `segments` (the decoded path
/// below `/admin/v1/`), if the path fits, with how many of its segments are
/// literal: where two templates fit, the more literal one wins.
fn fit<'s>(route: &Route, segments: &[&'s str]) -> Option<(usize, Vec<(&'static str, &'s str)>)> {
    if template(route).count() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    let mut literal = 0;
    for (part, segment) in template(route).zip(segments) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) => params.push((name, *segment)),
            None if part == *segment => literal += 1,
            None => return None,
        }
    }
    Some((literal, params))
}

/// The route of `method` (upper-case) on `segments`.
pub fn lookup<'s>(method: &str, segments: &[&'s str]) -> Lookup<'s> {
    let mut best: Option<(usize, Matched<'s>)> = None;
    let mut allowed = Vec::new();
    for route in ROUTES {
        let Some((literal, params)) = fit(route, segments) else {
            continue;
        };
        if route.method != method {
            allowed.push(route.method);
            continue;
        }
        if best.as_ref().is_none_or(|(l, _)| literal > *l) {
            best = Some((literal, Matched { route, params }));
        }
    }
    match best {
        Some((_, matched)) => Lookup::Found(matched),
        None if allowed.is_empty() => Lookup::NotFound,
        None => {
            allowed.sort_unstable();
            allowed.dedup();
            Lookup::MethodNotAllowed(allowed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::roles::PERMISSIONS;
    use super::*;

    #[test]
    fn every_route_is_listed_once_and_names_known_permissions() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(
                !ROUTES[i + 1..]
                    .iter()
                    .any(|b| a.method == b.method && a.path == b.path),
                "{} {} listed twice",
                a.method,
                a.path
            );
            for p in [a.permission, a.dry_run].into_iter().flatten() {
                assert!(PERMISSIONS.contains(&p), "{}: unknown {p}", a.path);
            }
            // A read changes nothing and is not audited; a mutation is.
            assert_eq!(a.method == "GET", a.action.is_none(), "{}", a.path);
        }
    }

    #[test]
    fn placeholders_are_filled_into_the_target() {
        let Lookup::Found(m) = lookup("DELETE", &["accounts", "a1", "tokens", "t9"]) else {
            panic!("route not found");
        };
        assert_eq!(m.route.operation, Operation::RevokeToken);
        assert_eq!(m.param("id"), "a1");
        assert_eq!(m.param("token_id"), "t9");
        assert_eq!(m.target(), "account:a1/token:t9");
    }

    #[test]
    fn literal_segment_wins_over_placeholder() {
        let Lookup::Found(m) = lookup("PUT", &["flows", "f", "access", "groups", "g"]) else {
            panic!("route not found");
        };
        assert_eq!(m.route.operation, Operation::GrantGroup);
        // Four segments: `groups` is an account id here, as before the table.
        let Lookup::Found(m) = lookup("PUT", &["flows", "f", "access", "groups"]) else {
            panic!("route not found");
        };
        assert_eq!(m.route.operation, Operation::GrantAccount);
        assert_eq!(m.param("id"), "groups");
    }

    #[test]
    fn other_method_is_not_allowed_with_the_methods_listed() {
        assert_eq!(
            lookup("PUT", &["accounts", "a1"]),
            Lookup::MethodNotAllowed(vec!["DELETE", "GET", "PATCH"])
        );
        assert_eq!(
            lookup("GET", &["accounts", "a1", "nothing"]),
            Lookup::NotFound
        );
    }

    #[test]
    fn a_dry_run_import_is_an_unaudited_read() {
        let Lookup::Found(m) = lookup("POST", &["import"]) else {
            panic!("route not found");
        };
        assert_eq!(m.route.permission(true), Some("config:read"));
        assert_eq!(m.route.action(true), None);
        assert_eq!(m.route.permission(false), Some("config:write"));
        assert_eq!(m.route.action(false), Some("config.import"));
    }
}
