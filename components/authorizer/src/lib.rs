//! The `authorizer` component: flowgate's hot path. It owns every route but
//! `/admin/...`:
//! - `/authorize` and `/authorize/<path>`: forward-auth for nginx
//!   `auth_request`, Traefik ForwardAuth and Envoy `ext_authz`;
//! - `/oauth2/token`, `/oauth2/introspect`, `/oauth2/revoke`,
//!   `/.well-known/jwks.json` and `/.well-known/oauth-authorization-server`:
//!   the authorization server;
//! - everything else: proxy mode, for paths under a flow with an upstream.
//!
//! Every decision is the core's (`flowgate::decision`); this component
//! translates HTTP to core types and back, does the store, variable and
//! clock I/O, and logs. The HTTP edge (`edge.rs`, WASI 0.2) is the only part
//! that the additional WASIp3 build for Spin 4 (`components/authorizer-p3`,
//! docs/p3.md) replaces; it compiles every other module from this directory.
//!
//! A request to a flow with an API key, Basic or an API token costs one
//! key-value read (the record of the account that the presented secret
//! names), and a write at most once a minute per credential (its last use).
//! An access token costs two reads: its verified-token record and its
//! account's record (the kill switch and today's grants); its first use
//! verifies it in full and writes that record (`flowgate::verified`).

mod admission;
mod config;
mod decide;
mod edge;
mod log;
mod oauth;
mod proxy;
mod respond;
mod route;
mod vars;

/// Whether one instance serves more than one request: never in this WASI
/// 0.2 build (Spin and the test host instantiate it per request), so every
/// variable is read from the host when a request needs it (`vars`).
const INSTANCE_REUSED: bool = false;
