//! Generated credentials (`generate` in the body) and the CA certificate
//! download. The routes are the upload routes; a body with `generate` is
//! answered here after the same authentication and permission check, with
//! two audit entries: the route's own action and `certificate.issue` (or
//! `key.issue`) carrying the serial and validity, never the key.

use flowgate::admin::Admin;
use flowgate::admin::service_key::{Generated, ServiceUrls, wants_generate};
use flowgate::pki::{
    CA_CERTIFICATE_VARIABLE, CA_KEY_VARIABLE, Ca, MAX_VALIDITY_VARIABLE, PkiError,
};
use flowgate_spin::variable;
use serde_json::{Value, json};
use spin_sdk::http::{Method, Response};

use crate::audit::{error_code, record_detail};
use crate::auth::Actor;
use crate::dispatch::retrying;
use crate::kv::CasStore;
use crate::response::{error_response, reply};

/// The CA from its variables. An unreadable variable counts as empty: the
/// manifest declares all three with empty defaults.
fn ca() -> Result<Ca, PkiError> {
    let key = variable(CA_KEY_VARIABLE).unwrap_or_default();
    let certificate = variable(CA_CERTIFICATE_VARIABLE).unwrap_or_default();
    let max_days = variable(MAX_VALIDITY_VARIABLE).unwrap_or_default();
    Ca::from_variables(&key, &certificate, &max_days)
}

fn urls() -> ServiceUrls {
    ServiceUrls::from_issuer(&variable("issuer").unwrap_or_default())
}

/// `GET /admin/v1/ca.pem`: the CA certificate, for the TLS-terminating
/// proxy's trust store. Public, like a JWKS: it holds no secret.
pub fn ca_certificate() -> Response {
    match ca().and_then(|ca| ca.certificate_pem()) {
        Ok(pem) => Response::builder()
            .status(200)
            .header("content-type", "application/x-pem-file")
            .header("cache-control", "max-age=300")
            .body(pem)
            .build(),
        Err(PkiError::NotConfigured) => error_response(
            404,
            json!({ "error": "not_found", "message": PkiError::NotConfigured.to_string() }),
        ),
        Err(e) => {
            eprintln!("flowgate management: unavailable: {e}");
            error_response(503, json!({ "error": "unavailable" }))
        }
    }
}

/// Answers a request whose body asks for generated material on one of the
/// routes that take it; `None` for everything else.
pub fn dispatch(
    admin: &Admin<'_>,
    store: &CasStore,
    actor: &Actor,
    method: &Method,
    segments: &[&str],
    body: &[u8],
) -> Option<Response> {
    if *method != Method::Post || !wants_generate(body) {
        return None;
    }
    let urls = urls();
    let (action, target, status, result) = match segments {
        ["accounts"] => (
            "account.create",
            None,
            201,
            retrying(store, || {
                admin.create_generated(body, &crate::fetch::get, &ca, &urls)
            }),
        ),
        ["accounts", id, "reset-credential"] => (
            "credential.reset",
            Some(*id),
            200,
            retrying(store, || admin.reset_generated(id, body, &ca, &urls)),
        ),
        ["accounts", id, "certificates"] => (
            "certificate.add",
            Some(*id),
            201,
            retrying(store, || admin.add_generated(id, body, &ca, &urls)),
        ),
        ["accounts", id, "keys"] => (
            "key.add",
            Some(*id),
            201,
            retrying(store, || admin.add_generated(id, body, &ca, &urls)),
        ),
        _ => return None,
    };
    let target = match (&result, target) {
        (Ok(g), _) => format!("account:{}", g.account.id),
        (Err(_), Some(id)) => format!("account:{id}"),
        (Err(_), None) => "account".to_owned(),
    };
    Some(match result {
        Ok(generated) => {
            record_detail(admin, actor, action, &target, "ok", None);
            let issued = if generated.service_key.certificate.is_some() {
                "certificate.issue"
            } else {
                "key.issue"
            };
            record_detail(
                admin,
                actor,
                issued,
                &target,
                "ok",
                Some(generated.issuance.clone()),
            );
            answer(status, &generated)
        }
        Err(e) => {
            record_detail(admin, actor, action, &target, error_code(&e), None);
            if e.status() >= 500 {
                eprintln!("flowgate management: {e}");
            }
            error_response(e.status(), e.body())
        }
    })
}

fn answer(status: u16, generated: &Generated) -> Response {
    reply(
        status,
        &serde_json::to_value(generated).unwrap_or(Value::Null),
    )
}
