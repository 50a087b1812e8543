//! The grant check: may this principal call this flow with this method?
//! [`check_grant`] is the one place where grants are checked and the only
//! constructor of a [`Permit`], which every allowed request carries on to
//! the upstream (proxy mode) or the answer (forward-auth).

use crate::account::Account;
use crate::policy::Flow;

use super::kill_switch::Principal;

/// Why an authenticated caller may not proceed (`403`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Forbidden {
    /// The path belongs to no flow.
    #[error("no flow at this path")]
    NoFlow,
    /// The account holds no grant to the flow.
    #[error("flow not granted")]
    NotGranted,
    /// The flow does not accept this method.
    #[error("method not allowed by the flow")]
    Method,
    /// The flow does not accept the account's credential type.
    #[error("credential type not accepted by the flow")]
    CredentialType,
    /// The access token's scope does not name the flow.
    #[error("flow not in token scope")]
    NotInScope,
}

/// Leave to call one flow: proof that [`check_grant`] passed. Its fields are
/// private and it has no other constructor.
#[derive(Debug)]
pub struct Permit<'f> {
    principal: Principal,
    flow: &'f Flow,
}

impl<'f> Permit<'f> {
    /// The caller.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
    /// The caller's account id.
    pub fn account_id(&self) -> &str {
        self.principal.account_id()
    }
    /// The caller's account name.
    pub fn account_name(&self) -> &str {
        self.principal.account_name()
    }
    /// The caller's account record, as read for this request: what
    /// per-account admission checks (limits, quotas, allow-lists) look at.
    pub fn account(&self) -> &Account {
        self.principal.account()
    }
    /// The flow it may call.
    pub fn flow(&self) -> &'f Flow {
        self.flow
    }
}

/// Whether `principal` may call `flow` (the flow at the request's path, if
/// any) with `method`: the account holds a grant to it, the flow accepts the
/// account's credential type and the method, and an access token's scope
/// names it. The same check for every credential, access tokens included,
/// so revoking a grant reaches tokens already issued.
pub fn check_grant<'f>(
    principal: Principal,
    flow: Option<&'f Flow>,
    method: &str,
) -> Result<Permit<'f>, Forbidden> {
    let flow = flow.ok_or(Forbidden::NoFlow)?;
    if principal
        .token_scope()
        .is_some_and(|scope| !scope.split(' ').any(|s| s == flow.id))
    {
        return Err(Forbidden::NotInScope);
    }
    let account = principal.account();
    if !account.grants.iter().any(|g| *g == flow.id) {
        return Err(Forbidden::NotGranted);
    }
    if !flow.credential_types.contains(account.credential_type) {
        return Err(Forbidden::CredentialType);
    }
    if !flow.methods.contains(method) {
        return Err(Forbidden::Method);
    }
    Ok(Permit { principal, flow })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::CredentialType;
    use crate::decision::kill_switch::{Via, active};
    use crate::policy::parse_flow;

    fn principal(kind: CredentialType, via: Via, scope: Option<&str>) -> Principal {
        let account = Account {
            grants: vec!["orders".into(), "reports".into()],
            ..Account::for_tests(kind)
        };
        active(account, via, None, scope.map(str::to_owned)).expect("active")
    }

    fn flow(id: &str, extra: &str) -> Flow {
        parse_flow(
            id,
            &format!("id = \"{id}\"\npath_prefix = \"/flows/{id}\"\nmethods = [\"GET\"]\n{extra}"),
        )
        .expect("flow")
    }

    #[test]
    fn grant_method_and_type_are_all_checked() {
        let orders = flow("orders", "");
        let other = flow("other", "");
        let basic_only = flow("orders", "credential_types = [\"basic\"]");
        let p = || principal(CredentialType::ApiKey, Via::Primary, None);
        let permit = check_grant(p(), Some(&orders), "GET").expect("granted");
        assert_eq!(permit.account_id(), "abcdefghijklmnop");
        assert_eq!(permit.flow().id, "orders");
        assert_eq!(
            check_grant(p(), Some(&orders), "POST").err(),
            Some(Forbidden::Method)
        );
        assert_eq!(
            check_grant(p(), Some(&other), "GET").err(),
            Some(Forbidden::NotGranted)
        );
        assert_eq!(
            check_grant(p(), Some(&basic_only), "GET").err(),
            Some(Forbidden::CredentialType)
        );
        assert_eq!(check_grant(p(), None, "GET").err(), Some(Forbidden::NoFlow));
    }

    #[test]
    fn an_access_token_is_held_to_its_scope_and_to_the_grants_of_today() {
        let orders = flow("orders", "");
        let reports = flow("reports", "");
        let other = flow("other", "");
        let token = |scope| principal(CredentialType::ClientSecret, Via::AccessToken, Some(scope));
        assert!(check_grant(token("orders"), Some(&orders), "GET").is_ok());
        // Granted to the account, but not in this token's scope.
        assert_eq!(
            check_grant(token("orders"), Some(&reports), "GET").err(),
            Some(Forbidden::NotInScope)
        );
        // In scope when issued, but the grant has been revoked since.
        assert_eq!(
            check_grant(token("orders other"), Some(&other), "GET").err(),
            Some(Forbidden::NotGranted)
        );
        // A scope value that merely starts like the flow id does not match.
        assert_eq!(
            check_grant(token("order"), Some(&orders), "GET").err(),
            Some(Forbidden::NotInScope)
        );
    }
}
