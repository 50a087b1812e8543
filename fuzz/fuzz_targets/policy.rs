//! A policy file (`policies/*.toml`) through `policy::parse_flow`: no panic,
//! and an accepted flow has a normal path prefix and an identifier.
#![no_main]

use flowgate::path::normalise;
use flowgate::policy::parse_flow;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(flow) = parse_flow("fuzz.toml", text) {
        let prefix = normalise(&flow.path_prefix).expect("an accepted prefix is a path");
        assert_eq!(
            prefix.as_str(),
            flow.path_prefix,
            "prefix not in normal form"
        );
        assert_ne!(flow.path_prefix, "/");
        assert!(!flow.id.is_empty());
    }
});
