//! Whose request it is: the address the connection comes from or, when that is a proxy
//! `--trusted-proxies` names, the client it forwards for, from `X-Forwarded-For`. Nobody
//! else is believed: a client can write any `X-Forwarded-For` it likes.
//!
//! The middleware puts a [`ClientAddress`] in every request's extensions, where the
//! handlers and Socket.IO (its sockets keep the handshake request) find it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

/// The client a request comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

/// Addresses (`10.0.0.7`) and networks (`10.0.0.0/8`, `fd00::/8`) of the proxies whose
/// `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<(IpAddr, u8)>,
}

/// An entry of `--trusted-proxies` that is not an address or a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an address or network (10.0.0.7, 10.0.0.0/8): {0:?}")]
pub struct BadProxy(String);

impl TrustedProxies {
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Result<Self, BadProxy> {
        let networks = entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                let bad = || BadProxy(entry.to_owned());
                let (address, bits) = match entry.split_once('/') {
                    Some((address, bits)) => (address, Some(bits)),
                    None => (entry, None),
                };
                let address: IpAddr = address.parse().map_err(|_| bad())?;
                let most = if address.is_ipv4() { 32 } else { 128 };
                let bits = match bits {
                    Some(bits) => bits
                        .parse::<u8>()
                        .ok()
                        .filter(|b| *b <= most)
                        .ok_or_else(bad)?,
                    None => most,
                };
                Ok((address, bits))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { networks })
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.networks
            .iter()
            .any(|(network, bits)| in_network(address, *network, *bits))
    }

    /// The client of a request that came from `peer`: `peer` itself unless it is a trusted
    /// proxy; then, walking `X-Forwarded-For` from its right end (the proxies append to
    /// it, so the entries to the left are the client's own to write), the first address
    /// that is not a trusted proxy. An entry that is no address ends the walk: what is left
    /// of it cannot be believed.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        let mut client = peer;
        for entry in entries.into_iter().rev() {
            let Some(address) = forwarded_address(entry) else {
                break;
            };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: an address, or one with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:5678`), as some proxies write them.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

fn in_network(address: IpAddr, network: IpAddr, bits: u8) -> bool {
    let (address, network, width) = match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(a.to_bits()), u128::from(n.to_bits()), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (a.to_bits(), n.to_bits(), 128),
        // An IPv4 client seen through an IPv6 socket.
        (IpAddr::V6(a), IpAddr::V4(_)) => match a.to_ipv4_mapped() {
            Some(a) => return in_network(IpAddr::V4(a), network, bits),
            None => return false,
        },
        (IpAddr::V4(_), IpAddr::V6(_)) => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (address >> shift) == (network >> shift)
}

/// Middleware: notes the request's [`ClientAddress`].
pub async fn note_client_address(
    State(trusted): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    if let Some(peer) = peer {
        let client = trusted.client_of(peer, request.headers());
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_str(value).expect("value"),
        );
        headers
    }

    #[test]
    fn nobody_is_believed_by_default() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_of(ip("203.0.113.9"), &forwarded("1.2.3.4")),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_nothing_left_of_it_counts() {
        let trusted = TrustedProxies::new(&["10.0.0.0/8", "127.0.0.1"]).expect("valid");
        let proxy = ip("10.1.2.3");
        assert_eq!(
            trusted.client_of(proxy, &forwarded("198.51.100.7")),
            ip("198.51.100.7")
        );
        // The client wrote `6.6.6.6` itself; the proxy appended the real address.
        assert_eq!(
            trusted.client_of(proxy, &forwarded("6.6.6.6, 198.51.100.7")),
            ip("198.51.100.7")
        );
        // Two proxies of ours in a row.
        assert_eq!(
            trusted.client_of(proxy, &forwarded("198.51.100.7, 10.9.9.9")),
            ip("198.51.100.7")
        );
        // Nothing forwarded, or garbage: the proxy itself.
        assert_eq!(trusted.client_of(proxy, &HeaderMap::new()), proxy);
        assert_eq!(trusted.client_of(proxy, &forwarded("unknown")), proxy);
        // Garbage the client wrote, left of what the proxy appended, changes nothing.
        assert_eq!(
            trusted.client_of(proxy, &forwarded("garbage, 198.51.100.7")),
            ip("198.51.100.7")
        );
        // Addresses with ports, as some proxies write them.
        assert_eq!(
            trusted.client_of(proxy, &forwarded("198.51.100.7:4242")),
            ip("198.51.100.7")
        );
        assert_eq!(
            trusted.client_of(proxy, &forwarded("[2001:db8::7]:4242")),
            ip("2001:db8::7")
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            trusted.client_of(ip("192.0.2.1"), &forwarded("198.51.100.7")),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn networks_match_by_prefix_in_both_families() {
        let trusted =
            TrustedProxies::new(&["192.168.0.0/16", "fd00::/8", "0.0.0.0/0"]).expect("valid");
        assert!(trusted.trusts(ip("192.168.44.1")));
        assert!(trusted.trusts(ip("fd12::1")));
        assert!(trusted.trusts(ip("8.8.8.8")), "/0 is everyone");
        let narrow = TrustedProxies::new(&["192.168.1.0/24"]).expect("valid");
        assert!(!narrow.trusts(ip("192.168.2.1")));
        assert!(
            narrow.trusts(ip("::ffff:192.168.1.9")),
            "IPv4 through an IPv6 socket"
        );
        assert!(!narrow.trusts(ip("fe80::1")));
    }

    #[test]
    fn what_is_not_a_network_is_refused() {
        for bad in ["", "10.0.0.0/33", "::/129", "proxy.example", "10.0.0.0/x"] {
            assert!(TrustedProxies::new(&[bad]).is_err(), "{bad}");
        }
    }
}
