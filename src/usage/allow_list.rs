//! IP allow-lists: IPv4 and IPv6 CIDRs, and the one rule that says which
//! client address they are checked against.
//!
//! The address is the connection's (`spin-client-addr`, which Spin 4.0.2
//! appends after the client's own headers, `crates/trigger-http/src/
//! headers.rs` at tag v4.0.2: the last one is Spin's), unless the request
//! comes from the trusted proxy (it carries the proxy token, the rule that
//! already decides whether a forwarded client certificate is believed): then
//! the last `X-Forwarded-For` entry, the address that proxy saw. A client's
//! own `X-Forwarded-For` is never read without the proxy token.

use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most entries of one allow-list.
pub const MAX_ENTRIES: usize = 64;

/// An address block: network address and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why an allow-list entry is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IPv4 or IPv6 address or CIDR block with its host bits zero")]
pub struct CidrError(pub String);

impl Cidr {
    /// Whether `ip` lies inside the block. An IPv4-mapped IPv6 address
    /// counts as its IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || CidrError(text.chars().take(64).collect());
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        let cidr = Cidr { network, prefix };
        // Host bits set (10.0.0.1/8) is most likely a mistake: refuse it.
        if !cidr.contains(network) || cidr.to_string() != canonical(network, prefix) {
            return Err(bad());
        }
        Ok(cidr)
    }
}

fn canonical(network: IpAddr, prefix: u8) -> String {
    let masked = match network {
        IpAddr::V4(n) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(n) & mask).into())
        }
        IpAddr::V6(n) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(n) & mask).into())
        }
    };
    format!("{masked}/{prefix}")
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses the API's `allowed_ips` value, canonical and deduplicated.
pub fn parse(value: &serde_json::Value) -> Result<Vec<Cidr>, String> {
    let items = value
        .as_array()
        .ok_or_else(|| "must be an array of CIDR strings".to_owned())?;
    if items.len() > MAX_ENTRIES {
        return Err(format!("at most {MAX_ENTRIES} entries"));
    }
    let mut out: Vec<Cidr> = Vec::new();
    for item in items {
        let text = item
            .as_str()
            .ok_or_else(|| "must be an array of CIDR strings".to_owned())?;
        let cidr: Cidr = text.parse().map_err(|e: CidrError| e.to_string())?;
        if !out.contains(&cidr) {
            out.push(cidr);
        }
    }
    Ok(out)
}

/// Parses one address as a header carries it: `ip`, `ip:port`,
/// `[v6]:port`.
fn address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    text.parse::<std::net::SocketAddr>().ok().map(|s| s.ip())
}

/// The client address an allow-list is checked against: with
/// `from_trusted_proxy`, the last entry of the last `X-Forwarded-For`
/// header (what the trusted proxy appended); otherwise the last
/// `spin-client-addr` header (Spin's own, after any the client sent).
/// `None` when the chosen header is absent or unparsable: an account with an
/// allow-list is then refused.
pub fn client_address<'a>(
    headers: impl Iterator<Item = (&'a str, &'a [u8])> + Clone,
    from_trusted_proxy: bool,
) -> Option<IpAddr> {
    let last = |name: &str| {
        headers
            .clone()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .last()
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    };
    if from_trusted_proxy {
        last("x-forwarded-for")?
            .rsplit(',')
            .next()
            .and_then(address)
    } else {
        last("spin-client-addr").and_then(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().expect("valid cidr")
    }

    #[test]
    fn v4_and_v6_blocks_contain_their_addresses_only() {
        let v4 = cidr("192.168.0.0/16");
        assert!(v4.contains("192.168.3.4".parse().expect("ip")));
        assert!(!v4.contains("192.169.0.1".parse().expect("ip")));
        assert!(v4.contains("::ffff:192.168.9.9".parse().expect("ip")));
        let v6 = cidr("2001:db8::/32");
        assert!(v6.contains("2001:db8:1::5".parse().expect("ip")));
        assert!(!v6.contains("2001:db9::1".parse().expect("ip")));
        assert!(!v6.contains("192.168.3.4".parse().expect("ip")));
        assert!(cidr("0.0.0.0/0").contains("8.8.8.8".parse().expect("ip")));
        assert_eq!(cidr("10.1.2.3").to_string(), "10.1.2.3/32");
    }

    #[test]
    fn malformed_or_host_bits_set_blocks_are_refused() {
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "nonsense",
            "2001:db8::1/32",
            "::/129",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_the_trusted_proxy() {
        let headers: Vec<(&str, &[u8])> = vec![
            ("spin-client-addr", b"6.6.6.6:1"),
            ("X-Forwarded-For", b"7.7.7.7, 10.0.0.9"),
            ("spin-client-addr", b"127.0.0.1:5555"),
        ];
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(
            client_address(headers.iter().copied(), false),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            client_address(headers.iter().copied(), true),
            Some(ip("10.0.0.9"))
        );
        let no_xff: Vec<(&str, &[u8])> = vec![("spin-client-addr", b"[::1]:80")];
        assert_eq!(client_address(no_xff.iter().copied(), true), None);
        assert_eq!(
            client_address(no_xff.iter().copied(), false),
            Some(ip("::1"))
        );
    }
}
