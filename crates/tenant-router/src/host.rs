//! Host header parsing. Normalises what clients send (`Somerset.LocalHost:8080.`) to the form
//! tenant files use (`somerset.localhost`), and rejects what no DNS name can be.

/// The longest `Host` value we look at; DNS names stop at 253 bytes, plus a port.
pub const MAX_HOST_LEN: usize = 260;

/// Why a host value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Longer than any DNS name can be.
    #[error("the host name is too long")]
    TooLong,
    /// Not a DNS name (or an IP literal) with an optional port.
    #[error("the host name is not valid")]
    Malformed,
    /// Two `Host` headers, or a request target whose host disagrees with `Host`: which
    /// portal was meant cannot be told.
    #[error("the request names more than one host")]
    Ambiguous,
}

/// Lowercases, drops the port and a trailing dot, and checks DNS label syntax.
/// IP literals pass (they never match a tenant, so they end in a 404, not a 400).
///
/// # Errors
/// [`HostError`] when the value cannot be a host name.
pub fn normalise_host(raw: &str) -> Result<String, HostError> {
    if raw.len() > MAX_HOST_LEN {
        return Err(HostError::TooLong);
    }
    let host = strip_port(raw.trim())?;
    if let Some(v6) = host.strip_prefix('[') {
        let inner = v6.strip_suffix(']').ok_or(HostError::Malformed)?;
        return inner
            .parse::<std::net::Ipv6Addr>()
            .map(|ip| format!("[{ip}]"))
            .map_err(|_| HostError::Malformed);
    }
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if host.is_empty() || host.len() > 253 {
        return Err(if host.is_empty() {
            HostError::Malformed
        } else {
            HostError::TooLong
        });
    }
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if host.split('.').all(label_ok) {
        Ok(host)
    } else {
        Err(HostError::Malformed)
    }
}

fn strip_port(s: &str) -> Result<&str, HostError> {
    let (host, port) = if s.starts_with('[') {
        match s.rfind("]:") {
            Some(i) => (&s[..=i], Some(&s[i + 2..])),
            None => (s, None),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    match port {
        Some(p) if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) => {
            Err(HostError::Malformed)
        }
        Some(p) if p.parse::<u16>().is_err() => Err(HostError::Malformed),
        _ => Ok(host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_drops_port_and_trailing_dot() {
        assert_eq!(
            normalise_host("Somerset.LocalHost:8080").unwrap(),
            "somerset.localhost"
        );
        assert_eq!(normalise_host("www.hes.org.uk.").unwrap(), "www.hes.org.uk");
        assert_eq!(normalise_host("[::1]:80").unwrap(), "[::1]");
        assert_eq!(normalise_host("127.0.0.1:3000").unwrap(), "127.0.0.1");
    }

    #[test]
    fn rejects_what_cannot_be_a_host() {
        for bad in [
            "", ":80", "a:", "a:99999", "a:8o", "a b", "a_b.uk", "-a.uk", "a-.uk", "a..uk", "é.uk",
            "a/b", "[::1", "[zz]:80", "a:1:2",
        ] {
            assert_eq!(normalise_host(bad), Err(HostError::Malformed), "{bad:?}");
        }
        assert_eq!(normalise_host(&"a".repeat(300)), Err(HostError::TooLong));
        let long_label = format!("{}.uk", "a".repeat(64));
        assert_eq!(normalise_host(&long_label), Err(HostError::Malformed));
    }
}
