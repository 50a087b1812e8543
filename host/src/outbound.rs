//! Outbound HTTP: `allowed_outbound_hosts` parsed and enforced as Spin
//! `v4.0.2` does (`crates/outbound-networking-config/src/allowed_hosts.rs`,
//! `crates/factor-outbound-networking/src/lib.rs`,
//! `crates/factor-outbound-http/src/wasi.rs`; the same at `v3.6.3`).
//! Entries are `scheme://host[:port]` with `*` wildcards for scheme, host
//! (`*` or `*.domain`) and port (`*`, `N`, `A..B`); without a port, the
//! scheme's well-known port applies (so `http://localhost` allows port 80
//! only). Entries may be `{{ var }}` templates.
//!
//! Two moments, as in Spin: at load, [`validate`] parses every literal entry
//! and every template expanded with the variables' DEFAULT values, and
//! refuses the app if one is invalid (a template over a variable without a
//! default is not checked then). At run time the entries are expanded with
//! the resolved values; if any one of them is invalid, Spin denies every
//! outbound request of that component, and so does this host. Nothing is
//! skipped: an entry that expands to `""` or `https://` is an error, as in
//! every released Spin (the skip exists only on Spin's main branch).
//! A request to a host not allowed fails with `ErrorCode::HttpRequestDenied`.
//! Relative URLs (and `self.alt`) are self-requests: allowed by `self` or
//! `*` host entries and sent back to this host's own listener.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, Result, bail};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

use crate::template::{Part, parse_template};
use crate::variables::Resolved;

#[derive(Debug, Clone, PartialEq)]
enum HostPattern {
    Any,
    /// `*.example.com`, stored as `.example.com`.
    AnySubdomain(String),
    /// `self` / `self.alt`: only relative (self) requests.
    ToSelf,
    Domain(String),
    Ip(IpAddr),
    Cidr(IpAddr, u8),
}

#[derive(Debug, Clone, PartialEq)]
enum PortPattern {
    Any,
    Port(u16),
    /// Half-open like Rust's `A..B`, as Spin's is.
    Range(u16, u16),
}

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq)]
struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

fn well_known_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "postgres" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        "mqtt" => 1883,
        "http" => 80,
        "https" => 443,
        _ => return None,
    })
}

fn parse_host(host: &str) -> Result<HostPattern> {
    let host = host.trim();
    match host {
        "*" => return Ok(HostPattern::Any),
        "self" | "self.alt" => return Ok(HostPattern::ToSelf),
        _ => {}
    }
    if host.starts_with('{') {
        bail!("host lists are not yet supported");
    }
    if let Some((ip, bits)) = host.split_once('/')
        && let (Ok(ip), Ok(bits)) = (ip.parse::<IpAddr>(), bits.parse::<u8>())
    {
        return Ok(HostPattern::Cidr(ip, bits));
    }
    let host = host.trim_end_matches('/');
    if host.contains('/') {
        bail!("must not include a path");
    }
    if let Some(domain) = host.strip_prefix("*.") {
        if domain.contains('*') {
            bail!("wildcards are allowed only as prefixes");
        }
        return Ok(HostPattern::AnySubdomain(format!(
            ".{}",
            domain.to_ascii_lowercase()
        )));
    }
    if host.contains('*') {
        bail!("wildcards are allowed only as subdomains");
    }
    literal_host(host)
}

/// A concrete host: an IP (IPv6 in brackets) or a domain name. The messages
/// are those of the `url` crate's `Host::parse`, which Spin uses.
fn literal_host(host: &str) -> Result<HostPattern> {
    if host.is_empty() {
        bail!("empty host");
    }
    if let Some(inner) = host.strip_prefix('[') {
        return match inner
            .strip_suffix(']')
            .map(str::parse::<std::net::Ipv6Addr>)
        {
            Some(Ok(ip)) => Ok(HostPattern::Ip(IpAddr::V6(ip))),
            _ => bail!("invalid IPv6 address"),
        };
    }
    if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
        return Ok(HostPattern::Ip(IpAddr::V4(ip)));
    }
    // Stricter than IDNA (no Unicode names), which is enough for a test host.
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    {
        bail!("invalid international domain name");
    }
    Ok(HostPattern::Domain(host.to_ascii_lowercase()))
}

fn parse_port(port: &str, scheme: &str) -> Result<PortPattern> {
    if port.is_empty() {
        return well_known_port(scheme).map(PortPattern::Port).with_context(|| {
            format!(
                "no port was provided and the scheme {scheme:?} does not have a known default port number"
            )
        });
    }
    if port == "*" {
        return Ok(PortPattern::Any);
    }
    if let Some((a, b)) = port.split_once("..") {
        return Ok(PortPattern::Range(
            a.parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?,
            b.parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?,
        ));
    }
    Ok(PortPattern::Port(port.parse().with_context(|| {
        format!("port {port:?} is not a number")
    })?))
}

impl AllowedHost {
    fn parse(entry: &str) -> Result<Self> {
        let url = entry.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            if matches!(url, "*" | ":" | "" | "?") {
                bail!(
                    "{url:?} is not an allowed outbound host format.\nHosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each."
                );
            }
            bail!("{url:?} does not contain a scheme (e.g., 'http://' or '*://')");
        };
        // As in Spin, the port is whatever follows the last colon (so an
        // IPv6 host needs brackets and an explicit port).
        let (host, tail) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match tail.split_once('/') {
            Some((p, "")) => p,
            Some(_) => bail!("{url:?} has a path but is not allowed to"),
            None => tail,
        };
        let port = parse_port(port, scheme)
            .with_context(|| format!("Invalid allowed host port {port:?}"))?;
        let scheme = match scheme {
            "*" => None,
            s if s.starts_with('{') => {
                bail!("Invalid allowed host scheme {s:?}: scheme lists are not supported")
            }
            s if s.chars().all(char::is_alphabetic) => Some(s.to_string()),
            s => bail!("Invalid allowed host scheme {s:?}: only alphabetic characters are allowed"),
        };
        let host = parse_host(host).with_context(|| format!("Invalid allowed host {host:?}"))?;
        Ok(Self { scheme, host, port })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        if self.scheme.as_deref().is_some_and(|s| s != scheme) {
            return false;
        }
        let Ok(target) = literal_host(host) else {
            return false;
        };
        let host_ok = match (&self.host, &target) {
            (HostPattern::Any, _) => true,
            (HostPattern::AnySubdomain(suffix), HostPattern::Domain(d)) => d.ends_with(suffix),
            (HostPattern::Domain(a), HostPattern::Domain(b)) => a == b,
            (HostPattern::Ip(a), HostPattern::Ip(b)) => a == b,
            (HostPattern::Cidr(net, bits), HostPattern::Ip(ip)) => cidr_contains(*net, *bits, *ip),
            _ => false,
        };
        if !host_ok {
            return false;
        }
        match &self.port {
            PortPattern::Any => true,
            pattern => {
                let Some(port) = port.or_else(|| well_known_port(scheme)) else {
                    return false;
                };
                match pattern {
                    PortPattern::Port(p) => *p == port,
                    PortPattern::Range(a, b) => (*a..*b).contains(&port),
                    PortPattern::Any => true,
                }
            }
        }
    }

    fn allows_relative(&self) -> bool {
        let scheme_ok = self
            .scheme
            .as_deref()
            .is_none_or(|s| s == "http" || s == "https");
        scheme_ok && matches!(self.host, HostPattern::Any | HostPattern::ToSelf)
    }
}

fn cidr_contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(bits.min(32)))
                .unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(bits.min(128)))
                .unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// The load-time check of a component's `allowed_outbound_hosts`: every
/// literal entry must parse, and every template whose variables all have
/// defaults must parse once expanded with those defaults. `defaults` maps
/// each declared variable to its default (`None`: required).
pub fn validate(entries: &[String], defaults: &BTreeMap<&str, Option<&str>>) -> Result<()> {
    refuse_allow_all(entries)?;
    for entry in entries {
        let parts = parse_template(entry)?;
        if parts.iter().all(|p| matches!(p, Part::Lit(_))) {
            AllowedHost::parse(entry)?;
            continue;
        }
        let mut expanded = String::new();
        let mut shown = String::new();
        let mut checkable = true;
        for part in &parts {
            match part {
                Part::Lit(l) => {
                    expanded.push_str(l);
                    shown.push_str(l);
                }
                Part::Expr(e) => {
                    shown.push_str(&format!("{{{{ {e} }}}}"));
                    // A variable without a default (or not declared) leaves
                    // the entry unchecked until run time, as in Spin.
                    match defaults.get(e.as_str()).copied().flatten() {
                        Some(v) => expanded.push_str(v),
                        None => checkable = false,
                    }
                }
            }
        }
        if checkable {
            AllowedHost::parse(&expanded).with_context(|| {
                format!(
                    "using default variable value(s) with template {shown:?} results in invalid config {expanded:?}"
                )
            })?;
        }
    }
    Ok(())
}

fn refuse_allow_all(entries: &[String]) -> Result<()> {
    if entries.len() == 1 && entries[0] == "insecure:allow-all" {
        bail!(
            "'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic'"
        );
    }
    Ok(())
}

/// A component's `allowed_outbound_hosts`, expanded with the resolved
/// variable values. If one entry does not parse, the whole list is unusable
/// and every request is denied, as in Spin.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    hosts: std::result::Result<Vec<AllowedHost>, String>,
}

impl Default for AllowedHosts {
    fn default() -> Self {
        Self { hosts: Ok(vec![]) }
    }
}

impl AllowedHosts {
    /// Expands and parses the manifest entries with the resolved values.
    /// `Err` is only for what Spin refuses at load already (template syntax,
    /// `insecure:allow-all`); an entry that the run-time values make invalid
    /// yields a list that denies everything (see [`AllowedHosts::error`]).
    pub fn parse(entries: &[String], vars: &Resolved) -> Result<Self> {
        refuse_allow_all(entries)?;
        let mut hosts = Vec::new();
        for entry in entries {
            let expanded = vars.expand(entry)?;
            match AllowedHost::parse(&expanded) {
                Ok(h) => hosts.push(h),
                Err(e) => {
                    return Ok(Self {
                        hosts: Err(format!("{entry:?} expands to {expanded:?}: {e:#}")),
                    });
                }
            }
        }
        Ok(Self { hosts: Ok(hosts) })
    }

    /// Why every outbound request is denied, if the list did not parse.
    pub fn error(&self) -> Option<&str> {
        self.hosts.as_ref().err().map(String::as_str)
    }

    /// Whether an absolute URL's scheme, host and port are allowed.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.hosts
            .as_ref()
            .is_ok_and(|hs| hs.iter().any(|h| h.allows(scheme, host, port)))
    }

    /// Whether relative (self) requests are allowed.
    pub fn allows_relative(&self) -> bool {
        self.hosts
            .as_ref()
            .is_ok_and(|hs| hs.iter().any(AllowedHost::allows_relative))
    }
}

/// wasi:http hooks of one instance: enforce the allow-list, then send.
#[derive(Debug, Clone)]
pub struct OutboundHooks {
    /// The component's allow-list.
    pub allowed: std::sync::Arc<AllowedHosts>,
    /// This host's listen address, for self-requests.
    pub self_addr: Option<SocketAddr>,
    /// Idle connections shared by every instance of the app.
    pub pool: ConnectionPool,
}

type SendFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> SendFuture {
        let uri = request.uri().clone();
        let host = uri.host().unwrap_or("");
        let is_self = host.is_empty() || host == "self.alt";
        let allowed = if is_self {
            match (self.allowed.allows_relative(), self.self_addr) {
                (true, Some(addr)) => {
                    // Spin sends self-requests to its own listener over the
                    // inbound scheme (plain http here).
                    let paq = uri.path_and_query().map_or("/", |p| p.as_str());
                    match format!("http://{addr}{paq}").parse() {
                        Ok(u) => {
                            *request.uri_mut() = u;
                            if let Ok(v) = http::HeaderValue::from_str(&addr.to_string()) {
                                request.headers_mut().insert(http::header::HOST, v);
                            }
                            true
                        }
                        Err(_) => false,
                    }
                }
                _ => false,
            }
        } else {
            let scheme = uri.scheme_str().unwrap_or("https");
            self.allowed.allows(scheme, host, uri.port_u16())
        };
        let pool = self.pool.clone();
        Box::new(async move {
            if !allowed {
                return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
            }
            if request.uri().scheme() == Some(&http::uri::Scheme::HTTP) && pool.enabled {
                return pool.send(request, options).await;
            }
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

type Sender = hyper::client::conn::http1::SendRequest<WasiBody>;

/// How long an idle connection is kept: hyper-util's legacy client default
/// (90 s), which Spin's pooled clients use unchanged.
const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// Outbound connection reuse for plain `http://` origins, as Spin 4.0.2 does
/// by default: its wasi:http sends go through `hyper_util`'s pooling legacy
/// `Client`, one per app shared by every instance, with pooling turned off
/// only by the runtime config's `connection_pooling = false`
/// (`crates/factor-outbound-http/src/wasi.rs` `HttpClients::new`,
/// `crates/factor-outbound-http/src/runtime_config.rs`: `connection_pooling_enabled:
/// true` by default; the same at `v3.6.3`). Here an HTTP/1 connection goes
/// back to the pool once its response body has been read to the end; a
/// response dropped early closes it. `https://` requests still get a new
/// connection each (wasmtime's `default_send_request`), as before.
#[derive(Clone)]
pub struct ConnectionPool {
    enabled: bool,
    idle: std::sync::Arc<std::sync::Mutex<Idle>>,
}

/// Idle connections per `host:port`, with the moment each became idle.
type Idle = std::collections::HashMap<String, Vec<(Sender, std::time::Instant)>>;

impl std::fmt::Debug for ConnectionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl ConnectionPool {
    /// A pool; `enabled: false` opens a connection per request, as Spin
    /// with `connection_pooling = false`.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            idle: Default::default(),
        }
    }

    fn take(&self, authority: &str) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let senders = idle.get_mut(authority)?;
        while let Some((sender, since)) = senders.pop() {
            if since.elapsed() < IDLE_TIMEOUT && sender.is_ready() {
                return Some(sender);
            }
        }
        None
    }

    /// Puts `sender` back once its connection can take the next request
    /// (the previous response was read to its end); a closed one is dropped.
    fn give_back(&self, authority: String, mut sender: Sender) {
        let pool = self.clone();
        tokio::spawn(async move {
            if sender.ready().await.is_ok() {
                let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
                idle.entry(authority)
                    .or_default()
                    .push((sender, std::time::Instant::now()));
            }
        });
    }

    async fn connect(
        authority: &str,
        timeout: std::time::Duration,
    ) -> wasmtime_wasi_http::Result<Sender> {
        use wasmtime_wasi_http::Error;
        let stream =
            match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(authority)).await {
                Ok(stream) => stream.map_err(Error::Connect)?,
                Err(_) => return Err(Error::ConnectionTimeout),
            };
        let _ = stream.set_nodelay(true);
        let (sender, conn) = tokio::time::timeout(
            timeout,
            hyper::client::conn::http1::handshake(wasmtime_wasi_http::io::TokioIo::new(stream)),
        )
        .await
        .map_err(|_| Error::ConnectionTimeout)??;
        // The connection lives as long as a sender (pooled or in use) does.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    async fn send(
        &self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> wasmtime_wasi_http::Result<(
        http::Response<WasiBody>,
        Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    )> {
        use wasmtime_wasi_http::Error;
        let uri = request.uri().clone();
        let authority = uri.authority().ok_or(Error::HttpRequestUriInvalid)?;
        let authority = match authority.port() {
            Some(_) => authority.to_string(),
            None => format!("{authority}:80"),
        };
        let connect_timeout = options
            .and_then(|o| o.connect_timeout)
            .unwrap_or(std::time::Duration::from_secs(600));
        let first_byte_timeout = options
            .and_then(|o| o.first_byte_timeout)
            .unwrap_or(std::time::Duration::from_secs(600));
        // Origin form on the wire, as `default_send_request` sends it.
        *request.uri_mut() = http::Uri::builder()
            .path_and_query(uri.path_and_query().map_or("/", |p| p.as_str()))
            .build()
            .map_err(|_| Error::HttpRequestUriInvalid)?;
        let response = async {
            // A pooled connection the upstream closed meanwhile gives the
            // request back unsent; it then goes on a new connection.
            if let Some(mut sender) = self.take(&authority) {
                match sender.try_send_request(request).await {
                    Ok(res) => return Ok((res, sender)),
                    Err(mut e) => match e.take_message() {
                        Some(unsent) => request = unsent,
                        None => return Err(Error::from(e.into_error())),
                    },
                }
            }
            let mut sender = Self::connect(&authority, connect_timeout).await?;
            let res = sender.send_request(request).await.map_err(Error::from)?;
            Ok((res, sender))
        };
        let (res, sender) = tokio::time::timeout(first_byte_timeout, response)
            .await
            .map_err(|_| Error::ConnectionReadTimeout)??;
        self.give_back(authority, sender);
        let res = res.map(|body| {
            body.map_err(|e| {
                if e.is_timeout() {
                    Error::HttpResponseTimeout
                } else {
                    Error::from(e)
                }
            })
            .boxed_unsync()
        });
        Ok((res, Box::new(async { Ok(()) })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str]) -> AllowedHosts {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        AllowedHosts::parse(&entries, &Resolved::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn ports_and_wildcards() {
        let a = allowed(&[
            "http://localhost",
            "https://*.example.com",
            "http://127.0.0.1:*",
        ]);
        assert!(a.allows("http", "localhost", None));
        assert!(a.allows("http", "localhost", Some(80)));
        assert!(!a.allows("http", "localhost", Some(8080)));
        assert!(a.allows("https", "api.example.com", None));
        assert!(!a.allows("https", "example.com", None));
        assert!(!a.allows("http", "api.example.com", None));
        assert!(a.allows("http", "127.0.0.1", Some(9001)));
        assert!(!a.allows_relative());
    }

    #[test]
    fn ranges_cidr_self() {
        let a = allowed(&[
            "*://10.0.0.0/8:8000..8010",
            "http://self",
            "http://[::1]:3000",
        ]);
        assert!(a.allows("http", "10.1.2.3", Some(8005)));
        assert!(!a.allows("http", "10.1.2.3", Some(8010)));
        assert!(a.allows_relative());
        assert!(a.allows("http", "[::1]", Some(3000)));
        let entries = vec!["insecure:allow-all".to_string()];
        assert!(AllowedHosts::parse(&entries, &Resolved::default()).is_err());
        assert!(AllowedHost::parse("localhost").is_err());
    }

    fn defaults<'a>(pairs: &[(&'a str, Option<&'a str>)]) -> BTreeMap<&'a str, Option<&'a str>> {
        pairs.iter().copied().collect()
    }

    fn refusal(entries: &[&str], vars: &[(&str, Option<&str>)]) -> String {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        match validate(&entries, &defaults(vars)) {
            Ok(()) => panic!("{entries:?} accepted"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn issue11_template_with_empty_default_is_refused_at_load() {
        // The entry Spin 4.0.2 refused in flowgate's own manifest.
        let e = refusal(
            &["{{ oidc_issuer_origin }}"],
            &[("oidc_issuer_origin", Some(""))],
        );
        assert!(
            e.starts_with(
                "using default variable value(s) with template \"{{ oidc_issuer_origin }}\" \
                 results in invalid config \"\": \"\" is not an allowed outbound host format."
            ),
            "{e}"
        );
        for bare in ["http://", "https://"] {
            let e = refusal(&["{{ o }}"], &[("o", Some(bare))]);
            assert!(e.contains("Invalid allowed host \"\": empty host"), "{e}");
        }
        let e = refusal(&["https://{{ h }}"], &[("h", Some("invalid host"))]);
        assert!(e.contains("invalid international domain name"), "{e}");
    }

    #[test]
    fn template_over_a_required_variable_is_checked_only_at_run_time() {
        let entries = vec!["{{ o }}".to_string()];
        assert!(validate(&entries, &defaults(&[("o", None)])).is_ok());
        assert!(validate(&entries, &defaults(&[("o", Some("https://ok.example"))])).is_ok());
    }

    #[test]
    fn invalid_literal_entries_are_refused_at_load() {
        assert!(refusal(&["example.com"], &[]).contains("does not contain a scheme"));
        assert!(refusal(&["https://example.com/path"], &[]).contains("must not include a path"));
        assert!(refusal(&["https://example.com:443/path"], &[]).contains("has a path"));
        assert!(refusal(&["https://example.com:http"], &[]).contains("is not a number"));
        assert!(refusal(&["ftp://example.com"], &[]).contains("known default port"));
        assert!(refusal(&["https://a.*.com"], &[]).contains("wildcards"));
        assert!(refusal(&["insecure:allow-all"], &[]).contains("insecure:allow-all"));
        assert!(refusal(&["https://{{ x"], &[]).contains("unmatched"));
    }

    #[test]
    fn runtime_value_that_is_no_host_denies_every_request_of_the_component() {
        let manifest = crate::manifest::Manifest::parse(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n\
             [variables]\nup = { default = \"http://127.0.0.1:9001\" }\no = { required = true }\n",
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
        let mut sources = crate::variables::VariableSources::default();
        sources.cli.insert("o".into(), String::new());
        let resolved = Resolved::resolve(&manifest, &sources).unwrap_or_else(|e| panic!("{e:#}"));
        let entries = vec!["{{ up }}".to_string(), "{{ o }}".to_string()];
        let hosts = AllowedHosts::parse(&entries, &resolved).unwrap_or_else(|e| panic!("{e:#}"));
        assert!(
            hosts
                .error()
                .is_some_and(|e| e.contains("\"{{ o }}\" expands to \"\""))
        );
        // Even the upstream that is listed and valid is denied now.
        assert!(!hosts.allows("http", "127.0.0.1", Some(9001)));
        assert!(!hosts.allows_relative());
    }
}
