//! Which URLs a webhook may call: HTTPS, or plain HTTP on the loopback
//! interface in development only (a receiver on the developer's machine).
//! In production no delivery reaches an internal address: not by the URL
//! ([`check`]), nor by a name that resolves inside the network when the
//! delivery connects ([`PublicOnly`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use url::{Host, Url};

use crate::config::Environment;

const MAX_LEN: usize = 2000;

/// The URL, or what to fix.
pub fn check(raw: &str, environment: Environment) -> Result<Url, String> {
    if raw.len() > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    let url = Url::parse(raw).map_err(|_| "must be an absolute URL".to_owned())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; the signature authenticates us".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    let host = url.host().ok_or_else(|| "must name a host".to_owned())?;
    if environment == Environment::Production && is_internal(&host) {
        return Err("must name a public host: internal addresses are refused".into());
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if environment == Environment::Development && is_loopback(&host) => Ok(url),
        "http" => Err("must use https (plain http only to the loopback in development)".into()),
        _ => Err("must be an https URL".into()),
    }
}

/// Names of this machine, and addresses of it or its private networks: a
/// webhook must not make the API call inside its own network.
fn is_internal(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => *name == "localhost" || name.ends_with(".localhost"),
        Host::Ipv4(ip) => is_internal_ip(IpAddr::V4(*ip)),
        Host::Ipv6(ip) => is_internal_ip(IpAddr::V6(*ip)),
    }
}

/// The IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its
/// updates), with multicast: none is an ordinary public receiver.
const SPECIAL_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network"
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space (CGN)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local (cloud metadata)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation (TEST-NET-1)
    (Ipv4Addr::new(192, 31, 196, 0), 24), // AS112-v4
    (Ipv4Addr::new(192, 52, 193, 0), 24), // AMT
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // deprecated 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(192, 175, 48, 0), 24), // AS112 direct delegation
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation (TEST-NET-2)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation (TEST-NET-3)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, and the broadcast address
];

/// The IANA IPv6 Special-Purpose Address Registry, with multicast.
/// IPv4-mapped addresses are judged as the IPv4 address they carry.
const SPECIAL_V6: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96), // unspecified, loopback, IPv4-compatible
    (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96), // NAT64 well-known prefix
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local-use IPv4/IPv6 translation
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64), // discard-only
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF protocol assignments (Teredo, ORCHID…)
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16), // 6to4
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation
    (Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0), 16), // segment routing SIDs
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7), // unique local
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8), // multicast
];

fn within_v4(ip: Ipv4Addr, (net, len): (Ipv4Addr, u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn within_v6(ip: Ipv6Addr, (net, len): (Ipv6Addr, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// Whether a delivery must not reach `ip`: any special-purpose address,
/// checked at registration and again on every address a name resolves to.
fn is_internal_ip(ip: IpAddr) -> bool {
    // `::ffff:10.0.0.1` is 10.0.0.1.
    match ip.to_canonical() {
        IpAddr::V4(ip) => SPECIAL_V4.iter().any(|range| within_v4(ip, *range)),
        IpAddr::V6(ip) => SPECIAL_V6.iter().any(|range| within_v6(ip, *range)),
    }
}

/// The DNS resolver of production deliveries: only the public addresses
/// of a name. A name that resolves only inside the network (or was
/// re-pointed there after registration) fails the delivery.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| !is_internal_ip(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves only to internal addresses").into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => *name == "localhost",
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Environment::{Development, Production};

    #[test]
    fn https_anywhere_http_only_on_loopback_in_development() {
        assert!(check("https://caf.example.fr/hooks", Production).is_ok());
        assert!(check("http://127.0.0.1:9000/hooks", Development).is_ok());
        assert!(check("http://[::1]:9000/", Development).is_ok());
        assert!(check("http://localhost/", Development).is_ok());
        assert!(check("http://127.0.0.1:9000/hooks", Production).is_err());
        assert!(check("http://caf.example.fr/hooks", Development).is_err());
        assert!(check("ftp://caf.example.fr/", Development).is_err());
        assert!(check("https://user:pw@caf.example.fr/", Production).is_err());
        assert!(check("https://caf.example.fr/#x", Production).is_err());
        assert!(check("caf.example.fr/hooks", Production).is_err());
    }

    #[test]
    fn internal_addresses_are_refused_in_production() {
        for internal in [
            "https://127.0.0.1/",
            "https://localhost/",
            "https://10.0.0.5/hooks",
            "https://192.168.1.10/",
            "https://172.16.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            // The rest of the IANA special-purpose registries.
            "https://0.1.2.3/",
            "https://192.0.0.8/",
            "https://192.0.2.1/",
            "https://198.18.0.1/",
            "https://198.19.255.254/",
            "https://198.51.100.1/",
            "https://203.0.113.7/hooks",
            "https://224.0.0.1/",
            "https://240.0.0.1/",
            "https://255.255.255.255/",
            "https://[64:ff9b::a00:1]/",
            "https://[64:ff9b:1::1]/",
            "https://[100::1]/",
            "https://[2001::1]/",
            "https://[2001:db8::1]/",
            "https://[2002:a00:1::]/",
            "https://[3fff::1]/",
            "https://[ff02::1]/",
            "https://[::a00:1]/",
        ] {
            assert!(check(internal, Production).is_err(), "{internal}");
        }
        // Public addresses, beside the ranges above.
        for public in [
            "https://193.51.24.1/hooks",
            "https://198.20.0.1/",
            "https://223.255.255.1/",
            "https://[2a01:e0a::1]/",
            "https://[2001:200::1]/",
        ] {
            assert!(check(public, Production).is_ok(), "{public}");
        }
        assert!(check("https://127.0.0.1:9000/", Development).is_ok());
        assert!(check("https://[::ffff:10.0.0.1]/", Production).is_err());
    }

    #[tokio::test]
    async fn a_name_resolving_inside_the_network_is_refused_when_delivering() {
        // The machine's own name for itself, from /etc/hosts: no network needed.
        let name: Name = "localhost".parse().unwrap();
        let error = PublicOnly.resolve(name).await.err().unwrap();
        assert!(error.to_string().contains("internal addresses"), "{error}");
    }
}
