//! The flows declared in `policies/`, compiled in at build time. Both
//! components use this one table; changing a policy means rebuilding, which
//! is how policies ship: checked into git, deployed with the app.
#![forbid(unsafe_code)]

use std::borrow::Cow;

use flowgate::policy::{CredentialSet, Flow, MethodSet, Upstream};

include!(concat!(env!("OUT_DIR"), "/flows.rs"));

#[cfg(test)]
mod tests {
    use super::*;
    use flowgate::policy::parse_flow;

    /// The compiled table equals what the parser makes of the files now.
    #[test]
    fn table_matches_the_policy_files() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies");
        let mut parsed = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .expect("policies dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        names.sort();
        for p in names {
            let text = std::fs::read_to_string(&p).expect("read");
            parsed.push(parse_flow("f", &text).expect("valid"));
        }
        assert_eq!(parsed.as_slice(), FLOWS);
        assert!(
            FLOWS
                .iter()
                .any(|f| f.id == "orders" && f.path_prefix == "/flows/orders")
        );
        assert!(
            FLOWS
                .iter()
                .any(|f| f.id == "reports" && !f.methods.contains("POST"))
        );
        assert!(matches!(FLOWS[0].upstream, Some(Upstream::Variable(_))));
    }
}
