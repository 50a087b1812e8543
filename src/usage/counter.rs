//! The counters of usage controls: rate-limit windows (`rl/`), quota
//! periods (`quota/`) and usage figures (`use/`). Each is a [`Counter`]: its
//! key and the time from which the maintenance route may delete it. Every
//! increment of one goes through the one function the adapter hands to
//! [`super::admit`] (a [`Count`]), so that what happens to a counter the
//! first time it is counted (an index of counters by expiry, say) is done
//! in one place.

use crate::store::StoreError;

/// How long past the end of its window or period a rate-limit or quota
/// counter is kept: hosts whose clocks run a little behind may still count
/// in it.
pub const MARGIN_SECONDS: u64 = 60;

/// A counter to increment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// Its key (`crate::store::keys`).
    pub key: String,
    /// From when (Unix seconds) it may be deleted; `None`: never by time
    /// (the counter of a quota without refill).
    pub delete_after: Option<u64>,
}

/// The one way a counter is counted: adds 1 to it atomically and returns
/// the new count (`wasi:keyvalue/atomics.increment`).
pub type Count<'a> = dyn FnMut(&Counter) -> Result<i64, StoreError> + 'a;

/// When the counter under `key` may be deleted: `None` if `key` is no
/// counter, `Some(None)` for one kept until its quota or account goes. The
/// same answer as the [`Counter`] that was counted under it carried.
pub fn deletable_at(key: &str) -> Option<Option<u64>> {
    super::limits::deletable_at(key)
        .map(Some)
        .or_else(|| super::quota::deletable_at(key))
        .or_else(|| super::figures::deletable_at(key).map(Some))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::figures::{self, Class};
    use crate::usage::limits::{self, Window};
    use crate::usage::quota::{self, Quota, Refill};

    #[test]
    fn every_counter_says_the_same_deletion_time_as_its_key() {
        let now = 1_700_003_723;
        let mut counters = vec![
            figures::counter("a", Class::Allowed, now),
            figures::counter("a", Class::QuotaExhausted, now),
        ];
        for window in Window::ALL {
            counters.push(limits::counter("a", window, now));
        }
        for refill in [None, Some(Refill::Daily), Some(Refill::Monthly)] {
            let q = Quota {
                limit: 1,
                refill,
                since: 7,
            };
            counters.push(quota::counter("a", &q, now));
        }
        for c in counters {
            assert_eq!(deletable_at(&c.key), Some(c.delete_after), "{}", c.key);
        }
        assert_eq!(deletable_at("acct/a"), None);
        assert_eq!(deletable_at("use/a/x/allowed"), None);
    }
}
