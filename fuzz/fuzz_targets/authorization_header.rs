//! The credential headers of a request: `credential::extract` over any list
//! of headers, then the secret inside. Input: lines of `name:value`.
#![no_main]

use flowgate::credential::{MAX_CREDENTIAL_LEN, Presented, extract};
use flowgate::hash::Pepper;
use flowgate::secret::{ParsedSecret, Untagged};
use libfuzzer_sys::fuzz_target;

/// Any pepper: what is checked is the shape of the answer, not its value.
static PEPPER: std::sync::LazyLock<Pepper> =
    std::sync::LazyLock::new(|| Pepper::from_variable(&"ab".repeat(32)).expect("pepper"));

fuzz_target!(|data: &[u8]| {
    let headers: Vec<(&str, &[u8])> = data
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|b| *b == b':')?;
            let name = std::str::from_utf8(&line[..colon]).ok()?;
            Some((name, &line[colon + 1..]))
        })
        .collect();
    let Ok(presented) = extract(headers.iter().copied()) else {
        return;
    };
    // What was accepted came from exactly one credential header.
    let credential_headers = headers
        .iter()
        .filter(|(n, _)| {
            n.eq_ignore_ascii_case("authorization") || n.eq_ignore_ascii_case("x-api-key")
        })
        .count();
    assert_eq!(credential_headers, 1);
    match &presented {
        Presented::Bearer(token) | Presented::ApiKeyHeader(token) => {
            assert!(!token.is_empty() && token.len() <= MAX_CREDENTIAL_LEN);
            assert!(token.bytes().all(|b| b.is_ascii_graphic()), "{token:?}");
            if let Ok(secret) = presented.flow_secret() {
                assert_eq!(secret.expose(), *token);
                check_admit(&secret);
            }
        }
        Presented::Basic(basic) => {
            assert!(!basic.username.is_empty() && !basic.username.contains(':'));
            let _ = basic.password();
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(secret) = ParsedSecret::parse(text) {
            assert_eq!(secret.expose(), text);
            assert!(text.contains(secret.account_id()));
            check_admit(&secret);
        }
    }
});

/// The keyed tag: an untagged value follows the policy alone, and a tagged
/// one is admitted or refused the same under either.
fn check_admit(secret: &ParsedSecret<'_>) {
    let accept = secret.admit(&PEPPER, || Untagged::Accept);
    let refuse = secret.admit(&PEPPER, || Untagged::Refuse);
    if secret.is_tagged() {
        assert_eq!(accept, refuse);
    } else {
        assert!(accept.is_ok() && refuse.is_err());
    }
}
