//! Outbound HTTP: `allowed_outbound_hosts` parsed and enforced as Spin does.
//! Entries are `scheme://host[:port]` with `*` wildcards for scheme, host
//! (`*` or `*.domain`) and port (`*`, `N`, `A..B`); without a port, the
//! scheme's well-known port applies (so `http://localhost` allows port 80
//! only). Entries may be `{{ var }}` templates, expanded from the resolved
//! application variables; an entry that expands to "", `http://` or
//! `https://` is skipped. A request to a host not allowed fails with
//! `ErrorCode::HttpRequestDenied`, as in Spin. Relative URLs (and
//! `self.alt`) are self-requests: allowed by `self` or `*` host entries and
//! sent back to this host's own listener.

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, Result, bail};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

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
    let host = host.strip_suffix('/').unwrap_or(host);
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

/// A concrete host: an IP (IPv6 in brackets) or a domain name.
fn literal_host(host: &str) -> Result<HostPattern> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(HostPattern::Ip(ip));
    }
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    {
        bail!("invalid host {host:?}");
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
            bail!("{url:?} does not contain a scheme (e.g., 'http://' or '*://')");
        };
        // `rest` is host[:port][/]; a bracketed IPv6 host contains colons.
        let (host, port) = if let Some(end) = rest.find(']').filter(|_| rest.starts_with('[')) {
            let (h, tail) = rest.split_at(end + 1);
            (h, tail.strip_prefix(':').unwrap_or(tail))
        } else {
            match rest.rsplit_once(':') {
                None => (rest, ""),
                Some((h, tail)) => (h, tail),
            }
        };
        let port = match port.split_once('/') {
            Some((p, "")) => p,
            Some(_) => bail!("{url:?} has a path but is not allowed to"),
            None => port,
        };
        let port = parse_port(port, scheme)
            .with_context(|| format!("Invalid allowed host port {port:?}"))?;
        let scheme = match scheme {
            "*" => None,
            s if s.chars().all(char::is_alphabetic) && !s.is_empty() => Some(s.to_string()),
            s => bail!("Invalid allowed host scheme {s:?}"),
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

/// A component's `allowed_outbound_hosts`, parsed and expanded.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    hosts: Vec<AllowedHost>,
}

impl AllowedHosts {
    /// Parses the manifest entries, expanding templates.
    pub fn parse(entries: &[String], vars: &Resolved) -> Result<Self> {
        if entries.len() == 1 && entries[0] == "insecure:allow-all" {
            bail!(
                "'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic'"
            );
        }
        let mut hosts = Vec::new();
        for entry in entries {
            let expanded = vars.expand(entry)?;
            if expanded.is_empty() || expanded == "http://" || expanded == "https://" {
                continue;
            }
            hosts.push(AllowedHost::parse(&expanded)?);
        }
        Ok(Self { hosts })
    }

    /// Whether an absolute URL's scheme, host and port are allowed.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.hosts.iter().any(|h| h.allows(scheme, host, port))
    }

    /// Whether relative (self) requests are allowed.
    pub fn allows_relative(&self) -> bool {
        self.hosts.iter().any(AllowedHost::allows_relative)
    }
}

/// wasi:http hooks of one instance: enforce the allow-list, then send.
#[derive(Debug, Clone)]
pub struct OutboundHooks {
    /// The component's allow-list.
    pub allowed: std::sync::Arc<AllowedHosts>,
    /// This host's listen address, for self-requests.
    pub self_addr: Option<SocketAddr>,
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
        Box::new(async move {
            if !allowed {
                return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
            }
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
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
}
