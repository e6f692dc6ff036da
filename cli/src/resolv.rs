//! Reading and writing resolv.conf(5).

use std::net::IpAddr;

/// The first usable `nameserver` in a resolv.conf.
///
/// Comments start with `#` or `;`. Addresses with a zone (`fe80::1%eth0`) are skipped:
/// the zone names an interface of the caller's namespace that a socket address can
/// only carry as an index, and such setups are rare enough to need `--dns` instead.
pub fn first_nameserver(text: &str) -> Option<IpAddr> {
    text.lines()
        .map(|line| line.split(['#', ';']).next().unwrap_or(""))
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("nameserver"), Some(addr)) => addr.parse::<IpAddr>().ok(),
                _ => None,
            }
        })
        .find(|ip| !ip.is_unspecified())
}

/// A resolv.conf that lists exactly `servers`.
pub fn render(servers: &[IpAddr]) -> String {
    let mut out = String::from("# Written by phonehome watch: the monitor answers DNS here.\n");
    for ip in servers {
        out.push_str(&format!("nameserver {ip}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn takes_the_first_nameserver() {
        let text = "nameserver 10.255.255.53\nnameserver 9.9.9.9\n";
        assert_eq!(first_nameserver(text), Some(ip("10.255.255.53")));
    }

    #[test]
    fn systemd_resolved_stub_file() {
        let text =
            "# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\n\
                    # Do not edit.\n\
                    #\n\
                    nameserver 127.0.0.53\n\
                    options edns0 trust-ad\n\
                    search lan\n";
        assert_eq!(first_nameserver(text), Some(ip("127.0.0.53")));
    }

    #[test]
    fn skips_comments_other_keywords_and_junk() {
        let text = "; old comment\n\
                    # nameserver 1.1.1.1\n\
                    search example.com\n\
                    domain example.com\n\
                    nameserver\n\
                    nameserver not-an-address\n\
                    nameserver 0.0.0.0\n\
                    nameserverx 8.8.8.8\n\
                    \tnameserver   2001:4860:4860::8888   # trailing comment\n\
                    nameserver 8.8.8.8\n";
        assert_eq!(first_nameserver(text), Some(ip("2001:4860:4860::8888")));
    }

    #[test]
    fn inline_comment_glued_to_the_address() {
        assert_eq!(
            first_nameserver("nameserver 192.0.2.1#primary\n"),
            Some(ip("192.0.2.1"))
        );
    }

    #[test]
    fn zoned_link_local_addresses_are_skipped() {
        let text = "nameserver fe80::1%eth0\nnameserver 192.0.2.53\n";
        assert_eq!(first_nameserver(text), Some(ip("192.0.2.53")));
    }

    #[test]
    fn crlf_lines_and_no_final_newline() {
        assert_eq!(
            first_nameserver("search lan\r\nnameserver 192.0.2.7\r\n"),
            Some(ip("192.0.2.7"))
        );
        assert_eq!(
            first_nameserver("nameserver 192.0.2.8"),
            Some(ip("192.0.2.8"))
        );
    }

    #[test]
    fn none_when_there_is_no_nameserver() {
        assert_eq!(first_nameserver(""), None);
        assert_eq!(first_nameserver("search lan\noptions ndots:2\n"), None);
        assert_eq!(first_nameserver("# nameserver 1.1.1.1\n"), None);
    }

    #[test]
    fn render_lists_the_servers_in_order() {
        let text = render(&[ip("10.111.0.1"), ip("fd70:686f:6e65::1")]);
        assert!(
            text.ends_with("nameserver 10.111.0.1\nnameserver fd70:686f:6e65::1\n"),
            "{text}"
        );
        assert_eq!(first_nameserver(&text), Some(ip("10.111.0.1")));
    }
}
