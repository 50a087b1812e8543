//! Quotas: a number of allowed requests an account may spend, optionally
//! refilled each UTC day or month. Spent requests are counted with the
//! store's atomic increment under `quota/<account>/<period start>/<period
//! end>` (end `0` without refill): the increment that returns `n` is the
//! `n`-th request of the period, so exactly `limit` requests pass however
//! many hosts count at once. Setting a quota again starts a new count
//! (`since` is part of the period of a quota without refill).

use serde::{Deserialize, Serialize};

use super::counter::{Count, Counter, MARGIN_SECONDS};
use crate::store::StoreError;
use crate::store::keys::{QUOTA_PREFIX as PREFIX, quota_key};

/// The refill of a quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refill {
    /// Each UTC day.
    Daily,
    /// Each UTC calendar month.
    Monthly,
}

/// A quota as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Requests per period (or in all, without refill): 1 to 10^12.
    pub limit: u64,
    /// The refill, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refill: Option<Refill>,
    /// When the quota was set (Unix seconds): the start of a quota without
    /// refill.
    pub since: u64,
}

/// Days since 1970-01-01 of the first day of the month holding `day`
/// (days since the epoch), and of the next month: the civil calendar
/// (proleptic Gregorian, H. Hinnant's `civil_from_days`).
fn month_bounds(day: i64) -> (i64, i64) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let first = day - (d - 1);
    let month_len = match mp {
        // Mar, Apr, ... from March = 0; February is mp 11.
        11 => {
            let y = yoe + era * 400 + 1; // the year February belongs to
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
        1 | 3 | 6 | 8 => 30,
        _ => 31,
    };
    (first, first + month_len)
}

/// The period of `quota` holding `now`: start and end (`None`: no refill).
pub fn period(quota: &Quota, now: u64) -> (u64, Option<u64>) {
    match quota.refill {
        None => (quota.since, None),
        Some(Refill::Daily) => {
            let start = now - now % 86_400;
            (start, Some(start + 86_400))
        }
        Some(Refill::Monthly) => {
            let day = i64::try_from(now / 86_400).unwrap_or(0);
            let (first, next) = month_bounds(day);
            let secs = |d: i64| u64::try_from(d).unwrap_or(0) * 86_400;
            (secs(first), Some(secs(next)))
        }
    }
}

/// The counter of `account`'s quota period holding `now`, deletable
/// [`MARGIN_SECONDS`] after the period ends (never without refill).
pub fn counter(account: &str, quota: &Quota, now: u64) -> Counter {
    let (start, end) = period(quota, now);
    Counter {
        key: quota_key(account, start, end.unwrap_or(0)),
        delete_after: end.map(|e| e + MARGIN_SECONDS),
    }
}

/// When the quota counter `key` may be deleted: [`MARGIN_SECONDS`] after
/// its period ends; `Some(None)` for a quota without refill (end `0`).
/// `None`: not a quota key.
pub fn deletable_at(key: &str) -> Option<Option<u64>> {
    let rest = key.strip_prefix(PREFIX)?;
    let mut parts = rest.rsplitn(3, '/');
    let end: u64 = parts.next()?.parse().ok()?;
    let _start: u64 = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((end != 0).then(|| end.saturating_add(MARGIN_SECONDS)))
}

/// A request over the quota, and the headers that say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spent {
    /// Seconds to the refill; `None` without refill.
    pub retry_after: Option<u64>,
    /// `RateLimit-Policy` of the quota.
    pub policy: String,
    /// `RateLimit`: nothing remaining.
    pub state: String,
}

/// Spends one request of `quota`: `Ok(None)` while some remained.
pub fn spend(
    account: &str,
    quota: &Quota,
    now: u64,
    count: &mut Count<'_>,
) -> Result<Option<Spent>, StoreError> {
    let spent = count(&counter(account, quota, now))?;
    if u64::try_from(spent).unwrap_or(0) <= quota.limit {
        return Ok(None);
    }
    let (start, end) = period(quota, now);
    let retry_after = end.map(|e| e.saturating_sub(now).max(1));
    let policy = match end {
        Some(e) => format!("\"quota\";q={};w={}", quota.limit, e - start),
        None => format!("\"quota\";q={}", quota.limit),
    };
    let state = match retry_after {
        Some(t) => format!("\"quota\";r=0;t={t}"),
        None => "\"quota\";r=0".to_owned(),
    };
    Ok(Some(Spent {
        retry_after,
        policy,
        state,
    }))
}

/// Parses the API's `quota` value (`{limit, refill}`), set at `now`.
pub fn parse(value: &serde_json::Value, now: u64) -> Result<Quota, String> {
    let object = value
        .as_object()
        .ok_or_else(|| "must be an object {limit, refill}".to_owned())?;
    if let Some(k) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "limit" | "refill"))
    {
        return Err(format!("unknown member `{k}`"));
    }
    let limit = object
        .get("limit")
        .and_then(serde_json::Value::as_u64)
        .filter(|n| (1..=1_000_000_000_000).contains(n))
        .ok_or_else(|| "limit must be a whole number from 1 to 10^12".to_owned())?;
    let refill = match object.get("refill") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if s == "daily" => Some(Refill::Daily),
        Some(serde_json::Value::String(s)) if s == "monthly" => Some(Refill::Monthly),
        Some(_) => return Err("refill must be daily, monthly or null".to_owned()),
    };
    Ok(Quota {
        limit,
        refill,
        since: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn months_start_on_the_first_and_know_leap_years() {
        // 2024-02-10 (day 19763) is in Feb 2024: 2024-02-01 .. 2024-03-01.
        assert_eq!(month_bounds(19_763), (19_754, 19_783));
        // 2023-02-10: 28 days.
        assert_eq!(month_bounds(19_398), (19_389, 19_417));
        // 2026-12-31 .. 2027-01-01.
        assert_eq!(month_bounds(20_818), (20_788, 20_819));
        // 1970-01-01.
        assert_eq!(month_bounds(0), (0, 31));
    }

    #[test]
    fn exactly_limit_requests_pass_and_a_refill_starts_again() {
        let quota = Quota {
            limit: 3,
            refill: Some(Refill::Daily),
            since: 0,
        };
        let mut counters: HashMap<String, i64> = HashMap::new();
        let mut inc = |k: &Counter| {
            let c = counters.entry(k.key.clone()).or_default();
            *c += 1;
            Ok(*c)
        };
        let now = 86_400 * 5 + 100;
        let results: Vec<bool> = (0..5)
            .map(|_| spend("a", &quota, now, &mut inc).expect("count").is_none())
            .collect();
        assert_eq!(results, [true, true, true, false, false]);
        let spent = spend("a", &quota, now, &mut inc)
            .expect("count")
            .expect("spent");
        assert_eq!(spent.retry_after, Some(86_400 - 100));
        assert_eq!(spent.policy, "\"quota\";q=3;w=86400");
        assert!(
            spend("a", &quota, now + 86_400, &mut inc)
                .expect("count")
                .is_none()
        );
        // The day's counter may go a margin after the day ends.
        assert_eq!(
            counter("a", &quota, now).delete_after,
            Some(86_400 * 6 + MARGIN_SECONDS)
        );
        let once = Quota {
            refill: None,
            since: 7,
            ..quota
        };
        assert_eq!(counter("a", &once, now).key, "quota/a/7/0");
        assert_eq!(deletable_at("quota/a/7/0"), Some(None));
    }

    #[test]
    fn bad_quotas_are_refused() {
        use serde_json::json;
        assert!(parse(&json!({"limit": 0}), 1).is_err());
        assert!(parse(&json!({"limit": 5, "refill": "weekly"}), 1).is_err());
        assert!(parse(&json!({"limit": 5, "x": 1}), 1).is_err());
        assert_eq!(
            parse(&json!({"limit": 5, "refill": "monthly"}), 9),
            Ok(Quota {
                limit: 5,
                refill: Some(Refill::Monthly),
                since: 9
            })
        );
    }
}
