//! Roles, groups, last use and export/import over the in-memory store.

use super::*;

fn create(env: &Env, body: &str) -> String {
    env.admin()
        .create_account(body.as_bytes())
        .expect("created")
        .account
        .id
}

#[test]
fn group_grant_reaches_every_member_and_direct_grants_stay_apart() {
    let env = Env::new();
    env.admin()
        .create_group(br#"{"name":"ops"}"#)
        .expect("group");
    let a = create(
        &env,
        r#"{"name":"a","credential_type":"api_key","groups":["ops"]}"#,
    );
    let b = create(
        &env,
        r#"{"name":"b","credential_type":"api_key","flows":["reports"]}"#,
    );
    env.admin().add_member("ops", &b).expect("member");
    env.admin().grant_group("reports", "ops").expect("granted");
    for id in [&a, &b] {
        assert_eq!(env.admin().account(id).expect("a").grants, vec!["reports"]);
    }
    env.admin().revoke_group("reports", "ops").expect("revoked");
    assert!(env.admin().account(&a).expect("a").grants.is_empty());
    assert_eq!(
        env.admin().account(&b).expect("b").grants,
        vec!["reports"],
        "b's direct grant must survive the group's revocation"
    );
    // And the other way round: a direct revoke keeps the group's access.
    env.admin().grant_group("reports", "ops").expect("granted");
    env.admin().revoke("reports", &b).expect("direct revoke");
    assert_eq!(env.admin().account(&b).expect("b").grants, vec!["reports"]);
    env.admin().remove_member("ops", &b).expect("removed");
    assert!(env.admin().account(&b).expect("b").grants.is_empty());
}

#[test]
fn unknown_roles_and_groups_are_named_and_change_nothing() {
    let env = Env::new();
    for (body, expected) in [
        (
            r#"{"name":"a","credential_type":"api_key","roles":["wizard"]}"#,
            "roles",
        ),
        (
            r#"{"name":"a","credential_type":"api_key","groups":["nobody"]}"#,
            "groups",
        ),
    ] {
        let err = env
            .admin()
            .create_account(body.as_bytes())
            .expect_err("refused");
        assert_eq!(field_of(err), expected);
    }
    assert!(env.store.records().is_empty(), "{}", env.dump_text());
    let id = create(
        &env,
        r#"{"name":"a","credential_type":"api_key","roles":["auditor"]}"#,
    );
    let before = env.store.dump();
    let err = env
        .admin()
        .update_account(&id, br#"{"roles":["admin","wizard"]}"#)
        .expect_err("refused");
    assert_eq!(field_of(err), "roles");
    assert_eq!(env.store.dump(), before);
}

#[test]
fn custom_roles_grant_their_permissions_and_cannot_be_deleted_while_held() {
    let env = Env::new();
    let err = env
        .admin()
        .create_role(br#"{"name":"ops","permissions":["accounts:read","launch:missiles"]}"#)
        .expect_err("bad permission");
    assert_eq!(field_of(err), "permissions");
    env.admin()
        .create_role(br#"{"name":"ops","permissions":["accounts:read","grants:write"]}"#)
        .expect("role");
    assert_eq!(
        env.admin()
            .create_role(br#"{"name":"admin","permissions":[]}"#)
            .expect_err("built in")
            .status(),
        409
    );
    let id = create(
        &env,
        r#"{"name":"a","credential_type":"api_key","roles":["ops"]}"#,
    );
    let perms = env
        .admin()
        .permissions_of(&env.admin().account(&id).expect("a").roles)
        .expect("perms");
    assert_eq!(
        perms.into_iter().collect::<Vec<_>>(),
        vec!["accounts:read", "grants:write"]
    );
    assert_eq!(
        env.admin().delete_role("ops").expect_err("held").status(),
        409
    );
    assert_eq!(
        env.admin()
            .delete_role("admin")
            .expect_err("built in")
            .status(),
        409
    );
    env.admin()
        .update_account(&id, br#"{"roles":[]}"#)
        .expect("taken away");
    env.admin().delete_role("ops").expect("deleted");
    assert!(
        env.admin()
            .permissions_of(&["ops".into()])
            .expect("p")
            .is_empty()
    );
}

#[test]
fn group_flows_must_lie_in_every_members_scope() {
    let env = Env::new();
    env.admin().create_group(br#"{"name":"g"}"#).expect("group");
    let billing = create(
        &env,
        r#"{"name":"b","credential_type":"api_key","scope":{"level":"project","project":"billing"}}"#,
    );
    env.admin().add_member("g", &billing).expect("member");
    let before = env.store.dump();
    let err = env.admin().grant_group("orders", "g").expect_err("outside");
    assert_eq!(field_of(err), "flow");
    assert_eq!(env.store.dump(), before);
    assert_eq!(
        env.admin()
            .delete_group("g")
            .expect_err("has members")
            .status(),
        409
    );
}

#[test]
fn last_use_is_shown_and_filters_unused_accounts() {
    let env = Env::new();
    let used = create(&env, r#"{"name":"used","credential_type":"api_key"}"#);
    let idle = create(&env, r#"{"name":"idle","credential_type":"api_key"}"#);
    // What the authorizer writes (docs/management.md): a last-use time.
    let mut record = env.admin().record(&used).expect("record");
    record
        .extension
        .last_used
        .insert("primary".into(), 1_000 + 40 * 86_400);
    env.admin().write(&record).expect("written");
    env.clock.0.set(1_000 + 45 * 86_400);
    // Saving the account part (a reset) keeps the last use.
    env.admin().reset_credential(&used, b"").expect("reset");
    let q = |days| AccountQuery {
        unused_for_days: Some(days),
        limit: 50,
        ..Default::default()
    };
    let names =
        |page: Page<AccountView>| page.items.into_iter().map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(
        names(env.admin().list_accounts(&q(30)).expect("list")),
        vec!["idle"]
    );
    assert_eq!(
        names(env.admin().list_accounts(&q(3)).expect("list")),
        vec!["used", "idle"],
        "in order of creation"
    );
    let view = AccountView::from(&env.admin().record(&used).expect("r"));
    assert_eq!(view.last_used_at, Some(1_000 + 40 * 86_400));
    assert_eq!(
        AccountView::from(&env.admin().record(&idle).expect("r")).last_used_at,
        None
    );
}

#[test]
fn export_holds_digests_only_and_import_is_idempotent() {
    let env = Env::new();
    env.admin()
        .create_role(br#"{"name":"ops","permissions":["accounts:read"]}"#)
        .expect("role");
    env.admin().create_group(br#"{"name":"g"}"#).expect("group");
    env.admin()
        .grant_group("reports", "g")
        .expect("group grant");
    let created = env
        .admin()
        .create_account(br#"{"name":"x","credential_type":"api_key","roles":["ops"],"groups":["g"],"flows":["orders"]}"#)
        .expect("created");
    let secret = created.secret.expect("secret");
    let doc = env.admin().export().expect("export");
    let text = doc.to_string();
    assert!(!text.contains(&secret), "plaintext in the export");
    assert_eq!(doc["accounts"][0]["grants"], serde_json::json!(["orders"]));
    assert!(doc["accounts"][0]["secrets"][0]["digest"].is_string());

    // Into an empty store: a dry run writes nothing, then the import
    // reproduces the accounts, and a second import changes nothing.
    let other = Env::new();
    let bytes = text.as_bytes();
    let plan = other.admin().import(bytes, true).expect("plan");
    assert_eq!(plan.changes.len(), 3, "{plan:?}");
    assert!(other.store.records().is_empty(), "a dry run wrote");
    other.admin().import(bytes, false).expect("applied");
    let copy = other.admin().account(&created.account.id).expect("copied");
    assert_eq!(copy.grants, vec!["orders", "reports"]);
    assert_eq!(
        copy.secrets,
        env.admin()
            .account(&created.account.id)
            .expect("orig")
            .secrets
    );
    let again = other.admin().import(bytes, false).expect("again");
    assert!(again.changes.is_empty(), "{again:?}");
    assert_eq!(again.unchanged, 3);

    let bad = text.replace("\"orders\"", "\"nowhere\"");
    let before = other.store.dump();
    let err = other
        .admin()
        .import(bad.as_bytes(), false)
        .expect_err("bad flow");
    assert_eq!(field_of(err), "accounts[0].grants");
    assert_eq!(other.store.dump(), before);
}
