//! The nouns and verbs that mirror `/admin/v1` one route each: build the
//! request from the arguments, call, print.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::Failure;
use crate::api::{self, Route};
use crate::args::{
    Accounts, Audit, Certificates, CreateAccount, Flows, Grantee, Grants, Groups, Keys, Page,
    Roles, Tokens, UsageFlags,
};
use crate::client::{Answer, Client};
use crate::output::{Column, Out, table};

const ACCOUNT_COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("NAME", "name"),
    ("TYPE", "credential_type"),
    ("STATUS", "status"),
    ("SCOPE", "scope"),
    ("FLOWS", "flows"),
];
pub(crate) const ACCOUNT_FIRST: &[&str] = &[
    "id",
    "name",
    "description",
    "credential_type",
    "status",
    "scope",
    "roles",
    "groups",
    "flows",
    "client_id",
];
const TOKEN_COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("NAME", "name"),
    ("CREATED", "created_at"),
    ("EXPIRES", "expires_at"),
    ("LAST USED", "last_used_at"),
];
const FLOW_COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("PATH", "path_prefix"),
    ("METHODS", "methods"),
    ("PROXY", "proxy"),
    ("DESCRIPTION", "description"),
];
const ROLE_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("BUILT-IN", "built_in"),
    ("PERMISSIONS", "permissions"),
    ("DESCRIPTION", "description"),
];
const GROUP_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("GRANTS", "grants"),
    ("MEMBERS", "members"),
    ("DESCRIPTION", "description"),
];
const AUDIT_COLUMNS: &[Column] = &[
    ("TIME", "time"),
    ("ACTOR", "actor"),
    ("ACTION", "action"),
    ("TARGET", "target"),
    ("OUTCOME", "outcome"),
];

const USAGE_COLUMNS: &[Column] = &[
    ("HOUR", "time"),
    ("ALLOWED", "allowed"),
    ("UNAUTHENTICATED", "unauthenticated"),
    ("FORBIDDEN", "forbidden"),
    ("RATE LIMITED", "rate_limited"),
    ("QUOTA EXHAUSTED", "quota_exhausted"),
];

const ACCOUNTS_PAGED: Paged = Paged {
    route: &api::ACCOUNTS_LIST,
    cursor: "after",
    columns: ACCOUNT_COLUMNS,
    id_key: "id",
};
const AUDIT_PAGED: Paged = Paged {
    route: &api::AUDIT_LIST,
    cursor: "before",
    columns: AUDIT_COLUMNS,
    id_key: "target",
};

/// The `items` of a listing.
fn items(value: &Value) -> &[Value] {
    value
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The text of a file named by `--flag` (PEM or JWK).
pub fn material(flag: &str, path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {flag} {}: {e}", path.display())))
}

/// A comma-separated list without empty entries (so `''` is the empty list).
fn list(values: Option<Vec<String>>) -> Option<Vec<String>> {
    values.map(|v| v.into_iter().filter(|s| !s.is_empty()).collect())
}

/// The name clap gives a value (`api_key`, `platform`, ...).
fn name<T: clap::ValueEnum>(value: &T) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}

/// A JSON object of the fields that are set.
fn object(fields: Vec<(&str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    Value::Object(map)
}

/// Calls a route and prints the one object it answers.
fn show(
    client: &Client,
    out: Out,
    route: &Route,
    params: &[&str],
    body: Option<&Value>,
    first: &[&str],
    id_key: &str,
) -> Result<(), Failure> {
    let answer = client.call(route, params, &[], body)?;
    out.object(&answer.text, &answer.json()?, first, id_key);
    Ok(())
}

/// Calls a route that answers `204` and says what it did.
fn act(
    client: &Client,
    out: Out,
    route: &Route,
    params: &[&str],
    done: &str,
) -> Result<(), Failure> {
    client.call(route, params, &[], None)?;
    out.done(done);
    Ok(())
}

/// Calls a route that answers `{"items": [...]}` in one page and prints it.
fn items_of(
    client: &Client,
    out: Out,
    route: &Route,
    params: &[&str],
    columns: &[Column],
    id_key: &str,
) -> Result<(), Failure> {
    let answer = client.call(route, params, &[], None)?;
    out.list(&answer.text, items(&answer.json()?), columns, id_key);
    Ok(())
}

/// A paged listing route: how to ask for the next page and how to print it.
struct Paged {
    route: &'static Route,
    /// The query parameter that takes the previous page's `next`.
    cursor: &'static str,
    columns: &'static [Column],
    id_key: &'static str,
}

/// Calls a paged listing, following `next` when `all` is set. With `all`,
/// `--output json` prints `{"items": [...]}` of every page.
fn listing(
    client: &Client,
    out: Out,
    paged: &Paged,
    mut query: Vec<(&str, String)>,
    all: bool,
) -> Result<(), Failure> {
    let mut answer: Answer = client.call(paged.route, &[], &query, None)?;
    let mut value = answer.json()?;
    let mut collected = items(&value).to_vec();
    if all {
        while let Some(next) = value.get("next").and_then(Value::as_str).map(str::to_owned) {
            query.retain(|(k, _)| *k != paged.cursor);
            query.push((paged.cursor, next));
            answer = client.call(paged.route, &[], &query, None)?;
            value = answer.json()?;
            collected.extend(items(&value).iter().cloned());
        }
    }
    let raw = if all {
        json!({ "items": collected }).to_string()
    } else {
        answer.text
    };
    out.list(&raw, &collected, paged.columns, paged.id_key);
    if !all
        && !out.quiet
        && out.format == crate::args::Format::Table
        && let Some(next) = value.get("next").and_then(Value::as_str)
    {
        eprintln!("(more: --{} {next}, or --all)", paged.cursor);
    }
    Ok(())
}

fn page_query(page: &Page, query: &mut Vec<(&str, String)>) {
    if let Some(limit) = page.limit {
        query.push(("limit", limit.to_string()));
    }
    if let Some(after) = &page.after {
        query.push(("after", after.clone()));
    }
}

fn create_body(c: CreateAccount) -> Result<Value, Failure> {
    let usage = usage_fields(c.usage)?;
    let generate = crate::service_key::field(&c.generate);
    let scope =
        (c.scope_level.is_some() || c.project.is_some() || c.environment.is_some()).then(|| {
            object(vec![
                (
                    "level",
                    c.scope_level.as_ref().map(|l| Value::from(name(l))),
                ),
                ("project", c.project.map(Value::from)),
                ("environment", c.environment.map(Value::from)),
            ])
        });
    let public_key = c
        .public_key
        .map(|p| material("--public-key", &p))
        .transpose()?;
    let certificate = c
        .certificate
        .map(|p| material("--certificate", &p))
        .transpose()?;
    let claims_match = c
        .claims_match
        .map(|text| {
            serde_json::from_str::<Value>(&text)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| {
                    Failure::Usage(format!(
                        "--claims-match `{text}` is not a JSON object (e.g. '{{\"sub\":\"svc-*\"}}')"
                    ))
                })
        })
        .transpose()?;
    let mut fields = vec![
        ("name", Some(Value::from(c.name))),
        (
            "credential_type",
            Some(Value::from(name(&c.credential_type))),
        ),
        ("description", c.description.map(Value::from)),
        ("scope", scope),
        ("roles", list(c.roles).map(Value::from)),
        ("groups", list(c.groups).map(Value::from)),
        ("flows", list(c.flows).map(Value::from)),
        ("public_key", public_key.map(Value::from)),
        ("key_id", c.key_id.map(Value::from)),
        ("certificate", certificate.map(Value::from)),
        ("issuer", c.issuer.map(Value::from)),
        ("audience", c.audience.map(Value::from)),
        ("claims_match", claims_match),
        ("generate", generate),
    ];
    fields.extend(usage);
    Ok(object(fields))
}

/// The usage-control fields of `flags` (docs/usage.md), `None` when not
/// given; `''`, `none` and `null` remove a control.
fn usage_fields(flags: UsageFlags) -> Result<Vec<(&'static str, Option<Value>)>, Failure> {
    let usage =
        |flag: &str, text: &str, hint: &str| Failure::Usage(format!("{flag} `{text}`: {hint}"));
    let limits = flags
        .limits
        .map(|text| -> Result<Value, Failure> {
            let items: Result<Vec<Value>, Failure> = text
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|item| {
                    let parsed = item.split_once('=').and_then(|(name, rest)| {
                        let (count, window) = rest.split_once('/')?;
                        Some(serde_json::json!({
                            "name": name.trim(),
                            "limit": count.trim().parse::<u64>().ok()?,
                            "window": window.trim(),
                        }))
                    });
                    parsed.ok_or_else(|| usage("--limits", item, "expected NAME=COUNT/WINDOW"))
                })
                .collect();
            let items = items?;
            Ok(if items.is_empty() {
                Value::Null
            } else {
                Value::from(items)
            })
        })
        .transpose()?;
    let quota = flags
        .quota
        .map(|text| -> Result<Value, Failure> {
            if text.trim() == "none" {
                return Ok(Value::Null);
            }
            let (count, refill) = match text.split_once('/') {
                Some((c, r)) => (c, Some(r.trim())),
                None => (text.as_str(), None),
            };
            let count = count.trim().parse::<u64>().map_err(|_| {
                usage(
                    "--quota",
                    &text,
                    "expected COUNT, COUNT/daily or COUNT/monthly",
                )
            })?;
            Ok(serde_json::json!({ "limit": count, "refill": refill }))
        })
        .transpose()?;
    let allowed_ips = flags.allowed_ips.map(|text| {
        let items: Vec<Value> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Value::from)
            .collect();
        if items.is_empty() {
            Value::Null
        } else {
            Value::from(items)
        }
    });
    let metadata = flags
        .metadata
        .map(|text| {
            serde_json::from_str::<Value>(&text)
                .ok()
                .filter(|v| v.is_object() || v.is_null())
                .ok_or_else(|| usage("--metadata", &text, "not a JSON object (or null)"))
        })
        .transpose()?;
    Ok(vec![
        ("limits", limits),
        ("quota", quota),
        ("expires_in", flags.expires_in.map(Value::from)),
        ("allowed_ips", allowed_ips),
        ("metadata", metadata),
        ("record_usage", flags.record_usage.map(Value::from)),
    ])
}

/// `accounts usage`: one row per hour with any count, then the totals.
fn usage_figures(
    client: &Client,
    out: Out,
    id: &str,
    from: Option<u64>,
    to: Option<u64>,
) -> Result<(), Failure> {
    let mut query = Vec::new();
    if let Some(from) = from {
        query.push(("from", from.to_string()));
    }
    if let Some(to) = to {
        query.push(("to", to.to_string()));
    }
    let answer = client.call(&api::ACCOUNT_USAGE, &[id], &query, None)?;
    let figures = answer.json()?;
    let mut rows: Vec<Value> = figures
        .get("hours")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|hour| {
            let mut row = hour.clone();
            row["time"] = hour.get("start").cloned().unwrap_or(Value::Null);
            row
        })
        .collect();
    let mut total = figures.get("totals").cloned().unwrap_or_else(|| json!({}));
    total["time"] = Value::from("total");
    rows.push(total);
    out.list(&answer.text, &rows, USAGE_COLUMNS, "time");
    Ok(())
}

pub fn accounts(client: &Client, out: Out, command: Accounts) -> Result<(), Failure> {
    match command {
        Accounts::Create(c) if c.generate.generate => {
            let file = c.generate.service_key_file.clone();
            let body = create_body(*c)?;
            crate::service_key::call(client, out, &api::ACCOUNTS_CREATE, &[], &body, file)
        }
        Accounts::Create(c) => {
            let body = create_body(*c)?;
            show(
                client,
                out,
                &api::ACCOUNTS_CREATE,
                &[],
                Some(&body),
                ACCOUNT_FIRST,
                "id",
            )
        }
        Accounts::List(l) => {
            let mut query = Vec::new();
            if let Some(t) = &l.credential_type {
                query.push(("credential_type", name(t)));
            }
            if let Some(s) = &l.status {
                query.push(("status", name(s)));
            }
            if let Some(s) = &l.scope_level {
                query.push(("scope_level", name(s)));
            }
            if let Some(g) = l.group {
                query.push(("group", g));
            }
            if let Some(d) = l.unused_for_days {
                query.push(("unused_for_days", d.to_string()));
            }
            if let Some(d) = l.expires_within_days {
                query.push(("expires_within_days", d.to_string()));
            }
            page_query(&l.page, &mut query);
            let all = l.page.all;
            listing(client, out, &ACCOUNTS_PAGED, query, all)
        }
        Accounts::Get { id } => show(
            client,
            out,
            &api::ACCOUNT_GET,
            &[&id],
            None,
            ACCOUNT_FIRST,
            "id",
        ),
        Accounts::Usage { id, from, to } => usage_figures(client, out, &id, from, to),
        Accounts::Update(u) => {
            let mut fields = vec![
                ("description", u.description.map(Value::from)),
                ("roles", list(u.roles).map(Value::from)),
                ("groups", list(u.groups).map(Value::from)),
            ];
            // `''`, `none`, `null` become an explicit null, which removes.
            fields.extend(usage_fields(u.usage)?);
            let body = object(fields);
            if body.as_object().is_some_and(Map::is_empty) {
                return Err(Failure::Usage(
                    "nothing to update: give --description, --roles, --groups or a usage control"
                        .into(),
                ));
            }
            show(
                client,
                out,
                &api::ACCOUNT_UPDATE,
                &[&u.id],
                Some(&body),
                ACCOUNT_FIRST,
                "id",
            )
        }
        Accounts::Disable { id } => show(
            client,
            out,
            &api::ACCOUNT_DISABLE,
            &[&id],
            None,
            ACCOUNT_FIRST,
            "id",
        ),
        Accounts::Enable { id } => show(
            client,
            out,
            &api::ACCOUNT_ENABLE,
            &[&id],
            None,
            ACCOUNT_FIRST,
            "id",
        ),
        Accounts::Delete { id, force } => {
            let query = if force {
                vec![("force", "true".to_owned())]
            } else {
                vec![]
            };
            client.call(&api::ACCOUNT_DELETE, &[&id], &query, None)?;
            out.done(&format!("Deleted account {id}."));
            Ok(())
        }
        Accounts::ResetCredential { id, generate, .. } if generate.generate => {
            crate::service_key::only(client, out, &api::ACCOUNT_RESET, &[&id], generate)
        }
        Accounts::ResetCredential {
            id,
            grace_seconds,
            expires_in,
            ..
        } => {
            let body = object(vec![
                ("grace_seconds", grace_seconds.map(Value::from)),
                ("expires_in", expires_in.map(Value::from)),
            ]);
            show(
                client,
                out,
                &api::ACCOUNT_RESET,
                &[&id],
                Some(&body),
                ACCOUNT_FIRST,
                "id",
            )
        }
    }
}

pub fn keys(client: &Client, out: Out, command: Keys) -> Result<(), Failure> {
    match command {
        Keys::Add {
            account, generate, ..
        } if generate.generate => {
            crate::service_key::only(client, out, &api::KEYS_ADD, &[&account], generate)
        }
        Keys::Add {
            account,
            public_key,
            key_id,
            ..
        } => {
            let (Some(public_key), Some(key_id)) = (public_key, key_id) else {
                return Err(Failure::Usage(
                    "give --public-key and --key-id, or --generate".into(),
                ));
            };
            let body = json!({
                "public_key": material("--public-key", &public_key)?,
                "key_id": key_id,
            });
            show(
                client,
                out,
                &api::KEYS_ADD,
                &[&account],
                Some(&body),
                ACCOUNT_FIRST,
                "id",
            )
        }
        Keys::Retire { account, key_id } => act(
            client,
            out,
            &api::KEY_RETIRE,
            &[&account, &key_id],
            &format!("Retired key {key_id} of account {account}."),
        ),
    }
}

pub fn certificates(client: &Client, out: Out, command: Certificates) -> Result<(), Failure> {
    match command {
        Certificates::Add {
            account, generate, ..
        } if generate.generate => {
            crate::service_key::only(client, out, &api::CERTIFICATES_ADD, &[&account], generate)
        }
        Certificates::Add {
            account,
            certificate,
            ..
        } => {
            let Some(certificate) = certificate else {
                return Err(Failure::Usage(
                    "give --certificate FILE, or --generate".into(),
                ));
            };
            let body = json!({ "certificate": material("--certificate", &certificate)? });
            show(
                client,
                out,
                &api::CERTIFICATES_ADD,
                &[&account],
                Some(&body),
                ACCOUNT_FIRST,
                "id",
            )
        }
        Certificates::Retire {
            account,
            thumbprint,
        } => act(
            client,
            out,
            &api::CERTIFICATE_RETIRE,
            &[&account, &thumbprint],
            &format!("Retired certificate {thumbprint} of account {account}."),
        ),
    }
}

pub fn tokens(client: &Client, out: Out, command: Tokens) -> Result<(), Failure> {
    match command {
        Tokens::Create {
            account,
            name,
            expires_in,
        } => {
            let body = object(vec![
                ("name", Some(Value::from(name))),
                ("expires_in", expires_in.map(Value::from)),
            ]);
            let first = &["id", "name", "created_at", "expires_at"];
            show(
                client,
                out,
                &api::TOKENS_CREATE,
                &[&account],
                Some(&body),
                first,
                "id",
            )
        }
        Tokens::List { account } => items_of(
            client,
            out,
            &api::TOKENS_LIST,
            &[&account],
            TOKEN_COLUMNS,
            "id",
        ),
        Tokens::Revoke { account, token_id } => act(
            client,
            out,
            &api::TOKEN_REVOKE,
            &[&account, &token_id],
            &format!("Revoked token {token_id} of account {account}."),
        ),
    }
}

/// The route and parameters for granting or revoking `flow` to `to`.
fn grant_target<'a>(
    flow: &'a str,
    to: &'a Grantee,
    for_account: &'static Route,
    for_group: &'static Route,
) -> (&'static Route, [&'a str; 2], String) {
    match (&to.account, &to.group) {
        (Some(id), _) => (for_account, [flow, id], format!("account {id}")),
        (None, Some(group)) => (for_group, [flow, group], format!("group {group}")),
        // clap requires exactly one of the two.
        (None, None) => (for_account, [flow, ""], String::new()),
    }
}

pub fn grants(client: &Client, out: Out, command: Grants) -> Result<(), Failure> {
    match command {
        Grants::Add { flow, to } => {
            let (route, params, who) =
                grant_target(&flow, &to, &api::GRANT_ACCOUNT, &api::GRANT_GROUP);
            let answer = client.call(route, &params, &[], None)?;
            if out.format == crate::args::Format::Json {
                println!("{}", answer.text.trim_end());
            } else {
                out.done(&format!("Granted flow {flow} to {who}."));
            }
            Ok(())
        }
        Grants::Remove { flow, to } => {
            let (route, params, who) =
                grant_target(&flow, &to, &api::REVOKE_ACCOUNT, &api::REVOKE_GROUP);
            act(
                client,
                out,
                route,
                &params,
                &format!("Revoked flow {flow} from {who}."),
            )
        }
        Grants::List {
            flow: Some(flow), ..
        } => {
            let answer = client.call(&api::FLOW_ACCESS, &[&flow], &[], None)?;
            let value = answer.json()?;
            let mut rows: Vec<Value> = value
                .get("accounts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|a| json!({"kind": "account", "id": a.get("id"), "name": a.get("name"), "status": a.get("status")}))
                .collect();
            rows.extend(
                value
                    .get("groups")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|g| json!({"kind": "group", "id": g, "name": g})),
            );
            let columns = &[
                ("KIND", "kind"),
                ("ID", "id"),
                ("NAME", "name"),
                ("STATUS", "status"),
            ];
            out.list(&answer.text, &rows, columns, "id");
            Ok(())
        }
        Grants::List { account, .. } => {
            let id = account.unwrap_or_default();
            let answer = client.call(&api::ACCOUNT_FLOWS, &[&id], &[], None)?;
            let value = answer.json()?;
            let strings = |v: Option<&Value>| -> Vec<String> {
                v.and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            };
            let direct = strings(value.get("direct"));
            let groups: Vec<(String, Vec<String>)> = value
                .get("groups")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|g| {
                    let name = g.get("group").and_then(Value::as_str).unwrap_or_default();
                    (name.to_owned(), strings(g.get("flows")))
                })
                .collect();
            let rows: Vec<Value> = strings(value.get("items"))
                .into_iter()
                .map(|flow| {
                    let mut via: Vec<String> = Vec::new();
                    if direct.contains(&flow) {
                        via.push("direct".into());
                    }
                    via.extend(
                        groups
                            .iter()
                            .filter(|(_, flows)| flows.contains(&flow))
                            .map(|(g, _)| format!("group:{g}")),
                    );
                    json!({ "flow": flow, "via": via })
                })
                .collect();
            out.list(
                &answer.text,
                &rows,
                &[("FLOW", "flow"), ("VIA", "via")],
                "flow",
            );
            Ok(())
        }
    }
}

pub fn roles(client: &Client, out: Out, command: Roles) -> Result<(), Failure> {
    let first = &["name", "description", "permissions", "built_in"];
    match command {
        Roles::Create {
            name,
            permissions,
            description,
        } => {
            let body = object(vec![
                ("name", Some(Value::from(name))),
                ("permissions", list(Some(permissions)).map(Value::from)),
                ("description", description.map(Value::from)),
            ]);
            show(
                client,
                out,
                &api::ROLES_CREATE,
                &[],
                Some(&body),
                first,
                "name",
            )
        }
        Roles::List => items_of(client, out, &api::ROLES_LIST, &[], ROLE_COLUMNS, "name"),
        Roles::Get { name } => show(client, out, &api::ROLE_GET, &[&name], None, first, "name"),
        Roles::Delete { name } => act(
            client,
            out,
            &api::ROLE_DELETE,
            &[&name],
            &format!("Deleted role {name}."),
        ),
    }
}

pub fn groups(client: &Client, out: Out, command: Groups) -> Result<(), Failure> {
    let first = &["name", "description", "grants", "members"];
    match command {
        Groups::Create { name, description } => {
            let body = object(vec![
                ("name", Some(Value::from(name))),
                ("description", description.map(Value::from)),
            ]);
            show(
                client,
                out,
                &api::GROUPS_CREATE,
                &[],
                Some(&body),
                first,
                "name",
            )
        }
        Groups::List => items_of(client, out, &api::GROUPS_LIST, &[], GROUP_COLUMNS, "name"),
        Groups::Get { name } => show(client, out, &api::GROUP_GET, &[&name], None, first, "name"),
        Groups::Delete { name } => act(
            client,
            out,
            &api::GROUP_DELETE,
            &[&name],
            &format!("Deleted group {name}."),
        ),
        Groups::AddMember { group, account } => show(
            client,
            out,
            &api::MEMBER_ADD,
            &[&group, &account],
            None,
            ACCOUNT_FIRST,
            "id",
        ),
        Groups::RemoveMember { group, account } => act(
            client,
            out,
            &api::MEMBER_REMOVE,
            &[&group, &account],
            &format!("Removed account {account} from group {group}."),
        ),
    }
}

pub fn audit(client: &Client, out: Out, command: Audit) -> Result<(), Failure> {
    let Audit::List {
        target,
        before,
        limit,
        all,
    } = command;
    let mut query = Vec::new();
    if let Some(t) = target {
        query.push(("target", t));
    }
    if let Some(b) = before {
        query.push(("before", b));
    }
    if let Some(l) = limit {
        query.push(("limit", l.to_string()));
    }
    listing(client, out, &AUDIT_PAGED, query, all)
}

pub fn flows(client: &Client, out: Out, command: Flows) -> Result<(), Failure> {
    match command {
        Flows::List => items_of(client, out, &api::FLOWS_LIST, &[], FLOW_COLUMNS, "id"),
        Flows::Get { id } => show(
            client,
            out,
            &api::FLOW_GET,
            &[&id],
            None,
            &["id", "description", "path_prefix", "methods"],
            "id",
        ),
    }
}

/// A plan of `POST /import` as a table: one row per change, then the count
/// of unchanged objects.
pub fn plan_table(plan: &Value) -> String {
    let changes = plan
        .get("changes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let unchanged = plan.get("unchanged").and_then(Value::as_u64).unwrap_or(0);
    let mut text = if changes.is_empty() {
        String::from("No changes.\n")
    } else {
        table(
            changes,
            &[("ACTION", "action"), ("KIND", "kind"), ("NAME", "name")],
        )
    };
    text.push_str(&format!("{unchanged} unchanged\n"));
    text
}
