//! Forward-auth header recovery (`flowgate::decision::forward`): the input is
//! split at newlines into the route path, then header lines `name: value`.
//! Properties: never a panic; a recovered method is upper-case ASCII; a
//! recovered path is normalised (normalising it again changes nothing); a
//! forwarded header given twice is always refused.
#![no_main]

use flowgate::decision::forward::target;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let Some(first) = lines.next() else {
        return;
    };
    let Ok(raw_path) = std::str::from_utf8(first) else {
        return;
    };
    let headers: Vec<(&str, &[u8])> = lines
        .filter_map(|line| {
            let at = line.iter().position(|&b| b == b':')?;
            let name = std::str::from_utf8(&line[..at]).ok()?;
            Some((name, line[at + 1..].trim_ascii()))
        })
        .collect();
    if let Ok(t) = target(raw_path, "GET", headers.iter().copied()) {
        assert!(!t.method.is_empty() && t.method.bytes().all(|b| b.is_ascii_uppercase()));
        let again = flowgate::path::normalise(&t.path.to_string()).expect("normal stays normal");
        assert_eq!(again, t.path);
    }
    if let Some(&(name, value)) = headers.iter().find(|(n, _)| {
        [
            "x-forwarded-uri",
            "x-original-uri",
            "x-forwarded-method",
            "x-original-method",
        ]
        .iter()
        .any(|h| n.eq_ignore_ascii_case(h))
    }) {
        let mut doubled = headers.clone();
        doubled.push((name, value));
        assert!(target(raw_path, "GET", doubled.iter().copied()).is_err());
    }
});
