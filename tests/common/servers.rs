//! Loopback servers for proxy-mode and gateway tests: an upstream whose
//! answer each test writes itself (on the raw socket, so it can stream, stall
//! or break off), a server that accepts and never answers, and a port that
//! nobody listens on.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The request line and headers of one request.
#[derive(Debug, Clone)]
pub struct Head {
    /// Method.
    pub method: String,
    /// Request target exactly as received.
    pub target: String,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (lower case), in order.
    pub fn values(&self, name: &str) -> Vec<&str> {
        super::upstream::values(&self.headers, name)
    }

    /// Every header name.
    pub fn names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }
}

/// One accepted connection, after its head was read.
pub struct Conn {
    /// Buffered reader over the socket (the body comes from here).
    pub reader: BufReader<TcpStream>,
    /// The same socket, for the answer.
    pub writer: TcpStream,
}

impl Conn {
    /// Reads the whole body that `head` announces (Content-Length or chunked).
    pub fn body(&mut self, head: &Head) -> std::io::Result<Vec<u8>> {
        let mut body = Vec::new();
        self.body_with(head, |chunk| body.extend_from_slice(chunk))?;
        Ok(body)
    }

    /// Reads the body that `head` announces, handing each piece to `each`
    /// as it arrives.
    pub fn body_with(&mut self, head: &Head, mut each: impl FnMut(&[u8])) -> std::io::Result<()> {
        let chunked = head
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            loop {
                let mut line = String::new();
                self.reader.read_line(&mut line)?;
                let size = line.trim().split(';').next().unwrap_or_default();
                let size = usize::from_str_radix(size, 16)
                    .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
                if size == 0 {
                    // Trailers, then the empty line.
                    loop {
                        let mut t = String::new();
                        self.reader.read_line(&mut t)?;
                        if t.trim().is_empty() {
                            return Ok(());
                        }
                    }
                }
                self.copy(size, &mut each)?;
                let mut crlf = [0u8; 2];
                self.reader.read_exact(&mut crlf)?;
            }
        }
        let length = head
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.copy(length, &mut each)
    }

    fn copy(&mut self, mut left: usize, each: &mut impl FnMut(&[u8])) -> std::io::Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = left.min(buf.len());
            let n = self.reader.read(&mut buf[..want])?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            each(&buf[..n]);
            left -= n;
        }
        Ok(())
    }

    /// Writes a complete answer with a Content-Length body.
    pub fn answer(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<()> {
        let mut head = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        self.writer.write_all(head.as_bytes())?;
        self.writer.write_all(body)?;
        self.writer.flush()
    }
}

fn read_head(reader: &mut BufReader<TcpStream>) -> std::io::Result<Head> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    Ok(Head {
        method,
        target,
        headers,
    })
}

/// An upstream that hands every request to a test-written handler, one
/// thread per connection, and records each request head.
pub struct Programmed {
    /// Its port.
    pub port: u16,
    heads: Arc<Mutex<Vec<Head>>>,
}

impl Programmed {
    /// Starts serving on a free loopback port.
    pub fn start<F>(handler: F) -> Self
    where
        F: Fn(&Head, &mut Conn) -> std::io::Result<()> + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let port = listener.local_addr().expect("addr").port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&heads);
        let handler = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let record = Arc::clone(&record);
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || {
                    let Ok(writer) = stream.try_clone() else {
                        return;
                    };
                    let mut conn = Conn {
                        reader: BufReader::new(stream),
                        writer,
                    };
                    let Ok(head) = read_head(&mut conn.reader) else {
                        return;
                    };
                    if let Ok(mut r) = record.lock() {
                        r.push(head.clone());
                    }
                    if let Err(e) = handler(&head, &mut conn) {
                        eprintln!("test upstream: {e}");
                    }
                });
            }
        });
        Self { port, heads }
    }

    /// The origin to give flowgate.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request head seen so far.
    pub fn heads(&self) -> Vec<Head> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

/// A server that accepts connections, reads nothing and never answers.
pub struct Silent {
    /// Its port.
    pub port: u16,
    accepted: Arc<Mutex<Vec<TcpStream>>>,
}

impl Silent {
    /// Starts listening on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind silent server");
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                // Held open, never written to.
                if let Ok(mut k) = keep.lock() {
                    k.push(stream);
                }
            }
        });
        Self { port, accepted }
    }

    /// The origin to give flowgate.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many connections it accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.lock().map(|a| a.len()).unwrap_or_default()
    }
}

/// A loopback port that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

/// `len` bytes of a pattern that depends on `seed`, so that two bodies of
/// the same length differ and a shifted or truncated copy is noticed.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut state = u32::from(seed) | 0x9e37_0000;
    (0..len)
        .map(|_| {
            // xorshift32: cheap and never constant.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Connects to `port` on loopback with a read timeout.
pub fn connect(port: u16, read_timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(read_timeout))
        .expect("read timeout");
    stream
}

/// An OpenID Connect issuer on loopback: serves its discovery document and
/// a JWKS of the Ed25519 keys published so far, one thread per connection.
pub struct OidcIssuer {
    server: Programmed,
    keys: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl OidcIssuer {
    /// Starts serving, with no key published yet.
    pub fn start() -> Self {
        let keys = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
        let served = Arc::clone(&keys);
        let origin = Arc::new(std::sync::OnceLock::<String>::new());
        let me = Arc::clone(&origin);
        let server = Programmed::start(move |head, conn| {
            let origin = me.get().cloned().unwrap_or_default();
            let body = match head.target.as_str() {
                "/.well-known/openid-configuration" => {
                    serde_json::json!({ "issuer": origin, "jwks_uri": format!("{origin}/jwks") })
                }
                "/jwks" => {
                    let keys = served.lock().map(|k| k.clone()).unwrap_or_default();
                    serde_json::json!({ "keys": keys })
                }
                _ => return conn.answer(404, &[], b""),
            };
            conn.answer(
                200,
                &[("Content-Type", "application/json")],
                body.to_string().as_bytes(),
            )
        });
        let _ = origin.set(server.origin());
        Self { server, keys }
    }

    /// Its origin: the issuer identifier.
    pub fn origin(&self) -> String {
        self.server.origin()
    }

    /// Adds `key` to the JWKS as key id `kid`.
    pub fn publish(&self, kid: &str, key: &jwt_simple::prelude::Ed25519PublicKey) {
        use base64::Engine as _;
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.to_bytes());
        if let Ok(mut keys) = self.keys.lock() {
            keys.push(serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x }));
        }
    }

    /// Adds the RSA `key` to the JWKS as key id `kid` (an `RS256` key).
    pub fn publish_rsa(&self, kid: &str, key: &jwt_simple::prelude::RS256PublicKey) {
        use base64::Engine as _;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let parts = key.to_components();
        if let Ok(mut keys) = self.keys.lock() {
            keys.push(serde_json::json!({
                "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
                "n": b64(&parts.n), "e": b64(&parts.e),
            }));
        }
    }

    /// Removes every key with id `kid` from the JWKS.
    pub fn withdraw(&self, kid: &str) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.retain(|k| k["kid"] != kid);
        }
    }
}

/// Claims of a token from `issuer` for `subject` and `audience` that
/// expired `seconds_ago` (issued ten minutes before that), for a key to
/// sign.
pub fn expired_claims(
    issuer: &str,
    subject: &str,
    audience: &str,
    seconds_ago: u64,
) -> jwt_simple::prelude::JWTClaims<jwt_simple::prelude::NoCustomClaims> {
    use jwt_simple::prelude::{Claims, Clock, Duration};
    let now = Clock::now_since_epoch();
    let mut claims = Claims::create(Duration::from_secs(600))
        .with_issuer(issuer)
        .with_subject(subject)
        .with_audience(audience);
    claims.expires_at = Some(now - Duration::from_secs(seconds_ago));
    claims.issued_at = Some(now - Duration::from_secs(seconds_ago + 600));
    claims.invalid_before = claims.issued_at;
    claims
}

/// An [`OidcIssuer`] that publishes the public half of `key` as key id `k1`.
pub fn oidc_issuer(key: &jwt_simple::prelude::Ed25519KeyPair) -> OidcIssuer {
    let issuer = OidcIssuer::start();
    issuer.publish("k1", &key.public_key());
    issuer
}
