//! Compare-and-swap that stays right when the store's answer is not.
//!
//! Spin's Redis store (`crates/key-value-redis` at `v4.0.2`, and `v3.6.3`)
//! ends every swap with `UNWATCH <key>`, which Redis refuses, so every swap
//! there reports `cas-failed`, whether its `SET` was applied or not. A
//! `cas-failed` therefore means "unknown" here, never "not written": every
//! record written through [`swap_record`] carries a fresh revision (and the
//! few revisions before it), and after a reported failure the record is read
//! again; if our revision is among the stored ones, our write landed (and
//! may since have been built on by another writer). A write is therefore
//! never reported failed when it succeeded, so nobody runs it twice.
//! docs/store.md explains the design.

use serde_json::{Map, Value};

use super::StoreError;
use crate::env::Random;

/// The JSON field that carries a record's recent revisions, newest first.
pub const REVISIONS_FIELD: &str = "_rev";
/// How many revisions a record remembers: a write that landed is still
/// recognised after this many later writes less one.
pub const REVISIONS_KEPT: usize = 8;

/// What the store said about a swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapReport {
    /// The store says the value was written.
    Swapped,
    /// The store says the value had changed. On some stores (Spin's Redis
    /// store) this is said of every swap: treat it as "unknown".
    CasFailed,
}

/// The outcome of [`swap_record`], after any doubt was settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swap {
    /// Our value is (or was) the record's value: these bytes, as stamped.
    Written(Vec<u8>),
    /// Another write came first; ours was not applied.
    Conflict,
}

/// Compare-and-swap as a backend offers it (`wasi:keyvalue/atomics`).
pub trait Atomics {
    /// A started swap: the key and what the backend saw there.
    type Cas;
    /// Reads `key` and starts a swap against what was read.
    fn watch(&self, key: &str) -> Result<(Self::Cas, Option<Vec<u8>>), StoreError>;
    /// Writes `value` if the key still holds what `cas` read.
    fn swap(&self, cas: Self::Cas, value: &[u8]) -> Result<SwapReport, StoreError>;
    /// Reads `key` plainly (to settle a reported failure).
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// The revisions a stored record carries, newest first (none for a record
/// that is not a JSON object or was written before revisions existed).
pub fn revisions(record: &[u8]) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Revs {
        #[serde(default, rename = "_rev")]
        revs: Vec<String>,
    }
    serde_json::from_slice::<Revs>(record)
        .map(|r| r.revs)
        .unwrap_or_default()
}

/// A fresh revision: 96 bits from the CSPRNG, as hex.
fn new_revision(random: &dyn Random) -> String {
    let mut bytes = [0u8; 12];
    random.fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `value` (a JSON object) with a new revision in front of the recent
/// revisions of `previous` (what the record held before this write), and
/// that revision. A value that is not a JSON object is refused: every
/// record written through here is one.
pub fn stamp(
    value: &[u8],
    previous: Option<&[u8]>,
    random: &dyn Random,
) -> Result<(Vec<u8>, String), StoreError> {
    let mut object: Map<String, Value> = serde_json::from_slice(value)
        .map_err(|_| StoreError("a record to swap must be a JSON object".into()))?;
    let revision = new_revision(random);
    let mut revs = vec![revision.clone()];
    revs.extend(
        previous
            .map(revisions)
            .unwrap_or_default()
            .into_iter()
            .take(REVISIONS_KEPT - 1),
    );
    object.insert(
        REVISIONS_FIELD.to_owned(),
        Value::Array(revs.into_iter().map(Value::String).collect()),
    );
    let bytes = serde_json::to_vec(&object)
        .map_err(|_| StoreError("a record could not be serialised".into()))?;
    Ok((bytes, revision))
}

/// Writes `value` (a JSON object) over what `cas` read (`seen`), stamped
/// with a new revision. A failure the store reports is checked by reading
/// the record again: [`Swap::Written`] if it carries our revision (the
/// current one, or one of the few before it),
/// [`Swap::Conflict`] if not. Store errors stay errors (the caller fails
/// closed).
pub fn swap_record<A: Atomics>(
    atomics: &A,
    key: &str,
    cas: A::Cas,
    seen: Option<&[u8]>,
    value: &[u8],
    random: &dyn Random,
) -> Result<Swap, StoreError> {
    let (stamped, revision) = stamp(value, seen, random)?;
    match atomics.swap(cas, &stamped)? {
        SwapReport::Swapped => Ok(Swap::Written(stamped)),
        SwapReport::CasFailed => {
            let now = atomics.get(key)?;
            if now
                .as_deref()
                .map(revisions)
                .unwrap_or_default()
                .contains(&revision)
            {
                Ok(Swap::Written(stamped))
            } else {
                Ok(Swap::Conflict)
            }
        }
    }
}

/// Writes `value` (a JSON object) under `key` if the key still holds
/// `expected` (what the caller read earlier; `None`: absent): starts a swap,
/// compares what it reads with `expected`, and then [`swap_record`]. This is
/// how both components write a record they read before.
pub fn swap_from<A: Atomics>(
    atomics: &A,
    key: &str,
    expected: Option<&[u8]>,
    value: &[u8],
    random: &dyn Random,
) -> Result<Swap, StoreError> {
    let (cas, current) = atomics.watch(key)?;
    // The swap compares against what `watch` read; if that already differs
    // from what the caller's change is based on, the swap would be wrong.
    if current.as_deref() != expected {
        return Ok(Swap::Conflict);
    }
    swap_record(atomics, key, cas, expected, value, random)
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::BTreeMap;

    use super::*;

    /// A counter as randomness: distinct revisions, repeatable tests.
    struct Counter(Cell<u8>);
    impl Random for Counter {
        fn fill(&self, buf: &mut [u8]) {
            self.0.set(self.0.get().wrapping_add(1));
            buf.fill(self.0.get());
        }
    }

    /// How the fake store answers swaps.
    #[derive(Clone, Copy)]
    enum Mode {
        /// Truthfully, as Spin's SQLite store does.
        Honest,
        /// As Spin 4.0.2's Redis store: applies the swap when the value is
        /// unchanged, and reports `cas-failed` either way.
        ApplyThenReportFailure,
    }

    /// Another writer, acting on the fake's map.
    type Writer = RefCell<Option<Box<dyn Fn(&mut BTreeMap<String, Vec<u8>>)>>>;

    struct Fake {
        map: RefCell<BTreeMap<String, Vec<u8>>>,
        mode: Mode,
        /// Runs between `watch` and `swap`: another writer.
        meddle: Writer,
        /// Runs after `swap`, before the re-read.
        after: Writer,
    }

    impl Fake {
        fn new(mode: Mode) -> Self {
            Self {
                map: RefCell::new(BTreeMap::new()),
                mode,
                meddle: RefCell::new(None),
                after: RefCell::new(None),
            }
        }
    }

    impl Atomics for Fake {
        type Cas = (String, Option<Vec<u8>>);
        fn watch(&self, key: &str) -> Result<(Self::Cas, Option<Vec<u8>>), StoreError> {
            let v = self.map.borrow().get(key).cloned();
            Ok(((key.to_owned(), v.clone()), v))
        }
        fn swap(&self, (key, seen): Self::Cas, value: &[u8]) -> Result<SwapReport, StoreError> {
            if let Some(f) = self.meddle.borrow().as_ref() {
                f(&mut self.map.borrow_mut());
            }
            let unchanged = self.map.borrow().get(&key).cloned() == seen;
            if unchanged {
                self.map.borrow_mut().insert(key, value.to_vec());
            }
            if let Some(f) = self.after.borrow().as_ref() {
                f(&mut self.map.borrow_mut());
            }
            Ok(match (self.mode, unchanged) {
                (Mode::Honest, true) => SwapReport::Swapped,
                _ => SwapReport::CasFailed,
            })
        }
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.map.borrow().get(key).cloned())
        }
    }

    /// Whether the write was reported written.
    fn write(store: &Fake, value: &str, random: &Counter) -> Result<bool, StoreError> {
        let seen = store.get("acct/a")?;
        let swap = swap_from(store, "acct/a", seen.as_deref(), value.as_bytes(), random)?;
        Ok(matches!(swap, Swap::Written(_)))
    }

    fn stored(store: &Fake) -> Value {
        store
            .map
            .borrow()
            .get("acct/a")
            .and_then(|v| serde_json::from_slice(v).ok())
            .unwrap_or(Value::Null)
    }

    #[test]
    fn applied_swap_reported_failed_counts_as_written() -> Result<(), StoreError> {
        let store = Fake::new(Mode::ApplyThenReportFailure);
        let random = Counter(Cell::new(0));
        assert!(write(&store, r#"{"n":1}"#, &random)?);
        assert!(write(&store, r#"{"n":2}"#, &random)?);
        assert_eq!(stored(&store)["n"], 2);
        Ok(())
    }

    #[test]
    fn swap_not_applied_and_reported_failed_is_a_conflict() -> Result<(), StoreError> {
        for mode in [Mode::Honest, Mode::ApplyThenReportFailure] {
            let store = Fake::new(mode);
            let random = Counter(Cell::new(0));
            write(&store, r#"{"n":1}"#, &random)?;
            *store.meddle.borrow_mut() = Some(Box::new(|m| {
                m.insert("acct/a".into(), br#"{"n":"theirs"}"#.to_vec());
            }));
            assert!(!write(&store, r#"{"n":2}"#, &random)?);
            assert_eq!(stored(&store)["n"], "theirs");
        }
        Ok(())
    }

    #[test]
    fn write_overwritten_before_the_reread_still_counts_as_written() -> Result<(), StoreError> {
        let store = Fake::new(Mode::ApplyThenReportFailure);
        let random = Counter(Cell::new(0));
        write(&store, r#"{"n":1}"#, &random)?;
        // Another writer builds on our value before we read it back.
        *store.after.borrow_mut() = Some(Box::new(|m| {
            let ours = m.get("acct/a").cloned();
            let (next, _) = stamp(
                br#"{"n":"next"}"#,
                ours.as_deref(),
                &Counter(Cell::new(200)),
            )
            .unwrap_or_default();
            m.insert("acct/a".into(), next);
        }));
        assert!(write(&store, r#"{"n":2}"#, &random)?);
        assert_eq!(stored(&store)["n"], "next");
        Ok(())
    }

    #[test]
    fn changed_before_the_swap_starts_is_a_conflict_and_writes_nothing() -> Result<(), StoreError> {
        let store = Fake::new(Mode::ApplyThenReportFailure);
        let random = Counter(Cell::new(0));
        write(&store, r#"{"n":1}"#, &random)?;
        let seen = store.get("acct/a")?;
        store
            .map
            .borrow_mut()
            .insert("acct/a".into(), br#"{"n":"theirs"}"#.to_vec());
        let swap = swap_from(&store, "acct/a", seen.as_deref(), br#"{"n":2}"#, &random)?;
        assert_eq!(swap, Swap::Conflict);
        assert_eq!(stored(&store)["n"], "theirs");
        Ok(())
    }

    #[test]
    fn honest_store_success_needs_no_reread() -> Result<(), StoreError> {
        let store = Fake::new(Mode::Honest);
        let random = Counter(Cell::new(0));
        assert!(write(&store, r#"{"n":1}"#, &random)?);
        assert_eq!(stored(&store)["n"], 1);
        Ok(())
    }

    #[test]
    fn revisions_are_kept_newest_first_and_bounded() -> Result<(), StoreError> {
        let random = Counter(Cell::new(0));
        let mut record: Option<Vec<u8>> = None;
        let mut made = Vec::new();
        for i in 0..12 {
            let (bytes, rev) = stamp(
                format!(r#"{{"i":{i}}}"#).as_bytes(),
                record.as_deref(),
                &random,
            )?;
            made.push(rev);
            record = Some(bytes);
        }
        let revs = revisions(record.as_deref().unwrap_or_default());
        assert_eq!(revs.len(), REVISIONS_KEPT);
        made.reverse();
        assert_eq!(revs, made[..REVISIONS_KEPT]);
        Ok(())
    }

    #[test]
    fn a_value_that_is_not_an_object_is_refused() {
        let random = Counter(Cell::new(0));
        assert!(stamp(b"[1,2]", None, &random).is_err());
        assert!(stamp(b"not json", None, &random).is_err());
    }
}
