//! Who may do what through `/admin/v1`: the one place that decides whether a
//! caller may make a request. A route needs the permission the route table
//! ([`super::routes`]) names for it ([`permission_for`]). Beyond that, one rule keeps a limited role from
//! growing into an administrator (issue 18): no caller may confer a
//! permission it does not hold itself (by creating or changing a role, or by
//! giving an account roles), change an account or a role that holds a
//! permission it lacks, or change its own roles. The bootstrap administrator
//! may do everything. Import applies the same rule to each object it
//! changes ([`Admin::import_as`](super::Admin::import_as)).

use std::collections::BTreeSet;

use serde_json::Value;

use super::roles::{PERMISSIONS, Role};
use super::routes::{Lookup, lookup};
use super::{Admin, AdminError};
use crate::account::Record;

/// The permission a management route needs, as the route table
/// ([`super::routes::ROUTES`]) names it. `segments` is the path below
/// `/admin/v1/`. Routes that exist nowhere need none (they answer `404` or
/// `405`).
pub fn permission_for(method: &str, segments: &[&str], dry_run: bool) -> Option<&'static str> {
    match lookup(method, segments) {
        Lookup::Found(matched) => matched.route.permission(dry_run),
        Lookup::MethodNotAllowed(_) | Lookup::NotFound => None,
    }
}

/// A management caller, as far as permissions go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's account; `None` for the bootstrap administrator.
    account_id: Option<String>,
    /// What its roles grant; `None` for the bootstrap administrator, who
    /// may do everything.
    held: Option<BTreeSet<String>>,
}

fn forbidden(message: String) -> AdminError {
    AdminError::Forbidden { message }
}

impl Caller {
    /// The bootstrap administrator (`admin_token`): every permission.
    pub fn bootstrap() -> Self {
        Self {
            account_id: None,
            held: None,
        }
    }

    /// The caller's account id, if it is an account.
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    /// The first of `permissions` the caller lacks.
    fn lacking<'p, I>(&self, permissions: I) -> Option<&'p str>
    where
        I: IntoIterator<Item = &'p str>,
    {
        let held = self.held.as_ref()?;
        permissions.into_iter().find(|p| !held.contains(*p))
    }

    /// Refuses if the caller lacks the route permission `permission`.
    fn needs(&self, permission: &str) -> Result<(), AdminError> {
        match self.lacking([permission]) {
            Some(missing) => Err(forbidden(format!(
                "this request needs the permission `{missing}`"
            ))),
            None => Ok(()),
        }
    }

    /// The rule: `permissions`, which `what` would hold or confer, must all
    /// be the caller's own.
    pub(super) fn may_confer<'p, I>(&self, permissions: I, what: &str) -> Result<(), AdminError>
    where
        I: IntoIterator<Item = &'p str>,
    {
        match self.lacking(permissions) {
            Some(missing) => Err(forbidden(format!(
                "{what} holds the permission `{missing}`, which the caller lacks"
            ))),
            None => Ok(()),
        }
    }

    /// The rule for the caller's own account: its roles stay as they are.
    pub(super) fn may_set_roles_of(
        &self,
        account_id: &str,
        current: &[String],
        new: &[String],
    ) -> Result<(), AdminError> {
        let same = current.iter().collect::<BTreeSet<_>>() == new.iter().collect::<BTreeSet<_>>();
        if self.account_id.as_deref() == Some(account_id) && !same {
            return Err(forbidden("an account may not change its own roles".into()));
        }
        Ok(())
    }
}

/// The names in a JSON body's array field `name`, if it is one; anything
/// else is left to the route, which refuses it with `400`.
fn body_strings(body: &Value, name: &str) -> Option<Vec<String>> {
    body.get(name)?
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

impl Admin<'_> {
    /// The caller behind an account with `roles`.
    pub fn caller(&self, account_id: &str, roles: &[String]) -> Result<Caller, AdminError> {
        Ok(Caller {
            account_id: Some(account_id.to_owned()),
            held: Some(self.permissions_of(roles)?),
        })
    }

    /// Whether `caller` may make the request `method` on `segments` (below
    /// `/admin/v1/`) with `body`; the error is `403` (or `503` when the store
    /// fails). Requests for unknown objects pass here, so that the route
    /// answers `404` or `400` itself.
    pub fn permit(
        &self,
        caller: &Caller,
        method: &str,
        segments: &[&str],
        dry_run: bool,
        body: &[u8],
    ) -> Result<(), AdminError> {
        if caller.held.is_none() {
            return Ok(());
        }
        if let Some(permission) = permission_for(method, segments, dry_run) {
            caller.needs(permission)?;
        }
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let new_roles = body_strings(&body, "roles");
        let sets_roles = body.get("roles").is_some();
        match (method, segments) {
            ("POST", ["accounts"]) if sets_roles => {
                caller.needs("roles:write")?;
                let roles = new_roles.unwrap_or_default();
                caller.may_confer(
                    self.permissions_of(&roles)?.iter().map(String::as_str),
                    "a role given",
                )?;
            }
            ("GET", _) => {}
            (_, ["accounts", id, rest @ ..]) => {
                let target = match self.account(id) {
                    Ok(a) => a,
                    Err(AdminError::NotFound { .. }) => return Ok(()),
                    Err(e) => return Err(e),
                };
                // `accounts:write` alone must not reach an account with more
                // permissions: resetting an administrator's key would hand
                // the caller that key.
                caller.may_confer(
                    self.permissions_of(&target.roles)?
                        .iter()
                        .map(String::as_str),
                    "the account",
                )?;
                if method == "PATCH" && rest.is_empty() && sets_roles {
                    caller.needs("roles:write")?;
                    let roles = new_roles.unwrap_or_default();
                    caller.may_set_roles_of(id, &target.roles, &roles)?;
                    caller.may_confer(
                        self.permissions_of(&roles)?.iter().map(String::as_str),
                        "a role given",
                    )?;
                }
            }
            ("POST", ["roles"]) => {
                // Unknown permissions are the route's 400.
                let permissions = body_strings(&body, "permissions").unwrap_or_default();
                caller.may_confer(
                    permissions
                        .iter()
                        .map(String::as_str)
                        .filter(|p| PERMISSIONS.contains(p)),
                    "the role",
                )?;
            }
            (_, ["roles", name]) => {
                if let Some(role) = self.stored_role(name)? {
                    caller.may_confer(role.permissions.iter().map(String::as_str), "the role")?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Admin<'_> {
    /// The rule applied to what an import changes: each changed role, and
    /// each created or changed account, with the document's `roles` in place
    /// of stored ones of the same name.
    pub(super) fn import_permitted(
        &self,
        caller: &Caller,
        roles: &[Role],
        accounts: &[(Record, Option<Record>)],
    ) -> Result<(), AdminError> {
        if caller.held.is_none() {
            return Ok(());
        }
        for role in roles {
            let what = format!("role `{}`", role.name);
            caller.may_confer(role.permissions.iter().map(String::as_str), &what)?;
            if let Some(stored) = self.stored_role(&role.name)? {
                caller.may_confer(stored.permissions.iter().map(String::as_str), &what)?;
            }
        }
        let permissions = |names: &[String]| -> Result<BTreeSet<String>, AdminError> {
            let mut out = BTreeSet::new();
            for name in names {
                match roles.iter().find(|r| r.name == *name) {
                    Some(role) => out.extend(role.permissions.iter().cloned()),
                    None => out.extend(self.permissions_of(std::slice::from_ref(name))?),
                }
            }
            Ok(out)
        };
        for (record, stored) in accounts {
            let account = &record.account;
            let what = format!("account `{}`", account.id);
            if let Some(stored) = stored {
                caller.may_confer(
                    self.permissions_of(&stored.account.roles)?
                        .iter()
                        .map(String::as_str),
                    &what,
                )?;
                caller.may_set_roles_of(&account.id, &stored.account.roles, &account.roles)?;
            }
            caller.may_confer(
                permissions(&account.roles)?.iter().map(String::as_str),
                &what,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_kind_needs_the_expected_permission() {
        let cases: [(&str, &[&str], bool, Option<&str>); 13] = [
            ("GET", &["accounts"], false, Some("accounts:read")),
            ("POST", &["accounts"], false, Some("accounts:write")),
            (
                "POST",
                &["accounts", "x", "tokens"],
                false,
                Some("accounts:write"),
            ),
            (
                "GET",
                &["flows", "orders", "access"],
                false,
                Some("accounts:read"),
            ),
            (
                "PUT",
                &["flows", "orders", "access", "x"],
                false,
                Some("grants:write"),
            ),
            (
                "PUT",
                &["flows", "orders", "access", "groups", "g"],
                false,
                Some("grants:write"),
            ),
            (
                "PUT",
                &["groups", "g", "members", "x"],
                false,
                Some("groups:write"),
            ),
            ("DELETE", &["roles", "r"], false, Some("roles:write")),
            ("GET", &["audit"], false, Some("audit:read")),
            ("POST", &["import"], true, Some("config:read")),
            ("POST", &["import"], false, Some("config:write")),
            (
                "POST",
                &["maintenance", "prune"],
                false,
                Some("maintenance:write"),
            ),
            ("GET", &["nothing"], false, None),
        ];
        for (method, segments, dry_run, expected) in cases {
            assert_eq!(
                permission_for(method, segments, dry_run),
                expected,
                "{method} {segments:?}"
            );
        }
    }

    fn limited(held: &[&str]) -> Caller {
        Caller {
            account_id: Some("me".into()),
            held: Some(held.iter().map(|p| (*p).to_owned()).collect()),
        }
    }

    #[test]
    fn issue18_a_caller_confers_only_permissions_it_holds() {
        let caller = limited(&["accounts:write", "roles:write"]);
        assert!(caller.may_confer(["accounts:write"], "x").is_ok());
        let refused = caller.may_confer(["accounts:write", "audit:read"], "x");
        assert!(
            matches!(&refused, Err(AdminError::Forbidden { message }) if message.contains("audit:read")),
            "{refused:?}"
        );
        assert!(Caller::bootstrap().may_confer(PERMISSIONS, "x").is_ok());
    }

    #[test]
    fn issue18_an_account_may_not_change_its_own_roles() {
        let caller = limited(&PERMISSIONS);
        let admin = vec!["admin".to_owned()];
        let none: Vec<String> = vec![];
        assert!(caller.may_set_roles_of("me", &none, &admin).is_err());
        assert!(caller.may_set_roles_of("me", &admin, &none).is_err());
        // Setting the same roles again changes nothing.
        assert!(caller.may_set_roles_of("me", &admin, &admin).is_ok());
        assert!(caller.may_set_roles_of("other", &none, &admin).is_ok());
        assert!(
            Caller::bootstrap()
                .may_set_roles_of("me", &none, &admin)
                .is_ok()
        );
    }
}
