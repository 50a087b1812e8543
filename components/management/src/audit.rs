//! Writing the audit entry of a management request: who, what, on which
//! object, and the outcome (`ok` or the error code).

use flowgate::admin::{Admin, AdminError, AuditEntry};
use flowgate::env::Clock as _;
use flowgate_spin::WasiClock;

use crate::auth::Actor;

pub(crate) fn error_code(e: &AdminError) -> &'static str {
    match e.status() {
        400 => "invalid_request",
        403 => "forbidden",
        413 => "too_large",
        404 => "not_found",
        409 => "conflict",
        503 => "unavailable",
        _ => "internal",
    }
}

pub(crate) fn record(admin: &Admin<'_>, actor: &Actor, action: &str, target: &str, outcome: &str) {
    record_detail(admin, actor, action, target, outcome, None);
}

/// [`record`] with the entry's non-secret `detail`.
pub(crate) fn record_detail(
    admin: &Admin<'_>,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: &str,
    detail: Option<serde_json::Value>,
) {
    let entry = AuditEntry {
        time: WasiClock.now(),
        actor: actor.name.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: outcome.to_owned(),
        detail,
    };
    if let Err(e) = admin.audit(&entry) {
        eprintln!("flowgate management: audit entry not written: {e}");
    }
}
