//! Usage controls of an account (issue #15): named rate limits, quotas,
//! credential expiry, an IP allow-list, metadata for the flow and usage
//! figures. They live in the
//! account record the authorizer already reads, under `usage`, so an account
//! without controls pays nothing extra: [`admit`] decides from the record and
//! touches the store only for the counters of an account that has limits,
//! a quota or usage figures ([`counter`]).
//!
//! [`admit`] is the one admission function, called once per request after
//! authentication and the grant check (docs/usage.md).

pub mod allow_list;
pub mod counter;
pub mod expiry;
pub mod figures;
pub mod limits;
pub mod metadata;
pub mod quota;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::account::Account;
use crate::store::StoreError;

pub use allow_list::Cidr;
pub use counter::{Count, Counter};
pub use figures::Class;
pub use limits::{Limit, Window};

/// The usage controls stored in an account record under `usage`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controls {
    /// Named rate limits, shared by every credential of the account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<Limit>,
    /// A quota of allowed requests, optionally refilled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<quota::Quota>,
    /// When the account's primary credential stops working (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Client addresses the account may call from; empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_ips: Vec<Cidr>,
    /// A small JSON object passed to the flow with the identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// Whether usage figures are counted for an account with neither limits
    /// nor a quota (with either, they always are: [`figures::is_recorded`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub record_usage: bool,
}

impl Controls {
    /// Whether nothing is set (the field is then left out of the record).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What the request brings to admission besides the account.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The client's address as a trusted proxy reported it, or the
    /// connection's; `None` when neither is known.
    pub client: Option<IpAddr>,
    /// Whether the caller used the account's primary credential (or an
    /// access token minted with it), to which `expires_at` applies.
    pub primary: bool,
    /// Unix seconds.
    pub now: u64,
}

/// The answer of [`admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// Go ahead, with the account's metadata for the flow.
    Admit {
        /// The account's metadata, if any.
        metadata: Option<serde_json::Map<String, serde_json::Value>>,
    },
    /// The primary credential has expired: `401`.
    Expired,
    /// The client address is not on the account's allow-list: `403`.
    AddressRefused,
    /// Over a limit or the quota: `429` with these headers.
    Limited(limits::Exceeded),
    /// The store failed while counting: `503`, fail closed.
    Unavailable(StoreError),
}

/// Decides whether an authenticated, granted request of `account` may
/// proceed. Cheap checks first (expiry, address); then, only for an account
/// with limits, one atomic increment per distinct window and one for the
/// quota through `count`; last, for a recorded account, one increment of
/// the figure of the outcome ([`figures::record`]). A failure of any
/// increment is [`Admission::Unavailable`]: nothing passes uncounted.
pub fn admit(account: &Account, context: &Context, count: &mut Count<'_>) -> Admission {
    let (admission, class) = decide(account, context, count);
    if let Some(class) = class
        && let Err(e) = figures::record(account, class, context.now, count)
    {
        return Admission::Unavailable(e);
    }
    admission
}

/// [`admit`] without the figures: the answer and the class to count it in
/// (`None` when the store failed).
fn decide(
    account: &Account,
    context: &Context,
    count: &mut Count<'_>,
) -> (Admission, Option<Class>) {
    if context.primary && expiry::effective_expiry(account).is_some_and(|at| context.now >= at) {
        return (Admission::Expired, Some(Class::Unauthenticated));
    }
    let controls = &account.usage;
    if !controls.allowed_ips.is_empty()
        && !context
            .client
            .is_some_and(|ip| controls.allowed_ips.iter().any(|c| c.contains(ip)))
    {
        return (Admission::AddressRefused, Some(Class::Forbidden));
    }
    if !controls.limits.is_empty() {
        match limits::count(&account.id, &controls.limits, context.now, count) {
            Ok(None) => {}
            Ok(Some(exceeded)) => {
                return (Admission::Limited(exceeded), Some(Class::RateLimited));
            }
            Err(e) => return (Admission::Unavailable(e), None),
        }
    }
    // The quota is spent only by requests within the limits.
    if let Some(quota) = &controls.quota {
        match quota::spend(&account.id, quota, context.now, count) {
            Ok(None) => {}
            Ok(Some(spent)) => {
                let exceeded = limits::Exceeded {
                    retry_after: spent.retry_after,
                    policy: spent.policy,
                    state: spent.state,
                };
                return (Admission::Limited(exceeded), Some(Class::QuotaExhausted));
            }
            Err(e) => return (Admission::Unavailable(e), None),
        }
    }
    let admit = Admission::Admit {
        metadata: controls.metadata.clone(),
    };
    (admit, Some(Class::Allowed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::CredentialType;

    fn account(usage: Controls) -> Account {
        Account {
            usage,
            ..Account::for_tests(CredentialType::ApiKey)
        }
    }

    fn context(client: Option<&str>, now: u64) -> Context {
        Context {
            client: client.map(|c| c.parse().expect("ip")),
            primary: true,
            now,
        }
    }

    #[test]
    fn account_without_controls_is_admitted_without_touching_the_store() {
        let mut calls = 0;
        let outcome = admit(
            &account(Controls::default()),
            &context(None, 10),
            &mut |_| {
                calls += 1;
                Ok(1)
            },
        );
        assert_eq!(outcome, Admission::Admit { metadata: None });
        assert_eq!(calls, 0);
    }

    #[test]
    fn expired_primary_credential_is_refused_but_an_api_token_is_not() {
        let a = account(Controls {
            expires_at: Some(100),
            ..Controls::default()
        });
        let never = &mut |_: &Counter| -> Result<i64, StoreError> { panic!("no counter") };
        assert_eq!(admit(&a, &context(None, 100), never), Admission::Expired);
        assert!(matches!(
            admit(&a, &context(None, 99), never),
            Admission::Admit { .. }
        ));
        let token = Context {
            primary: false,
            ..context(None, 200)
        };
        assert!(matches!(admit(&a, &token, never), Admission::Admit { .. }));
    }

    #[test]
    fn address_outside_the_allow_list_or_unknown_is_refused() {
        let a = account(Controls {
            allowed_ips: vec!["10.0.0.0/8".parse().expect("cidr")],
            ..Controls::default()
        });
        let never = &mut |_: &Counter| -> Result<i64, StoreError> { panic!("no counter") };
        assert!(matches!(
            admit(&a, &context(Some("10.1.2.3"), 1), never),
            Admission::Admit { .. }
        ));
        assert_eq!(
            admit(&a, &context(Some("192.168.1.1"), 1), never),
            Admission::AddressRefused
        );
        assert_eq!(
            admit(&a, &context(None, 1), never),
            Admission::AddressRefused
        );
    }

    #[test]
    fn store_failure_while_counting_is_unavailable() {
        let a = account(Controls {
            limits: vec![Limit {
                name: "burst".into(),
                limit: 5,
                window: Window::Second,
            }],
            ..Controls::default()
        });
        let outcome = admit(&a, &context(None, 1), &mut |_| {
            Err(StoreError("down".into()))
        });
        assert!(matches!(outcome, Admission::Unavailable(_)));
    }

    #[test]
    fn a_recorded_account_counts_each_outcome_once_in_its_class() {
        let a = account(Controls {
            record_usage: true,
            allowed_ips: vec!["10.0.0.0/8".parse().expect("cidr")],
            quota: Some(quota::Quota {
                limit: 1,
                refill: None,
                since: 0,
            }),
            ..Controls::default()
        });
        let mut keys: Vec<String> = Vec::new();
        let mut count = |c: &Counter| {
            keys.push(c.key.clone());
            Ok(i64::try_from(keys.iter().filter(|k| **k == c.key).count()).unwrap_or(0))
        };
        let inside = context(Some("10.0.0.1"), 3_600);
        assert!(matches!(
            admit(&a, &inside, &mut count),
            Admission::Admit { .. }
        ));
        assert!(matches!(
            admit(&a, &inside, &mut count),
            Admission::Limited(_)
        ));
        let outside = context(Some("192.0.2.1"), 3_600);
        assert_eq!(admit(&a, &outside, &mut count), Admission::AddressRefused);
        let id = &a.id;
        assert_eq!(
            keys,
            [
                format!("quota/{id}/0/0"),
                format!("use/{id}/3600/allowed"),
                format!("quota/{id}/0/0"),
                format!("use/{id}/3600/quota_exhausted"),
                format!("use/{id}/3600/forbidden"),
            ]
        );
    }

    #[test]
    fn a_failure_to_count_the_figure_lets_nothing_through() {
        let a = account(Controls {
            record_usage: true,
            ..Controls::default()
        });
        let outcome = admit(&a, &context(None, 1), &mut |_| {
            Err(StoreError("down".into()))
        });
        assert!(matches!(outcome, Admission::Unavailable(_)));
    }
}
