//! The authorizer's reads of its Spin variables.
//!
//! The WASI 0.2 build gets a new instance for every request, so it asks the
//! host for a variable each time a request needs it. The WASIp3 build
//! (`crate::INSTANCE_REUSED`; Spin 4 hands one instance up to 128 requests,
//! docs/p3.md) keeps a variable's text for at most a second
//! (`flowgate::varcache`): each read is a host call that Spin 4.0.2 serves
//! on a blocking thread, and an API key needs one, an access token two, a
//! token four. A changed variable takes effect within a second; a variable
//! that cannot be read is never kept, and fails the request that needed it.
//!
//! Only configuration passes through here. Nothing read from the store
//! (accounts, grants, revocations, counters) is kept between requests.

use std::cell::RefCell;

use flowgate::hash::{PEPPER_VARIABLE, Pepper};
use flowgate::secret::{UNTAGGED_VARIABLE, Untagged};
use flowgate::varcache::{Derived, VariableCache};
use flowgate_spin::VariableError;

thread_local! {
    /// This instance's kept variables (the WASIp3 build only). Never
    /// borrowed across an `.await`: a read is synchronous.
    static KEPT: RefCell<VariableCache> = const { RefCell::new(VariableCache::new()) };
    /// The pepper decoded from the text beside it (the WASIp3 build only).
    static DECODED_PEPPER: RefCell<Derived<Pepper>> = const { RefCell::new(Derived::new()) };
}

/// `read`'s value for `name`, kept for at most a second in the WASIp3
/// build and asked for on every call in the WASI 0.2 one.
fn kept<E>(name: &str, read: impl FnOnce() -> Result<String, E>) -> Result<String, E> {
    if !crate::INSTANCE_REUSED {
        return read();
    }
    KEPT.with_borrow_mut(|cache| cache.get_or_read(name, flowgate_spin::monotonic_nanos(), read))
}

/// Reads a variable of this component.
pub fn variable(name: &'static str) -> Result<String, VariableError> {
    kept(name, || flowgate_spin::variable(name))
}

/// Reads a variable whose name comes from a policy. `None` if unreadable.
pub fn dynamic_variable(name: &str) -> Option<String> {
    kept(name, || flowgate_spin::dynamic_variable(name).ok_or(())).ok()
}

/// The HMAC key of credential digests, from `hmac_pepper`. A reused
/// instance keeps the key decoded, with its HMAC state keyed, beside the
/// exact text it came from (as `config::keys_from` keeps the signing keys):
/// the text is still the variable's as kept above, so a changed pepper is
/// decoded again within a second, and a malformed one is never kept.
pub fn pepper() -> Result<Pepper, String> {
    let text = variable(PEPPER_VARIABLE).map_err(|e| e.to_string())?;
    if !crate::INSTANCE_REUSED {
        return Pepper::from_variable(&text).map_err(|e| e.to_string());
    }
    DECODED_PEPPER.with_borrow_mut(|decoded| {
        decoded.get_or_derive(&[&text], || {
            Pepper::from_variable(&text).map_err(|e| e.to_string())
        })
    })
}

/// Whether secrets issued before the keyed tag are accepted
/// (`untagged_secrets`). Read only when such a secret is presented; a
/// variable that cannot be read refuses them.
pub fn untagged() -> Untagged {
    Untagged::from_variable(variable(UNTAGGED_VARIABLE).ok().as_deref())
}
