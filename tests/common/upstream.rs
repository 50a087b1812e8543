//! A loopback upstream for proxy-mode tests: records every request it gets
//! and answers `200` with `upstream saw <method> <path>` (a
//! [`Programmed`] server with that one handler).

use std::sync::{Arc, Mutex};

use super::servers::Programmed;

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Request target (path and query) exactly as received.
    pub target: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Seen {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (lower case), in order.
    pub fn values(&self, name: &str) -> Vec<&str> {
        values(&self.headers, name)
    }
}

/// Every value of header `name` in `headers`, in order.
pub fn values<'h>(headers: &'h [(String, String)], name: &str) -> Vec<&'h str> {
    headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Upstreams for both example flows, `orders` and `reports`, and `options`
/// pointing flowgate at them, so that a request that reaches a flow is seen.
pub fn for_both_flows(options: super::Options) -> (super::Options, Upstream, Upstream) {
    let (orders, reports) = (Upstream::start(), Upstream::start());
    let options = options
        .variable("orders_upstream", Some(&orders.origin()))
        .variable("reports_upstream", Some(&reports.origin()));
    (options, orders, reports)
}

/// A running upstream.
pub struct Upstream {
    /// Its port.
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    server: Programmed,
}

impl Upstream {
    /// Starts serving on a free loopback port, in a background thread.
    pub fn start() -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let server = Programmed::start(move |head, conn| {
            let body = conn.body(head)?;
            let answer = format!("upstream saw {} {}", head.method, head.target);
            if let Ok(mut seen) = record.lock() {
                seen.push(Seen {
                    method: head.method.clone(),
                    target: head.target.clone(),
                    headers: head.headers.clone(),
                    body,
                });
            }
            conn.answer(
                200,
                &[("Content-Type", "text/plain"), ("X-Upstream", "yes")],
                answer.as_bytes(),
            )
        });
        Self {
            port: server.port,
            seen,
            server,
        }
    }

    /// The origin to give flowgate.
    pub fn origin(&self) -> String {
        self.server.origin()
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
