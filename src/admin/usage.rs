//! The usage-control fields of an account in `/admin/v1` (issue #15):
//! `limits`, `quota`, `expires_at` / `expires_in`, `allowed_ips`,
//! `metadata` and `record_usage` on create and `PATCH`, `expires_in` on
//! reset, and their check on import. Every value is checked before anything
//! is written; `null` removes a field on `PATCH`. Also the usage figures,
//! `GET /accounts/{id}/usage`.

use serde::Serialize;
use serde_json::Value;

use super::{Admin, AdminError, Fields, field};
use crate::account::Account;
use crate::store::keys::usage_key;
use crate::usage::figures::{self, Counts, Period};
use crate::usage::{Controls, Limit, allow_list, expiry, limits, metadata, quota};

/// The fields `POST /accounts` and `PATCH /accounts/{id}` accept.
pub const FIELDS: &[&str] = &[
    "limits",
    "quota",
    "expires_at",
    "expires_in",
    "allowed_ips",
    "metadata",
    "record_usage",
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
    if let Some(v) = present("record_usage") {
        controls.record_usage = match v {
            Some(v) => v
                .as_bool()
                .ok_or_else(|| field("record_usage", "must be true or false"))?,
            None => false,
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
    /// Whether usage figures are counted because the account opted in.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub record_usage: bool,
    /// Whether its usage figures are counted (opted in, or it has a limit
    /// or a quota).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub recorded: bool,
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
            record_usage: u.record_usage,
            recorded: figures::is_recorded(u),
        }
    }
}

/// The figures of one hour.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct HourFigures {
    /// The hour's start (Unix seconds).
    pub start: u64,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// `GET /accounts/{id}/usage`.
#[derive(Debug, Serialize)]
pub struct UsageFigures {
    /// The account.
    pub account_id: String,
    /// The period asked for (Unix seconds, `to` exclusive); every hour
    /// that overlaps it is included.
    pub from: u64,
    /// End of the period.
    pub to: u64,
    /// Always `hour`.
    pub granularity: &'static str,
    /// How long figures are kept, in days.
    pub retention_days: u64,
    /// Whether the account's requests are counted now.
    pub recorded: bool,
    /// The sums over the period.
    pub totals: Counts,
    /// The hours with any count, oldest first.
    pub hours: Vec<HourFigures>,
}

impl Admin<'_> {
    /// `GET /accounts/{id}/usage?from=&to=`: the hourly figures of an
    /// account over a period. Counters are read with an increment of 0,
    /// the one reading that is the same on every store (Spin's SQLite
    /// store keeps them as little-endian bytes, Redis as decimal text).
    pub fn usage_figures(
        &self,
        id: &str,
        from: Option<u64>,
        to: Option<u64>,
    ) -> Result<UsageFigures, AdminError> {
        let account = self.account(id)?;
        let period =
            Period::new(from, to, self.clock.now()).map_err(|e| field(e.parameter, e.reason))?;
        // One read per hour and class of the period, never a key listing
        // (issue 16: management must not cost more as traffic records
        // grow). A present counter is read with an increment of 0; an
        // absent one is skipped, so reading creates nothing.
        let mut hours: std::collections::BTreeMap<u64, Counts> = Default::default();
        for hour in period.hours() {
            for class in figures::Class::ALL {
                let key = usage_key(&account.id, hour, class.as_str());
                if self.store.get(&key)?.is_none() {
                    continue;
                }
                let n = u64::try_from(self.store.increment(&key, 0)?).unwrap_or(0);
                if n > 0 {
                    hours.entry(hour).or_default().add(class, n);
                }
            }
        }
        let mut totals = Counts::default();
        for counts in hours.values() {
            for class in figures::Class::ALL {
                totals.add(class, counts.get(class));
            }
        }
        Ok(UsageFigures {
            account_id: account.id.clone(),
            from: period.from,
            to: period.to,
            granularity: "hour",
            retention_days: figures::RETENTION_SECONDS / 86_400,
            recorded: figures::is_recorded(&account.usage),
            totals,
            hours: hours
                .into_iter()
                .filter(|(_, c)| *c != Counts::default())
                .map(|(start, counts)| HourFigures { start, counts })
                .collect(),
        })
    }
}
