//! Usage figures (issue #15 item 7): per account, the requests of each hour
//! by outcome class, counted with the store's atomic increment under
//! `use/<account>/<hour start>/<class>` (exact across hosts), kept for
//! [`RETENTION_SECONDS`] and read back by `GET /admin/v1/accounts/{id}/usage`.
//!
//! Only accounts that are recorded pay for it ([`is_recorded`]: a limit, a
//! quota, or `record_usage`): one increment per request. Refusals are
//! counted where the account is known, that is where its record was read
//! for the request; an unknown key names no account and is only in the log.

use serde::{Deserialize, Serialize};

use super::Controls;
use super::counter::{Count, Counter};
use crate::account::Account;
use crate::store::StoreError;
use crate::store::keys::{USAGE_PREFIX, usage_key};

/// One hour, the granularity of the figures.
pub const HOUR_SECONDS: u64 = 3_600;

/// How long the figures of an hour are kept after it ends: 31 days, the
/// longest calendar month (docs/usage.md).
pub const RETENTION_SECONDS: u64 = 31 * 86_400;

/// The outcome class of a request, as counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Allowed: it reached the flow or got a token.
    Allowed,
    /// `401` for a known account: a wrong or expired secret, a Basic name
    /// that does not match, a disabled account, an expired credential.
    Unauthenticated,
    /// `403`: no grant to the flow, a method or credential type the flow
    /// does not take, an address off the allow-list (at the token endpoint
    /// `unauthorized_client`).
    Forbidden,
    /// `429` of a rate limit.
    RateLimited,
    /// `429` of an exhausted quota: a class of its own, as Unkey tells
    /// `RATE_LIMITED` from `INSUFFICIENT_CREDITS`.
    QuotaExhausted,
}

impl Class {
    /// Every class, in the order of the API.
    pub const ALL: [Class; 5] = [
        Self::Allowed,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::RateLimited,
        Self::QuotaExhausted,
    ];

    /// The API's (and the key's) name of it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::RateLimited => "rate_limited",
            Self::QuotaExhausted => "quota_exhausted",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// Whether the requests of an account with `controls` are counted: it has a
/// limit or a quota (it pays for counters already), or opted in with
/// `record_usage`.
pub fn is_recorded(controls: &Controls) -> bool {
    controls.record_usage || !controls.limits.is_empty() || controls.quota.is_some()
}

/// The counter of `account`'s requests of `class` in the hour holding `now`,
/// deletable [`RETENTION_SECONDS`] after the hour ends.
pub fn counter(account: &str, class: Class, now: u64) -> Counter {
    let hour = now - now % HOUR_SECONDS;
    Counter {
        key: usage_key(account, hour, class.as_str()),
        delete_after: Some(hour + HOUR_SECONDS + RETENTION_SECONDS),
    }
}

/// Counts one request of `class` for `account` at `now`, if it is recorded:
/// one increment through `count`, none otherwise.
pub fn record(
    account: &Account,
    class: Class,
    now: u64,
    count: &mut Count<'_>,
) -> Result<(), StoreError> {
    if !is_recorded(&account.usage) {
        return Ok(());
    }
    count(&counter(&account.id, class, now)).map(|_| ())
}

/// The id of the account stored as `record` if its figures are recorded:
/// for a refusal decided before the record was made an [`Account`] (a
/// wrong secret). A record that cannot be read names no one (the refusal
/// stands, uncounted).
pub fn recorded_id(record: &[u8]) -> Option<String> {
    /// The two members this needs; the rest of the record is skipped.
    #[derive(Deserialize)]
    struct Recorded {
        id: String,
        #[serde(default)]
        usage: Controls,
    }
    let r: Recorded = serde_json::from_slice(record).ok()?;
    is_recorded(&r.usage).then_some(r.id)
}

/// The account, hour start and class of a usage counter `key`.
pub fn parse_key(key: &str) -> Option<(&str, u64, Class)> {
    let rest = key.strip_prefix(USAGE_PREFIX)?;
    let mut parts = rest.rsplitn(3, '/');
    let class = Class::parse(parts.next()?)?;
    let hour: u64 = parts.next()?.parse().ok()?;
    let account = parts.next()?;
    Some((account, hour, class))
}

/// When the usage counter `key` may be deleted. `None`: not one.
pub fn deletable_at(key: &str) -> Option<u64> {
    let (_, hour, _) = parse_key(key)?;
    Some(
        hour.saturating_add(HOUR_SECONDS)
            .saturating_add(RETENTION_SECONDS),
    )
}

/// Counts of one hour or of a period, by class.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Allowed requests.
    pub allowed: u64,
    /// `401` for the account.
    pub unauthenticated: u64,
    /// `403` for the account.
    pub forbidden: u64,
    /// `429` of a rate limit.
    pub rate_limited: u64,
    /// `429` of the quota.
    pub quota_exhausted: u64,
}

impl Counts {
    /// Adds `n` requests of `class`.
    pub fn add(&mut self, class: Class, n: u64) {
        let slot = match class {
            Class::Allowed => &mut self.allowed,
            Class::Unauthenticated => &mut self.unauthenticated,
            Class::Forbidden => &mut self.forbidden,
            Class::RateLimited => &mut self.rate_limited,
            Class::QuotaExhausted => &mut self.quota_exhausted,
        };
        *slot = slot.saturating_add(n);
    }

    /// The count of `class`.
    pub fn get(&self, class: Class) -> u64 {
        match class {
            Class::Allowed => self.allowed,
            Class::Unauthenticated => self.unauthenticated,
            Class::Forbidden => self.forbidden,
            Class::RateLimited => self.rate_limited,
            Class::QuotaExhausted => self.quota_exhausted,
        }
    }
}

/// The period of a request for figures: `from` inclusive, `to` exclusive
/// (Unix seconds). An hour is in it if it overlaps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Start.
    pub from: u64,
    /// End.
    pub to: u64,
}

/// Why a period is refused: the parameter and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodError {
    /// `from` or `to`.
    pub parameter: &'static str,
    /// Why.
    pub reason: String,
}

impl Period {
    /// The period of `from` and `to` at `now`: `to` defaults to the end of
    /// the current hour and `from` to 24 hours before `to`. `from` must come
    /// before `to`, and the period must lie within the retention: `from` no
    /// earlier than the hour [`RETENTION_SECONDS`] before `now` (older hours
    /// may be pruned), and at most that long plus the current hour.
    pub fn new(from: Option<u64>, to: Option<u64>, now: u64) -> Result<Self, PeriodError> {
        let to = to.unwrap_or(now - now % HOUR_SECONDS + HOUR_SECONDS);
        let from = from.unwrap_or_else(|| to.saturating_sub(86_400));
        let refuse = |parameter, reason: &str| PeriodError {
            parameter,
            reason: reason.to_owned(),
        };
        if from >= to {
            return Err(refuse("from", "must be before `to`"));
        }
        let oldest = now.saturating_sub(RETENTION_SECONDS);
        if from < oldest - oldest % HOUR_SECONDS {
            return Err(refuse(
                "from",
                "figures are kept 31 days: must be at most 31 days ago",
            ));
        }
        if to - from > RETENTION_SECONDS + HOUR_SECONDS {
            return Err(refuse("to", "the period is at most 31 days long"));
        }
        Ok(Self { from, to })
    }

    /// Whether the hour starting at `hour` overlaps the period.
    pub fn holds_hour(&self, hour: u64) -> bool {
        hour + HOUR_SECONDS > self.from && hour < self.to
    }

    /// The start of every hour that overlaps the period, oldest first: at
    /// most the retention's 744 hours and the current one.
    pub fn hours(&self) -> impl Iterator<Item = u64> {
        let first = self.from - self.from % HOUR_SECONDS;
        (first..self.to).step_by(HOUR_SECONDS as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::CredentialType;

    #[test]
    fn a_period_walks_exactly_the_hours_it_overlaps() {
        let p = Period {
            from: 10 * HOUR_SECONDS + 5,
            to: 12 * HOUR_SECONDS + 1,
        };
        let hours: Vec<u64> = p.hours().collect();
        assert_eq!(
            hours,
            [10 * HOUR_SECONDS, 11 * HOUR_SECONDS, 12 * HOUR_SECONDS]
        );
        assert!(hours.iter().all(|h| p.holds_hour(*h)));
        assert!(!p.holds_hour(9 * HOUR_SECONDS));
        assert!(!p.holds_hour(13 * HOUR_SECONDS));
    }
    use crate::usage::Limit;
    use crate::usage::limits::Window;

    const NOW: u64 = 1_700_000_000;

    fn account(usage: Controls) -> Account {
        Account {
            usage,
            ..Account::for_tests(CredentialType::ApiKey)
        }
    }

    #[test]
    fn only_accounts_with_a_limit_a_quota_or_the_opt_in_are_recorded() {
        let mut keys = Vec::new();
        let mut count = |c: &Counter| {
            keys.push(c.key.clone());
            Ok(1)
        };
        let plain = account(Controls {
            expires_at: Some(NOW + 10),
            ..Controls::default()
        });
        record(&plain, Class::Allowed, NOW, &mut count).expect("no-op");
        let opted = account(Controls {
            record_usage: true,
            ..Controls::default()
        });
        record(&opted, Class::Forbidden, NOW, &mut count).expect("counted");
        let limited = account(Controls {
            limits: vec![Limit {
                name: "m".into(),
                limit: 1,
                window: Window::Minute,
            }],
            ..Controls::default()
        });
        let id = &opted.id;
        assert_eq!(keys, [format!("use/{id}/1699999200/forbidden")]);
        let stored = serde_json::to_vec(&limited).expect("json");
        assert_eq!(recorded_id(&stored), Some(limited.id.clone()));
        let stored = serde_json::to_vec(&plain).expect("json");
        assert_eq!(recorded_id(&stored), None);
        assert_eq!(recorded_id(b"{not json"), None);
    }

    #[test]
    fn a_counting_failure_is_returned() {
        let opted = account(Controls {
            record_usage: true,
            ..Controls::default()
        });
        let mut down = |_: &Counter| Err(StoreError("down".into()));
        assert!(record(&opted, Class::Allowed, NOW, &mut down).is_err());
    }

    #[test]
    fn keys_parse_back_and_are_kept_for_the_retention() {
        let c = counter("acct", Class::RateLimited, NOW);
        assert_eq!(
            parse_key(&c.key),
            Some(("acct", 1_699_999_200, Class::RateLimited))
        );
        assert_eq!(
            c.delete_after,
            Some(1_699_999_200 + 3_600 + RETENTION_SECONDS)
        );
        assert_eq!(parse_key("use/acct/1/denied"), None);
        assert_eq!(parse_key("rl/acct/60/0"), None);
    }

    #[test]
    fn periods_default_to_a_day_and_stay_within_the_retention() {
        // 24 whole hours, the current one included.
        assert_eq!(
            Period::new(None, None, NOW),
            Ok(Period {
                from: 1_699_916_400,
                to: 1_700_002_800
            })
        );
        let field = |r: Result<Period, PeriodError>| r.map_err(|e| e.parameter);
        assert_eq!(field(Period::new(Some(NOW), Some(NOW), NOW)), Err("from"));
        assert_eq!(
            field(Period::new(
                Some(NOW - RETENTION_SECONDS - 3_600),
                None,
                NOW
            )),
            Err("from")
        );
        assert_eq!(
            field(Period::new(
                Some(NOW - 10),
                Some(NOW + RETENTION_SECONDS + 3_600),
                NOW
            )),
            Err("to")
        );
        let p = Period::new(Some(NOW - 7_200), Some(NOW), NOW).expect("two hours");
        assert!(p.holds_hour(1_699_992_000)); // overlaps `from`
        assert!(p.holds_hour(1_699_999_200)); // the current hour
        assert!(!p.holds_hour(1_699_988_400));
        assert!(!p.holds_hour(NOW + 3_600));
    }
}
