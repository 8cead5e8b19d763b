//! Which IP addresses outbound requests may reach: only globally routable unicast ones.
//! Plain functions over `std::net` types; every special-purpose range of the IANA IPv4 and
//! IPv6 registries that is not globally reachable is refused, and IPv6 forms that embed an
//! IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged by what they embed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address may not be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockReason {
    /// 0.0.0.0 or `::`.
    Unspecified,
    /// 0.0.0.0/8 ("this network").
    ThisNetwork,
    /// 127.0.0.0/8 or `::1`.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16.
    Private,
    /// 100.64.0.0/10 (carrier-grade NAT).
    SharedAddressSpace,
    /// 169.254.0.0/16 (includes the 169.254.169.254 cloud metadata service) or fe80::/10.
    LinkLocal,
    /// 192.0.0.0/24 (IETF protocol assignments) and other IETF special-purpose blocks.
    ProtocolAssignment,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18.0.0/15 or 2001:2::/48.
    Benchmarking,
    /// 224.0.0.0/4 or ff00::/8.
    Multicast,
    /// 240.0.0.0/4 (reserved) and 255.255.255.255 (broadcast).
    Reserved,
    /// 255.255.255.255.
    Broadcast,
    /// fc00::/7 (unique local).
    UniqueLocal,
    /// fec0::/10 (deprecated site-local).
    SiteLocal,
    /// An IPv6 address outside the global unicast range 2000::/3.
    NotGlobalUnicast,
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockReason::Unspecified => "the address is unspecified",
            BlockReason::ThisNetwork => "the address is in 0.0.0.0/8 (this network)",
            BlockReason::Loopback => "the address is a loopback address",
            BlockReason::Private => "the address is in a private network",
            BlockReason::SharedAddressSpace => "the address is in 100.64.0.0/10 (shared, CGNAT)",
            BlockReason::LinkLocal => "the address is link-local (includes cloud metadata)",
            BlockReason::ProtocolAssignment => "the address is reserved for IETF protocols",
            BlockReason::Documentation => "the address is reserved for documentation",
            BlockReason::Benchmarking => "the address is reserved for benchmarking",
            BlockReason::Multicast => "the address is a multicast address",
            BlockReason::Reserved => "the address is reserved",
            BlockReason::Broadcast => "the address is the broadcast address",
            BlockReason::UniqueLocal => "the address is an IPv6 unique local address",
            BlockReason::SiteLocal => "the address is an IPv6 site-local address",
            BlockReason::NotGlobalUnicast => "the address is not IPv6 global unicast",
        })
    }
}

/// `None` when `ip` is globally routable unicast, else why it is refused.
pub fn classify(ip: IpAddr) -> Option<BlockReason> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Whether `ip` may be reached without an allow-list entry.
pub fn is_public(ip: IpAddr) -> bool {
    classify(ip).is_none()
}

fn in_v4(ip: u32, net: [u8; 4], prefix: u32) -> bool {
    let net = u32::from_be_bytes(net);
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    ip & mask == net & mask
}

/// IPv4 rules.
pub fn classify_v4(ip: Ipv4Addr) -> Option<BlockReason> {
    let n = u32::from(ip);
    let rules: [([u8; 4], u32, BlockReason); 17] = [
        ([0, 0, 0, 0], 32, BlockReason::Unspecified),
        ([255, 255, 255, 255], 32, BlockReason::Broadcast),
        ([0, 0, 0, 0], 8, BlockReason::ThisNetwork),
        ([10, 0, 0, 0], 8, BlockReason::Private),
        ([100, 64, 0, 0], 10, BlockReason::SharedAddressSpace),
        ([127, 0, 0, 0], 8, BlockReason::Loopback),
        ([169, 254, 0, 0], 16, BlockReason::LinkLocal),
        ([172, 16, 0, 0], 12, BlockReason::Private),
        ([192, 0, 0, 0], 24, BlockReason::ProtocolAssignment),
        ([192, 0, 2, 0], 24, BlockReason::Documentation),
        // 6to4 relay anycast (deprecated, RFC 7526).
        ([192, 88, 99, 0], 24, BlockReason::Reserved),
        ([192, 168, 0, 0], 16, BlockReason::Private),
        ([198, 18, 0, 0], 15, BlockReason::Benchmarking),
        ([198, 51, 100, 0], 24, BlockReason::Documentation),
        ([203, 0, 113, 0], 24, BlockReason::Documentation),
        ([224, 0, 0, 0], 4, BlockReason::Multicast),
        ([240, 0, 0, 0], 4, BlockReason::Reserved),
    ];
    rules
        .iter()
        .find(|(net, prefix, _)| in_v4(n, *net, *prefix))
        .map(|(_, _, reason)| *reason)
}

fn in_v6(ip: u128, net: u128, prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    ip & mask == net & mask
}

fn v4_at(n: u128, shift: u32) -> Ipv4Addr {
    // Truncation intended: the 32 bits at `shift`.
    Ipv4Addr::from(((n >> shift) & 0xffff_ffff) as u32)
}

/// IPv6 rules (embedded IPv4 addresses are judged by the IPv4 rules).
pub fn classify_v6(ip: Ipv6Addr) -> Option<BlockReason> {
    let n = u128::from(ip);
    if n == 0 {
        return Some(BlockReason::Unspecified);
    }
    if n == 1 {
        return Some(BlockReason::Loopback);
    }
    // ::ffff:0:0/96 (IPv4-mapped), 64:ff9b::/96 (NAT64) and ::/96 (IPv4-compatible,
    // deprecated): the last 32 bits are an IPv4 address.
    let embedded_low = [
        (0xffff_0000_0000u128, 96),
        (0x0064_ff9b_u128 << 96, 96),
        (0u128, 96),
    ];
    if embedded_low.iter().any(|(net, p)| in_v6(n, *net, *p)) {
        return classify_v4(v4_at(n, 0)).or(if in_v6(n, 0, 96) {
            Some(BlockReason::Reserved)
        } else {
            None
        });
    }
    // 2002::/16 (6to4): bits 16..48 are the IPv4 address.
    if in_v6(n, 0x2002u128 << 112, 16) {
        return classify_v4(v4_at(n, 80));
    }
    // 2001::/32 (Teredo): the server's IPv4 in bits 32..64, the client's inverted in the
    // last 32 bits.
    if in_v6(n, 0x2001_0000u128 << 96, 32) {
        let server = v4_at(n, 64);
        let client = Ipv4Addr::from(!(((n) & 0xffff_ffff) as u32));
        return classify_v4(server).or_else(|| classify_v4(client));
    }
    let rules: [(u128, u32, BlockReason); 12] = [
        (0xff00u128 << 112, 8, BlockReason::Multicast),
        (0xfe80u128 << 112, 10, BlockReason::LinkLocal),
        (0xfec0u128 << 112, 10, BlockReason::SiteLocal),
        (0xfc00u128 << 112, 7, BlockReason::UniqueLocal),
        // 64:ff9b:1::/48, local-use NAT64 (RFC 8215).
        (
            0x0064_ff9b_0001u128 << 80,
            48,
            BlockReason::ProtocolAssignment,
        ),
        // 100::/64, discard-only.
        (0x0100u128 << 112, 64, BlockReason::Reserved),
        (0x2001_0db8u128 << 96, 32, BlockReason::Documentation),
        (0x3fffu128 << 112, 20, BlockReason::Documentation),
        (0x2001_0002_0000u128 << 80, 48, BlockReason::Benchmarking),
        // 2001:10::/28 (ORCHID) and 2001:20::/28 (ORCHIDv2), within 2001::/23.
        (0x2001_0000u128 << 96, 23, BlockReason::ProtocolAssignment),
        // 5f00::/16, SRv6 SIDs (RFC 9602).
        (0x5f00u128 << 112, 16, BlockReason::Reserved),
        (0x2000u128 << 112, 3, BlockReason::NotGlobalUnicast),
    ];
    for (net, prefix, reason) in rules {
        if reason == BlockReason::NotGlobalUnicast {
            // The last rule is inverted: outside 2000::/3 is refused.
            return (!in_v6(n, net, prefix)).then_some(reason);
        }
        if in_v6(n, net, prefix) {
            return Some(reason);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v4(s: &str) -> Option<BlockReason> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn known_ipv4_addresses() {
        for (ip, reason) in [
            ("0.0.0.0", BlockReason::Unspecified),
            ("0.1.2.3", BlockReason::ThisNetwork),
            ("10.0.0.1", BlockReason::Private),
            ("100.64.0.1", BlockReason::SharedAddressSpace),
            ("100.127.255.255", BlockReason::SharedAddressSpace),
            ("127.0.0.1", BlockReason::Loopback),
            ("127.255.255.254", BlockReason::Loopback),
            ("169.254.169.254", BlockReason::LinkLocal),
            ("172.16.0.1", BlockReason::Private),
            ("172.31.255.255", BlockReason::Private),
            ("192.0.0.8", BlockReason::ProtocolAssignment),
            ("192.0.2.1", BlockReason::Documentation),
            ("192.168.1.1", BlockReason::Private),
            ("198.18.0.1", BlockReason::Benchmarking),
            ("198.19.255.255", BlockReason::Benchmarking),
            ("198.51.100.7", BlockReason::Documentation),
            ("203.0.113.9", BlockReason::Documentation),
            ("224.0.0.1", BlockReason::Multicast),
            ("239.255.255.250", BlockReason::Multicast),
            ("240.0.0.1", BlockReason::Reserved),
            ("255.255.255.255", BlockReason::Broadcast),
        ] {
            assert_eq!(v4(ip), Some(reason), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "13.107.42.14",
        ] {
            assert_eq!(v4(ip), None, "{ip}");
        }
    }

    #[test]
    fn known_ipv6_addresses() {
        for ip in [
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::8.8.8.8",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2002:a9fe:a9fe::",
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
            "2001:0:c0a8:101::1",                   // Teredo, server 192.168.1.1
            "2001:db8::1",
            "2001:2::1",
            "2001:10::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "5f00::1",
            "4000::1",
            "::2",
        ] {
            assert!(
                classify(ip.parse().unwrap()).is_some(),
                "{ip} must be refused"
            );
        }
        for ip in [
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(classify(ip.parse().unwrap()), None, "{ip} must be allowed");
        }
    }

    /// (network, prefix) of every blocked IPv4 range.
    const BLOCKED_V4: [([u8; 4], u32); 16] = [
        ([0, 0, 0, 0], 8),
        ([10, 0, 0, 0], 8),
        ([100, 64, 0, 0], 10),
        ([127, 0, 0, 0], 8),
        ([169, 254, 0, 0], 16),
        ([172, 16, 0, 0], 12),
        ([192, 0, 0, 0], 24),
        ([192, 0, 2, 0], 24),
        ([192, 88, 99, 0], 24),
        ([192, 168, 0, 0], 16),
        ([198, 18, 0, 0], 15),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        ([224, 0, 0, 0], 4),
        ([240, 0, 0, 0], 4),
        ([255, 255, 255, 255], 32),
    ];

    fn in_blocked_v4(ip: Ipv4Addr) -> bool {
        BLOCKED_V4
            .iter()
            .any(|(net, p)| in_v4(u32::from(ip), *net, *p))
    }

    fn blocked_v4() -> impl Strategy<Value = Ipv4Addr> {
        (0..BLOCKED_V4.len(), any::<u32>()).prop_map(|(i, host)| {
            let (net, prefix) = BLOCKED_V4[i];
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            Ipv4Addr::from((u32::from_be_bytes(net) & mask) | (host & !mask))
        })
    }

    proptest! {
        #[test]
        fn every_address_in_a_blocked_v4_range_is_blocked(ip in blocked_v4()) {
            prop_assert!(classify(IpAddr::V4(ip)).is_some());
        }

        #[test]
        fn embedded_forms_of_blocked_v4_are_blocked(ip in blocked_v4()) {
            let n = u128::from(u32::from(ip));
            let forms = [
                Ipv6Addr::from(0xffff_0000_0000u128 | n),
                Ipv6Addr::from((0x0064_ff9bu128 << 96) | n),
                Ipv6Addr::from(n),
                Ipv6Addr::from((0x2002u128 << 112) | (n << 80)),
                Ipv6Addr::from((0x2001_0000u128 << 96) | (0x0808_0808u128 << 64) | u128::from(!u32::from(ip))),
            ];
            for f in forms {
                prop_assert!(classify(IpAddr::V6(f)).is_some(), "{f}");
            }
        }

        #[test]
        fn other_v4_addresses_are_public(raw in any::<u32>()) {
            let ip = Ipv4Addr::from(raw);
            prop_assume!(!in_blocked_v4(ip));
            prop_assert_eq!(classify(IpAddr::V4(ip)), None);
            // ... and so is their IPv4-mapped form.
            prop_assert_eq!(classify(IpAddr::V6(ip.to_ipv6_mapped())), None);
        }

        #[test]
        fn ipv6_outside_global_unicast_is_blocked(raw in any::<u128>()) {
            let ip = Ipv6Addr::from(raw);
            let embedded = in_v6(raw, 0xffff_0000_0000, 96)
                || in_v6(raw, 0x0064_ff9bu128 << 96, 96)
                || in_v6(raw, 0, 96);
            prop_assume!(!embedded && !in_v6(raw, 0x2000u128 << 112, 3));
            prop_assert!(classify(IpAddr::V6(ip)).is_some(), "{ip}");
        }

        #[test]
        fn blocked_v6_ranges_are_blocked(host in any::<u128>(), i in 0usize..6) {
            let (net, prefix) = [
                (0xfc00u128 << 112, 7u32),
                (0xfe80u128 << 112, 10),
                (0xff00u128 << 112, 8),
                (0x2001_0db8u128 << 96, 32),
                (0x3fffu128 << 112, 20),
                (0x2001_0002_0000u128 << 80, 48),
            ][i];
            let mask = u128::MAX << (128 - prefix);
            let ip = Ipv6Addr::from((net & mask) | (host & !mask));
            prop_assert!(classify(IpAddr::V6(ip)).is_some(), "{ip}");
        }

        #[test]
        fn public_v6_in_2400_3_is_allowed(host in any::<u128>()) {
            // 2400::/6: a slice of global unicast without special-purpose blocks.
            let mask = u128::MAX << (128 - 6);
            let ip = Ipv6Addr::from((0x2400u128 << 112) | (host & !mask));
            prop_assert_eq!(classify(IpAddr::V6(ip)), None, "{}", ip);
        }
    }
}
