//! When an account's primary credential stops working: the one function
//! that the edge, the token endpoint and the account list's
//! `expires_within_days` filter all use.

use crate::account::{Account, CredentialType};

/// The account's effective expiry (Unix seconds), if any: its `expires_at`,
/// and for an `mtls` account also the latest `not_after` of its stored
/// certificates (registered or generated alike: past it, no certificate of
/// the account is valid), whichever comes first.
pub fn effective_expiry(account: &Account) -> Option<u64> {
    let certificates = match account.credential_type {
        CredentialType::Mtls => account.certificates.iter().map(|c| c.not_after).max(),
        _ => None,
    };
    match (account.usage.expires_at, certificates) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether the account's credential expires (or has expired) within `days`
/// days of `now`.
pub fn expires_within(account: &Account, now: u64, days: u64) -> bool {
    effective_expiry(account).is_some_and(|at| at <= now.saturating_add(days * 86_400))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::StoredCertificate;

    fn account(kind: CredentialType, expires_at: Option<u64>, not_after: &[u64]) -> Account {
        let mut a: Account = serde_json::from_value(serde_json::json!({
            "id": "a", "name": "a", "credential_type": kind.as_str(), "status": "active",
            "created_at": 0, "updated_at": 0,
        }))
        .expect("account");
        a.usage.expires_at = expires_at;
        a.certificates = not_after
            .iter()
            .map(|n| StoredCertificate {
                thumbprint: String::new(),
                subject: String::new(),
                issuer: String::new(),
                serial: String::new(),
                not_before: 0,
                not_after: *n,
                added_at: 0,
            })
            .collect();
        a
    }

    #[test]
    fn mtls_expiry_is_the_earlier_of_expires_at_and_the_latest_certificate() {
        assert_eq!(
            effective_expiry(&account(CredentialType::Mtls, None, &[50, 80])),
            Some(80)
        );
        assert_eq!(
            effective_expiry(&account(CredentialType::Mtls, Some(60), &[50, 80])),
            Some(60)
        );
        assert_eq!(
            effective_expiry(&account(CredentialType::ApiKey, Some(60), &[])),
            Some(60)
        );
        assert_eq!(
            effective_expiry(&account(CredentialType::Basic, None, &[])),
            None
        );
    }

    #[test]
    fn expires_within_counts_whole_days_from_now() {
        let a = account(CredentialType::ApiKey, Some(10 * 86_400), &[]);
        assert!(expires_within(&a, 0, 10));
        assert!(!expires_within(&a, 0, 9));
        assert!(!expires_within(
            &account(CredentialType::ApiKey, None, &[]),
            0,
            1000
        ));
    }
}
