//! Request bodies of `/admin/v1` taken apart into typed values: every error
//! names its field, and unknown fields are refused rather than ignored.

use serde_json::{Map, Value};

use super::{AdminError, field};
use crate::account::{Scope, ScopeLevel};
use crate::policy::is_identifier;

/// Longest accepted description.
const MAX_DESCRIPTION: usize = 1024;

/// A JSON object taken apart field by field, so that each error names its
/// field, and unknown fields are refused rather than ignored.
pub(super) struct Fields(pub(super) Map<String, Value>);

impl Fields {
    pub(super) fn parse(body: &[u8], allowed: &[&str]) -> Result<Self, AdminError> {
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}".as_slice()
        } else {
            body
        };
        let Value::Object(map) = serde_json::from_slice(body).map_err(|_| AdminError::Body)? else {
            return Err(AdminError::Body);
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(field(unknown, "unknown field"));
        }
        Ok(Self(map))
    }

    pub(super) fn string(&self, name: &str) -> Result<Option<String>, AdminError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(field(name, "must be a string")),
        }
    }

    pub(super) fn strings(&self, name: &str) -> Result<Option<Vec<String>>, AdminError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| field(name, "must be an array of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(field(name, "must be an array of strings")),
        }
    }

    pub(super) fn seconds(&self, name: &str, max: u64) -> Result<Option<u64>, AdminError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match whole_number(v) {
                Some(n) if n > 0 && n <= max => Ok(Some(n)),
                _ => Err(field(
                    name,
                    format!("must be a whole number of seconds from 1 to {max}"),
                )),
            },
        }
    }
}

/// A JSON number without a fractional part as `u64`: `250` and `250.0`
/// alike, as JSON Schema's `integer` counts both.
pub(super) fn whole_number(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        let f = v.as_f64()?;
        // 2^53: beyond it an f64 no longer holds every whole number.
        let exact = f.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&f);
        // Whole and in range, so the cast is exact.
        exact.then_some(f as u64)
    })
}

/// Whether `name` is a valid account name: 1-64 of `[A-Za-z0-9._-]`. No colon,
/// so it can be the username of Basic credentials.
pub fn is_account_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub(super) fn names(
    field_name: &str,
    values: Option<Vec<String>>,
) -> Result<Vec<String>, AdminError> {
    let mut values = values.unwrap_or_default();
    if let Some(bad) = values.iter().find(|v| !is_identifier(v)) {
        return Err(field(
            field_name,
            format!("{bad:?} is not 1-64 of a-z, 0-9, _ and -"),
        ));
    }
    values.sort();
    values.dedup();
    Ok(values)
}

pub(super) fn check_description(description: &str) -> Result<(), AdminError> {
    // Characters, as JSON Schema's `maxLength` counts them (openapi.json).
    if description.chars().count() > MAX_DESCRIPTION || description.chars().any(char::is_control) {
        return Err(field(
            "description",
            "at most 1024 characters, no control characters",
        ));
    }
    Ok(())
}

pub(super) fn parse_scope(v: &Value) -> Result<Scope, AdminError> {
    let Value::Object(map) = v else {
        return Err(field("scope", "must be an object with `level`"));
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !["level", "project", "environment"].contains(&k.as_str()))
    {
        return Err(field(&format!("scope.{unknown}"), "unknown field"));
    }
    let text = |name: &str| -> Result<Option<String>, AdminError> {
        match map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if is_identifier(s) => Ok(Some(s.clone())),
            Some(_) => Err(field(&format!("scope.{name}"), "1-64 of a-z, 0-9, _ and -")),
        }
    };
    let level = match text("level")?.as_deref() {
        None | Some("platform") => ScopeLevel::Platform,
        Some("project") => ScopeLevel::Project,
        Some("environment") => ScopeLevel::Environment,
        Some(_) => {
            return Err(field(
                "scope.level",
                "one of platform, project, environment",
            ));
        }
    };
    let project = text("project")?;
    let environment = text("environment")?;
    let ok = match level {
        ScopeLevel::Platform => project.is_none() && environment.is_none(),
        ScopeLevel::Project => project.is_some() && environment.is_none(),
        ScopeLevel::Environment => project.is_some() && environment.is_some(),
    };
    if !ok {
        return Err(field(
            "scope",
            "platform takes no project or environment; project takes a project; environment takes both",
        ));
    }
    Ok(Scope {
        level,
        project,
        environment,
    })
}
