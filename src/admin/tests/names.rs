//! Unique names (issue #18 item 1): the claim counter elects one create.

use super::*;
use crate::store::keys::claim_key;
use crate::store::{NameKind, StoreError};

fn create_account(admin: &Admin<'_>, name: &str) -> Result<WithSecret, AdminError> {
    admin.create_account(format!(r#"{{"name":"{name}","credential_type":"api_key"}}"#).as_bytes())
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, AdminError>) -> bool {
    matches!(result, Err(AdminError::Conflict { .. }))
}

#[test]
fn issue18_a_name_claimed_by_a_create_in_progress_is_refused() {
    let env = Env::new();
    let admin = env.admin();
    // Another create won the election and has not written its object yet.
    for kind in [NameKind::Account, NameKind::Group, NameKind::Role] {
        env.store
            .increment(&claim_key(kind, "racing"), 1)
            .expect("claim");
    }
    assert!(is_conflict(create_account(&admin, "racing")));
    assert!(is_conflict(admin.create_group(br#"{"name":"racing"}"#)));
    assert!(is_conflict(admin.create_role(
        br#"{"name":"racing","permissions":["audit:read"]}"#
    )));
}

#[test]
fn issue18_deleted_names_can_be_created_again() {
    let env = Env::new();
    let admin = env.admin();
    let first = create_account(&admin, "again").expect("first");
    assert!(is_conflict(create_account(&admin, "again")));
    admin
        .delete_account(&first.account.id, true)
        .expect("delete");
    create_account(&admin, "again").expect("the name is free again");

    admin.create_group(br#"{"name":"again"}"#).expect("group");
    assert!(is_conflict(admin.create_group(br#"{"name":"again"}"#)));
    admin.delete_group("again").expect("delete group");
    admin
        .create_group(br#"{"name":"again"}"#)
        .expect("group again");

    let role = br#"{"name":"again","permissions":["audit:read"]}"#;
    admin.create_role(role).expect("role");
    assert!(is_conflict(admin.create_role(role)));
    admin.delete_role("again").expect("delete role");
    admin.create_role(role).expect("role again");
}

/// A store whose writes under one prefix fail while `failing` is set.
struct FailingWrites {
    inner: MemoryStore,
    prefix: &'static str,
    failing: Cell<bool>,
}

impl Store for FailingWrites {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        if self.failing.get() && key.starts_with(self.prefix) {
            return Err(StoreError("injected".into()));
        }
        self.inner.set(key, value)
    }
    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key)
    }
    fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.inner.keys()
    }
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.inner.increment(key, delta)
    }
}

#[test]
fn issue18_a_failed_create_gives_its_claim_back_and_leaves_no_record() {
    let env = Env::new();
    let store = FailingWrites {
        inner: MemoryStore::default(),
        prefix: "name/",
        failing: Cell::new(true),
    };
    let admin = Admin {
        store: &store,
        ..env.admin()
    };
    assert!(matches!(
        create_account(&admin, "flaky"),
        Err(AdminError::Store(_))
    ));
    let left: Vec<String> = store.keys().expect("keys");
    assert!(
        left.iter()
            .all(|k| !k.starts_with("acct/") && !k.starts_with("claim/")),
        "{left:?}"
    );
    store.failing.set(false);
    create_account(&admin, "flaky").expect("the name is free after the failure");
}
