//! The trusted-proxy certificate decision
//! (`flowgate::decision::proxy_certificate`): header lines `name: value`
//! with a fixed configured proxy token. Properties: never a panic; without a
//! certificate header the answer is `Ok(None)` and the variable is not read;
//! a certificate is accepted only beside exactly one proxy token equal to the
//! configured one; a caller's input never makes a system fault.
#![no_main]

use flowgate::certificate::HEADERS;
use flowgate::decision::proxy_certificate::{PROXY_TOKEN_HEADER, trusted_certificate};
use flowgate::hash::Pepper;
use libfuzzer_sys::fuzz_target;

const CONFIGURED: &str = "fuzz-proxy-token-0123456789";

fuzz_target!(|data: &[u8]| {
    let headers: Vec<(&str, &[u8])> = data
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let at = line.iter().position(|&b| b == b':')?;
            let name = std::str::from_utf8(&line[..at]).ok()?;
            Some((name, line[at + 1..].trim_ascii()))
        })
        .collect();
    let pepper = Pepper::from_variable(&"ab".repeat(32)).expect("pepper");
    let read = std::cell::Cell::new(false);
    let result = trusted_certificate(
        headers.iter().copied(),
        || {
            read.set(true);
            Ok(CONFIGURED.to_owned())
        },
        &pepper,
    );
    let has_certificate = headers
        .iter()
        .any(|(n, _)| HEADERS.iter().any(|h| n.eq_ignore_ascii_case(h)));
    if !has_certificate {
        assert_eq!(result, Ok(None));
        assert!(!read.get());
    }
    match result {
        Ok(Some(_)) => {
            let tokens: Vec<&[u8]> = headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(PROXY_TOKEN_HEADER))
                .map(|(_, v)| *v)
                .collect();
            assert_eq!(tokens.len(), 1);
            assert_eq!(tokens[0].trim_ascii(), CONFIGURED.as_bytes());
        }
        Err(e) => assert!(!e.is_system_fault()),
        Ok(None) => {}
    }
});
