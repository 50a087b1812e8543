//! Management roles: who may do what through `/admin/v1`. Two built-in roles
//! (`admin` may do everything, `auditor` may read everything, the audit log
//! included) and custom roles, each a named set of [`PERMISSIONS`], stored
//! under `role/<name>`. Who may use them is decided in [`super::access`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Admin, AdminError, Fields, check_description, field, names, not_found};
use crate::policy::is_identifier;
use crate::store::NameKind;
use crate::store::index::distinct;
use crate::store::keys::role_key;

/// Every management permission. A permission ending in `:read` never changes
/// anything; the `auditor` role holds exactly those.
pub const PERMISSIONS: [&str; 11] = [
    "accounts:read",
    "accounts:write",
    "grants:write",
    "groups:read",
    "groups:write",
    "roles:read",
    "roles:write",
    "audit:read",
    "config:read",
    "config:write",
    "maintenance:write",
];

/// The built-in role that may do everything.
pub const ADMIN_ROLE: &str = "admin";
/// The built-in read-only role.
pub const AUDITOR_ROLE: &str = "auditor";

/// The permissions of a built-in role, or `None` if `name` is not built in.
fn built_in(name: &str) -> Option<Vec<&'static str>> {
    match name {
        ADMIN_ROLE => Some(PERMISSIONS.to_vec()),
        AUDITOR_ROLE => Some(
            PERMISSIONS
                .into_iter()
                .filter(|p| p.ends_with(":read"))
                .collect(),
        ),
        _ => None,
    }
}

/// A custom role as stored under `role/<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Name, unique, never `admin` or `auditor`.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// A subset of [`PERMISSIONS`], sorted.
    pub permissions: Vec<String>,
    /// Creation time (Unix seconds).
    pub created_at: u64,
}

/// A role as the API shows it, built-in or custom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleView {
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The permissions it grants.
    pub permissions: Vec<String>,
    /// Whether it is `admin` or `auditor` (cannot be changed or deleted).
    pub built_in: bool,
    /// Creation time of a custom role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<u64>,
}

impl From<Role> for RoleView {
    fn from(r: Role) -> Self {
        Self {
            name: r.name,
            description: r.description,
            permissions: r.permissions,
            built_in: false,
            created_at: Some(r.created_at),
        }
    }
}

fn built_in_view(name: &str) -> Option<RoleView> {
    let description = match name {
        ADMIN_ROLE => "every management permission",
        AUDITOR_ROLE => "read-only: every `:read` permission, the audit log included",
        _ => return None,
    };
    built_in(name).map(|permissions| RoleView {
        name: name.to_owned(),
        description: description.to_owned(),
        permissions: permissions.into_iter().map(str::to_owned).collect(),
        built_in: true,
        created_at: None,
    })
}

impl Admin<'_> {
    pub(super) fn stored_role(&self, name: &str) -> Result<Option<Role>, AdminError> {
        if !is_identifier(name) {
            return Ok(None);
        }
        match self.store.get(&role_key(name))? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| AdminError::Corrupt(role_key(name))),
        }
    }

    /// `POST /admin/v1/roles` with `name`, `permissions` and `description`.
    pub fn create_role(&self, body: &[u8]) -> Result<RoleView, AdminError> {
        let f = Fields::parse(body, &["name", "description", "permissions"])?;
        let name = f.string("name")?.ok_or_else(|| field("name", "required"))?;
        if !is_identifier(&name) {
            return Err(field("name", "1-64 of a-z, 0-9, _ and -"));
        }
        let description = f.string("description")?.unwrap_or_default();
        check_description(&description)?;
        let mut permissions = f
            .strings("permissions")?
            .ok_or_else(|| field("permissions", "required"))?;
        if let Some(bad) = permissions
            .iter()
            .find(|p| !PERMISSIONS.contains(&p.as_str()))
        {
            return Err(field(
                "permissions",
                format!(
                    "unknown permission {bad:?}; known: {}",
                    PERMISSIONS.join(", ")
                ),
            ));
        }
        permissions.sort();
        permissions.dedup();
        if built_in(&name).is_some() || self.stored_role(&name)?.is_some() {
            return Err(names::taken(NameKind::Role, &name));
        }
        let role = Role {
            name,
            description,
            permissions,
            created_at: self.clock.now(),
        };
        let bytes =
            serde_json::to_vec(&role).map_err(|_| AdminError::Corrupt(role.name.clone()))?;
        // The role record is the only write: it either happened or not.
        self.create_named(
            NameKind::Role,
            &role.name,
            || {
                // Its index entry first (issue 16), as for groups.
                self.roles_indexed()?;
                super::index::roles().add(self.store, &role.name)?;
                Ok(self.store.set(&role_key(&role.name), &bytes)?)
            },
            || {},
        )?;
        Ok(role.into())
    }

    /// `GET /admin/v1/roles`: built-in roles first, then custom ones by name.
    pub fn roles(&self) -> Result<Vec<RoleView>, AdminError> {
        let mut out: Vec<RoleView> = [ADMIN_ROLE, AUDITOR_ROLE]
            .into_iter()
            .filter_map(built_in_view)
            .collect();
        // From the role index, never a key listing (issue 16): the store's
        // keys grow with traffic records.
        self.roles_indexed()?;
        for name in distinct(super::index::roles().entries(self.store)?) {
            if let Some(role) = self.stored_role(&name)? {
                out.push(role.into());
            }
        }
        Ok(out)
    }

    /// `GET /admin/v1/roles/{name}`.
    pub fn role(&self, name: &str) -> Result<RoleView, AdminError> {
        if let Some(view) = built_in_view(name) {
            return Ok(view);
        }
        self.stored_role(name)?
            .map(RoleView::from)
            .ok_or_else(|| not_found("role", name))
    }

    /// `DELETE /admin/v1/roles/{name}`: refused for built-in roles and while
    /// an account holds the role.
    pub fn delete_role(&self, name: &str) -> Result<(), AdminError> {
        if built_in(name).is_some() {
            return Err(AdminError::Conflict {
                message: format!("`{name}` is a built-in role"),
                flows: vec![],
            });
        }
        self.stored_role(name)?
            .ok_or_else(|| not_found("role", name))?;
        let holders: Vec<String> = self
            .records()?
            .into_iter()
            .filter(|r| r.account.roles.iter().any(|role| role == name))
            .map(|r| r.account.name)
            .collect();
        if !holders.is_empty() {
            return Err(AdminError::Conflict {
                message: format!(
                    "role `{name}` is held by {}; take it away first",
                    holders.join(", ")
                ),
                flows: vec![],
            });
        }
        self.release_name(NameKind::Role, name)?;
        self.store.delete(&role_key(name))?;
        Ok(())
    }

    /// Every permission the `roles` grant together. A role that no longer
    /// exists grants nothing.
    pub fn permissions_of(&self, roles: &[String]) -> Result<BTreeSet<String>, AdminError> {
        let mut out = BTreeSet::new();
        for name in roles {
            match built_in(name) {
                Some(permissions) => out.extend(permissions.into_iter().map(str::to_owned)),
                None => {
                    if let Some(role) = self.stored_role(name)? {
                        out.extend(role.permissions);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Refuses role names that are neither built in nor stored.
    pub(super) fn check_roles_exist(&self, roles: &[String]) -> Result<(), AdminError> {
        for name in roles {
            if built_in(name).is_none() && self.stored_role(name)?.is_none() {
                return Err(field("roles", format!("unknown role `{name}`")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditor_holds_only_read_permissions() {
        let auditor = built_in(AUDITOR_ROLE).unwrap_or_default();
        assert!(auditor.contains(&"audit:read"));
        assert!(auditor.contains(&"accounts:read"));
        assert!(!auditor.iter().any(|p| p.ends_with(":write")));
        assert_eq!(
            built_in(ADMIN_ROLE).map(|p| p.len()),
            Some(PERMISSIONS.len())
        );
    }
}
