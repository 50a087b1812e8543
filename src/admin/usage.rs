//! The usage-control fields of an account in `/admin/v1` (issue #15):
//! `limits`, `expires_at` / `expires_in`, `allowed_ips` and `metadata` on
//! create and `PATCH`, `expires_in` on reset, and their check on import.
//! Every value is checked before anything is written; `null` removes a
//! field on `PATCH`.

use serde::Serialize;
use serde_json::Value;

use super::{AdminError, Fields, field};
use crate::account::Account;
use crate::usage::{Controls, Limit, allow_list, expiry, limits, metadata, quota};

/// The fields `POST /accounts` and `PATCH /accounts/{id}` accept.
pub const FIELDS: &[&str] = &[
    "limits",
    "quota",
    "expires_at",
    "expires_in",
    "allowed_ips",
    "metadata",
];

/// Longest credential lifetime: 10 years.
pub const MAX_EXPIRES_IN: u64 = 10 * 365 * 24 * 3600;

/// Applies the usage fields present in `f` to `controls`, at `now`.
pub(super) fn apply(f: &Fields, controls: &mut Controls, now: u64) -> Result<(), AdminError> {
    let present = |name: &str| f.0.get(name).map(|v| (!v.is_null()).then_some(v));
    if let Some(v) = present("limits") {
        controls.limits = match v {
            Some(v) => limits::parse(v).map_err(|e| field("limits", e.to_string()))?,
            None => Vec::new(),
        };
    }
    if let Some(v) = present("quota") {
        controls.quota = match v {
            Some(v) => Some(quota::parse(v, now).map_err(|e| field("quota", e))?),
            None => None,
        };
    }
    if f.0.contains_key("expires_at") && f.0.contains_key("expires_in") {
        return Err(field(
            "expires_in",
            "give expires_at or expires_in, not both",
        ));
    }
    if let Some(v) = present("expires_at") {
        controls.expires_at = match v {
            Some(v) => Some(
                v.as_u64()
                    .filter(|t| *t > now && *t <= now + MAX_EXPIRES_IN)
                    .ok_or_else(|| {
                        field(
                            "expires_at",
                            "must be a Unix time in seconds in the future, at most 10 years ahead",
                        )
                    })?,
            ),
            None => None,
        };
    }
    if let Some(seconds) = f.seconds("expires_in", MAX_EXPIRES_IN)? {
        controls.expires_at = Some(now + seconds);
    }
    if let Some(v) = present("allowed_ips") {
        controls.allowed_ips = match v {
            Some(v) => allow_list::parse(v).map_err(|e| field("allowed_ips", e))?,
            None => Vec::new(),
        };
    }
    if let Some(v) = present("metadata") {
        controls.metadata = match v {
            Some(v) => Some(metadata::parse(v).map_err(|e| field("metadata", e))?),
            None => None,
        };
    }
    Ok(())
}

/// Checks the controls of an imported account as the routes check them
/// (`at` is the entry, such as `accounts[2]`). `expires_at` may lie in the
/// past: an export keeps an expired account expired.
pub(super) fn check_imported(controls: &Controls, at: &str) -> Result<(), AdminError> {
    if !controls.limits.is_empty() {
        limits::parse(&serde_json::to_value(&controls.limits).unwrap_or(Value::Null))
            .map_err(|e| field(&format!("{at}.usage.limits"), e.to_string()))?;
    }
    if let Some(q) = &controls.quota {
        let value = serde_json::json!({"limit": q.limit, "refill": q.refill});
        quota::parse(&value, q.since).map_err(|e| field(&format!("{at}.usage.quota"), e))?;
    }
    if controls.allowed_ips.len() > allow_list::MAX_ENTRIES {
        return Err(field(
            &format!("{at}.usage.allowed_ips"),
            format!("at most {} entries", allow_list::MAX_ENTRIES),
        ));
    }
    if let Some(m) = &controls.metadata {
        metadata::parse(&Value::Object(m.clone()))
            .map_err(|e| field(&format!("{at}.usage.metadata"), e))?;
    }
    Ok(())
}

/// The usage controls as the account view shows them.
#[derive(Debug, Default, Serialize)]
pub struct UsageView {
    /// Named rate limits.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<Limit>,
    /// The quota (`since`: when it was set, the start of one without refill).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<quota::Quota>,
    /// The configured expiry of the primary credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// When the primary credential stops working: `expires_at`, or for an
    /// `mtls` account the end of its last certificate if earlier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_expires_at: Option<u64>,
    /// The allow-list, canonical CIDRs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_ips: Vec<String>,
    /// Metadata passed to flows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, Value>>,
}

impl From<&Account> for UsageView {
    fn from(a: &Account) -> Self {
        let u = &a.usage;
        Self {
            limits: u.limits.clone(),
            quota: u.quota.clone(),
            expires_at: u.expires_at,
            credential_expires_at: expiry::effective_expiry(a),
            allowed_ips: u.allowed_ips.iter().map(ToString::to_string).collect(),
            metadata: u.metadata.clone(),
        }
    }
}
