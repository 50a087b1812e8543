//! Proxy mode: the allowed request goes to its flow's upstream, streamed in
//! both directions. Credentials, client-certificate headers, hop-by-hop
//! headers and anything claiming to be flowgate or Spin are removed; the
//! identity headers are added. The path sent is the normalised path that
//! was checked.

use futures::{SinkExt as _, StreamExt as _};
use spin_sdk::http::{
    Fields, IncomingRequest, IncomingResponse, OutgoingRequest, OutgoingResponse, ResponseOutparam,
    Scheme,
};

use flowgate::path::NormalPath;
use flowgate::policy::Upstream;

use crate::decide::Allowed;
use crate::respond::{self, identity_headers};

/// Request headers never passed to an upstream.
fn is_stripped(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        // Hop-by-hop (RFC 9110 7.6.1) and what the outbound request sets itself.
        "connection" | "keep-alive" | "proxy-connection" | "te" | "trailer" | "transfer-encoding"
            | "upgrade" | "host" | "proxy-authorization"
            // Credentials.
            | "authorization" | "x-api-key" | "cookie"
            // Client certificates forwarded by a TLS-terminating proxy.
            | "client-cert" | "client-cert-chain" | "x-forwarded-client-cert" | "x-client-cert"
            | "x-ssl-client-cert"
    ) || name.starts_with("x-flowgate-")
        || name.starts_with("spin-")
}

/// Response headers never passed back to the caller.
fn is_hop_by_hop(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Splits an origin `scheme://authority` into its parts.
fn origin_parts(origin: &str) -> Option<(Scheme, &str)> {
    let (scheme, authority) = if let Some(a) = origin.strip_prefix("http://") {
        (Scheme::Http, a)
    } else if let Some(a) = origin.strip_prefix("https://") {
        (Scheme::Https, a)
    } else {
        return None;
    };
    let authority = authority.trim_end_matches('/');
    (!authority.is_empty() && !authority.contains('/')).then_some((scheme, authority))
}

/// Forwards the allowed `request` to its flow's upstream and streams the answer.
pub async fn forward(
    request: IncomingRequest,
    out: ResponseOutparam,
    method: &str,
    path: &NormalPath,
    query: Option<&str>,
    headers: &[(String, Vec<u8>)],
    allowed: &Allowed,
) {
    let origin = match &allowed.flow.upstream {
        Some(Upstream::Url(url)) => Some(url.to_string()),
        Some(Upstream::Variable(name)) => flowgate_spin::dynamic_variable(name),
        None => None,
    };
    let Some((scheme, authority)) = origin.as_deref().and_then(origin_parts) else {
        eprintln!(
            "flowgate authorizer: flow {} has no usable upstream",
            allowed.flow.id
        );
        respond::send(out, respond::json(502, "bad_gateway"));
        return;
    };

    let mut forwarded: Vec<(String, Vec<u8>)> = headers
        .iter()
        .filter(|(name, _)| !is_stripped(name))
        .cloned()
        .collect();
    forwarded.extend(identity_headers(allowed));
    let Ok(fields) = Fields::from_list(&forwarded) else {
        respond::send(out, respond::json(400, "invalid_headers"));
        return;
    };
    let outgoing = OutgoingRequest::new(fields);
    let path_with_query = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let method = match method {
        "GET" => spin_sdk::http::Method::Get,
        "HEAD" => spin_sdk::http::Method::Head,
        "POST" => spin_sdk::http::Method::Post,
        "PUT" => spin_sdk::http::Method::Put,
        "PATCH" => spin_sdk::http::Method::Patch,
        "DELETE" => spin_sdk::http::Method::Delete,
        "OPTIONS" => spin_sdk::http::Method::Options,
        other => spin_sdk::http::Method::Other(other.to_owned()),
    };
    if outgoing.set_method(&method).is_err()
        || outgoing.set_scheme(Some(&scheme)).is_err()
        || outgoing.set_authority(Some(authority)).is_err()
        || outgoing
            .set_path_with_query(Some(&path_with_query))
            .is_err()
    {
        respond::send(out, respond::json(502, "bad_gateway"));
        return;
    }

    // Stream the request body while the upstream answers.
    let mut upstream_body = outgoing.take_body();
    let copy_request = async move {
        let mut body = request.into_body_stream();
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => upstream_body.send(bytes).await.map_err(|_| ())?,
                Err(_) => return Err(()),
            }
        }
        upstream_body.close().await.map_err(|_| ())
    };
    let (copied, response) = futures::join!(
        copy_request,
        spin_sdk::http::send::<_, IncomingResponse>(outgoing)
    );
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "flowgate authorizer: upstream of flow {} failed: {e}",
                allowed.flow.id
            );
            let timeout = e.to_string().to_ascii_lowercase().contains("timeout");
            let reply = if timeout {
                respond::json(504, "gateway_timeout")
            } else {
                respond::json(502, "bad_gateway")
            };
            respond::send(out, reply);
            return;
        }
    };
    if copied.is_err() {
        eprintln!(
            "flowgate authorizer: request body to flow {} broke off",
            allowed.flow.id
        );
    }

    let back: Vec<(String, Vec<u8>)> = response
        .headers()
        .entries()
        .into_iter()
        .filter(|(name, _)| !is_hop_by_hop(name))
        .collect();
    let Ok(fields) = Fields::from_list(&back) else {
        respond::send(out, respond::json(502, "bad_gateway"));
        return;
    };
    let reply = OutgoingResponse::new(fields);
    let _ = reply.set_status_code(response.status());
    let mut caller_body = reply.take_body();
    out.set(reply);
    let mut upstream = response.take_body_stream();
    while let Some(chunk) = upstream.next().await {
        let Ok(bytes) = chunk else { break };
        if caller_body.send(bytes).await.is_err() {
            break;
        }
    }
    let _ = caller_body.close().await;
}
