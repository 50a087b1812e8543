//! flowgate's authorizer as a WASIp3 component, for Spin 4 only
//! (docs/p3.md): the same behaviour on every route as the default WASI 0.2
//! build, because it is the same code. Every module but the HTTP edge is
//! compiled from `components/authorizer/src`; `edge.rs` here exports
//! `wasi:http/handler@0.3.0-rc-2026-03-15` (the version spin-sdk 6.0.0 and
//! Spin 4.0.2 speak) and sends proxy mode's and the JWKS fetch's requests
//! through `wasi:http/client`. The store, variables, clock and randomness
//! stay on the synchronous imports of `flowgate-spin`, as in the default
//! build.
//!
//! Spin 4.0.2 reuses an instance of a WASIp3 component for up to 128
//! requests, 16 at a time. Nothing read from the store is kept between
//! requests: every request reads its records, as in the default build.
//! Only configuration is: the keys derived from the key variables, and each
//! variable's text for at most a second (`vars`).
#![cfg(target_arch = "wasm32")]

#[path = "../../authorizer/src/admission.rs"]
mod admission;
#[path = "../../authorizer/src/config.rs"]
mod config;
#[path = "../../authorizer/src/decide.rs"]
mod decide;
mod edge;
#[path = "../../authorizer/src/log.rs"]
mod log;
#[path = "../../authorizer/src/oauth.rs"]
mod oauth;
#[path = "../../authorizer/src/proxy.rs"]
mod proxy;
#[path = "../../authorizer/src/respond.rs"]
mod respond;
#[path = "../../authorizer/src/route.rs"]
mod route;
#[path = "../../authorizer/src/vars.rs"]
mod vars;

/// Spin 4 hands one instance of this build up to 128 requests: variables
/// are kept for at most a second (`vars`, `flowgate::varcache`).
const INSTANCE_REUSED: bool = true;
