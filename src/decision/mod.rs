//! The one authorisation decision. Every way a caller proves who it is goes
//! through the same three steps, each in one file:
//!
//! 1. **Parse** the presented credential: [`crate::credential::extract`] (the
//!    one header parser, for flows and `/admin/v1` alike) and, at the token,
//!    introspection and revocation endpoints, [`client::client_method`].
//! 2. **Authenticate** it against the account record
//!    ([`authenticate`]: API keys, Basic passwords, API tokens, client
//!    secrets, certificates, OIDC tokens, access tokens; [`client`] for the
//!    OAuth client methods). Every path ends in [`kill_switch::active`], the
//!    one place where the account's status is checked and the only
//!    constructor of a [`Principal`].
//! 3. **Check the grant**: [`permit::check_grant`], the only constructor of a
//!    [`Permit`].
//!
//! Per-account admission checks that come after the grant (rate limits,
//! quotas, IP allow-lists) take the [`Permit`]: it carries the account.
//!
//! The components do the I/O around these steps (headers in, store reads,
//! clock, logs, responses out). Helpers that decide things about the
//! request before step 1 live here too: [`forward`] (which request a
//! forward-auth gateway asks about) and [`proxy_certificate`] (whether a
//! forwarded client certificate comes from the trusted proxy).

pub mod administrator;
pub mod authenticate;
pub mod client;
pub mod forward;
pub mod kill_switch;
pub mod permit;
pub mod proxy_certificate;

pub use authenticate::AuthnFailure;
pub use kill_switch::{Principal, Via};
pub use permit::{Forbidden, Permit, check_grant};
