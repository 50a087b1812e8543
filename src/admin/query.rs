//! Query strings of `/admin/v1`, parsed once into typed filters. Names and
//! values are decoded as `application/x-www-form-urlencoded` (`%3A` is `:`,
//! `+` a space), as httpx, requests and `curl --data-urlencode` send them.
//! A parameter given twice, a value that is not well-formed percent-encoding,
//! an empty value or one outside its type is `400` naming the parameter:
//! never a silently empty or unfiltered result (issue 18). Parameters a
//! route does not take are ignored, as most HTTP APIs do.

use super::{AccountQuery, AdminError, field};
use crate::account::{CredentialType, ScopeLevel, Status};
use crate::encoding::percent_decode;
use crate::policy::is_identifier;
use crate::secret::is_id;
use crate::store::keys::AUDIT_PREFIX;

/// The decoded parameters of one request, in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

/// Largest page of a listing.
pub const MAX_LIMIT: u64 = 200;
/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: u64 = 50;

impl Query {
    /// Decodes the raw query string (without `?`).
    pub fn parse(raw: &str) -> Result<Self, AdminError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(name, true)
                .filter(|n| !n.chars().any(char::is_control))
                .ok_or_else(|| field("query", "a parameter name is not valid percent-encoding"))?;
            let value = percent_decode(value, true)
                .filter(|v| !v.chars().any(char::is_control))
                .ok_or_else(|| {
                    field(
                        &name,
                        "not valid percent-encoding (application/x-www-form-urlencoded)",
                    )
                })?;
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(field(&name, "given more than once"));
            }
            pairs.push((name, value));
        }
        Ok(Self(pairs))
    }

    /// The decoded value of `name`; an empty value is refused.
    pub fn text(&self, name: &str) -> Result<Option<&str>, AdminError> {
        match self.0.iter().find(|(n, _)| n == name) {
            None => Ok(None),
            Some((_, v)) if v.is_empty() => Err(field(name, "must not be empty")),
            Some((_, v)) => Ok(Some(v)),
        }
    }

    /// `true` or `false`; absent is `false`.
    pub fn flag(&self, name: &str) -> Result<bool, AdminError> {
        match self.text(name)? {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(field(name, "true or false")),
        }
    }

    /// A whole number from `min` to `max`.
    pub fn number(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, AdminError> {
        let Some(text) = self.text(name)? else {
            return Ok(None);
        };
        text.parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .map(Some)
            .ok_or_else(|| field(name, format!("a whole number from {min} to {max}")))
    }

    /// `limit` of a listing: 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
    pub fn limit(&self) -> Result<usize, AdminError> {
        let n = self.number("limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
        usize::try_from(n).map_err(|_| field("limit", "too large"))
    }

    /// The filters and paging of `GET /accounts`.
    pub fn accounts(&self) -> Result<AccountQuery, AdminError> {
        let credential_type = match self.text("credential_type")? {
            None => None,
            Some(v) => Some(CredentialType::parse(v).ok_or_else(|| {
                field(
                    "credential_type",
                    "one of api_key, basic, client_secret, private_key_jwt, mtls, oidc, poller",
                )
            })?),
        };
        let status = match self.text("status")? {
            None => None,
            Some("active") => Some(Status::Active),
            Some("disabled") => Some(Status::Disabled),
            Some(_) => return Err(field("status", "active or disabled")),
        };
        let scope_level = match self.text("scope_level")? {
            None => None,
            Some("platform") => Some(ScopeLevel::Platform),
            Some("project") => Some(ScopeLevel::Project),
            Some("environment") => Some(ScopeLevel::Environment),
            Some(_) => return Err(field("scope_level", "platform, project or environment")),
        };
        let group = self.text("group")?;
        if group.is_some_and(|g| !is_identifier(g)) {
            return Err(field("group", "a group name: 1-64 of a-z, 0-9, _ and -"));
        }
        // A search by name: any text (the list matches it as a substring),
        // so no shape is imposed beyond the length of a name.
        let name = self.text("name")?;
        if name.is_some_and(|n| n.len() > 128) {
            return Err(field("name", "at most 128 bytes"));
        }
        let after = self.text("after")?;
        if after.is_some_and(|a| !is_id(a)) {
            return Err(field(
                "after",
                "an account id, as `next` of the previous page",
            ));
        }
        Ok(AccountQuery {
            credential_type,
            status,
            group: group.map(str::to_owned),
            name: name.map(str::to_owned),
            scope_level,
            unused_for_days: self.number("unused_for_days", 1, 3650)?,
            expires_within_days: self.number("expires_within_days", 0, 3650)?,
            after: after.map(str::to_owned),
            limit: self.limit()?,
        })
    }

    /// `from` and `to` of `GET /accounts/{id}/usage`: Unix seconds, as the
    /// audit log's `time`. Their relation is checked with the clock
    /// (`crate::usage::figures::Period`).
    pub fn usage_period(&self) -> Result<(Option<u64>, Option<u64>), AdminError> {
        // Year 9999: a bound that keeps every sum far from overflowing.
        const LAST: u64 = 253_402_300_799;
        Ok((self.number("from", 0, LAST)?, self.number("to", 1, LAST)?))
    }

    /// `before` of `GET /audit`: the `next` of the previous page, an audit
    /// key (`audit/...`).
    pub fn audit_before(&self) -> Result<Option<&str>, AdminError> {
        let before = self.text("before")?;
        if before.is_some_and(|b| !b.starts_with(AUDIT_PREFIX)) {
            return Err(field(
                "before",
                "an audit key (`audit/...`), as `next` of the previous page",
            ));
        }
        Ok(before)
    }
}

/// Decodes the segments of a path below `/admin/v1/` (RFC 3986: `+` stays
/// `+`). A segment that is not valid percent-encoding is `400` naming
/// `path`; an encoded `/` stays inside its segment.
pub fn path_segments(rest: &str) -> Result<Vec<String>, AdminError> {
    rest.split('/')
        .map(|segment| {
            percent_decode(segment, false)
                .filter(|s| !s.chars().any(char::is_control))
                .ok_or_else(|| field("path", "a path segment is not valid percent-encoding"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: Result<impl std::fmt::Debug, AdminError>) -> String {
        match result {
            Err(AdminError::Field { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn issue18_encoded_query_values_equal_plain_ones() {
        let plain = Query::parse("target=account:abc&before=audit/1-x").expect("plain");
        let encoded = Query::parse("target=account%3Aabc&before=audit%2F1-x").expect("encoded");
        assert_eq!(plain, encoded);
        assert_eq!(encoded.text("target").ok().flatten(), Some("account:abc"));
        let spaced = Query::parse("t%61rget=a+b%2Bc").expect("form");
        assert_eq!(spaced.text("target").ok().flatten(), Some("a b+c"));
    }

    #[test]
    fn issue18_unparsable_filters_are_refused_naming_the_parameter() {
        let cases = [
            ("limit=false", "limit"),
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=%zz", "limit"),
            ("status=gone", "status"),
            ("credential_type=jwt", "credential_type"),
            ("scope_level=world", "scope_level"),
            ("unused_for_days=-1", "unused_for_days"),
            ("group=Not%20A%20Group", "group"),
            ("after=..", "after"),
            ("group=", "group"),
            ("status=active&status=disabled", "status"),
            ("target=%0a", "target"),
            ("from=yesterday", "from"),
            ("to=-5", "to"),
        ];
        for (raw, name) in cases {
            let parsed = Query::parse(raw).and_then(|q| q.accounts().map(|_| q));
            let parsed = parsed.and_then(|q| {
                q.text("target")?;
                q.usage_period().map(|_| ())
            });
            assert_eq!(field_of(parsed), name, "{raw}");
        }
        assert_eq!(
            field_of(Query::parse("before=x").and_then(|q| q.audit_before().map(|_| ()))),
            "before"
        );
        assert_eq!(
            field_of(Query::parse("dry_run=yes").and_then(|q| q.flag("dry_run"))),
            "dry_run"
        );
    }

    #[test]
    fn encoded_path_segments_are_decoded_once() {
        assert_eq!(
            path_segments("roles/ci%2Drunner").expect("decoded"),
            ["roles", "ci-runner"]
        );
        assert_eq!(
            path_segments("accounts/a%2Fb").expect("decoded"),
            ["accounts", "a/b"]
        );
        assert_eq!(
            path_segments("accounts/a+b").expect("decoded"),
            ["accounts", "a+b"]
        );
        assert_eq!(field_of(path_segments("accounts/%G1")), "path");
    }
}
