//! Which destinations user code may reach with `fetch()`.
//!
//! Two layers: [`NetPolicy`] (per process, set by the operator) decides which
//! IP addresses are reachable at all, and [`HostRules`] (per function) narrows
//! the host names a function may ask for. The address check is the SSRF
//! defence; host rules are a convenience for function owners.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::fetch::FetchError;

/// Why `ip` must not be reached from user code, or `None` if it is a public
/// unicast address.
///
/// The reason is an adjective that reads as "`ip` is a *reason* address".
pub fn classify(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, d] = ip.octets();
    Some(match (a, b, c, d) {
        (255, 255, 255, 255) => "broadcast",
        (0, ..) => "unspecified",
        (10, ..) | (172, 16..=31, ..) | (192, 168, ..) => "private",
        (100, 64..=127, ..) => "shared (CGNAT)",
        (127, ..) => "loopback",
        // Called out because it is the classic SSRF target (cloud credentials).
        (169, 254, 169, 254) => "link-local (cloud metadata)",
        (169, 254, ..) => "link-local",
        (192, 0, 0, _) => "IETF-reserved",
        (192, 0, 2, _) | (198, 51, 100, _) | (203, 0, 113, _) => "documentation",
        (192, 88, 99, _) => "reserved (6to4 relay)",
        (198, 18..=19, ..) => "benchmarking",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved",
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Forms that carry an IPv4 address end up at that IPv4 host (directly,
    // or through a NAT64/6to4 gateway), so judge the embedded address.
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let s = ip.segments();
    Some(match s[0] {
        0x0064 if s[1] == 0xff9b && s[2] == 1 => "NAT64 local-use",
        0x0100 if s[1..4] == [0, 0, 0] => "discard-only",
        0x2001 if s[1] == 0 => "Teredo",
        0x2001 if s[1] == 2 && s[2] == 0 => "benchmarking",
        0x2001 if s[1] == 0x0db8 => "documentation",
        0x3fff if s[1] < 0x1000 => "documentation",
        // Only 2000::/3 is global unicast; everything else is special-purpose.
        0x2000..=0x3fff => return None,
        0xfc00..=0xfdff => "unique-local",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xff00..=0xffff => "multicast",
        _ => "reserved",
    })
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::`)
/// address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] | [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => {
            Some(v4(hi, lo))
        }
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        _ => None,
    }
}

/// Process-wide address policy: every address a fetch connects to passes
/// [`NetPolicy::check`].
#[derive(Debug, Clone, Default)]
pub struct NetPolicy {
    /// Operator override: forbidden ranges that are allowed anyway (e.g. an
    /// internal service network). Empty by default.
    pub allowed_addrs: Vec<IpNet>,
}

impl NetPolicy {
    /// `Ok` if user code may connect to `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), FetchError> {
        let Some(reason) = classify(ip) else {
            return Ok(());
        };
        // `to_canonical` so an override for 127.0.0.1 also covers ::ffff:127.0.0.1.
        let canonical = ip.to_canonical();
        if self.allowed_addrs.iter().any(|net| net.contains(&ip) || net.contains(&canonical)) {
            return Ok(());
        }
        Err(FetchError::AddressForbidden { addr: ip, reason })
    }
}

/// Per-function host lists. Entries are exact hosts (`api.example.com`,
/// `10.1.2.3`, `[::1]`) or wildcards (`*.example.com`, subdomains only),
/// compared case-insensitively. Deny wins; an empty allow list allows all.
#[derive(Debug, Clone, Default)]
pub struct HostRules {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

impl HostRules {
    /// `Ok` if this function may fetch from `host` (as in a URL's host).
    pub fn check(&self, host: &str) -> Result<(), FetchError> {
        let host = normalize_host(host);
        let matches = |pattern: &String| host_matches(&host, pattern);
        if self.deny.iter().any(matches) {
            return Err(FetchError::HostDenied(host));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(matches) {
            return Err(FetchError::HostNotAllowed(host));
        }
        Ok(())
    }
}

fn host_matches(host: &str, pattern: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            let suffix = normalize_host(suffix);
            host.len() > suffix.len() + 1
                && host.ends_with(&suffix)
                && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
        }
        None => host == normalize_host(pattern),
    }
}

/// Puts hosts in the form URLs use, so `Example.COM.`, `bücher.de` and `::1`
/// compare equal to the URL hosts `example.com`, `xn--bcher-kva.de`, `[::1]`
/// (a trailing dot would otherwise slip past a deny entry).
fn normalize_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('.');
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => return ip.to_string(),
        // `::ffff:a.b.c.d` reaches the same host as `a.b.c.d`: one spelling
        // per address, or a rule on one form is bypassed by the other.
        Ok(IpAddr::V6(ip)) => {
            return match ip.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => format!("[{ip}]"),
            }
        }
        Err(_) => {}
    }
    match url::Host::parse(host) {
        Ok(parsed) => parsed.to_string(),
        Err(_) => host.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<&'static str> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn classify_table() {
        let forbidden = [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("::1", "loopback"),
            ("10.0.0.1", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local (cloud metadata)"),
            ("169.254.1.1", "link-local"),
            ("fe80::1", "link-local"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("100.127.255.255", "shared (CGNAT)"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("ff02::1", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "unspecified"),
            ("::", "unspecified"),
            ("255.255.255.255", "broadcast"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("240.0.0.1", "reserved"),
            ("192.0.0.170", "IETF-reserved"),
            ("fc00::1", "unique-local"),
            ("fd00:ec2::254", "unique-local"),
            ("fec0::1", "site-local"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local (cloud metadata)"),
            ("::10.0.0.1", "private"),
            ("64:ff9b::a00:1", "private"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b:1::1", "NAT64 local-use"),
            ("2002:0a00:0001::", "private"),
            ("2002:7f00:1::1", "loopback"),
            ("2001::1", "Teredo"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("100::1", "discard-only"),
            ("2001:db8::1", "documentation"),
            ("::ffff:0:a00:1", "reserved"),
            ("4000::1", "reserved"),
        ];
        for (ip, want) in forbidden {
            assert_eq!(reason(ip), Some(want), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:4860:4860::8888",
        ] {
            assert_eq!(reason(ip), None, "{ip}");
        }
    }

    #[test]
    fn policy_override() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let default = NetPolicy::default();
        assert!(default.check(ip("8.8.8.8")).is_ok());
        let err = default.check(ip("10.0.0.1")).unwrap_err();
        assert_eq!(err.to_string(), "10.0.0.1 is a private address");
        let err = default.check(ip("::")).unwrap_err();
        assert_eq!(err.to_string(), ":: is an unspecified address");

        let local = NetPolicy { allowed_addrs: vec!["127.0.0.1/32".parse().unwrap()] };
        assert!(local.check(ip("127.0.0.1")).is_ok());
        assert!(local.check(ip("::ffff:127.0.0.1")).is_ok());
        assert!(local.check(ip("127.0.0.2")).is_err());
        assert!(local.check(ip("::1")).is_err());
        assert!(local.check(ip("10.0.0.1")).is_err());
    }

    #[test]
    fn host_rules() {
        let rules = HostRules {
            allow: vec!["api.example.com".into(), "*.Trusted.org".into()],
            deny: vec!["*.evil.trusted.org".into(), "bad.trusted.org".into()],
        };
        for ok in ["api.example.com", "API.Example.COM", "api.example.com.", "a.trusted.org", "a.b.trusted.org"] {
            assert!(rules.check(ok).is_ok(), "{ok}");
        }
        for (host, msg) in [
            ("example.com", "host example.com is not in this function's allowed hosts"),
            ("trusted.org", "host trusted.org is not in this function's allowed hosts"),
            ("xtrusted.org", "host xtrusted.org is not in this function's allowed hosts"),
            ("BAD.trusted.org.", "host bad.trusted.org is in this function's denied hosts"),
            ("x.evil.trusted.org", "host x.evil.trusted.org is in this function's denied hosts"),
        ] {
            assert_eq!(rules.check(host).unwrap_err().to_string(), msg);
        }

        // Empty allow list: everything not denied.
        let deny_only =
            HostRules { allow: vec![], deny: vec!["*.example.com".into(), "::1".into(), "bücher.de".into()] };
        assert!(deny_only.check("example.com").is_ok());
        assert!(deny_only.check("anything.test").is_ok());
        assert!(deny_only.check("www.example.com").is_err());
        assert!(deny_only.check("[::1]").is_err());
        assert!(deny_only.check("xn--bcher-kva.de").is_err());
        assert!(HostRules::default().check("a.b").is_ok());
    }
}
