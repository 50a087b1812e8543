//! Concurrency scenarios shared by tests/concurrency.rs (one host) and
//! tests/redis_scale_out.rs (two hosts on one Redis): many management calls
//! at once, call `i` sent to host `i % hosts.len()`, and the outcome checked
//! from the first host afterwards. Each scenario names the objects it makes
//! with `tag`, so several can run on one app.

use std::sync::Arc;

use serde_json::json;

use super::{App, at_once};

/// Runs `n` calls at once, call `i` on `hosts[i % hosts.len()]`.
pub fn spread<T: Send + 'static>(
    hosts: &[Arc<App>],
    n: usize,
    call: impl Fn(&App, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let hosts = hosts.to_vec();
    at_once(n, move |i| call(&hosts[i % hosts.len()], i))
}

/// `n` token creations on one account at once: every one answers `201`
/// and every token is on the account afterwards.
pub fn token_creations_lose_nothing(hosts: &[Arc<App>], tag: &str, n: usize) {
    let (id, _) = hosts[0]
        .create_account(json!({ "name": format!("{tag}-busy"), "credential_type": "api_key" }));
    let path = format!("/admin/v1/accounts/{id}/tokens");
    let statuses = spread(hosts, n, move |app, i| {
        let r = app.admin("POST", &path, Some(json!({ "name": format!("t{i}") })));
        // The body of a 201 carries the token: keep only refusals' bodies.
        match r.status {
            201 => "201".to_owned(),
            s => format!("{s} {}", r.text()),
        }
    });
    assert!(
        statuses.iter().all(|s| s == "201"),
        "every token creation must answer 201: {statuses:?}"
    );
    let listed = hosts[0].admin("GET", &format!("/admin/v1/accounts/{id}/tokens"), None);
    let count = listed.json()["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    assert_eq!(count, n, "every created token must be on the account");
}

/// One account joins `n` groups at once: every join is kept.
pub fn group_joins_lose_nothing(hosts: &[Arc<App>], tag: &str, n: usize) {
    for i in 0..n {
        let r = hosts[0].admin(
            "POST",
            "/admin/v1/groups",
            Some(json!({ "name": format!("{tag}-g{i}") })),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let (id, _) = hosts[0]
        .create_account(json!({ "name": format!("{tag}-joiner"), "credential_type": "api_key" }));
    let tag_owned = tag.to_owned();
    let statuses = spread(hosts, n, move |app, i| {
        app.admin(
            "PUT",
            &format!("/admin/v1/groups/{tag_owned}-g{i}/members/{id}"),
            None,
        )
        .status
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let groups = hosts[0].admin("GET", "/admin/v1/groups", None).json();
    let joined = groups["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| {
            g["name"]
                .as_str()
                .is_some_and(|name| name.starts_with(&format!("{tag}-g")))
                && g["members"].as_array().is_some_and(|m| !m.is_empty())
        })
        .count();
    assert_eq!(joined, n, "every join must have been kept");
}

/// Both example flows granted to one group at once: the group keeps both.
pub fn group_grants_lose_nothing(hosts: &[Arc<App>], tag: &str) {
    let group = format!("{tag}-ops");
    let r = hosts[0].admin("POST", "/admin/v1/groups", Some(json!({ "name": group })));
    assert_eq!(r.status, 201, "{}", r.text());
    let flows = ["orders", "reports"];
    let path_group = group.clone();
    let statuses = spread(hosts, flows.len(), move |app, i| {
        app.admin(
            "PUT",
            &format!("/admin/v1/flows/{}/access/groups/{path_group}", flows[i]),
            None,
        )
        .status
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let stored = hosts[0]
        .admin("GET", &format!("/admin/v1/groups/{group}"), None)
        .json();
    assert_eq!(stored["grants"], json!(["orders", "reports"]));
}

/// Regression test for issue #18 item 1: `n` creates of one name at once,
/// for an account, a group and a role, give exactly one `201` each and
/// `409` for every other; the name is then held by exactly one object, and
/// once that is deleted the name can be created again.
pub fn one_name_many_creates_give_one_201(hosts: &[Arc<App>], tag: &str, n: usize) {
    let kinds: [(&str, serde_json::Value); 3] = [
        (
            "accounts",
            json!({ "name": format!("{tag}-dup"), "credential_type": "api_key" }),
        ),
        ("groups", json!({ "name": format!("{tag}-dup") })),
        (
            "roles",
            json!({ "name": format!("{tag}-dup"), "permissions": ["audit:read"] }),
        ),
    ];
    for (kind, body) in kinds {
        let path = format!("/admin/v1/{kind}");
        let create = {
            let (path, body) = (path.clone(), body.clone());
            move |app: &App, _: usize| {
                let r = app.admin("POST", &path, Some(body.clone()));
                (r.status, r.text())
            }
        };
        let answers = spread(hosts, n, create.clone());
        let created = answers.iter().filter(|(s, _)| *s == 201).count();
        let refused = answers.iter().filter(|(s, _)| *s == 409).count();
        // Statuses only, and the bodies of refusals: a 201 carries a secret.
        let shown: Vec<String> = answers
            .iter()
            .map(|(s, text)| match s {
                201 => "201".to_owned(),
                _ => format!("{s} {text}"),
            })
            .collect();
        assert_eq!(
            (created, refused),
            (1, n - 1),
            "{kind}: one 201 and {} 409 expected: {shown:?}",
            n - 1
        );
        // Exactly one object holds the name.
        let listed = hosts[0].admin("GET", &path, None).json();
        let holders: Vec<&serde_json::Value> = listed["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|item| item["name"] == body["name"])
            .collect();
        assert_eq!(holders.len(), 1, "{kind}: {listed}");
        // Deleted, the name is free again, on every host.
        let target = match kind {
            "accounts" => holders[0]["id"].as_str().unwrap_or_default().to_owned(),
            _ => body["name"].as_str().unwrap_or_default().to_owned(),
        };
        let r = hosts[0].admin("DELETE", &format!("{path}/{target}"), None);
        assert_eq!(r.status, 204, "{kind}: delete: {}", r.text());
        let again = create(&hosts[hosts.len() - 1], 0);
        assert_eq!(
            again.0, 201,
            "{kind}: a deleted name is reusable: {}",
            again.1
        );
    }
}

/// Issue 16: `n` account creates at once, each through the account index
/// (a slot drawn by atomic increment): every one answers `201` and every
/// account is in the listing afterwards, and in a flow's access when
/// created with a grant.
pub fn account_creates_all_listed(hosts: &[Arc<App>], tag: &str, n: usize) {
    let name = |i: usize| format!("{tag}-listed-{i}");
    let created = {
        let tag = tag.to_owned();
        spread(hosts, n, move |app, i| {
            let r = app.admin(
                "POST",
                "/admin/v1/accounts",
                Some(json!({
                    "name": format!("{tag}-listed-{i}"),
                    "credential_type": "api_key",
                    "flows": ["reports"],
                })),
            );
            r.status
        })
    };
    assert!(created.iter().all(|s| *s == 201), "{created:?}");
    let mut listed = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/admin/v1/accounts?limit=200&after={a}"),
            None => "/admin/v1/accounts?limit=200".to_owned(),
        };
        let page = hosts[0].admin("GET", &path, None).json();
        for item in page["items"].as_array().into_iter().flatten() {
            listed.push(item["name"].as_str().unwrap_or_default().to_owned());
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    let access = hosts[0]
        .admin("GET", "/admin/v1/flows/reports/access", None)
        .json();
    let granted: Vec<String> = access["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    for i in 0..n {
        assert!(
            listed.contains(&name(i)),
            "{} not listed: {listed:?}",
            name(i)
        );
        assert!(
            granted.contains(&name(i)),
            "{} not in access: {access}",
            name(i)
        );
    }
}
