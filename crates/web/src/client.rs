//! Who is asking: the client's address through the reverse proxies the deployment trusts,
//! the key rate limits count it under, and what ballot intake keeps of it.

use crate::{csrf, state::Shared};
use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{HeaderMap, header, request::Parts},
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;
use minping_domain::integrity::{ClientFacts, canonical, rate_limit_key};
use std::{convert::Infallible, net::IpAddr, net::SocketAddr};
use tower_governor::{GovernorError, key_extractor::KeyExtractor};

/// The client's address, as [`identify`] worked it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client behind `peer`: when the peer is a trusted proxy, the rightmost address of
/// `X-Forwarded-For` that is not itself trusted (a client can write anything to the left
/// of what the proxies append, so only the proxies' own entries are believed). When every
/// entry is trusted, or one is not an address, the last trusted hop is the client.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let mut client = canonical(peer);
    if !is_trusted(&client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = canonical(ip);
        if !is_trusted(&client) {
            return client;
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, maybe with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(sa) = hop.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse().ok())
}

/// Middleware: puts the [`ClientAddr`] of every request into its extensions, for the rate
/// limits and ballot intake. Requests without a peer address (in-process tests) get none.
pub async fn identify(State(state): State<Shared>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = client_addr(peer, req.headers(), &state.trusted_proxies);
        req.extensions_mut().insert(ClientAddr(client));
    }
    next.run(req).await
}

/// The key rate limits count a client under: its address, or its IPv6 /64.
#[derive(Debug, Clone, Copy)]
pub struct ClientKey;

impl KeyExtractor for ClientKey {
    type Key = IpAddr;

    fn extract<T>(&self, req: &axum::http::Request<T>) -> Result<IpAddr, GovernorError> {
        req.extensions()
            .get::<ClientAddr>()
            .map(|c| rate_limit_key(c.0))
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// What ballot intake keeps of the client (as keyed hashes): its address, browser
/// signature and the site's own cookie.
#[derive(Debug, Clone, Default)]
pub struct Client(pub ClientFacts);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let header = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(512).collect::<String>())
        };
        Ok(Client(ClientFacts {
            addr: parts.extensions.get::<ClientAddr>().map(|c| c.0),
            user_agent: header(header::USER_AGENT),
            accept_language: header(header::ACCEPT_LANGUAGE),
            // The CSRF cookie is the site's one first-party cookie: a browser keeps it for
            // the whole visit, so it tells one browser sending many ballots.
            cookie: csrf::cookie(&parts.headers, csrf::COOKIE).map(String::from),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_peer_is_believed_and_only_for_what_proxies_appended() {
        let trusted: Vec<IpNet> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        // No trusted proxies: the peer is the client, whatever the header says.
        assert_eq!(
            client_addr(ip("203.0.113.5"), &headers(&["1.1.1.1"]), &[]),
            ip("203.0.113.5")
        );
        // An untrusted peer cannot forge its address.
        assert_eq!(
            client_addr(ip("203.0.113.5"), &headers(&["1.1.1.1"]), &trusted),
            ip("203.0.113.5")
        );
        // A trusted peer: the rightmost untrusted entry, skipping trusted hops.
        assert_eq!(
            client_addr(
                ip("127.0.0.1"),
                &headers(&["6.6.6.6, 198.51.100.7, 10.1.2.3"]),
                &trusted
            ),
            ip("198.51.100.7")
        );
        // Several headers count as one list, in order.
        assert_eq!(
            client_addr(
                ip("127.0.0.1"),
                &headers(&["6.6.6.6", "198.51.100.8"]),
                &trusted
            ),
            ip("198.51.100.8")
        );
        // No header, or garbage from the client: the last trusted hop.
        assert_eq!(
            client_addr(ip("127.0.0.1"), &headers(&[]), &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_addr(ip("127.0.0.1"), &headers(&["not an address"]), &trusted),
            ip("127.0.0.1")
        );
        // Ports and brackets, and IPv4-mapped IPv6.
        assert_eq!(
            client_addr(ip("127.0.0.1"), &headers(&["[2001:db8::1]:443"]), &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_addr(
                ip("::ffff:127.0.0.1"),
                &headers(&["192.0.2.1:80"]),
                &trusted
            ),
            ip("192.0.2.1")
        );
    }
}
