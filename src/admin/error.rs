//! Why an admin request failed, and the one mapping of each failure to an
//! HTTP status and JSON body.

use serde_json::Value;

use crate::store::StoreError;

/// Why an admin request failed. [`AdminError::status`] maps it to HTTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// A field is missing or invalid (`400`).
    #[error("field `{field}`: {message}")]
    Field {
        /// The JSON field (or path parameter) at fault.
        field: String,
        /// What is wrong, in words a person can act on.
        message: String,
    },
    /// The body is not a JSON object (`400`).
    #[error("request body must be a JSON object")]
    Body,
    /// The caller lacks a permission the request needs, or the request
    /// would confer one it lacks (`403`).
    #[error("{message}")]
    Forbidden {
        /// Which permission, in words.
        message: String,
    },
    /// The request body is larger than `limit` bytes (`413`).
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The largest body accepted.
        limit: usize,
    },
    /// No such object (`404`).
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// Account, flow, token.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The request conflicts with the current state (`409`).
    #[error("{message}")]
    Conflict {
        /// What conflicts.
        message: String,
        /// The flows involved, for a refused delete.
        flows: Vec<String>,
    },
    /// The store failed (`503`). Nothing is assumed written.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A stored record could not be read (`500`).
    #[error("stored record `{0}` is unreadable")]
    Corrupt(String),
}

impl AdminError {
    /// The HTTP status for this error; caller faults are 4xx, system faults 5xx.
    pub fn status(&self) -> u16 {
        match self {
            Self::Field { .. } | Self::Body => 400,
            Self::Forbidden { .. } => 403,
            Self::TooLarge { .. } => 413,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } => 409,
            Self::Store(_) => 503,
            Self::Corrupt(_) => 500,
        }
    }

    /// The JSON body for this error. Never contains a secret: no variant
    /// carries one.
    pub fn body(&self) -> Value {
        let mut body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
        match self {
            Self::Field { field, .. } => body["field"] = Value::from(field.as_str()),
            Self::Conflict { flows, .. } if !flows.is_empty() => {
                body["flows"] = Value::from(flows.clone());
            }
            _ => {}
        }
        body
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Field { .. } | Self::Body | Self::TooLarge { .. } => "invalid_request",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Store(_) => "unavailable",
            Self::Corrupt(_) => "internal",
        }
    }
}

pub(super) fn field(field: &str, message: impl Into<String>) -> AdminError {
    AdminError::Field {
        field: field.to_owned(),
        message: message.into(),
    }
}

pub(super) fn not_found(kind: &'static str, id: &str) -> AdminError {
    AdminError::NotFound {
        kind,
        id: id.to_owned(),
    }
}
