//! Handling of an authenticated `/admin/v1` request: body and path limits,
//! the route found in the core's table, the permission check, the
//! operation, the retry after a concurrent change, and the audit entry of
//! every mutation, successful or not.

use flowgate::admin::access::Caller;
use flowgate::admin::query::{Query, path_segments};
use flowgate::admin::routes::{DENIED_ACTION, Lookup, Operation, REFUSED_ACTION, lookup};
use flowgate::admin::{Admin, AdminError};
use flowgate_flows::FLOWS;
use flowgate_spin::{WasiClock, WasiRandom};
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};

use crate::audit::{error_code, record};
use crate::auth::Actor;
use crate::kv::CasStore;
use crate::openapi::openapi;
use crate::response::{failure, method_not_allowed, no_content, reply};
use crate::routes::{Done, me, route};

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

/// How often an operation is run again after a concurrent change of an
/// account record it wrote, before the caller gets `409`.
const MAX_ATTEMPTS: usize = 64;

/// Routes an authenticated request.
pub fn dispatch(request: &Request, path: &str, actor: &Actor) -> Response {
    let store = match CasStore::open_default() {
        Ok(s) => s,
        Err(e) => return failure(&AdminError::Store(e)),
    };
    let pepper = match flowgate_spin::pepper() {
        Ok(p) => p,
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
    let method = request.method();
    let body = request.body();
    // Refusals before the route is known are audited like any other refused
    // mutation: with the route's path as the target.
    let refuse = |e: AdminError, action: &str, target: &str| {
        if *method != Method::Get {
            record(&admin, actor, action, target, error_code(&e));
        }
        failure(&e)
    };
    let rest = path.strip_prefix("/admin/v1/").unwrap_or_default();
    if body.len() > MAX_BODY {
        let e = AdminError::TooLarge { limit: MAX_BODY };
        return refuse(e, REFUSED_ACTION, rest);
    }
    let decoded = match path_segments(rest) {
        Ok(segments) => segments,
        Err(e) => return refuse(e, REFUSED_ACTION, rest),
    };
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let target = segments.join("/");
    let query = match Query::parse(request.query()) {
        Ok(q) => q,
        Err(e) => return refuse(e, REFUSED_ACTION, &target),
    };
    let method_name = method_name(method);
    let matched = match lookup(method_name, &segments) {
        Lookup::Found(matched) => matched,
        Lookup::MethodNotAllowed(allowed) => return method_not_allowed(&allowed),
        Lookup::NotFound => {
            return failure(&AdminError::NotFound {
                kind: "route",
                id: target,
            });
        }
    };
    let operation = matched.route.operation;
    if operation == Operation::OpenApi {
        return openapi();
    }
    if operation == Operation::CaCertificate {
        return crate::service_key::ca_certificate();
    }
    if operation == Operation::Me {
        return match me(&admin, actor) {
            Ok(value) => reply(200, &value),
            Err(e) => failure(&e),
        };
    }
    let dry_run = match matched.route.dry_run {
        Some(_) => match query.flag("dry_run") {
            Ok(d) => d,
            Err(e) => {
                let action = matched.route.action(false).unwrap_or(REFUSED_ACTION);
                return refuse(e, action, &matched.target());
            }
        },
        None => false,
    };
    let caller = match (&actor.account_id, &actor.roles) {
        (Some(id), Some(roles)) => admin.caller(id, roles),
        _ => Ok(Caller::bootstrap()),
    };
    let permitted = caller.and_then(|caller| {
        admin
            .permit(&caller, method_name, &segments, dry_run, body)
            .map(|()| caller)
    });
    let caller = match permitted {
        Ok(caller) => caller,
        Err(e @ AdminError::Forbidden { .. }) => {
            eprintln!("flowgate management: deny: {}: {e}", actor.name);
            return refuse(e, DENIED_ACTION, &target);
        }
        Err(e) => return failure(&e),
    };
    if let Some(response) =
        crate::service_key::dispatch(&admin, &store, actor, method, &segments, body)
    {
        return response;
    }
    let action = matched.route.action(dry_run);
    let mut target = String::new();
    let result = retrying(&store, || {
        let (t, result) = route(&admin, &caller, &matched, &query, dry_run, body);
        target = t;
        result
    });
    match result {
        Ok(Done::Read(value)) => reply(200, &value),
        Ok(Done::Wrote { status, body }) => {
            if let Some(action) = action {
                record(&admin, actor, action, &target, "ok");
            }
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

fn method_name(method: &Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
        _ => "OTHER",
    }
}

/// Runs `operation` again while it failed only because a concurrent change
/// won the race for a record it wrote (the store saw a failed swap), up to
/// [`MAX_ATTEMPTS`] runs; then `409`. Every mutation, generated credentials
/// included, goes through here.
pub(crate) fn retrying<T>(
    store: &CasStore,
    mut operation: impl FnMut() -> Result<T, AdminError>,
) -> Result<T, AdminError> {
    let mut attempts = 1;
    loop {
        let result = operation();
        if !matches!(result, Err(AdminError::Store(_))) || !store.take_contended() {
            return result;
        }
        if attempts == MAX_ATTEMPTS {
            return Err(AdminError::Conflict {
                message: "the account changed concurrently too often; retry".into(),
                flows: vec![],
            });
        }
        attempts += 1;
    }
}
