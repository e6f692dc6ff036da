//! Command-line arguments.

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Port used when `--dns` names an address without one.
pub const DNS_PORT: u16 = 53;
/// IPv6 needs links of at least 1280 bytes (RFC 8200, section 5).
pub const MTU_MIN: u32 = 1280;
/// The largest MTU a TUN device takes.
pub const MTU_MAX: u32 = 65535;
pub const MTU_DEFAULT: u32 = 1500;

/// PhoneHome on Linux: see which servers a program talks to, and what it sends them.
#[derive(Debug, Parser)]
#[command(name = "phonehome", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run CMD in its own network namespace whose only way out is through the monitor.
    #[command(
        override_usage = "phonehome watch [OPTIONS] -- CMD [ARGS]...",
        after_help = "Examples:\n  phonehome watch -- curl https://example.com\n  phonehome watch --out run1 -- firefox"
    )]
    Watch(WatchArgs),
    /// Run the detector over an existing capture (pcap or pcapng).
    Analyze(crate::analyze::AnalyzeArgs),
    /// Summarise a run's findings: per app, per destination, which identifiers left how.
    Report(crate::report::ReportArgs),
    /// The TLS interception CA: `phonehome ca export --dir DIR`.
    Ca(crate::intercept::CaArgs),
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Write records into DIR (created if missing): flows.jsonl, findings.jsonl,
    /// phonehome.sqlite and capture.pcapng.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub detection: crate::detection::DetectionArgs,

    #[command(flatten)]
    pub intercept: crate::intercept::InterceptArgs,

    /// Upstream DNS server for the watched program's queries [default: the first
    /// nameserver of /etc/resolv.conf].
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns)]
    pub dns: Option<SocketAddr>,

    /// MTU of the watched program's network interface (1280 to 65535).
    #[arg(long, value_name = "N", default_value_t = MTU_DEFAULT, value_parser = parse_mtu)]
    pub mtu: u32,

    /// Most flows (TCP, UDP, ICMP) relayed at once; beyond it a new connection is refused.
    #[arg(long, value_name = "N", default_value_t = phonehome_netstack::Config::default().max_flows as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_flows: u64,

    /// Keep the records of a long run to about SIZE bytes (K, M, G suffixes): each file
    /// past its share moves to NAME.1.EXT, replacing the older one, and starts over.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_records: u64,

    /// Keep what identifier discovery learned in DIR between runs (discovery.json,
    /// owner-only) [default: $XDG_STATE_HOME/phonehome, or ~/.local/state/phonehome].
    #[arg(long, value_name = "DIR", conflicts_with = "no_state")]
    pub state: Option<PathBuf>,

    /// Keep nothing between runs: identifiers are discovered within this run only.
    #[arg(long)]
    pub no_state: bool,

    /// Run CMD as root with every capability (when `watch` runs as root). By default it
    /// runs as root of a user namespace of its own, mapped to the invoking user (SUDO_UID)
    /// or to nobody, with no power outside its namespaces: it cannot enter the caller's
    /// namespaces or reach the records. See README, "What watch guarantees".
    #[arg(long)]
    pub keep_root: bool,

    /// The program to run, and its arguments (put `--` before it).
    #[arg(
        value_name = "CMD",
        required = true,
        trailing_var_arg = true,
        num_args = 1..,
    )]
    pub cmd: Vec<OsString>,
}

/// Parses a size: bytes, or a number with K, M or G (powers of 1024), at least 1M.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return Err(format!("{s:?}: a size is a number with K, M or G")),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?}: a size is a number with K, M or G"))?;
    let bytes = n
        .checked_mul(scale)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    if bytes < 1 << 20 {
        return Err(format!("{s:?} is below the smallest record set, 1M"));
    }
    Ok(bytes)
}

/// Parses `--mtu`.
pub fn parse_mtu(s: &str) -> Result<u32, String> {
    let n: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of bytes"))?;
    if (MTU_MIN..=MTU_MAX).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "{n} is out of range: the MTU must be between {MTU_MIN} (the IPv6 minimum) and {MTU_MAX}"
        ))
    }
}

/// Parses `--dns`: `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT`; the port defaults to 53.
pub fn parse_dns(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let addr = if let Ok(addr) = s.parse::<SocketAddr>() {
        addr
    } else if let Ok(ip) = s.parse::<IpAddr>() {
        SocketAddr::new(ip, DNS_PORT)
    } else if let Some(ip) = s
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse::<IpAddr>().ok())
    {
        SocketAddr::new(ip, DNS_PORT)
    } else {
        return Err(format!(
            "{s:?} is not an IP address with an optional port (examples: 9.9.9.9, 9.9.9.9:53, 2620:fe::fe, [2620:fe::fe]:53)"
        ));
    };
    if addr.port() == 0 {
        return Err(format!("{s:?}: port 0 is not a DNS server's port"));
    }
    if addr.ip().is_unspecified() {
        return Err(format!("{s:?}: an unspecified address is not a DNS server"));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::CommandFactory;

    #[test]
    fn sizes_take_k_m_g_and_refuse_nonsense() {
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("512K").unwrap_err().contains("smallest"));
        assert!(parse_size("1T").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999999G")
            .unwrap_err()
            .contains("too large"));
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("phonehome").chain(args.iter().copied()))
    }

    fn watch(args: &[&str]) -> WatchArgs {
        match parse(args).unwrap().command {
            Command::Watch(w) => w,
            other => panic!("expected watch, got {other:?}"),
        }
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn watch_with_defaults() {
        let w = watch(&["watch", "--", "curl", "-v", "https://example.com"]);
        assert_eq!(w.cmd, ["curl", "-v", "https://example.com"]);
        assert_eq!(w.mtu, 1500);
        assert_eq!(w.dns, None);
        assert_eq!(w.out, None);
    }

    #[test]
    fn watch_with_every_option() {
        let w = watch(&[
            "watch", "--out", "run1", "--dns", "9.9.9.9", "--mtu", "1280", "--", "true",
        ]);
        assert_eq!(w.out, Some(PathBuf::from("run1")));
        assert_eq!(w.dns, Some("9.9.9.9:53".parse().unwrap()));
        assert_eq!(w.mtu, 1280);
        assert_eq!(w.cmd, ["true"]);
    }

    #[test]
    fn interception_is_off_unless_asked_for() {
        let w = watch(&["watch", "--", "curl", "https://example.com"]);
        assert!(!w.intercept.intercept);
        let w = watch(&[
            "watch",
            "--intercept",
            "--ca-dir",
            "ca",
            "--upstream-ca",
            "test-ca.pem",
            "--",
            "true",
        ]);
        assert!(w.intercept.intercept);
        assert_eq!(w.intercept.ca.ca_dir, Some(PathBuf::from("ca")));
        assert_eq!(w.intercept.upstream_ca, Some(PathBuf::from("test-ca.pem")));
        // Extra upstream roots mean nothing without interception.
        let err = parse(&["watch", "--upstream-ca", "x.pem", "--", "true"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
        let w = watch(&["watch", "--intercept", "--keylog", "keys.txt", "--", "true"]);
        assert_eq!(w.intercept.keylog, Some(PathBuf::from("keys.txt")));
        let err = parse(&["watch", "--keylog", "keys.txt", "--", "true"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn options_take_the_equals_form() {
        let w = watch(&["watch", "--mtu=9000", "--dns=[::1]:5353", "--", "true"]);
        assert_eq!(w.mtu, 9000);
        assert_eq!(w.dns, Some("[::1]:5353".parse().unwrap()));
    }

    #[test]
    fn options_after_cmd_belong_to_cmd() {
        let w = watch(&["watch", "--", "sh", "-c", "exit 3", "--out", "x"]);
        assert_eq!(w.cmd, ["sh", "-c", "exit 3", "--out", "x"]);
        assert_eq!(w.out, None);
        // Without `--` too, once CMD has started.
        let w = watch(&["watch", "curl", "--mtu", "1"]);
        assert_eq!(w.cmd, ["curl", "--mtu", "1"]);
        assert_eq!(w.mtu, 1500);
    }

    #[test]
    fn cmd_may_itself_look_like_an_option_after_the_separator() {
        let w = watch(&["watch", "--", "--weird-program-name"]);
        assert_eq!(w.cmd, ["--weird-program-name"]);
    }

    #[test]
    fn a_missing_cmd_is_an_error() {
        let err = parse(&["watch"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
        assert_eq!(err.exit_code(), 2);
        let err = parse(&["watch", "--"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn an_unknown_option_is_a_usage_error() {
        let err = parse(&["watch", "--bogus", "--", "true"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownArgument);
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--bogus"), "{err}");
    }

    #[test]
    fn an_unknown_subcommand_or_none_is_a_usage_error() {
        assert_eq!(
            parse(&["frobnicate"]).unwrap_err().kind(),
            ErrorKind::InvalidSubcommand
        );
        let err = parse(&[]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn help_is_available_for_the_tool_and_for_watch() {
        for args in [&["--help"][..], &["watch", "--help"], &["help", "watch"]] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::DisplayHelp, "{args:?}");
            assert_eq!(err.exit_code(), 0);
        }
        let help = parse(&["watch", "--help"]).unwrap_err().to_string();
        for word in ["--out", "--dns", "--mtu", "CMD"] {
            assert!(help.contains(word), "{word} missing from:\n{help}");
        }
    }

    #[test]
    fn a_bad_mtu_is_a_usage_error() {
        for bad in ["1279", "65536", "0", "-1", "big", ""] {
            let arg = format!("--mtu={bad}");
            let err = parse(&["watch", &arg, "--", "true"]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ValueValidation, "{bad}");
            assert_eq!(err.exit_code(), 2);
        }
        let err = parse(&["watch", "--mtu", "100", "--", "true"]).unwrap_err();
        assert!(err.to_string().contains("between 1280"), "{err}");
    }

    #[test]
    fn mtu_range_is_inclusive() {
        assert_eq!(parse_mtu("1280"), Ok(1280));
        assert_eq!(parse_mtu("65535"), Ok(65535));
        assert_eq!(parse_mtu("9000"), Ok(9000));
        let err = parse_mtu("1279").unwrap_err();
        assert!(err.contains("1280") && err.contains("65535"), "{err}");
        assert!(parse_mtu("65536").is_err());
        assert!(parse_mtu("4294967296").is_err());
        assert!(parse_mtu("1500.0").is_err());
    }

    #[test]
    fn dns_accepts_every_address_form() {
        let cases = [
            ("9.9.9.9", "9.9.9.9:53"),
            ("9.9.9.9:5353", "9.9.9.9:5353"),
            ("2620:fe::fe", "[2620:fe::fe]:53"),
            ("[2620:fe::fe]", "[2620:fe::fe]:53"),
            ("[2620:fe::fe]:853", "[2620:fe::fe]:853"),
            ("::1", "[::1]:53"),
            (" 127.0.0.53 ", "127.0.0.53:53"),
        ];
        for (input, want) in cases {
            assert_eq!(parse_dns(input), Ok(want.parse().unwrap()), "{input}");
        }
    }

    #[test]
    fn dns_rejects_what_is_not_an_address() {
        for bad in [
            "",
            "dns.google",
            "9.9.9",
            "9.9.9.9:",
            "9.9.9.9:99999",
            "9.9.9.9:0",
            "0.0.0.0",
            "[::]",
            "[2620:fe::fe",
            "2620:fe::fe:53:1:2:3:4:5",
        ] {
            assert!(parse_dns(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
