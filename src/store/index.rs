//! Append-only index records, so that management never lists the store's
//! keys on a request path (issue 16, target 5; docs/store.md, "Indexes").
//!
//! Why: Spin 4.0.2's Redis store answers `get-keys` with `KEYS *`
//! (`crates/key-value-redis/src/store.rs` at `v4.0.2`) and every backend
//! refuses a listing above `MAX_HOST_BUFFERED_BYTES`, 128 MiB
//! (`crates/world/src/lib.rs` at `v4.0.2`). A listing therefore costs, and
//! eventually fails, with the number of traffic records (verified tokens,
//! replay marks, revocations), not with the number of accounts.
//!
//! An [`Index`] is a set of short strings (account ids, audit keys, record
//! keys) stored as numbered slots:
//! - `ix/<name>/n`: a counter; `increment(.., 1)` hands each writer its own
//!   slot number, so concurrent writers never write the same key and no
//!   entry can be lost, on any backend (`INCRBY` on Redis, an upsert on
//!   SQLite);
//! - `ix/<name>/s/<n>`: slot `n`, written once by the writer that drew `n`;
//! - `ix/<name>/p/<k>`: page `k`, the values of slots `k*256+1 ..= k*256+256`
//!   as one JSON array. A page is written only when all 256 slots are there
//!   (by a reader that found them, or by a bulk insert); being a function of
//!   slots that never change, concurrent writers of a page write the same
//!   bytes. Reading `n` entries costs about `n/256` reads.
//!
//! An index is a superset: a value may appear twice (two writers indexing
//! the same thing) or stand for something since removed. The record it
//! names decides; callers deduplicate and skip what is gone.

use super::{Store, StoreError};

/// Prefix of every index key.
pub use super::keys::INDEX_PREFIX;

/// Slots per page.
pub const PAGE_SLOTS: u64 = 256;

/// One index, named by what it indexes (`acct`, `grant/<flow>`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    name: String,
}

impl Index {
    /// The index called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }

    fn counter_key(&self) -> String {
        format!("{INDEX_PREFIX}{}/n", self.name)
    }

    fn slot_key(&self, n: u64) -> String {
        format!("{INDEX_PREFIX}{}/s/{n}", self.name)
    }

    fn page_key(&self, page: u64) -> String {
        format!("{INDEX_PREFIX}{}/p/{page}", self.name)
    }

    /// How many slots were drawn. An absent counter is 0 (and is not
    /// created by asking); a present one is read atomically, by an increment
    /// of 0 (its bytes differ between backends).
    pub fn len(&self, store: &dyn Store) -> Result<u64, StoreError> {
        if store.get(&self.counter_key())?.is_none() {
            return Ok(0);
        }
        let n = store.increment(&self.counter_key(), 0)?;
        u64::try_from(n).map_err(|_| StoreError(format!("{} is negative", self.counter_key())))
    }

    /// Whether no slot was ever drawn.
    pub fn is_empty(&self, store: &dyn Store) -> Result<bool, StoreError> {
        Ok(self.len(store)? == 0)
    }

    /// Adds `value`: draws a slot and writes it. Two store calls. Returns
    /// the slot's number (from 1).
    pub fn add(&self, store: &dyn Store, value: &str) -> Result<u64, StoreError> {
        let n = self.draw(store, 1)?;
        store.set(&self.slot_key(n), value.as_bytes())?;
        Ok(n)
    }

    /// Adds many values at once (a migration): draws all their slots with one
    /// increment, writes whole pages where the drawn range covers them and
    /// single slots at its ends. Returns the first slot's number: `values[i]`
    /// is in slot `first + i`.
    pub fn add_all(&self, store: &dyn Store, values: &[String]) -> Result<u64, StoreError> {
        let Ok(count) = u64::try_from(values.len()) else {
            return Err(StoreError("too many index entries at once".into()));
        };
        if count == 0 {
            return Ok(0);
        }
        let last = self.draw(store, count)?;
        let first = last - count + 1;
        let mut n = first;
        while n <= last {
            let offset = usize::try_from(n - first).unwrap_or(usize::MAX);
            // A page wholly inside the drawn range: one write.
            if (n - 1) % PAGE_SLOTS == 0 && n + PAGE_SLOTS - 1 <= last {
                let page = &values[offset..offset + PAGE_SLOTS as usize];
                store.set(&self.page_key((n - 1) / PAGE_SLOTS), &page_bytes(page)?)?;
                n += PAGE_SLOTS;
            } else {
                store.set(&self.slot_key(n), values[offset].as_bytes())?;
                n += 1;
            }
        }
        Ok(first)
    }

    fn draw(&self, store: &dyn Store, count: u64) -> Result<u64, StoreError> {
        let delta = i64::try_from(count).map_err(|_| StoreError("too many slots".into()))?;
        let n = store.increment(&self.counter_key(), delta)?;
        u64::try_from(n)
            .ok()
            .filter(|n| *n >= count)
            .ok_or_else(|| StoreError(format!("{} went backwards", self.counter_key())))
    }

    /// Every value, in slot order (duplicates included). A slot drawn but not
    /// yet written (its writer is still at work, or failed) is skipped. A
    /// complete run of 256 slots found without its page gets its page
    /// written, so that the next reader reads one record instead of 256.
    pub fn entries(&self, store: &dyn Store) -> Result<Vec<String>, StoreError> {
        let len = self.len(store)?;
        let mut out = Vec::new();
        let mut page = 0;
        while page * PAGE_SLOTS < len {
            out.extend(self.page(store, page, len)?.into_iter().map(|(_, v)| v));
            page += 1;
        }
        Ok(out)
    }

    /// The entries from slot `from` on, in slot order, with their slot
    /// numbers, read one page at a time as the caller goes: paging through a
    /// long index costs the pages a caller consumes, not the whole index.
    pub fn from_slot<'a>(
        &'a self,
        store: &'a dyn Store,
        from: u64,
    ) -> Result<Entries<'a>, StoreError> {
        let from = from.max(1);
        Ok(Entries {
            index: self,
            store,
            len: self.len(store)?,
            from,
            page: (from - 1) / PAGE_SLOTS,
            pending: Vec::new().into_iter(),
        })
    }

    /// The values of page `page` of an index with `len` slots drawn, with
    /// their slot numbers.
    fn page(
        &self,
        store: &dyn Store,
        page: u64,
        len: u64,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        let first = page * PAGE_SLOTS + 1;
        if let Some(bytes) = store.get(&self.page_key(page))? {
            let values: Vec<String> = serde_json::from_slice(&bytes)
                .map_err(|_| StoreError(format!("{} is not an index page", self.page_key(page))))?;
            return Ok((first..).zip(values).collect());
        }
        let last = (first + PAGE_SLOTS - 1).min(len);
        let mut values = Vec::new();
        for n in first..=last {
            if let Some(bytes) = store.get(&self.slot_key(n))? {
                let value = String::from_utf8(bytes)
                    .map_err(|_| StoreError(format!("{} is not text", self.slot_key(n))))?;
                values.push((n, value));
            }
        }
        if values.len() as u64 == PAGE_SLOTS {
            let page_values: Vec<String> = values.iter().map(|(_, v)| v.clone()).collect();
            store.set(&self.page_key(page), &page_bytes(&page_values)?)?;
        }
        Ok(values)
    }

    /// Removes the whole index (an expiry bucket once pruned): pages, slots,
    /// then the counter.
    pub fn remove(&self, store: &dyn Store) -> Result<(), StoreError> {
        let len = self.len(store)?;
        let mut page = 0;
        while page * PAGE_SLOTS < len {
            store.delete(&self.page_key(page))?;
            let first = page * PAGE_SLOTS + 1;
            for n in first..=(first + PAGE_SLOTS - 1).min(len) {
                store.delete(&self.slot_key(n))?;
            }
            page += 1;
        }
        store.delete(&self.counter_key())
    }
}

/// The iterator of [`Index::from_slot`].
pub struct Entries<'a> {
    index: &'a Index,
    store: &'a dyn Store,
    len: u64,
    from: u64,
    /// The next page to read.
    page: u64,
    pending: std::vec::IntoIter<(u64, String)>,
}

impl Entries<'_> {
    /// How many slots the index had drawn when the iteration began.
    pub fn slots(&self) -> u64 {
        self.len
    }
}

impl Iterator for Entries<'_> {
    type Item = Result<(u64, String), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(entry) = self.pending.next() {
                if entry.0 >= self.from {
                    return Some(Ok(entry));
                }
                continue;
            }
            if self.page * PAGE_SLOTS >= self.len {
                return None;
            }
            match self.index.page(self.store, self.page, self.len) {
                Ok(values) => self.pending = values.into_iter(),
                Err(e) => {
                    self.len = 0;
                    return Some(Err(e));
                }
            }
            self.page += 1;
        }
    }
}

/// A whole number stored as decimal text under `key` (a cursor), if any.
pub fn stored_number(store: &dyn Store, key: &str) -> Result<Option<u64>, StoreError> {
    match store.get(key)? {
        None => Ok(None),
        Some(bytes) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| t.parse().ok())
            .map(Some)
            .ok_or_else(|| StoreError(format!("{key} is not a number"))),
    }
}

fn page_bytes(values: &[String]) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(values).map_err(|_| StoreError("an index page could not be written".into()))
}

/// Sorts and deduplicates index values.
pub fn distinct(mut values: Vec<String>) -> Vec<String> {
    values.sort_unstable();
    values.dedup();
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn values(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("v{i:05}")).collect()
    }

    #[test]
    fn added_values_come_back_in_order_across_pages() -> Result<(), StoreError> {
        let store = MemoryStore::default();
        let index = Index::new("t");
        for v in values(600) {
            index.add(&store, &v)?;
        }
        assert_eq!(index.entries(&store)?, values(600));
        // Two full pages were compacted by that read; the tail stays slots.
        assert!(store.get("ix/t/p/0")?.is_some());
        assert!(store.get("ix/t/p/1")?.is_some());
        assert!(store.get("ix/t/p/2")?.is_none());
        assert_eq!(index.entries(&store)?, values(600));
        Ok(())
    }

    #[test]
    fn bulk_add_after_single_adds_keeps_every_value() -> Result<(), StoreError> {
        let store = MemoryStore::default();
        let index = Index::new("t");
        let all = values(1000);
        for v in &all[..3] {
            index.add(&store, v)?;
        }
        index.add_all(&store, &all[3..])?;
        index.add(&store, "last")?;
        let mut expected = all.clone();
        expected.push("last".into());
        assert_eq!(index.entries(&store)?, expected);
        // Pages 1 and 2 were written whole by the bulk add.
        assert!(store.get("ix/t/p/1")?.is_some());
        assert!(store.get("ix/t/s/300")?.is_none());
        Ok(())
    }

    #[test]
    fn a_drawn_slot_not_yet_written_is_skipped_and_blocks_its_page() -> Result<(), StoreError> {
        let store = MemoryStore::default();
        let index = Index::new("t");
        for v in values(256) {
            index.add(&store, &v)?;
        }
        store.delete("ix/t/s/7")?;
        let read = index.entries(&store)?;
        assert_eq!(read.len(), 255);
        assert!(store.get("ix/t/p/0")?.is_none(), "no page with a hole");
        // The late writer lands; the next read has it and writes the page.
        store.set("ix/t/s/7", b"late")?;
        assert_eq!(index.entries(&store)?.len(), 256);
        assert!(store.get("ix/t/p/0")?.is_some());
        Ok(())
    }

    #[test]
    fn concurrent_adds_lose_no_entry() -> Result<(), StoreError> {
        let store = std::sync::Arc::new(MemoryStore::default());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || -> Result<(), StoreError> {
                    let index = Index::new("t");
                    for i in 0..200 {
                        index.add(store.as_ref(), &format!("{t}-{i}"))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for t in threads {
            t.join()
                .map_err(|_| StoreError("thread panicked".into()))??;
        }
        let read = distinct(Index::new("t").entries(store.as_ref())?);
        assert_eq!(read.len(), 1600);
        Ok(())
    }

    #[test]
    fn entries_from_a_slot_start_there_and_read_only_the_pages_taken() -> Result<(), StoreError> {
        let store = MemoryStore::default();
        let index = Index::new("t");
        index.add_all(&store, &values(2_000))?;
        let before = store.reads();
        let got = index
            .from_slot(&store, 1_001)?
            .take(3)
            .collect::<Result<Vec<_>, _>>()?;
        assert_eq!(
            got,
            [
                (1_001, "v01000".to_owned()),
                (1_002, "v01001".to_owned()),
                (1_003, "v01002".to_owned())
            ]
        );
        // The counter (a get and an increment of 0) and one page.
        assert_eq!(store.reads() - before, 3);
        let tail = index.from_slot(&store, 1_999)?.count();
        assert_eq!(tail, 2);
        assert_eq!(index.from_slot(&store, 2_001)?.count(), 0);
        Ok(())
    }

    #[test]
    fn removing_an_index_deletes_all_its_keys() -> Result<(), StoreError> {
        let store = MemoryStore::default();
        let index = Index::new("t");
        for v in values(300) {
            index.add(&store, &v)?;
        }
        index.entries(&store)?;
        index.remove(&store)?;
        assert!(store.keys()?.is_empty());
        assert!(index.entries(&store)?.is_empty());
        Ok(())
    }
}
