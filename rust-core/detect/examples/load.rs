//! Prints how long an identifiers file with many values takes to load: parsing and
//! validating the TOML, then compiling the detector, with the peak memory of the process.
//!
//! `cargo run --release -p phonehome-detect --example load [CONTACT_NUMBERS] [--emails]`
//!
//! The file is what the app makes of a large address book: one `[[contact]]` per number
//! (100,000 by default, the limit of values), each with a name and, with `--emails`, an
//! e-mail instead of every third number, so the values stay within the limit. It then
//! scans 64 KiB of ordinary JSON with the loaded detector and prints the rate, so a load
//! made cheaper at the expense of scanning shows.

use std::hint::black_box;
use std::time::Instant;

use phonehome_detect::{Detector, Identifiers, Options, Where};

fn file(numbers: usize, emails: bool) -> String {
    let mut src = String::from("region = \"CN\"\nphone = [\"+8613800138000\"]\n");
    for i in 0..numbers {
        // Distinct Chinese mobile numbers spread over the prefixes 130-189.
        let n = 13_000_000_000u64 + (i as u64).wrapping_mul(5_999_993) % 5_999_999_999;
        src.push_str("[[contact]]\n");
        if emails && i % 3 == 2 {
            src.push_str(&format!("email = [\"friend{i}@example.com\"]\n"));
        } else {
            src.push_str(&format!("phone = [\"+86{n}\"]\n"));
        }
    }
    src
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn json(size: usize) -> Vec<u8> {
    let mut out = b"{\"events\":[".to_vec();
    let mut i: u64 = 0;
    while out.len() < size {
        out.extend_from_slice(
            format!(
                "{{\"id\":\"{:016x}\",\"ts\":{},\"name\":\"screen_view\",\"text\":\"The quick brown fox\"}},",
                i.wrapping_mul(0x9e3779b97f4a7c15),
                1712345678901u64 + i * 1013
            )
            .as_bytes(),
        );
        i += 1;
    }
    out.extend_from_slice(b"{}]}");
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let numbers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(99_999);
    let emails = std::env::args().any(|a| a == "--emails");
    let src = file(numbers, emails);
    let t = Instant::now();
    let ids = Identifiers::from_toml(&src).expect("the generated file is valid");
    let parsed = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let det = Detector::new(&ids, &Options::default());
    let built = t.elapsed().as_secs_f64();
    println!(
        "{} contacts ({} bytes of TOML): parsed in {parsed:.2} s, detector built in {built:.2} s \
         ({} patterns), peak RSS {:.0} MiB",
        ids.contact.len(),
        src.len(),
        det.pattern_count(),
        peak_rss_mib()
    );
    let body = json(64 * 1024);
    black_box(det.scan(&body, Where::Body));
    let t = Instant::now();
    let mut rounds = 0;
    while t.elapsed().as_secs_f64() < 1.0 {
        black_box(det.scan(black_box(&body), Where::Body));
        rounds += 1;
    }
    let mbs = (body.len() * rounds) as f64 / t.elapsed().as_secs_f64() / 1e6;
    println!("scan of a 64 KiB JSON body with this detector: {mbs:.0} MB/s");
}
