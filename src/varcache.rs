//! A short-lived memory of configuration text, for an instance that serves
//! more than one request.
//!
//! Spin 4 hands one instance of a WASIp3 component up to 128 requests
//! (docs/p3.md), and each read of a Spin variable is a host call that Spin
//! 4.0.2 serves on a blocking thread. [`VariableCache`] keeps the text a
//! variable read returned for at most [`MAX_AGE_NANOS`], so that a changed
//! variable (a rotated key, a new pepper) is read again within a second,
//! however long the instance lives. It never keeps a failed read: a variable
//! that cannot be read fails the request that asked for it, and the next
//! request asks the host again.
//!
//! It keeps text only, and [`Derived`] what is made from a variable's text
//! (a decoded key) beside that exact text. Nothing read from the store
//! (accounts, grants, revocations, counters) ever passes through either.

/// How long a kept value may be used, in nanoseconds of a monotonic clock:
/// one second, Spin's idle timeout of a reused instance.
pub const MAX_AGE_NANOS: u64 = 1_000_000_000;

/// The most variables kept at once. The authorizer reads a handful of fixed
/// names and the upstream variables its policies name; past this the oldest
/// entry makes room.
pub const MAX_ENTRIES: usize = 32;

struct Entry {
    name: String,
    value: String,
    read_at: u64,
}

/// Values of variables by name, each with the monotonic time it was read.
#[derive(Default)]
pub struct VariableCache {
    entries: Vec<Entry>,
}

impl VariableCache {
    /// An empty cache.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// The value of `name`: the kept one if it was read less than
    /// [`MAX_AGE_NANOS`] before `now`, otherwise what `read` returns, which
    /// is then kept (a value) or forgotten (an error). A clock that went
    /// backwards makes every kept value stale.
    pub fn get_or_read<E>(
        &mut self,
        name: &str,
        now: u64,
        read: impl FnOnce() -> Result<String, E>,
    ) -> Result<String, E> {
        let found = self.entries.iter().position(|e| e.name == name);
        if let Some(i) = found {
            let entry = &self.entries[i];
            if now
                .checked_sub(entry.read_at)
                .is_some_and(|age| age < MAX_AGE_NANOS)
            {
                return Ok(entry.value.clone());
            }
        }
        match read() {
            Ok(value) => {
                let entry = Entry {
                    name: name.to_owned(),
                    value: value.clone(),
                    read_at: now,
                };
                match found {
                    Some(i) => self.entries[i] = entry,
                    None => {
                        if self.entries.len() >= MAX_ENTRIES
                            && let Some(oldest) = self
                                .entries
                                .iter()
                                .enumerate()
                                .min_by_key(|(_, e)| e.read_at)
                                .map(|(i, _)| i)
                        {
                            self.entries.swap_remove(oldest);
                        }
                        self.entries.push(entry);
                    }
                }
                Ok(value)
            }
            Err(e) => {
                if let Some(i) = found {
                    self.entries.swap_remove(i);
                }
                Err(e)
            }
        }
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A value derived from variables' text (a decoded key, the signing keys),
/// kept beside the exact texts it came from. The texts are asked for on
/// every use (through a [`VariableCache`] on a reused instance), so a
/// changed variable is derived again the first time it is seen; a
/// derivation that fails keeps nothing and drops what was kept.
pub struct Derived<T> {
    kept: Option<(Vec<String>, T)>,
}

impl<T> Default for Derived<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Derived<T> {
    /// Nothing kept.
    pub const fn new() -> Self {
        Self { kept: None }
    }
}

impl<T: Clone> Derived<T> {
    /// The value for `texts`: the kept one if it came from exactly these
    /// texts, in this order, otherwise what `derive` makes of them, then
    /// kept.
    pub fn get_or_derive<E>(
        &mut self,
        texts: &[&str],
        derive: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        if let Some((from, value)) = &self.kept
            && from.iter().map(String::as_str).eq(texts.iter().copied())
        {
            return Ok(value.clone());
        }
        self.kept = None;
        let value = derive()?;
        let from = texts.iter().map(|t| (*t).to_owned()).collect();
        self.kept = Some((from, value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_derived_value_is_made_again_for_other_text_and_never_kept_from_a_failure() {
        let mut derived = Derived::<usize>::new();
        let calls = Cell::new(0);
        let length = |texts: &[&str]| {
            calls.set(calls.get() + 1);
            let total: usize = texts.iter().map(|t| t.len()).sum();
            if total == 0 { Err("empty") } else { Ok(total) }
        };
        let mut get = |texts: &[&str]| derived.get_or_derive(texts, || length(texts));
        assert_eq!(get(&["abc"]), Ok(3));
        assert_eq!(get(&["abc"]), Ok(3));
        assert_eq!(calls.get(), 1);
        // Other text (a rotated variable): derived again, and kept instead.
        assert_eq!(get(&["abcd"]), Ok(4));
        assert_eq!(get(&["abcd"]), Ok(4));
        assert_eq!(calls.get(), 2);
        // Back to the old text: the old value was not kept beside the new.
        assert_eq!(get(&["abc"]), Ok(3));
        assert_eq!(calls.get(), 3);
        // A failure reaches the caller and leaves nothing kept.
        assert_eq!(get(&[""]), Err("empty"));
        assert_eq!(get(&["abc"]), Ok(3));
        assert_eq!(calls.get(), 5);
    }

    #[test]
    fn derived_texts_are_compared_one_by_one_in_order() {
        let mut derived = Derived::<&str>::new();
        let calls = Cell::new(0);
        let mut get = |texts: &[&str], value| {
            derived.get_or_derive(texts, || {
                calls.set(calls.get() + 1);
                Ok::<_, ()>(value)
            })
        };
        assert_eq!(get(&["current", "previous"], "a"), Ok("a"));
        assert_eq!(get(&["current", "previous"], "x"), Ok("a"));
        assert_eq!(calls.get(), 1);
        // The same bytes split otherwise, or in the other order, are other
        // variables' text: derived again.
        assert_eq!(get(&["currentp", "revious"], "b"), Ok("b"));
        assert_eq!(get(&["previous", "current"], "c"), Ok("c"));
        assert_eq!(get(&["current"], "d"), Ok("d"));
        assert_eq!(get(&["current", ""], "e"), Ok("e"));
        assert_eq!(calls.get(), 5);
    }

    /// A read that counts its calls and returns `value`.
    fn counted<'a>(
        calls: &'a Cell<u32>,
        value: &'a str,
    ) -> impl FnOnce() -> Result<String, ()> + 'a {
        move || {
            calls.set(calls.get() + 1);
            Ok(value.to_owned())
        }
    }

    #[test]
    fn a_value_is_kept_for_less_than_a_second_then_read_again() {
        let mut cache = VariableCache::new();
        let calls = Cell::new(0);
        let t0 = 5_000_000_000;
        assert_eq!(
            cache.get_or_read("issuer", t0, counted(&calls, "a")),
            Ok("a".into())
        );
        assert_eq!(
            cache.get_or_read("issuer", t0 + MAX_AGE_NANOS - 1, counted(&calls, "b")),
            Ok("a".into())
        );
        assert_eq!(calls.get(), 1);
        // One second after the read, the host is asked again and the new
        // value is what every later read sees.
        assert_eq!(
            cache.get_or_read("issuer", t0 + MAX_AGE_NANOS, counted(&calls, "b")),
            Ok("b".into())
        );
        assert_eq!(calls.get(), 2);
        assert_eq!(
            cache.get_or_read("issuer", t0 + MAX_AGE_NANOS + 1, counted(&calls, "c")),
            Ok("b".into())
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn names_are_kept_apart() {
        let mut cache = VariableCache::new();
        let calls = Cell::new(0);
        assert_eq!(
            cache.get_or_read("signing_key", 0, counted(&calls, "k")),
            Ok("k".into())
        );
        assert_eq!(
            cache.get_or_read("hmac_pepper", 1, counted(&calls, "p")),
            Ok("p".into())
        );
        assert_eq!(
            cache.get_or_read("signing_key", 2, counted(&calls, "x")),
            Ok("k".into())
        );
        assert_eq!(
            cache.get_or_read("hmac_pepper", 3, counted(&calls, "x")),
            Ok("p".into())
        );
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn a_failed_read_is_not_kept_and_forgets_the_old_value() {
        let mut cache = VariableCache::new();
        let calls = Cell::new(0);
        assert_eq!(
            cache.get_or_read("issuer", 0, counted(&calls, "a")),
            Ok("a".into())
        );
        // Stale, and the host now fails: the error reaches the caller, and
        // the old value is not used again.
        assert_eq!(
            cache.get_or_read("issuer", MAX_AGE_NANOS, || Err::<String, _>("gone")),
            Err("gone")
        );
        assert!(cache.is_empty());
        assert_eq!(
            cache.get_or_read("issuer", MAX_AGE_NANOS + 1, || Err::<String, _>("gone")),
            Err("gone")
        );
        assert_eq!(
            cache.get_or_read("issuer", MAX_AGE_NANOS + 2, counted(&calls, "b")),
            Ok("b".into())
        );
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn a_clock_that_went_back_reads_again() {
        let mut cache = VariableCache::new();
        let calls = Cell::new(0);
        assert_eq!(
            cache.get_or_read("issuer", 10, counted(&calls, "a")),
            Ok("a".into())
        );
        assert_eq!(
            cache.get_or_read("issuer", 9, counted(&calls, "b")),
            Ok("b".into())
        );
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn the_oldest_entry_makes_room() {
        let mut cache = VariableCache::new();
        let calls = Cell::new(0);
        for i in 0..MAX_ENTRIES as u64 {
            let name = format!("upstream_{i}");
            cache
                .get_or_read(&name, 100 + i, counted(&calls, "v"))
                .expect("read");
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        cache
            .get_or_read("one_more", 200, counted(&calls, "w"))
            .expect("read");
        assert_eq!(cache.len(), MAX_ENTRIES);
        let before = calls.get();
        // upstream_0 (read first) was dropped; upstream_1 is still kept.
        cache
            .get_or_read("upstream_1", 201, counted(&calls, "v"))
            .expect("read");
        assert_eq!(calls.get(), before);
        cache
            .get_or_read("upstream_0", 202, counted(&calls, "v"))
            .expect("read");
        assert_eq!(calls.get(), before + 1);
    }
}
