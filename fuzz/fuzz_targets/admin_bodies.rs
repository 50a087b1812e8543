//! Management request bodies through `admin::Admin` over a `MemoryStore`
//! with a fixed clock and a counting random source. The first byte picks the
//! operation; the rest is the JSON body. A refused request must leave the
//! store exactly as it was.
#![no_main]

use std::cell::Cell;

use flowgate::admin::Admin;
use flowgate::env::{Clock, Random};
use flowgate::hash::Pepper;
use flowgate::policy::parse_flow;
use flowgate::store::MemoryStore;
use libfuzzer_sys::fuzz_target;

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        1_800_000_000
    }
}

/// Deterministic bytes: a counter. For fuzzing only.
struct Counter(Cell<u8>);

impl Random for Counter {
    fn fill(&self, buf: &mut [u8]) {
        for b in buf {
            self.0.set(self.0.get().wrapping_add(1));
            *b = self.0.get().wrapping_mul(167);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((op, body)) = data.split_first() else {
        return;
    };
    let flows = [
        parse_flow(
            "orders.toml",
            "id = \"orders\"\npath_prefix = \"/flows/orders\"\nmethods = [\"GET\", \"POST\"]",
        )
        .expect("flow"),
        parse_flow(
            "reports.toml",
            "id = \"reports\"\npath_prefix = \"/flows/reports\"\nmethods = [\"GET\"]",
        )
        .expect("flow"),
    ];
    let store = MemoryStore::default();
    let random = Counter(Cell::new(0));
    let pepper = Pepper::from_variable(&"ab".repeat(32)).expect("pepper");
    let admin = Admin {
        store: &store,
        clock: &FixedClock,
        random: &random,
        pepper: &pepper,
        flows: &flows,
    };
    let existing = admin
        .create_account(br#"{"name":"fuzz","credential_type":"api_key","flows":["orders"]}"#)
        .expect("seed account");
    let id = existing.account.id.clone();
    let before = store.dump();
    let refused = match op % 5 {
        0 => admin.create_account(body).is_err(),
        1 => admin.update_account(&id, body).is_err(),
        2 => admin.reset_credential(&id, body).is_err(),
        3 => admin.create_token(&id, body).is_err(),
        _ => {
            let Ok(other) = std::str::from_utf8(body) else {
                return;
            };
            admin.update_account(other, b"{}").is_err()
        }
    };
    if refused {
        assert!(
            store.dump() == before,
            "a refused request changed the store"
        );
    }
});
