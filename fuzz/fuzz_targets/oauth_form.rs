//! Token-endpoint input: `oauth::Form::parse` of the body, then
//! `client_credentials` with an Authorization header and `check_grant_type`.
//! Input: `header \0 body`.
#![no_main]

use flowgate::oauth::{Form, check_grant_type, client_credentials};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|b| *b == 0) {
        Some(i) => (Some(&data[..i]), &data[i + 1..]),
        None => (None, data),
    };
    let Ok(form) = Form::parse(body) else {
        return;
    };
    let _ = check_grant_type(&form);
    let headers: Vec<&[u8]> = header.into_iter().collect();
    if let Ok(client) = client_credentials(&headers, &form) {
        // Exactly one authentication method was used.
        assert_eq!(client.basic, header.is_some());
        if !client.basic {
            assert_eq!(form.get("client_id"), Some(client.client_id.as_str()));
            assert_eq!(form.get("client_secret"), Some(client.secret()));
        } else {
            assert!(form.get("client_secret").is_none());
        }
    }
});
