//! The `{{ name }}` templates of Spin manifests (variable defaults,
//! component variables, allowed outbound hosts) and Spin's rule for variable
//! names. Shared by the manifest loader, variable resolution and the
//! outbound allow-list, so none of them imports another for it.

use anyhow::{Result, bail};

/// One part of a `{{ var }}` template.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Literal text.
    Lit(String),
    /// A variable reference, trimmed.
    Expr(String),
}

/// Splits a template into literal and `{{ expr }}` parts.
pub fn parse_template(template: &str) -> Result<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("{{") {
            let Some((expr, tail)) = after.split_once("}}") else {
                bail!("invalid variable template: unmatched '{{{{' in template");
            };
            parts.push(Part::Expr(expr.trim().to_string()));
            rest = tail;
        } else {
            let end = rest.find("{{").unwrap_or(rest.len());
            parts.push(Part::Lit(rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    Ok(parts)
}

/// Spin's rule for variable names: lower-case ASCII letters, digits and
/// single underscores, starting with a letter and ending with a letter or
/// digit. Returns the reason when the name is invalid.
pub fn check_name(key: &str) -> std::result::Result<(), String> {
    let reason = if key.is_empty() {
        "must not be empty".to_string()
    } else if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        format!(
            "invalid character {c:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        )
    } else if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        "must start with a lowercase ASCII letter".to_string()
    } else if !key.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        "must end with a lowercase ASCII letter or digit".to_string()
    } else if key.contains("__") {
        "must not contain multiple consecutive underscores".to_string()
    } else {
        return Ok(());
    };
    Err(format!("{key:?}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let parts = parse_template("a-{{ x }}-b").unwrap_or_default();
        assert_eq!(
            parts,
            vec![
                Part::Lit("a-".into()),
                Part::Expr("x".into()),
                Part::Lit("-b".into())
            ]
        );
        assert!(parse_template("{{ x").is_err());
    }

    #[test]
    fn names() {
        assert!(check_name("orders_upstream").is_ok());
        assert!(check_name("Bad").is_err());
        assert!(check_name("a__b").is_err());
        assert!(check_name("a_").is_err());
    }
}
