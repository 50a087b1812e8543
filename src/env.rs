//! What the core needs from its surroundings, as traits: a clock and a source
//! of randomness. Storage is in [`crate::store`]. The components implement them
//! with WASI; tests implement them with fixed values.

/// Wall-clock time in whole seconds since the Unix epoch.
pub trait Clock {
    /// The current time.
    fn now(&self) -> u64;
}

/// A cryptographically secure random source.
pub trait Random {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}
