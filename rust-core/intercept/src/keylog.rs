//! TLS secrets of the client leg as SSLKEYLOGFILE lines (the NSS key log format that
//! Wireshark reads), handed to the relay's observer so the capture can carry them.

use std::fmt::Write;

use phonehome_relay::TlsTap;

/// One key log line: `LABEL <client_random hex> <secret hex>\n`.
pub fn line(label: &str, client_random: &[u8], secret: &[u8]) -> String {
    let mut out = String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
    out.push_str(label);
    out.push(' ');
    for b in client_random {
        let _ = write!(out, "{b:02x}");
    }
    out.push(' ');
    for b in secret {
        let _ = write!(out, "{b:02x}");
    }
    out.push('\n');
    out
}

/// rustls' key log for one intercepted flow's session with the client.
#[derive(Debug)]
pub(crate) struct TapKeyLog(pub(crate) TlsTap);

impl rustls::KeyLog for TapKeyLog {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        self.0.secret(line(label, client_random, secret));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_label_random_and_secret_in_lower_hex() {
        assert_eq!(
            line("CLIENT_TRAFFIC_SECRET_0", &[0x00, 0xab], &[0xff, 0x10]),
            "CLIENT_TRAFFIC_SECRET_0 00ab ff10\n"
        );
    }
}
