//! Which URLs a webhook may call: HTTPS, or plain HTTP on the loopback
//! interface in development only (a receiver on the developer's machine).

use std::net::IpAddr;

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
    match url.scheme() {
        "https" => Ok(url),
        "http" if environment == Environment::Development && is_loopback(&host) => Ok(url),
        "http" => Err("must use https (plain http only to the loopback in development)".into()),
        _ => Err("must be an https URL".into()),
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
}
