//! The operations of `/admin/v1`: each route of the core's table
//! ([`flowgate::admin::routes`], where its method, path, permission and
//! audit action are defined) calls the core's [`Admin`] and says what it
//! did, for the response and the audit log.

use flowgate::account::Status;
use flowgate::admin::access::Caller;
use flowgate::admin::query::Query;
use flowgate::admin::roles::PERMISSIONS;
use flowgate::admin::routes::{Matched, Operation};
use flowgate::admin::{AccountView, Admin, AdminError, AuditQuery};
use flowgate_flows::FLOWS;
use serde_json::{Value, json};

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
    /// A mutation: status and body (if any).
    Wrote { status: u16, body: Option<Value> },
}

fn read<T: serde::Serialize>(value: &T) -> Done {
    Done::Read(to_json(value))
}

fn wrote<T: serde::Serialize>(status: u16, value: &T) -> Done {
    Done::Wrote {
        status,
        body: Some(to_json(value)),
    }
}

const NO_CONTENT: Done = Done::Wrote {
    status: 204,
    body: None,
};

/// Runs the operation of `matched`. Returns the audit target (the table's,
/// or the created object's) and the result.
pub(crate) fn route(
    admin: &Admin<'_>,
    caller: &Caller,
    matched: &Matched<'_>,
    query: &Query,
    dry_run: bool,
    body: &[u8],
) -> (String, Result<Done, AdminError>) {
    let p = |name: &str| matched.param(name);
    let mut target = matched.target();
    let result = match matched.route.operation {
        // Answered before a route runs (`lib.rs`, `dispatch`).
        Operation::OpenApi | Operation::CaCertificate | Operation::Me => {
            Err(AdminError::NotFound {
                kind: "route",
                id: matched.route.path.to_owned(),
            })
        }
        Operation::ListAccounts => query
            .accounts()
            .and_then(|q| admin.list_accounts(&q))
            .map(|page| read(&page)),
        Operation::CreateAccount => {
            let result = admin.create_account_with(body, &crate::fetch::get);
            if let Ok(created) = &result {
                target = format!("account:{}", created.account.id);
            }
            result.map(|c| wrote(201, &c))
        }
        Operation::ReadAccount => admin.record(p("id")).map(|r| read(&AccountView::from(&r))),
        Operation::UpdateAccount => admin.update_account(p("id"), body).map(|v| wrote(200, &v)),
        Operation::DeleteAccount => query
            .flag("force")
            .and_then(|force| admin.delete_account(p("id"), force))
            .map(|()| NO_CONTENT),
        Operation::DisableAccount => admin
            .set_status(p("id"), Status::Disabled)
            .map(|v| wrote(200, &v)),
        Operation::EnableAccount => admin
            .set_status(p("id"), Status::Active)
            .map(|v| wrote(200, &v)),
        Operation::ResetCredential => admin
            .reset_credential(p("id"), body)
            .map(|v| wrote(200, &v)),
        Operation::ListTokens => admin
            .record(p("id"))
            .map(|r| Done::Read(json!({ "items": to_json(&AccountView::from(&r).tokens) }))),
        Operation::CreateToken => admin.create_token(p("id"), body).map(|t| wrote(201, &t)),
        Operation::RevokeToken => admin
            .revoke_token(p("id"), p("token_id"))
            .map(|()| NO_CONTENT),
        Operation::AddCertificate => added(
            admin.add_certificate(p("id"), body),
            "certificate",
            &mut target,
        ),
        Operation::RemoveCertificate => admin
            .remove_certificate(p("id"), p("thumbprint"))
            .map(|()| NO_CONTENT),
        Operation::AddKey => added(admin.add_public_key(p("id"), body), "key", &mut target),
        Operation::RemoveKey => admin
            .remove_public_key(p("id"), p("kid"))
            .map(|()| NO_CONTENT),
        Operation::AccountFlows => account_flows(admin, p("id")).map(Done::Read),
        Operation::AccountUsage => query
            .usage_period()
            .and_then(|(from, to)| admin.usage_figures(p("id"), from, to))
            .map(|figures| read(&figures)),
        Operation::ListFlows => Ok(Done::Read(
            json!({ "items": FLOWS.iter().map(flow_json).collect::<Vec<_>>() }),
        )),
        Operation::ReadFlow => FLOWS
            .iter()
            .find(|f| f.id == p("flow"))
            .map(|f| Done::Read(flow_json(f)))
            .ok_or_else(|| AdminError::NotFound {
                kind: "flow",
                id: p("flow").to_owned(),
            }),
        Operation::FlowAccess => admin.flow_access(p("flow")).and_then(|accounts| {
            let groups = admin.flow_groups(p("flow"))?;
            Ok(Done::Read(
                json!({ "flow": p("flow"), "accounts": to_json(&accounts), "groups": groups }),
            ))
        }),
        Operation::GrantAccount => admin
            .grant(p("flow"), p("id"))
            .map(|_| wrote(200, &json!({ "flow": p("flow"), "account_id": p("id") }))),
        Operation::RevokeAccount => admin.revoke(p("flow"), p("id")).map(|()| NO_CONTENT),
        Operation::GrantGroup => admin
            .grant_group(p("flow"), p("group"))
            .map(|g| wrote(200, &g)),
        Operation::RevokeGroup => admin
            .revoke_group(p("flow"), p("group"))
            .map(|()| NO_CONTENT),
        Operation::ListRoles => admin
            .roles()
            .map(|roles| Done::Read(json!({ "items": to_json(&roles) }))),
        Operation::CreateRole => {
            let result = admin.create_role(body);
            if let Ok(role) = &result {
                target = format!("role:{}", role.name);
            }
            result.map(|r| wrote(201, &r))
        }
        Operation::ReadRole => admin.role(p("name")).map(|r| read(&r)),
        Operation::DeleteRole => admin.delete_role(p("name")).map(|()| NO_CONTENT),
        Operation::ListGroups => admin
            .groups()
            .map(|groups| Done::Read(json!({ "items": to_json(&groups) }))),
        Operation::CreateGroup => {
            let result = admin.create_group(body);
            if let Ok(group) = &result {
                target = format!("group:{}", group.group.name);
            }
            result.map(|g| wrote(201, &g))
        }
        Operation::ReadGroup => admin.group(p("name")).map(|g| read(&g)),
        Operation::DeleteGroup => admin.delete_group(p("name")).map(|()| NO_CONTENT),
        Operation::AddMember => admin.add_member(p("name"), p("id")).map(|a| wrote(200, &a)),
        Operation::RemoveMember => admin.remove_member(p("name"), p("id")).map(|()| NO_CONTENT),
        Operation::Export => admin.export().map(Done::Read),
        // A dry run changes nothing: a read (the table leaves it unaudited).
        Operation::Import => admin.import_as(body, dry_run, caller).map(|plan| {
            if dry_run {
                read(&plan)
            } else {
                wrote(200, &plan)
            }
        }),
        Operation::Prune => admin.prune().map(|pruned| wrote(200, &pruned)),
        Operation::AuditLog => query
            .limit()
            .and_then(|limit| {
                let filter = AuditQuery {
                    target: query.text("target")?,
                    actor: query.text("actor")?,
                    before: query.audit_before()?,
                };
                admin.audit_log(&filter, limit)
            })
            .map(|page| read(&page)),
    };
    (target, result)
}

/// The answer to adding a certificate or key: `201` with the account, audited
/// with the new material's name (`account:<id>/<kind>:<name>`), or the
/// account alone as the target when refused.
fn added(
    result: Result<(AccountView, String), AdminError>,
    kind: &str,
    target: &mut String,
) -> Result<Done, AdminError> {
    let (view, name) = result?;
    target.push_str(&format!("/{kind}:{name}"));
    Ok(wrote(201, &view))
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
