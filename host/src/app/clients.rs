//! Who sent a request, and how fast one client may send.
//!
//! The client is the connection's peer, unless the peer is one of
//! `server.trusted_proxies`: then it is the nearest address in
//! `X-Forwarded-For` that is not a trusted proxy itself, read right to left
//! (each proxy appends the address it received from). Entries left of that
//! one were written by the client and are never believed.

use super::limits::retry_after_seconds;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies { networks }
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.networks.iter().any(|network| network.contains(&address))
    }

    /// The client of a request from `peer` carrying these `X-Forwarded-For`
    /// header values (in the order received).
    pub fn client_of<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for.flat_map(|value| value.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An entry no proxy of ours could have written: the address
            // that reported it is the last one known.
            let Some(address) = parse_hop(hop) else { return client };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (nginx
/// and Caddy write none; some proxies write "1.2.3.4:5678" or "[::1]:80").
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(|address| address.to_canonical())
}

/// A client is over `server.client_rate_limit_per_second`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "client {client} is over its rate limit (server.client_rate_limit_per_second, server.client_rate_limit_burst); nothing was stored, retry after {seconds} s"
)]
pub struct ClientRateLimited {
    pub client: IpAddr,
    pub seconds: u32,
}

/// How many clients the limiter remembers before it forgets those that
/// are back at full burst (a flood from many addresses must not grow it
/// without bound).
const FORGET_ABOVE: usize = 10_000;
/// Also forget idle clients every this many checks.
const FORGET_EVERY: u64 = 4096;

/// Webhook requests per client address, across all sources.
pub struct ClientRateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl ClientRateLimit {
    /// `None` when `per_second` is 0 (no limit).
    pub fn new(per_second: u32, burst: u32) -> Option<ClientRateLimit> {
        let rate = NonZeroU32::new(per_second)?;
        let burst = NonZeroU32::new(burst).unwrap_or(rate);
        Some(ClientRateLimit {
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            checks: AtomicU64::new(0),
        })
    }

    /// One request of `client` against its limit.
    pub fn check(&self, client: IpAddr) -> Result<(), ClientRateLimited> {
        let checked = self.limiter.check_key(&limit_key(client)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ClientRateLimited { client, seconds: retry_after_seconds(wait) }
        });
        let checks = self.checks.fetch_add(1, Ordering::Relaxed);
        if checks.is_multiple_of(FORGET_EVERY) || self.limiter.len() > FORGET_ABOVE {
            self.limiter.retain_recent();
        }
        checked
    }
}

/// The key a client is counted under: its address, or for IPv6 its /64
/// (one host usually holds a whole /64, and could otherwise switch address
/// at every request).
pub(super) fn limit_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(address) => {
            let bits = u128::from(address) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(networks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(networks.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let client = proxies(&["10.0.0.0/8"]).client_of(ip("203.0.113.9"), ["1.2.3.4"].into_iter());
        assert_eq!(client, ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "127.0.0.1/32"]);
        // The client wrote "6.6.6.6" itself; the outer proxy appended
        // 198.51.100.7, the inner one 10.1.1.1.
        let headers = ["6.6.6.6, 198.51.100.7", "10.1.1.1"];
        assert_eq!(trusted.client_of(ip("127.0.0.1"), headers.into_iter()), ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_peer_without_a_header_is_the_client() {
        let trusted = proxies(&["127.0.0.1/32"]);
        assert_eq!(trusted.client_of(ip("127.0.0.1"), std::iter::empty()), ip("127.0.0.1"));
    }

    #[test]
    fn garbage_in_the_header_stops_at_the_last_hop_that_is_known() {
        let trusted = proxies(&["127.0.0.1/32", "10.0.0.0/8"]);
        let headers = ["not-an-address, 10.2.2.2"];
        assert_eq!(trusted.client_of(ip("127.0.0.1"), headers.into_iter()), ip("10.2.2.2"));
    }

    #[test]
    fn hops_with_ports_and_mapped_addresses_are_read() {
        let trusted = proxies(&["127.0.0.1/32"]);
        assert_eq!(
            trusted.client_of(ip("::ffff:127.0.0.1"), ["198.51.100.7:4431"].into_iter()),
            ip("198.51.100.7")
        );
        assert_eq!(
            trusted.client_of(ip("127.0.0.1"), ["[2001:db8::1]:443"].into_iter()),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn one_client_over_its_limit_does_not_limit_another() {
        let limit = ClientRateLimit::new(1, 2).unwrap();
        assert!(limit.check(ip("198.51.100.1")).is_ok());
        assert!(limit.check(ip("198.51.100.1")).is_ok());
        let refused = limit.check(ip("198.51.100.1")).unwrap_err();
        assert!((1..60).contains(&refused.seconds), "{refused:?}");
        assert!(limit.check(ip("198.51.100.2")).is_ok());
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let limit = ClientRateLimit::new(1, 1).unwrap();
        assert!(limit.check(ip("2001:db8:0:1::1")).is_ok());
        assert!(limit.check(ip("2001:db8:0:1::2")).is_err());
        assert!(limit.check(ip("2001:db8:0:2::1")).is_ok());
    }
}
