//! Which URLs a webhook may call: HTTPS, or plain HTTP on the loopback
//! interface in development only (a receiver on the developer's machine).
//! In production no delivery reaches an internal address: not by the URL
//! ([`check`]), nor by a name that resolves inside the network when the
//! delivery connects ([`PublicOnly`]).

use std::net::{IpAddr, SocketAddr};

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

fn is_internal_ip(ip: IpAddr) -> bool {
    // `::ffff:10.0.0.1` is 10.0.0.1.
    match ip.to_canonical() {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            ip.is_private()
                || ip.is_loopback()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(ip) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
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
        ] {
            assert!(check(internal, Production).is_err(), "{internal}");
        }
        assert!(check("https://203.0.113.7/hooks", Production).is_ok());
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
