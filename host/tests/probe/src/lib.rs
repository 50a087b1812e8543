//! A fixture component for flowgate-host's tests. Without `op=` it echoes
//! the request headers it received, one `name: value` line each, in the order
//! the host delivered them. With `?op=...` it exercises one host interface and
//! reports the outcome as text:
//! - `op=get|set|delete|exists|keys&key=K[&value=V][&store=S]` (key-value),
//! - `op=open&store=S` (just open a store),
//! - `op=var&name=N` (a variable),
//! - `op=fetch&url=U` (an outbound GET),
//! - `op=trap` (panic, so the host sees a trap).

/// The SDK's export macro expands to FFI glue that uses `unsafe`; it is kept
/// in this module so that the lint stays on for everything else.
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{IncomingRequest, Response};

    #[spin_sdk::http_component]
    async fn handle(req: IncomingRequest) -> anyhow::Result<Response> {
        let path_query = req.path_with_query().unwrap_or_default();
        let query = path_query.split_once('?').map(|(_, q)| q).unwrap_or("");
        let body = if super::param(query, "op").is_none() {
            let mut out = String::new();
            for (name, value) in req.headers().entries() {
                out.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(&value)));
            }
            out
        } else {
            super::operate(query).await
        };
        Ok(Response::builder()
            .status(200)
            .header("content-type", "text/plain")
            .body(body)
            .build())
    }
}

fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn operate(query: &str) -> String {
    use spin_sdk::key_value::Store;
    let op = param(query, "op").unwrap_or("");
    let key = param(query, "key").unwrap_or("");
    let store_label = param(query, "store").unwrap_or("default");
    let kv = || Store::open(store_label);
    match op {
        "open" => match kv() {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("err {e:?}"),
        },
        "get" | "set" | "delete" | "exists" | "keys" => {
            let store = match kv() {
                Ok(s) => s,
                Err(e) => return format!("err {e:?}"),
            };
            let result = match op {
                "get" => store.get(key).map(|v| match v {
                    Some(v) => format!("value {}", String::from_utf8_lossy(&v)),
                    None => "none".to_string(),
                }),
                "set" => store
                    .set(key, param(query, "value").unwrap_or("").as_bytes())
                    .map(|()| "ok".to_string()),
                "delete" => store.delete(key).map(|()| "ok".to_string()),
                "exists" => store.exists(key).map(|b| format!("exists {b}")),
                _ => store.get_keys().map(|mut k| {
                    k.sort();
                    format!("keys {}", k.join(","))
                }),
            };
            result.unwrap_or_else(|e| format!("err {e:?}"))
        }
        "var" => match spin_sdk::variables::get(param(query, "name").unwrap_or("")) {
            Ok(v) => format!("value {v}"),
            Err(e) => format!("err {e:?}"),
        },
        "fetch" => {
            let url = param(query, "url").unwrap_or("");
            let req = spin_sdk::http::Request::get(url);
            match spin_sdk::http::send::<_, spin_sdk::http::Response>(req).await {
                Ok(res) => format!(
                    "status {} body {}",
                    res.status(),
                    String::from_utf8_lossy(res.body())
                ),
                Err(spin_sdk::http::SendError::Http(code)) => format!("err {code:?}"),
                Err(e) => format!("err other {e}"),
            }
        }
        "trap" => panic!("probe asked to trap"),
        other => format!("unknown op {other:?}"),
    }
}
