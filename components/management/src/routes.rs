//! Routing of `/admin/v1` and the mapping of core results to HTTP. Every
//! mutation, successful or not, is written to the audit log.

use flowgate::account::{CredentialType, ScopeLevel, Status};
use flowgate::admin::{AccountQuery, Admin, AdminError, AuditEntry};
use flowgate::env::Clock as _;
use flowgate::hash::{PEPPER_VARIABLE, Pepper};
use flowgate_flows::FLOWS;
use flowgate_spin::{SpinStore, WasiClock, WasiRandom, variable};
use serde_json::{Value, json};
use spin_sdk::http::{Method, Request, Response};

use crate::auth::Actor;

/// A JSON response that is never cached (some carry a secret).
fn reply(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(body.to_string())
        .build()
}

/// An error response with `body`.
pub fn error_response(status: u16, body: Value) -> Response {
    reply(status, &body)
}

fn no_content() -> Response {
    Response::builder()
        .status(204)
        .header("cache-control", "no-store")
        .body(Vec::new())
        .build()
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The OpenAPI document of this API.
pub fn openapi() -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(include_str!("../openapi.json"))
        .build()
}

fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bad_query(field: &str, message: &str) -> AdminError {
    AdminError::Field {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn account_query(query: &str) -> Result<AccountQuery, AdminError> {
    let mut q = AccountQuery {
        limit: 50,
        ..Default::default()
    };
    if let Some(v) = query_param(query, "limit") {
        q.limit = v
            .parse()
            .ok()
            .filter(|n| (1..=200).contains(n))
            .ok_or_else(|| bad_query("limit", "a whole number from 1 to 200"))?;
    }
    if let Some(v) = query_param(query, "credential_type") {
        q.credential_type = Some(
            CredentialType::parse(v).ok_or_else(|| bad_query("credential_type", "unknown type"))?,
        );
    }
    if let Some(v) = query_param(query, "status") {
        q.status = Some(match v {
            "active" => Status::Active,
            "disabled" => Status::Disabled,
            _ => return Err(bad_query("status", "active or disabled")),
        });
    }
    if let Some(v) = query_param(query, "scope_level") {
        q.scope_level = Some(match v {
            "platform" => ScopeLevel::Platform,
            "project" => ScopeLevel::Project,
            "environment" => ScopeLevel::Environment,
            _ => return Err(bad_query("scope_level", "platform, project or environment")),
        });
    }
    q.group = query_param(query, "group").map(str::to_owned);
    q.after = query_param(query, "after").map(str::to_owned);
    Ok(q)
}

/// What a route did, for the response and the audit log.
enum Done {
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

/// Routes an authenticated request.
pub fn dispatch(request: &Request, path: &str, actor: &Actor) -> Response {
    let store = match SpinStore::open_default() {
        Ok(s) => s,
        Err(e) => return failure(&AdminError::Store(e)),
    };
    let pepper = match variable(PEPPER_VARIABLE).map(|t| Pepper::from_variable(&t)) {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            eprintln!("flowgate management: unavailable: {e}");
            return reply(503, &json!({ "error": "unavailable" }));
        }
        Err(e) => {
            eprintln!("flowgate management: unavailable: {e}");
            return reply(503, &json!({ "error": "unavailable" }));
        }
    };
    let admin = Admin {
        store: &store,
        clock: &WasiClock,
        random: &WasiRandom,
        pepper: &pepper,
        flows: FLOWS,
    };
    let segments: Vec<&str> = path
        .strip_prefix("/admin/v1/")
        .map(|rest| rest.split('/').collect())
        .unwrap_or_default();
    let method = request.method();
    let query = request.query();
    let body = request.body();
    let (action, target, result) = route(&admin, method, &segments, query, body);
    match result {
        Ok(Done::Read(value)) => reply(200, &value),
        Ok(Done::Wrote {
            status,
            body,
            action,
            target,
        }) => {
            record(&admin, actor, action, &target, "ok");
            match body {
                Some(body) => reply(status, &body),
                None => no_content(),
            }
        }
        Err(e) => {
            if let Some(action) = action {
                record(&admin, actor, action, &target, error_code(&e));
            }
            failure(&e)
        }
    }
}

fn error_code(e: &AdminError) -> &'static str {
    match e.status() {
        400 => "invalid_request",
        404 => "not_found",
        409 => "conflict",
        503 => "unavailable",
        _ => "internal",
    }
}

fn record(admin: &Admin<'_>, actor: &Actor, action: &str, target: &str, outcome: &str) {
    let entry = AuditEntry {
        time: WasiClock.now(),
        actor: actor.0.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: outcome.to_owned(),
    };
    if let Err(e) = admin.audit(&entry) {
        eprintln!("flowgate management: audit entry not written: {e}");
    }
}

fn failure(e: &AdminError) -> Response {
    if e.status() >= 500 {
        eprintln!("flowgate management: {e}");
    }
    reply(e.status(), &e.body())
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

fn route(
    admin: &Admin<'_>,
    method: &Method,
    segments: &[&str],
    query: &str,
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
            account_query(query)
                .and_then(|q| admin.list_accounts(&q))
                .map(|page| Done::Read(to_json(&page))),
        ),
        (Post, ["accounts"]) => {
            let result = admin.create_account(body);
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
                .account(id)
                .map(|a| Done::Read(to_json(&flowgate::admin::AccountView::from(&a)))),
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
            let force = query_param(query, "force") == Some("true");
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
            admin.account(id).map(|a| {
                Done::Read(json!({ "items": flowgate::admin::AccountView::from(&a).tokens }))
            }),
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
        (Get, ["accounts", id, "flows"]) => (
            None,
            String::new(),
            admin
                .account(id)
                .map(|a| Done::Read(json!({ "items": a.grants }))),
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
            admin.flow_access(flow).map(|accounts| {
                Done::Read(json!({ "flow": flow, "accounts": to_json(&accounts) }))
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
        (Get, ["audit"]) => {
            let limit = query_param(query, "limit")
                .and_then(|v| v.parse().ok())
                .unwrap_or(50);
            (
                None,
                String::new(),
                admin
                    .audit_log(
                        query_param(query, "target"),
                        query_param(query, "before"),
                        limit,
                    )
                    .map(|page| Done::Read(to_json(&page))),
            )
        }
        _ => (None, String::new(), Err(not_found())),
    }
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
