//! Issue 16, target 5: listing and pruning through the indexes, never the
//! key list; the migration of a store written before the indexes.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;

use super::*;
use crate::admin::index;
use crate::store::index::INDEX_PREFIX;

/// Distinct bytes for many more ids than `CountingRandom` gives (splitmix64).
struct Spread;

static STATE: AtomicU64 = AtomicU64::new(1);

impl Random for Spread {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let mut z = STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

fn admin(env: &Env) -> Admin<'_> {
    Admin {
        random: &Spread,
        ..env.admin()
    }
}

fn create(env: &Env, name: &str, flows: &[&str]) -> String {
    let body = json!({ "name": name, "credential_type": "api_key", "flows": flows });
    admin(env)
        .create_account(body.to_string().as_bytes())
        .expect("created")
        .account
        .id
}

fn audit(env: &Env, time: u64, target: &str) {
    let entry = AuditEntry {
        time,
        actor: "bootstrap-admin".into(),
        action: "account.create".into(),
        target: target.into(),
        outcome: "ok".into(),
        detail: None,
    };
    admin(env).audit(&entry).expect("audited");
}

fn listed(env: &Env) -> Vec<String> {
    let mut names = Vec::new();
    let mut after = None;
    loop {
        let page = env
            .admin()
            .list_accounts(&AccountQuery {
                after: after.clone(),
                limit: 2,
                ..AccountQuery::default()
            })
            .expect("listed");
        names.extend(page.items.iter().map(|a| a.name.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    names.sort();
    names
}

fn audit_targets(env: &Env, limit: usize) -> Vec<String> {
    let mut targets = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let query = AuditQuery {
            before: before.as_deref(),
            ..AuditQuery::default()
        };
        let page = admin(env).audit_log(&query, limit).expect("audit");
        targets.extend(page.items.iter().map(|e| e.target.clone()));
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    targets
}

fn vtok_entry(exp: u64) -> Vec<u8> {
    json!({ "sub": "a", "jti": "j", "iat": 1, "exp": exp, "scope": "orders" })
        .to_string()
        .into_bytes()
}

/// Seeds `n` verified-token records as the authorizer writes them.
fn traffic(env: &Env, n: usize) {
    let now = env.clock.now();
    for i in 0..n {
        let key = format!("vtok/t{i}");
        crate::store::expiry::schedule(&env.store, &key, now + 600, now).expect("filed");
        env.store.set(&key, &vtok_entry(now + 600)).expect("set");
    }
}

#[test]
fn issue16_listings_and_prune_never_list_keys_once_indexed() {
    let env = Env::new();
    // Env's store was migrated when made (one listing).
    admin(&env).prune().expect("prune");
    assert_eq!(env.store.key_listings(), 1);
    for i in 0..5 {
        create(&env, &format!("acct-{i}"), &["orders"]);
        audit(&env, 1_000 + i, &format!("account:{i}"));
    }
    traffic(&env, 3_000);
    assert_eq!(listed(&env).len(), 5);
    assert_eq!(admin(&env).flow_access("orders").expect("access").len(), 5);
    admin(&env)
        .create_group(br#"{"name":"ops"}"#)
        .expect("group");
    admin(&env).grant_group("orders", "ops").expect("granted");
    assert_eq!(admin(&env).flow_groups("orders").expect("groups"), ["ops"]);
    assert_eq!(admin(&env).groups().expect("groups").len(), 1);
    assert_eq!(audit_targets(&env, 2).len(), 5);
    admin(&env).prune().expect("prune");
    env.clock.0.set(1_000 + 86_400);
    admin(&env).prune().expect("prune a day later");
    assert_eq!(
        env.store.key_listings(),
        1,
        "no listing after the migration"
    );
}

#[test]
fn issue16_listing_reads_do_not_grow_with_traffic_records() {
    let reads_of_a_listing = |records: usize| {
        let env = Env::new();
        for i in 0..20 {
            create(&env, &format!("acct-{i}"), &[]);
        }
        traffic(&env, records);
        admin(&env).records().expect("migrated, pages written");
        let before = env.store.dump().len();
        let page = env
            .admin()
            .list_accounts(&AccountQuery {
                limit: 10,
                ..AccountQuery::default()
            })
            .expect("listed");
        assert_eq!(page.items.len(), 10);
        assert_eq!(
            env.store.dump().len(),
            before,
            "a listing writes nothing new"
        );
        env.store.key_listings()
    };
    // One key listing (the migration) whatever the number of records.
    assert_eq!(reads_of_a_listing(10), 1);
    assert_eq!(reads_of_a_listing(5_000), 1);
}

#[test]
fn issue16_a_store_of_the_old_layout_is_migrated_once_and_idempotently() {
    let env = Env::new();
    let ids: Vec<String> = (0..300)
        .map(|i| create(&env, &format!("old-{i:03}"), &["orders"]))
        .collect();
    for i in 0..4 {
        // Four audit entries on three days.
        audit(&env, 1_000 + i * 40_000, &format!("account:{}", ids[0]));
    }
    admin(&env)
        .create_group(br#"{"name":"old-group"}"#)
        .expect("group");
    env.store
        .set("jti/c/old", b"5")
        .expect("an expired replay mark");
    env.store
        .set("vtok/old", &vtok_entry(5))
        .expect("an expired verified token");
    // The old layout had no index: drop it.
    for (key, _) in env.store.dump() {
        if key.starts_with(INDEX_PREFIX) {
            env.store.delete(&key).expect("deleted");
        }
    }
    env.clock.0.set(200_000);
    let expected: Vec<String> = (0..300).map(|i| format!("old-{i:03}")).collect();
    assert_eq!(listed(&env), expected);
    assert_eq!(
        admin(&env).flow_access("orders").expect("access").len(),
        300
    );
    assert_eq!(audit_targets(&env, 3).len(), 4);
    assert_eq!(admin(&env).groups().expect("groups").len(), 1);
    assert_eq!(
        env.store.key_listings(),
        2,
        "Env's migration, then this one"
    );
    // Running it again (a failure midway, two at once) changes no answer.
    index::migrate(&env.store, 200_000, &prune::is_expiring).expect("again");
    assert_eq!(listed(&env), expected);
    assert_eq!(
        admin(&env).flow_access("orders").expect("access").len(),
        300
    );
    assert_eq!(audit_targets(&env, 3).len(), 4);
    let pruned = admin(&env).prune().expect("prune");
    assert_eq!((pruned.deleted.jti, pruned.deleted.vtok), (1, 1));
    // Deleted accounts stay in the index and are skipped.
    admin(&env).delete_account(&ids[7], true).expect("deleted");
    assert_eq!(listed(&env).len(), 299);
    assert_eq!(
        admin(&env).flow_access("orders").expect("access").len(),
        299
    );
}

#[test]
fn issue16_audit_pages_newest_first_across_days() {
    let env = Env::new();
    admin(&env).prune().expect("migration");
    for (i, time) in [1_000, 90_000, 90_001, 200_000, 400_000].iter().enumerate() {
        audit(&env, *time, &format!("t{i}"));
    }
    env.clock.0.set(400_000);
    assert_eq!(audit_targets(&env, 2), ["t4", "t3", "t2", "t1", "t0"]);
}

#[test]
fn issue16_revoked_grants_are_not_listed_and_regrants_are() {
    let env = Env::new();
    let id = create(&env, "grantee", &[]);
    admin(&env).grant("reports", &id).expect("granted");
    admin(&env).revoke("reports", &id).expect("revoked");
    assert!(
        admin(&env)
            .flow_access("reports")
            .expect("access")
            .is_empty()
    );
    admin(&env).grant("reports", &id).expect("granted again");
    admin(&env).grant("reports", &id).expect("idempotent");
    assert_eq!(admin(&env).flow_access("reports").expect("access").len(), 1);
}

/// One page of `limit` accounts after the account `after` (the first page
/// when `None`), with `name` as filter.
fn page(env: &Env, after: Option<String>, limit: usize, name: Option<&str>) -> Page<AccountView> {
    env.admin()
        .list_accounts(&AccountQuery {
            after,
            limit,
            name: name.map(str::to_owned),
            ..AccountQuery::default()
        })
        .expect("listed")
}

#[test]
fn issue16_a_page_of_accounts_costs_the_same_reads_at_ten_times_the_accounts() {
    let reads_of_a_second_page = |accounts: usize| {
        let env = Env::new();
        for i in 0..accounts {
            create(&env, &format!("acct-{i:05}"), &[]);
        }
        let first = page(&env, None, 50, None);
        let before = env.store.reads();
        let second = page(&env, first.next.clone(), 50, None);
        let reads = env.store.reads() - before;
        // In order of creation, the second page right after the first.
        assert_eq!(second.items[0].name, "acct-00050");
        assert_eq!(second.items.len(), 50);
        (reads, env)
    };
    let (small, _) = reads_of_a_second_page(300);
    let (large, env) = reads_of_a_second_page(3_000);
    assert_eq!(small, large);
    assert!(large < 120, "{large} reads for 50 accounts");

    // A filter that matches one account far down the index: one request
    // examines at most LIST_SCAN accounts and says where to go on.
    let first = page(&env, None, 50, Some("acct-02999"));
    assert!(first.items.is_empty());
    let mut after = first.next;
    let mut found = Vec::new();
    while let Some(cursor) = after {
        let next = page(&env, Some(cursor), 50, Some("acct-02999"));
        found.extend(next.items.into_iter().map(|a| a.name));
        after = next.next;
    }
    assert_eq!(found, ["acct-02999"]);
}

#[test]
fn issue16_a_cursor_the_index_does_not_know_is_refused() {
    let env = Env::new();
    create(&env, "only", &[]);
    let refused = env
        .admin()
        .list_accounts(&AccountQuery {
            after: Some("aaaaaaaaaaaaaaaa".into()),
            ..AccountQuery::default()
        })
        .expect_err("an unknown cursor");
    assert_eq!(field_of(refused), "after");
}
