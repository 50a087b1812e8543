use std::cell::Cell;

use super::*;
use crate::account::CredentialType;
use crate::policy::parse_flow;
use crate::secret::tests::CountingRandom;
use crate::store::MemoryStore;

struct FixedClock(Cell<u64>);

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.0.get()
    }
}

struct Env {
    store: MemoryStore,
    clock: FixedClock,
    random: CountingRandom,
    pepper: Pepper,
    flows: Vec<Flow>,
}

impl Env {
    fn new() -> Self {
        let flows = vec![
            parse_flow(
                "orders",
                "id = \"orders\"\npath_prefix = \"/flows/orders\"\nmethods = [\"GET\", \"POST\"]\nproject = \"shop\"",
            )
            .expect("orders"),
            parse_flow("reports", "id = \"reports\"\npath_prefix = \"/flows/reports\"\nmethods = [\"GET\"]")
                .expect("reports"),
        ];
        let env = Self {
            store: MemoryStore::default(),
            clock: FixedClock(Cell::new(1_000)),
            random: CountingRandom(Cell::new(0)),
            pepper: Pepper::from_variable(&"cd".repeat(32)).expect("pepper"),
            flows,
        };
        // A store made by this version: its (empty) indexes exist, so no
        // operation under test runs the migration (tests/index.rs does).
        crate::admin::index::migrate(&env.store, 1_000, &prune::is_expiring).expect("indexed");
        env
    }

    fn admin(&self) -> Admin<'_> {
        Admin {
            store: &self.store,
            clock: &self.clock,
            random: &self.random,
            pepper: &self.pepper,
            flows: &self.flows,
        }
    }

    fn dump_text(&self) -> String {
        self.store
            .dump()
            .into_iter()
            .map(|(k, v)| format!("{k}={}\n", String::from_utf8_lossy(&v)))
            .collect()
    }
}

fn field_of(err: AdminError) -> String {
    match err {
        AdminError::Field { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn created_api_key_is_returned_once_and_never_stored() {
    let env = Env::new();
    let created = env
        .admin()
        .create_account(br#"{"name":"partner-a","credential_type":"api_key","flows":["orders"]}"#)
        .expect("created");
    let secret = created.secret.expect("a secret");
    assert!(secret.starts_with("fgak_"));
    let dump = env.dump_text();
    assert!(!dump.contains(&secret), "{dump}");
    assert!(
        !dump.contains(&secret[22..54]),
        "the random body leaked: {dump}"
    );
    let again = env.admin().account(&created.account.id).expect("stored");
    assert_eq!(again.grants, vec!["orders".to_owned()]);
}

#[test]
fn invalid_fields_are_named_and_change_nothing() {
    let env = Env::new();
    let cases: [(&[u8], &str); 8] = [
        (br#"{"credential_type":"api_key"}"#, "name"),
        (br#"{"name":"a:b","credential_type":"api_key"}"#, "name"),
        (
            br#"{"name":"a","credential_type":"magic"}"#,
            "credential_type",
        ),
        (
            br#"{"name":"a","credential_type":"api_key","flows":["nope"]}"#,
            "flows",
        ),
        (
            br#"{"name":"a","credential_type":"api_key","roles":"admin"}"#,
            "roles",
        ),
        (
            br#"{"name":"a","credential_type":"api_key","colour":"red"}"#,
            "colour",
        ),
        (
            br#"{"name":"a","credential_type":"api_key","certificate":"x"}"#,
            "certificate",
        ),
        (
            br#"{"name":"a","credential_type":"api_key","scope":{"level":"project"}}"#,
            "scope",
        ),
    ];
    for (body, expected) in cases {
        let err = env.admin().create_account(body).expect_err("refused");
        assert_eq!(err.status(), 400);
        assert_eq!(field_of(err), expected);
    }
    assert_eq!(
        env.admin()
            .create_account(b"[1]")
            .expect_err("array")
            .status(),
        400
    );
    assert!(
        env.store.records().is_empty(),
        "a refused request wrote something"
    );
}

#[test]
fn duplicate_names_conflict() {
    let env = Env::new();
    let body = br#"{"name":"dup","credential_type":"basic"}"#;
    env.admin().create_account(body).expect("first");
    let before = env.store.dump();
    let err = env.admin().create_account(body).expect_err("second");
    assert_eq!(err.status(), 409);
    assert_eq!(env.store.dump(), before);
}

#[test]
fn scope_limits_the_flows_that_can_be_granted() {
    let env = Env::new();
    let body = br#"{"name":"p","credential_type":"api_key","scope":{"level":"project","project":"billing"},"flows":["orders"]}"#;
    assert_eq!(
        field_of(env.admin().create_account(body).expect_err("outside")),
        "flows"
    );
    let ok =
        br#"{"name":"p","credential_type":"api_key","scope":{"level":"project","project":"shop"}}"#;
    let id = env.admin().create_account(ok).expect("inside").account.id;
    env.admin().grant("orders", &id).expect("shop flow");
    assert_eq!(
        field_of(
            env.admin()
                .grant("reports", &id)
                .expect_err("default project")
        ),
        "flow"
    );
}

#[test]
fn delete_is_refused_while_grants_exist_unless_forced() {
    let env = Env::new();
    let id = env
        .admin()
        .create_account(br#"{"name":"d","credential_type":"api_key","flows":["orders","reports"]}"#)
        .expect("created")
        .account
        .id;
    match env.admin().delete_account(&id, false) {
        Err(AdminError::Conflict { flows, .. }) => assert_eq!(flows, vec!["orders", "reports"]),
        other => panic!("{other:?}"),
    }
    env.admin().delete_account(&id, true).expect("forced");
    assert!(env.store.records().is_empty(), "{}", env.dump_text());
    assert_eq!(env.admin().account(&id).expect_err("gone").status(), 404);
}

#[test]
fn reset_with_grace_keeps_the_old_secret_until_it_ends() {
    let env = Env::new();
    let created = env
        .admin()
        .create_account(br#"{"name":"r","credential_type":"api_key"}"#)
        .expect("created");
    let id = created.account.id.clone();
    let reset = env
        .admin()
        .reset_credential(&id, br#"{"grace_seconds":60}"#)
        .expect("reset");
    let account = env.admin().account(&id).expect("account");
    assert_eq!(account.secrets.len(), 2);
    assert_eq!(account.secrets[0].expires_at, Some(1_060));
    assert_ne!(reset.secret, created.secret);
    env.admin()
        .reset_credential(&id, b"")
        .expect("reset without grace");
    assert_eq!(env.admin().account(&id).expect("account").secrets.len(), 1);
    let err = env
        .admin()
        .reset_credential(&id, br#"{"grace_seconds":-1}"#)
        .expect_err("negative");
    assert_eq!(field_of(err), "grace_seconds");
}

#[test]
fn issue18_whole_numbers_written_as_floats_are_integers_as_json_schema_says() {
    let env = Env::new();
    let created = env
        .admin()
        .create_account(br#"{"name":"f","credential_type":"api_key"}"#)
        .expect("created");
    let id = created.account.id;
    env.admin()
        .reset_credential(&id, br#"{"grace_seconds":250.0}"#)
        .expect("250.0 is the integer 250");
    assert_eq!(
        env.admin().account(&id).expect("account").secrets[0].expires_at,
        Some(1_250)
    );
    for bad in ["250.5", "1e300", "-0.0", "0.0"] {
        let body = format!(r#"{{"grace_seconds":{bad}}}"#);
        let err = env
            .admin()
            .reset_credential(&id, body.as_bytes())
            .expect_err(bad);
        assert_eq!(field_of(err), "grace_seconds", "{bad}");
    }
}

#[test]
fn tokens_are_shown_once_listed_without_value_and_revocable() {
    let env = Env::new();
    let id = env
        .admin()
        .create_account(br#"{"name":"t","credential_type":"basic"}"#)
        .expect("created")
        .account
        .id;
    let token = env
        .admin()
        .create_token(&id, br#"{"name":"ci","expires_in":3600}"#)
        .expect("token");
    assert!(token.token.starts_with("fgtk_"));
    assert_eq!(token.expires_at, Some(4_600));
    let view = AccountView::from(&env.admin().account(&id).expect("account"));
    let shown = serde_json::to_string(&view).expect("json");
    assert!(!shown.contains(&token.token));
    assert!(!env.dump_text().contains(&token.token));
    assert_eq!(
        env.admin()
            .create_token(&id, br#"{"name":"ci"}"#)
            .expect_err("dup")
            .status(),
        409
    );
    env.admin().revoke_token(&id, &token.id).expect("revoked");
    assert_eq!(
        env.admin()
            .revoke_token(&id, &token.id)
            .expect_err("twice")
            .status(),
        404
    );
}

#[test]
fn pollers_have_no_secret_and_no_tokens() {
    let env = Env::new();
    let created = env
        .admin()
        .create_account(br#"{"name":"poll","credential_type":"poller","flows":["reports"]}"#)
        .expect("created");
    assert!(created.secret.is_none());
    let id = created.account.id;
    assert_eq!(
        env.admin()
            .create_token(&id, br#"{"name":"x"}"#)
            .expect_err("no")
            .status(),
        400
    );
    assert_eq!(
        env.admin()
            .reset_credential(&id, b"")
            .expect_err("no")
            .status(),
        400
    );
}

#[test]
fn flow_access_lists_granted_accounts_and_follows_revocation() {
    let env = Env::new();
    let a = env
        .admin()
        .create_account(br#"{"name":"a","credential_type":"api_key"}"#)
        .expect("a")
        .account
        .id;
    let b = env
        .admin()
        .create_account(br#"{"name":"b","credential_type":"api_key"}"#)
        .expect("b")
        .account
        .id;
    env.admin().grant("orders", &a).expect("grant a");
    env.admin().grant("orders", &a).expect("idempotent");
    env.admin().grant("orders", &b).expect("grant b");
    let listed: Vec<String> = env
        .admin()
        .flow_access("orders")
        .expect("list")
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(listed, vec!["a", "b"]);
    env.admin().revoke("orders", &a).expect("revoke");
    let listed: Vec<String> = env
        .admin()
        .flow_access("orders")
        .expect("list")
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(listed, vec!["b"]);
    assert_eq!(
        env.admin().grant("nope", &a).expect_err("flow").status(),
        404
    );
    assert_eq!(
        env.admin()
            .grant("orders", "aaaaaaaaaaaaaaaa")
            .expect_err("account")
            .status(),
        404
    );
}

#[test]
fn listing_pages_and_filters() {
    let env = Env::new();
    for i in 0..5 {
        let body = format!(
            r#"{{"name":"n{i}","credential_type":"{}"}}"#,
            if i % 2 == 0 { "api_key" } else { "basic" }
        );
        env.admin()
            .create_account(body.as_bytes())
            .expect("created");
    }
    let first = env
        .admin()
        .list_accounts(&AccountQuery {
            limit: 2,
            ..Default::default()
        })
        .expect("page");
    assert_eq!(first.items.len(), 2);
    let second = env
        .admin()
        .list_accounts(&AccountQuery {
            limit: 2,
            after: first.next.clone(),
            ..Default::default()
        })
        .expect("page");
    assert_eq!(second.items.len(), 2);
    // In order of creation (issue 16: the account index's order).
    let names = |page: &Page<AccountView>| {
        page.items
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&first), ["n0", "n1"]);
    assert_eq!(names(&second), ["n2", "n3"]);
    let basic = env
        .admin()
        .list_accounts(&AccountQuery {
            limit: 50,
            credential_type: Some(CredentialType::Basic),
            ..Default::default()
        })
        .expect("filtered");
    assert_eq!(basic.items.len(), 2);
    assert!(basic.next.is_none());
    let named = env
        .admin()
        .list_accounts(&AccountQuery {
            limit: 50,
            name: Some("N3".into()),
            ..Default::default()
        })
        .expect("by name");
    let names: Vec<_> = named.items.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["n3"]);
}

#[test]
fn audit_log_filters_by_actor_and_target() {
    let env = Env::new();
    let admin = env.admin();
    for (actor, target) in [
        ("bootstrap-admin", "account:a"),
        ("account:x", "account:a/token:t"),
        ("bootstrap-admin", "account:b"),
    ] {
        admin
            .audit(&AuditEntry {
                time: 1,
                actor: actor.into(),
                action: "account.update".into(),
                target: target.into(),
                outcome: "ok".into(),
                detail: None,
            })
            .expect("written");
    }
    let page = |actor, target| {
        admin
            .audit_log(
                &AuditQuery {
                    actor,
                    target,
                    before: None,
                },
                50,
            )
            .expect("page")
            .items
            .into_iter()
            .map(|e| e.target)
            .collect::<Vec<_>>()
    };
    let mut a = page(None, Some("account:a"));
    a.sort();
    assert_eq!(a, ["account:a", "account:a/token:t"]);
    assert_eq!(page(Some("account:x"), None), ["account:a/token:t"]);
    let mut by_admin = page(Some("bootstrap-admin"), None);
    by_admin.sort();
    assert_eq!(by_admin, ["account:a", "account:b"]);
    assert!(page(Some("bootstrap-admin"), Some("account:a/")).is_empty());
}

mod import;
mod index;
mod names;
mod roles_groups;
mod rotation;
mod service_key;

#[test]
fn issue16_custom_roles_are_listed_from_their_index_without_a_key_listing() {
    let env = Env::new();
    let listings = env.store.key_listings();
    for name in ["ops", "billing"] {
        env.admin()
            .create_role(
                format!(r#"{{"name":"{name}","permissions":["accounts:read"]}}"#).as_bytes(),
            )
            .expect("created");
    }
    env.admin().delete_role("ops").expect("deleted");
    let names: Vec<String> = env
        .admin()
        .roles()
        .expect("listed")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["admin", "auditor", "billing"]);
    assert_eq!(env.store.key_listings(), listings, "no key listing");
}

#[test]
fn issue16_a_store_indexed_before_the_role_index_gets_it_once() {
    let env = Env::new();
    // A store of the previous layout: indexed, a role record, no role index.
    env.store
        .set(
            "role/legacy",
            br#"{"name":"legacy","description":"","permissions":["accounts:read"],"created_at":5}"#,
        )
        .expect("set");
    env.store
        .delete(crate::admin::index::ROLES_MIGRATED_KEY)
        .expect("delete");
    let before = env.store.key_listings();
    let listed = |env: &Env| -> Vec<String> {
        env.admin()
            .roles()
            .expect("listed")
            .into_iter()
            .map(|r| r.name)
            .collect()
    };
    assert_eq!(listed(&env), ["admin", "auditor", "legacy"]);
    assert_eq!(listed(&env), ["admin", "auditor", "legacy"]);
    assert_eq!(env.store.key_listings(), before + 1, "one listing, once");
}
