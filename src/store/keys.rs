//! Every key of the store, in one place: each prefix is a constant here and
//! every key is built by a function here, so no other file spells a key.
//! docs/store.md has the reasoning behind each record; the list:
//!
//! - `acct/<id>`: the account record, the single source of truth;
//! - `name/<name>`: the id of the account with that name (uniqueness);
//! - `cert/<thumbprint>`: the id of the `mtls` account holding that
//!   certificate;
//! - `grant/<flow>/<account id>`: marks a grant, so a flow's accounts can be
//!   listed without reading every account;
//! - `role/<name>`: a custom management role;
//! - `group/<name>`: a group and the flows granted to it;
//! - `claim/<kind>/<name>`: the counter that elects the one creator of a
//!   name;
//! - `audit/<time>-<id>`: one audit-log entry; keys sort by time;
//! - `oidc/<sha256(issuer)>`: the accounts bound to an OIDC issuer;
//! - `oidc-jwks/<sha256(issuer)>`: the issuer's cached JWKS;
//! - `vtok/<hmac>`: an access token whose signature was checked
//!   ([`crate::verified`]);
//! - `revoked/<jti>`: a revoked access token, until it expires;
//! - `jti/<client>/<sha256(jti)>`: a `private_key_jwt` assertion already used;
//! - `rl/<account>/<window seconds>/<window start>`: a rate-limit counter
//!   (`crate::usage::limits`);
//! - `quota/<account>/<period start>/<period end or 0>`: a quota counter
//!   (`crate::usage::quota`);
//! - `use/<account>/<hour start>/<class>`: a usage-figure counter, the
//!   requests of one hour of one class (`crate::usage::figures`).
//!
//! Issuer names and `jti` values are hashed so that any text makes a
//! well-formed key of fixed length.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use super::NameKind;

/// Prefix of account records.
pub const ACCOUNT_PREFIX: &str = "acct/";
/// Prefix of the account-name index.
pub const NAME_PREFIX: &str = "name/";
/// Prefix of the certificate index.
pub const CERTIFICATE_PREFIX: &str = "cert/";
/// Prefix of grant markers.
pub const GRANT_PREFIX: &str = "grant/";
/// Prefix of custom roles.
pub const ROLE_PREFIX: &str = "role/";
/// Prefix of groups.
pub const GROUP_PREFIX: &str = "group/";
/// Prefix of the name-claim counters.
pub const CLAIM_PREFIX: &str = "claim/";
/// Prefix of audit-log entries.
pub const AUDIT_PREFIX: &str = "audit/";
/// Prefix of an OIDC issuer's bindings.
pub const OIDC_BINDINGS_PREFIX: &str = "oidc/";
/// Prefix of an OIDC issuer's cached JWKS.
pub const OIDC_JWKS_PREFIX: &str = "oidc-jwks/";
/// Prefix of the entries of verified access tokens.
pub const VERIFIED_PREFIX: &str = "vtok/";
/// Prefix of revoked access-token markers.
pub const REVOKED_PREFIX: &str = "revoked/";
/// Prefix of the replay markers of `private_key_jwt` assertions.
pub const REPLAY_PREFIX: &str = "jti/";
/// Prefix of the index records (`src/store/index.rs`, issue 16).
pub const INDEX_PREFIX: &str = "ix/";
/// Prefix of rate-limit counters.
pub const RATE_LIMIT_PREFIX: &str = "rl/";
/// Prefix of quota counters.
pub const QUOTA_PREFIX: &str = "quota/";
/// Prefix of usage-figure counters.
pub const USAGE_PREFIX: &str = "use/";

/// Key of the rate-limit counter of `account` for the window of `length`
/// seconds that starts at `start`.
pub fn rate_limit_key(account: &str, length: u64, start: u64) -> String {
    format!("{RATE_LIMIT_PREFIX}{account}/{length}/{start}")
}

/// Key of the quota counter of `account` for the period from `start` to
/// `end` (`0`: a quota without refill).
pub fn quota_key(account: &str, start: u64, end: u64) -> String {
    format!("{QUOTA_PREFIX}{account}/{start}/{end}")
}

/// Prefix of the usage-figure counters of `account`.
pub fn usage_prefix(account: &str) -> String {
    format!("{USAGE_PREFIX}{account}/")
}

/// Key of the usage-figure counter of `account` for the hour starting at
/// `hour` and the request class `class` (`allowed`, `forbidden`, ...).
pub fn usage_key(account: &str, hour: u64, class: &str) -> String {
    format!("{USAGE_PREFIX}{account}/{hour}/{class}")
}

/// Key of an account record.
pub fn account_key(id: &str) -> String {
    format!("{ACCOUNT_PREFIX}{id}")
}

/// The account id of an account-record key, if `key` is one.
pub fn account_id_of(key: &str) -> Option<&str> {
    key.strip_prefix(ACCOUNT_PREFIX)
}

/// Key of the certificate index: thumbprint to account id (`mtls`).
pub fn certificate_key(thumbprint: &str) -> String {
    format!("{CERTIFICATE_PREFIX}{thumbprint}")
}

/// Key of the name index.
pub fn name_key(name: &str) -> String {
    format!("{NAME_PREFIX}{name}")
}

/// Prefix of a flow's grant markers.
pub fn grant_prefix(flow: &str) -> String {
    format!("{GRANT_PREFIX}{flow}/")
}

/// Key of one grant marker.
pub fn grant_key(flow: &str, account_id: &str) -> String {
    format!("{GRANT_PREFIX}{flow}/{account_id}")
}

/// Key of a custom role.
pub fn role_key(name: &str) -> String {
    format!("{ROLE_PREFIX}{name}")
}

/// Key of a group.
pub fn group_key(name: &str) -> String {
    format!("{GROUP_PREFIX}{name}")
}

/// Key of the counter that elects the single creator of `name`: the caller
/// whose increment returns 1 creates it (docs/store.md, "Unique names").
pub fn claim_key(kind: NameKind, name: &str) -> String {
    format!("{CLAIM_PREFIX}{}/{name}", kind.as_str())
}

/// Key of an audit entry written at `time` (Unix seconds); `unique` keeps
/// two entries of the same second apart. Zero-padded, so keys sort by time.
pub fn audit_key(time: u64, unique: &str) -> String {
    format!("{AUDIT_PREFIX}{time:012}-{unique}")
}

/// The SHA-256 of `text`, base64url without padding.
fn hashed(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// Key of an OIDC issuer's bindings.
pub fn bindings_key(issuer: &str) -> String {
    format!("{OIDC_BINDINGS_PREFIX}{}", hashed(issuer))
}

/// Key of an OIDC issuer's cached JWKS.
pub fn jwks_key(issuer: &str) -> String {
    format!("{OIDC_JWKS_PREFIX}{}", hashed(issuer))
}

/// Key of a verified access token's entry, from its keyed digest
/// ([`crate::verified::key`] computes the digest).
pub fn verified_key(digest: &str) -> String {
    format!("{VERIFIED_PREFIX}{digest}")
}

/// Key under which a revoked access token's id is remembered until it
/// expires (written by `/oauth2/revoke`).
pub fn revoked_key(jti: &str) -> String {
    format!("{REVOKED_PREFIX}{jti}")
}

/// Key remembering that `client_id` used the assertion `jti`.
pub fn replay_key(client_id: &str, jti: &str) -> String {
    format!("{REPLAY_PREFIX}{client_id}/{}", hashed(jti))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_stored_layout() {
        // Stored data outlives a release: these exact strings are on disk.
        assert_eq!(account_key("a1"), "acct/a1");
        assert_eq!(account_id_of("acct/a1"), Some("a1"));
        assert_eq!(account_id_of("name/a1"), None);
        assert_eq!(certificate_key("t"), "cert/t");
        assert_eq!(name_key("n"), "name/n");
        assert_eq!(grant_prefix("orders"), "grant/orders/");
        assert_eq!(grant_key("orders", "a1"), "grant/orders/a1");
        assert_eq!(role_key("r"), "role/r");
        assert_eq!(group_key("g"), "group/g");
        assert_eq!(claim_key(NameKind::Group, "g"), "claim/group/g");
        assert_eq!(audit_key(42, "x"), "audit/000000000042-x");
        assert_eq!(verified_key("d"), "vtok/d");
        assert_eq!(revoked_key("j"), "revoked/j");
        assert_eq!(rate_limit_key("a1", 60, 120), "rl/a1/60/120");
        assert_eq!(quota_key("a1", 5, 0), "quota/a1/5/0");
        assert_eq!(usage_prefix("a1"), "use/a1/");
        assert_eq!(usage_key("a1", 3600, "allowed"), "use/a1/3600/allowed");
        // SHA-256 of "" in base64url: a fixed, well-known value.
        let empty = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
        assert_eq!(bindings_key(""), format!("oidc/{empty}"));
        assert_eq!(jwks_key(""), format!("oidc-jwks/{empty}"));
        assert_eq!(replay_key("c", ""), format!("jti/c/{empty}"));
    }
}
