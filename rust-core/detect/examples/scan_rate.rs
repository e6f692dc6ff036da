//! Prints the detector's scan rate in MB/s over realistic HTTP bodies.
//!
//! `cargo run --release -p phonehome-detect --example scan_rate [IDENTIFIER_SETS] [CASE]`
//!
//! IDENTIFIER_SETS may be `lab`: lab/ids.toml, the set `bench/run` and the analyzer's
//! `layered_rate` use (short contact names included), for the detector alone.
//!
//! CASE runs only the cases whose label contains it (for a profiler: `perf record`).
//! With `ROUNDS=N` in the environment each case is scanned exactly N times, untimed: for
//! an instruction count (`valgrind --tool=callgrind`), which a loaded machine does not
//! disturb the way it disturbs a rate.
//!
//! Each identifier set is a full identifiers file's worth of values (IMEI, IMSI, phone,
//! MAC, e-mail, ...); the pattern count is printed. Rates are shown next to a baseline
//! measured in the same run (`memchr` counting one byte), so machines compare.

use std::hint::black_box;
use std::time::Instant;

use phonehome_detect::{Detector, Identifiers, Options, Where};

fn ids(sets: usize) -> Identifiers {
    let mut ids = Identifiers {
        region: Some("CN".into()),
        ..Identifiers::default()
    };
    for i in 0..sets {
        ids.imei
            .push(format!("86{:013}", 1234567890123u64 + i as u64 * 7919));
        ids.imsi
            .push(format!("46001{:010}", 1234567890u64 + i as u64 * 31));
        ids.phone.push(format!("+86138{:08}", 138000 + i * 17));
        ids.android_id.push(format!(
            "{:016x}",
            0x9774d56d682e549cu64.wrapping_add(i as u64 * 977)
        ));
        ids.mac.push(format!(
            "02:00:00:{:02x}:{:02x}:66",
            i % 256,
            (i / 256) % 256
        ));
        ids.email.push(format!("user{i}@example.com"));
    }
    ids
}

/// The lab's identifiers file.
fn lab_ids() -> Identifiers {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../lab/ids.toml");
    let text = std::fs::read_to_string(path).expect("lab/ids.toml");
    Identifiers::from_toml(&text).expect("a valid identifiers file")
}

/// A JSON telemetry body of about `size` bytes: keys, timestamps, UUIDs, prices, text,
/// URLs and a hex signature, like analytics SDK uploads.
fn body(size: usize, escapes: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 512);
    out.extend_from_slice(b"{\"events\":[");
    let mut i: u64 = 0;
    while out.len() < size {
        let url = if escapes {
            "https:\\/\\/example.org\\/p\\/home?x=1%26y=2"
        } else {
            "https://example.org/p/home"
        };
        let ev = format!(
            "{{\"id\":\"{:08x}-4f89-11d3-9a0c-0305e82c{:04x}\",\"ts\":{},\"name\":\"screen_view\",\
             \"screen\":\"MainActivity\",\"price\":{}.99,\"qty\":{},\"url\":\"{url}\",\
             \"ua\":\"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36\",\
             \"sig\":\"{:016x}{:016x}\",\"text\":\"The quick brown fox jumps over the lazy dog\"}},",
            i.wrapping_mul(2654435761),
            i % 65536,
            1712345678901u64 + i * 1013,
            i % 100,
            i % 7,
            i.wrapping_mul(0x9e3779b97f4a7c15),
            i.wrapping_mul(0xc2b2ae3d27d4eb4f),
        );
        out.extend_from_slice(ev.as_bytes());
        i += 1;
    }
    out.extend_from_slice(b"{}]}");
    out
}

/// CPU time this thread has run, in nanoseconds, as the scheduler counts it: on a
/// shared machine wall time also counts the time other processes had the core.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// MB/s over the CPU time the scans took (wall time where the kernel does not say).
fn rate(label: &str, bytes: usize, mut f: impl FnMut()) -> f64 {
    if let Some(rounds) = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
    {
        (0..rounds).for_each(|_| f());
        println!("{label:<44} {rounds} rounds");
        return 1.0;
    }
    f();
    let start = Instant::now();
    let cpu_start = cpu_ns();
    let mut rounds = 0;
    while start.elapsed().as_secs_f64() < 1.0 {
        f();
        rounds += 1;
    }
    let secs = match (cpu_start, cpu_ns()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
        _ => start.elapsed().as_secs_f64(),
    };
    let mbs = (bytes * rounds) as f64 / secs / 1e6;
    println!("{label:<44} {mbs:>9.0} MB/s");
    mbs
}

fn main() {
    let arg = std::env::args().nth(1);
    let set = match arg.as_deref() {
        Some("lab") => lab_ids(),
        a => ids(a.and_then(|a| a.parse().ok()).unwrap_or(4)),
    };
    let det = Detector::new(&set, &Options::default());
    let no_probe = Detector::new(
        &set,
        &Options {
            probable: false,
            decode_base64_blobs: false,
            ..Options::default()
        },
    );
    println!(
        "identifier sets: {}, {} patterns",
        arg.as_deref().unwrap_or("4"),
        det.pattern_count()
    );
    const CHUNK: usize = 64 * 1024; // the default per-flow scan limit
    let plain = body(CHUNK, false);
    let escaped = body(CHUNK, true);
    let mut random = vec![0u8; CHUNK];
    let mut x: u64 = 0x2545F4914F6CDD1D;
    for b in random.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let base = rate("baseline: memchr count of one byte", plain.len(), || {
        black_box(memchr::memchr_iter(b'~', black_box(&plain)).count());
    });
    for (label, data, d) in [
        ("JSON body, all scans", &plain, &det),
        ("JSON body, patterns + numbers only", &plain, &no_probe),
        ("JSON body with \\/ and %26, all scans", &escaped, &det),
        ("random bytes, all scans", &random, &det),
    ] {
        if std::env::args()
            .nth(2)
            .is_some_and(|only| !label.contains(&only))
        {
            continue;
        }
        let r = rate(label, data.len(), || {
            black_box(d.scan(black_box(data), Where::Body));
        });
        println!("{:<44} {:>9.3} x baseline", "", r / base);
    }
}
