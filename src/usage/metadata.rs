//! Account metadata: a small JSON object passed to the flow with the
//! identity (proxy mode and forward-auth header `X-Flowgate-Metadata`, the
//! identity assertion's `metadata` claim, introspection). It is not a place
//! for secrets: it is shown to administrators, exported and sent to flows;
//! a value that is a flowgate secret is refused.

use serde_json::{Map, Value};

/// Largest metadata object, as compact JSON text in bytes. It travels in a
/// request header on every allowed request.
pub const MAX_BYTES: usize = 1024;

/// Deepest nesting of objects and arrays.
pub const MAX_DEPTH: usize = 4;

/// Parses and checks the API's `metadata` value.
pub fn parse(value: &Value) -> Result<Map<String, Value>, String> {
    let Value::Object(map) = value else {
        return Err("must be a JSON object".into());
    };
    if header_text(map).len() > MAX_BYTES {
        return Err(format!("at most {MAX_BYTES} bytes as compact JSON"));
    }
    if depth(value) > MAX_DEPTH {
        return Err(format!("nested at most {MAX_DEPTH} levels deep"));
    }
    if holds_secret(value) {
        return Err("must not contain a flowgate secret".into());
    }
    Ok(map.clone())
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn holds_secret(value: &Value) -> bool {
    match value {
        Value::String(s) => crate::secret::ParsedSecret::parse(s).is_ok(),
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| crate::secret::ParsedSecret::parse(k).is_ok() || holds_secret(v)),
        Value::Array(a) => a.iter().any(holds_secret),
        _ => false,
    }
}

/// Compact JSON in printable ASCII, fit for a header value: characters
/// beyond ASCII (they occur only inside strings) are written as JSON
/// `\u` escapes, so the text still parses to the same object.
pub fn header_text(map: &Map<String, Value>) -> String {
    let json = Value::Object(map.clone()).to_string();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_text_is_ascii_and_parses_back_to_the_same_object() {
        let value = json!({"tenant": "zürich 🚀", "plan": "pro", "n": 3});
        let map = parse(&value).expect("valid");
        let text = header_text(&map);
        assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).expect("json"), value);
    }

    #[test]
    fn non_objects_oversized_deep_or_secret_metadata_is_refused() {
        assert!(parse(&json!([1])).is_err());
        assert!(parse(&json!({"a": "x".repeat(MAX_BYTES)})).is_err());
        assert!(parse(&json!({"a": {"b": {"c": {"d": {"e": 1}}}}})).is_err());
        assert!(parse(&json!({"a": {"b": {"c": {"d": 1}}}})).is_ok());
    }
}
