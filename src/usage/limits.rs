//! Named rate limits: a count per fixed window (second, minute, hour, day),
//! counted in the key-value store with its atomic increment under
//! `rl/<account>/<window seconds>/<window start>`, so every host sharing the
//! store counts one number. Limits with the same window share one counter:
//! a request costs one increment per distinct window. Counter keys of ended
//! windows are removed by the maintenance route ([`deletable_at`]).
//!
//! Headers follow draft-ietf-httpapi-ratelimit-headers-10 (September 2025):
//! `RateLimit-Policy: "<name>";q=<quota>;w=<window>` for every limit and
//! `RateLimit: "<name>";r=<remaining>;t=<seconds to reset>` for the one
//! exceeded; `Retry-After` (RFC 9110 10.2.3) in seconds.

use serde::{Deserialize, Serialize};

use super::counter::{Count, Counter, MARGIN_SECONDS};
use crate::store::StoreError;
use crate::store::keys::{RATE_LIMIT_PREFIX as PREFIX, rate_limit_key};

/// Most limits per account: each distinct window is one increment.
pub const MAX_LIMITS: usize = 8;

/// A window of a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// One second.
    Second,
    /// Sixty seconds.
    Minute,
    /// 3,600 seconds.
    Hour,
    /// 86,400 seconds (UTC days).
    Day,
}

impl Window {
    /// Every window, shortest first.
    pub const ALL: [Window; 4] = [Self::Second, Self::Minute, Self::Hour, Self::Day];

    /// Its length in seconds.
    pub fn seconds(self) -> u64 {
        match self {
            Self::Second => 1,
            Self::Minute => 60,
            Self::Hour => 3_600,
            Self::Day => 86_400,
        }
    }

    /// The API's name of it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    /// Parses the API's name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == name)
    }
}

/// One named limit: at most `limit` allowed requests per `window`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Name, unique within the account: 1-32 of `a-z`, `0-9`, `_`, `-`.
    pub name: String,
    /// Requests per window, 1 to 10^9.
    pub limit: u64,
    /// The window.
    pub window: Window,
}

/// Why a list of limits is invalid (the management API names the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// Not an array of `{name, limit, window}` objects.
    #[error("must be an array of {{name, limit, window}} objects")]
    Shape,
    /// A bad name.
    #[error("limit name {0:?} is not 1-32 of a-z, 0-9, _ and -")]
    Name(String),
    /// A name used twice.
    #[error("limit name {0:?} is used twice")]
    Duplicate(String),
    /// A count out of range.
    #[error("limit must be a whole number from 1 to 1000000000")]
    Count,
    /// An unknown window.
    #[error("window must be one of second, minute, hour, day")]
    Window,
    /// Too many limits.
    #[error("at most {MAX_LIMITS} limits")]
    TooMany,
}

fn is_limit_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Parses and checks the API's `limits` value.
pub fn parse(value: &serde_json::Value) -> Result<Vec<Limit>, LimitError> {
    let items = value.as_array().ok_or(LimitError::Shape)?;
    if items.len() > MAX_LIMITS {
        return Err(LimitError::TooMany);
    }
    let mut out: Vec<Limit> = Vec::with_capacity(items.len());
    for item in items {
        let object = item.as_object().ok_or(LimitError::Shape)?;
        if object
            .keys()
            .any(|k| !matches!(k.as_str(), "name" | "limit" | "window"))
        {
            return Err(LimitError::Shape);
        }
        let name = object
            .get("name")
            .and_then(serde_json::Value::as_str)
            .ok_or(LimitError::Shape)?;
        if !is_limit_name(name) {
            return Err(LimitError::Name(name.to_owned()));
        }
        if out.iter().any(|l| l.name == name) {
            return Err(LimitError::Duplicate(name.to_owned()));
        }
        let limit = object
            .get("limit")
            .and_then(serde_json::Value::as_u64)
            .filter(|n| (1..=1_000_000_000).contains(n))
            .ok_or(LimitError::Count)?;
        let window = object
            .get("window")
            .and_then(serde_json::Value::as_str)
            .and_then(Window::parse)
            .ok_or(LimitError::Window)?;
        out.push(Limit {
            name: name.to_owned(),
            limit,
            window,
        });
    }
    Ok(out)
}

/// The counter of `account`'s `window` that holds `now`, deletable
/// [`MARGIN_SECONDS`] after the window ends.
pub fn counter(account: &str, window: Window, now: u64) -> Counter {
    let length = window.seconds();
    let start = now - now % length;
    Counter {
        key: rate_limit_key(account, length, start),
        delete_after: Some(start + length + MARGIN_SECONDS),
    }
}

/// When the counter `key` may be deleted: [`MARGIN_SECONDS`] after its
/// window ends. `None`: not a rate-limit counter key.
pub fn deletable_at(key: &str) -> Option<u64> {
    let rest = key.strip_prefix(PREFIX)?;
    let mut parts = rest.rsplitn(3, '/');
    let start: u64 = parts.next()?.parse().ok()?;
    let length: u64 = parts.next()?.parse().ok()?;
    parts.next()?;
    Some(start.saturating_add(length).saturating_add(MARGIN_SECONDS))
}

/// A request over a limit, and the headers that say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exceeded {
    /// Seconds until the exceeded window ends (at least 1); `None` for a
    /// quota without refill, which no wait restores.
    pub retry_after: Option<u64>,
    /// `RateLimit-Policy`: every limit of the account.
    pub policy: String,
    /// `RateLimit`: the exceeded limit, nothing remaining.
    pub state: String,
}

impl Exceeded {
    /// The response headers of a `429`.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("ratelimit-policy", self.policy.clone()),
            ("ratelimit", self.state.clone()),
        ];
        if let Some(seconds) = self.retry_after {
            headers.push(("retry-after", seconds.to_string()));
        }
        headers
    }
}

/// Counts one request against `limits` of `account` at `now`: one
/// increment per distinct window. `Ok(None)`: within every limit.
pub fn count(
    account: &str,
    limits: &[Limit],
    now: u64,
    count: &mut Count<'_>,
) -> Result<Option<Exceeded>, StoreError> {
    let mut windows: Vec<Window> = limits.iter().map(|l| l.window).collect();
    windows.sort();
    windows.dedup();
    // The exceeded limit that frees up last decides Retry-After.
    let mut worst: Option<(&Limit, u64)> = None;
    for window in windows {
        let counted = count(&counter(account, window, now))?;
        let counted = u64::try_from(counted).unwrap_or(0);
        let reset = window.seconds() - now % window.seconds();
        for limit in limits.iter().filter(|l| l.window == window) {
            if counted > limit.limit && worst.is_none_or(|(_, r)| reset > r) {
                worst = Some((limit, reset));
            }
        }
    }
    Ok(worst.map(|(limit, reset)| Exceeded {
        retry_after: Some(reset.max(1)),
        policy: limits
            .iter()
            .map(|l| format!("\"{}\";q={};w={}", l.name, l.limit, l.window.seconds()))
            .collect::<Vec<_>>()
            .join(", "),
        state: format!("\"{}\";r=0;t={}", limit.name, reset.max(1)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn limit(name: &str, n: u64, window: Window) -> Limit {
        Limit {
            name: name.into(),
            limit: n,
            window,
        }
    }

    #[test]
    fn limits_of_one_window_share_one_counter_and_the_tightest_refuses() {
        let limits = [
            limit("a", 2, Window::Minute),
            limit("b", 3, Window::Minute),
            limit("daily", 100, Window::Day),
        ];
        let mut counters: HashMap<String, i64> = HashMap::new();
        let mut calls = 0;
        let mut results = vec![];
        for _ in 0..3 {
            let mut inc = |k: &Counter| {
                calls += 1;
                let c = counters.entry(k.key.clone()).or_default();
                *c += 1;
                Ok(*c)
            };
            results.push(count("acct", &limits, 90, &mut inc).expect("count"));
        }
        assert_eq!(calls, 6, "two distinct windows: two increments a request");
        assert!(results[0].is_none() && results[1].is_none());
        let exceeded = results[2].clone().expect("third request over `a`");
        assert_eq!(exceeded.retry_after, Some(30));
        assert_eq!(exceeded.state, "\"a\";r=0;t=30");
        assert_eq!(
            exceeded.policy,
            "\"a\";q=2;w=60, \"b\";q=3;w=60, \"daily\";q=100;w=86400"
        );
        assert!(counters.contains_key("rl/acct/60/60"));
        assert!(counters.contains_key("rl/acct/86400/0"));
    }

    #[test]
    fn a_new_window_starts_from_zero() {
        assert_eq!(counter("x", Window::Second, 7).key, "rl/x/1/7");
        let hour = counter("x", Window::Hour, 7_201);
        assert_eq!(hour.key, "rl/x/3600/7200");
        assert_eq!(hour.delete_after, Some(10_800 + MARGIN_SECONDS));
        assert_eq!(deletable_at("rl/x/3600/7200"), hour.delete_after);
        assert_eq!(deletable_at("acct/x"), None);
    }

    #[test]
    fn bad_limits_are_refused_with_the_reason() {
        use serde_json::json;
        assert_eq!(parse(&json!({})), Err(LimitError::Shape));
        assert_eq!(
            parse(&json!([{"name": "A", "limit": 1, "window": "second"}])),
            Err(LimitError::Name("A".into()))
        );
        assert_eq!(
            parse(&json!([{"name": "a", "limit": 0, "window": "second"}])),
            Err(LimitError::Count)
        );
        assert_eq!(
            parse(&json!([{"name": "a", "limit": 1, "window": "week"}])),
            Err(LimitError::Window)
        );
        assert_eq!(
            parse(&json!([
                {"name": "a", "limit": 1, "window": "second"},
                {"name": "a", "limit": 2, "window": "day"}
            ])),
            Err(LimitError::Duplicate("a".into()))
        );
        assert_eq!(
            parse(&json!([{"name": "a", "limit": 1, "window": "second", "x": 1}])),
            Err(LimitError::Shape)
        );
        assert_eq!(
            parse(&json!([{"name": "a", "limit": 5, "window": "hour"}])),
            Ok(vec![limit("a", 5, Window::Hour)])
        );
    }
}
