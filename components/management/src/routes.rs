//! The operations of `/admin/v1`: each route calls the core's
//! [`Admin`] and says what it did, for the response and the audit log.

use flowgate::account::Status;
use flowgate::admin::access::Caller;
use flowgate::admin::query::Query;
use flowgate::admin::roles::PERMISSIONS;
use flowgate::admin::{AccountView, Admin, AdminError, AuditQuery};
use flowgate_flows::FLOWS;
use serde_json::{Value, json};
use spin_sdk::http::Method;

use crate::auth::Actor;
use crate::response::to_json;

/// `GET /me`: who the caller is and what it may do, so that a client (the
/// console) offers only what will be allowed. Needs no permission: it tells
/// callers only about themselves.
pub(crate) fn me(admin: &Admin<'_>, actor: &Actor) -> Result<Value, AdminError> {
    let Some(roles) = &actor.roles else {
        return Ok(json!({
            "actor": actor.name,
            "bootstrap": true,
            "roles": [],
            "permissions": PERMISSIONS,
        }));
    };
    let account = match &actor.account_id {
        Some(id) => {
            let a = admin.account(id)?;
            json!({ "id": a.id, "name": a.name })
        }
        None => Value::Null,
    };
    Ok(json!({
        "actor": actor.name,
        "bootstrap": false,
        "account": account,
        "roles": roles,
        "permissions": admin.permissions_of(roles)?,
    }))
}

/// What a route did, for the response and the audit log.
pub(crate) enum Done {
    /// A read: no audit entry.
    Read(Value),
    /// A mutation: status, body (if any), action and target for the audit.
    Wrote {
        status: u16,
        body: Option<Value>,
        action: &'static str,
        target: String,
    },
}

type Routed = (Option<&'static str>, String, Result<Done, AdminError>);

fn wrote(status: u16, body: Option<Value>, action: &'static str, target: String) -> Done {
    Done::Wrote {
        status,
        body,
        action,
        target,
    }
}

pub(crate) fn route(
    admin: &Admin<'_>,
    caller: &Caller,
    method: &Method,
    segments: &[&str],
    query: &Query,
    dry_run: bool,
    body: &[u8],
) -> Routed {
    use Method::{Delete, Get, Patch, Post, Put};
    let not_found = || AdminError::NotFound {
        kind: "route",
        id: segments.join("/"),
    };
    match (method, segments) {
        (Get, ["accounts"]) => (
            None,
            String::new(),
            query
                .accounts()
                .and_then(|q| admin.list_accounts(&q))
                .map(|page| Done::Read(to_json(&page))),
        ),
        (Post, ["accounts"]) => {
            let result = admin.create_account_with(body, &crate::fetch::get);
            let target = result
                .as_ref()
                .map(|c| format!("account:{}", c.account.id))
                .unwrap_or_else(|_| "account".into());
            (
                Some("account.create"),
                target.clone(),
                result.map(|c| wrote(201, Some(to_json(&c)), "account.create", target)),
            )
        }
        (Get, ["accounts", id]) => (
            None,
            String::new(),
            admin
                .record(id)
                .map(|r| Done::Read(to_json(&AccountView::from(&r)))),
        ),
        (Patch, ["accounts", id]) => {
            let target = format!("account:{id}");
            (
                Some("account.update"),
                target.clone(),
                admin
                    .update_account(id, body)
                    .map(|v| wrote(200, Some(to_json(&v)), "account.update", target)),
            )
        }
        (Delete, ["accounts", id]) => {
            let target = format!("account:{id}");
            let force = match query.flag("force") {
                Ok(force) => force,
                Err(e) => return (Some("account.delete"), target, Err(e)),
            };
            (
                Some("account.delete"),
                target.clone(),
                admin
                    .delete_account(id, force)
                    .map(|()| wrote(204, None, "account.delete", target)),
            )
        }
        (Post, ["accounts", id, action @ ("disable" | "enable")]) => {
            let (status, name) = if *action == "disable" {
                (Status::Disabled, "account.disable")
            } else {
                (Status::Active, "account.enable")
            };
            let target = format!("account:{id}");
            (
                Some(name),
                target.clone(),
                admin
                    .set_status(id, status)
                    .map(|v| wrote(200, Some(to_json(&v)), name, target)),
            )
        }
        (Post, ["accounts", id, "reset-credential"]) => {
            let target = format!("account:{id}");
            (
                Some("credential.reset"),
                target.clone(),
                admin
                    .reset_credential(id, body)
                    .map(|v| wrote(200, Some(to_json(&v)), "credential.reset", target)),
            )
        }
        (Get, ["accounts", id, "tokens"]) => (
            None,
            String::new(),
            admin
                .record(id)
                .map(|r| Done::Read(json!({ "items": to_json(&AccountView::from(&r).tokens) }))),
        ),
        (Post, ["accounts", id, "tokens"]) => {
            let target = format!("account:{id}");
            (
                Some("token.create"),
                target.clone(),
                admin
                    .create_token(id, body)
                    .map(|t| wrote(201, Some(to_json(&t)), "token.create", target)),
            )
        }
        (Delete, ["accounts", id, "tokens", token]) => {
            let target = format!("account:{id}/token:{token}");
            (
                Some("token.revoke"),
                target.clone(),
                admin
                    .revoke_token(id, token)
                    .map(|()| wrote(204, None, "token.revoke", target)),
            )
        }
        (Post, ["accounts", id, "certificates"]) => {
            let result = admin.add_certificate(id, body);
            added(result, "certificate.add", id, "certificate")
        }
        (Delete, ["accounts", id, "certificates", thumbprint]) => {
            let target = format!("account:{id}/certificate:{thumbprint}");
            (
                Some("certificate.remove"),
                target.clone(),
                admin
                    .remove_certificate(id, thumbprint)
                    .map(|()| wrote(204, None, "certificate.remove", target)),
            )
        }
        (Post, ["accounts", id, "keys"]) => {
            let result = admin.add_public_key(id, body);
            added(result, "key.add", id, "key")
        }
        (Delete, ["accounts", id, "keys", kid]) => {
            let target = format!("account:{id}/key:{kid}");
            (
                Some("key.remove"),
                target.clone(),
                admin
                    .remove_public_key(id, kid)
                    .map(|()| wrote(204, None, "key.remove", target)),
            )
        }
        (Get, ["accounts", id, "flows"]) => (
            None,
            String::new(),
            account_flows(admin, id).map(Done::Read),
        ),
        (Get, ["flows"]) => (
            None,
            String::new(),
            Ok(Done::Read(
                json!({ "items": FLOWS.iter().map(flow_json).collect::<Vec<_>>() }),
            )),
        ),
        (Get, ["flows", flow]) => (
            None,
            String::new(),
            FLOWS
                .iter()
                .find(|f| f.id == *flow)
                .map(|f| Done::Read(flow_json(f)))
                .ok_or_else(|| AdminError::NotFound {
                    kind: "flow",
                    id: (*flow).to_owned(),
                }),
        ),
        (Get, ["flows", flow, "access"]) => (
            None,
            String::new(),
            admin.flow_access(flow).and_then(|accounts| {
                let groups = admin.flow_groups(flow)?;
                Ok(Done::Read(
                    json!({ "flow": flow, "accounts": to_json(&accounts), "groups": groups }),
                ))
            }),
        ),
        (Put, ["flows", flow, "access", id]) => {
            let target = format!("flow:{flow}/account:{id}");
            (
                Some("grant.create"),
                target.clone(),
                admin.grant(flow, id).map(|_| {
                    wrote(
                        200,
                        Some(json!({ "flow": flow, "account_id": id })),
                        "grant.create",
                        target,
                    )
                }),
            )
        }
        (Delete, ["flows", flow, "access", id]) => {
            let target = format!("flow:{flow}/account:{id}");
            (
                Some("grant.revoke"),
                target.clone(),
                admin
                    .revoke(flow, id)
                    .map(|()| wrote(204, None, "grant.revoke", target)),
            )
        }
        (Put, ["flows", flow, "access", "groups", group]) => {
            let target = format!("flow:{flow}/group:{group}");
            (
                Some("grant.create"),
                target.clone(),
                admin
                    .grant_group(flow, group)
                    .map(|g| wrote(200, Some(to_json(&g)), "grant.create", target)),
            )
        }
        (Delete, ["flows", flow, "access", "groups", group]) => {
            let target = format!("flow:{flow}/group:{group}");
            (
                Some("grant.revoke"),
                target.clone(),
                admin
                    .revoke_group(flow, group)
                    .map(|()| wrote(204, None, "grant.revoke", target)),
            )
        }
        (Get, ["roles"]) => (
            None,
            String::new(),
            admin
                .roles()
                .map(|roles| Done::Read(json!({ "items": to_json(&roles) }))),
        ),
        (Post, ["roles"]) => {
            let result = admin.create_role(body);
            let target = match &result {
                Ok(r) => format!("role:{}", r.name),
                Err(_) => "role".into(),
            };
            (
                Some("role.create"),
                target.clone(),
                result.map(|r| wrote(201, Some(to_json(&r)), "role.create", target)),
            )
        }
        (Get, ["roles", name]) => (
            None,
            String::new(),
            admin.role(name).map(|r| Done::Read(to_json(&r))),
        ),
        (Delete, ["roles", name]) => {
            let target = format!("role:{name}");
            (
                Some("role.delete"),
                target.clone(),
                admin
                    .delete_role(name)
                    .map(|()| wrote(204, None, "role.delete", target)),
            )
        }
        (Get, ["groups"]) => (
            None,
            String::new(),
            admin
                .groups()
                .map(|groups| Done::Read(json!({ "items": to_json(&groups) }))),
        ),
        (Post, ["groups"]) => {
            let result = admin.create_group(body);
            let target = match &result {
                Ok(g) => format!("group:{}", g.group.name),
                Err(_) => "group".into(),
            };
            (
                Some("group.create"),
                target.clone(),
                result.map(|g| wrote(201, Some(to_json(&g)), "group.create", target)),
            )
        }
        (Get, ["groups", name]) => (
            None,
            String::new(),
            admin.group(name).map(|g| Done::Read(to_json(&g))),
        ),
        (Delete, ["groups", name]) => {
            let target = format!("group:{name}");
            (
                Some("group.delete"),
                target.clone(),
                admin
                    .delete_group(name)
                    .map(|()| wrote(204, None, "group.delete", target)),
            )
        }
        (Put, ["groups", name, "members", id]) => {
            let target = format!("group:{name}/account:{id}");
            (
                Some("group.add_member"),
                target.clone(),
                admin
                    .add_member(name, id)
                    .map(|a| wrote(200, Some(to_json(&a)), "group.add_member", target)),
            )
        }
        (Delete, ["groups", name, "members", id]) => {
            let target = format!("group:{name}/account:{id}");
            (
                Some("group.remove_member"),
                target.clone(),
                admin
                    .remove_member(name, id)
                    .map(|()| wrote(204, None, "group.remove_member", target)),
            )
        }
        (Get, ["export"]) => (None, String::new(), admin.export().map(Done::Read)),
        (Post, ["import"]) => {
            if dry_run {
                // A dry run changes nothing: a read, not audited.
                (
                    None,
                    String::new(),
                    admin
                        .import_as(body, true, caller)
                        .map(|plan| Done::Read(to_json(&plan))),
                )
            } else {
                (
                    Some("config.import"),
                    "config".into(),
                    admin.import_as(body, false, caller).map(|plan| {
                        wrote(200, Some(to_json(&plan)), "config.import", "config".into())
                    }),
                )
            }
        }
        (Post, ["maintenance", "prune"]) => (
            Some("maintenance.prune"),
            "maintenance".into(),
            admin.prune().map(|pruned| {
                wrote(
                    200,
                    Some(to_json(&pruned)),
                    "maintenance.prune",
                    "maintenance".into(),
                )
            }),
        ),
        (Get, ["audit"]) => {
            let page = query.limit().and_then(|limit| {
                let filter = AuditQuery {
                    target: query.text("target")?,
                    actor: query.text("actor")?,
                    before: query.audit_before()?,
                };
                admin.audit_log(&filter, limit)
            });
            (
                None,
                String::new(),
                page.map(|page| Done::Read(to_json(&page))),
            )
        }
        _ => (None, String::new(), Err(not_found())),
    }
}

/// The answer to adding a certificate or key: `201` with the account, audited
/// with the new material's name (`account:<id>/<kind>:<name>`), or the
/// account alone as the target when refused.
fn added(
    result: Result<(AccountView, String), AdminError>,
    action: &'static str,
    id: &str,
    kind: &str,
) -> Routed {
    let target = match &result {
        Ok((_, name)) => format!("account:{id}/{kind}:{name}"),
        Err(_) => format!("account:{id}"),
    };
    (
        Some(action),
        target.clone(),
        result.map(|(view, _)| wrote(201, Some(to_json(&view)), action, target)),
    )
}

/// `GET /accounts/{id}/flows`: every flow the account may invoke, and why.
fn account_flows(admin: &Admin<'_>, id: &str) -> Result<Value, AdminError> {
    let record = admin.record(id)?;
    let mut via_groups = Vec::new();
    for name in &record.account.groups {
        match admin.group(name) {
            Ok(g) => via_groups.push(json!({ "group": name, "flows": g.group.grants })),
            Err(AdminError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(json!({
        "items": record.account.grants,
        "direct": record.direct_grants(),
        "groups": via_groups,
    }))
}

fn flow_json(f: &flowgate::policy::Flow) -> Value {
    json!({
        "id": f.id,
        "description": f.description,
        "path_prefix": f.path_prefix,
        "methods": f.methods.names().collect::<Vec<_>>(),
        "project": f.project,
        "environment": f.environment,
        "proxy": f.upstream.is_some(),
    })
}
