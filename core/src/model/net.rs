//! Client addresses as throttles and rate limits count them.

use std::net::IpAddr;

/// The bucket a client address counts in: an IPv4 address alone, an IPv6 address by its /64
/// network (one subscriber or one host gets a whole /64, so counting single IPv6 addresses would
/// give an attacker 2^64 tries). Anything that is not an address counts as itself.
pub fn address_bucket(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::address_bucket;

    #[test]
    fn ipv6_counts_by_network() {
        assert_eq!(address_bucket("192.0.2.7"), "192.0.2.7");
        assert_eq!(address_bucket("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(address_bucket("2001:db8:1:2::9"), "2001:db8:1:2::/64");
        assert_ne!(address_bucket("2001:db8:1:3::9"), "2001:db8:1:2::/64");
        assert_eq!(address_bucket("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(address_bucket(""), "");
    }
}
