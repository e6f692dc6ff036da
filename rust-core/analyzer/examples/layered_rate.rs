//! What unwrapping costs the detector: MB/s of the detector alone and of the detector
//! over a body and every view unwrapped from it (`phonehome_analyzer::layered::scan`),
//! on the 64 KiB bodies a flow is scanned in, beside a `memchr` baseline of the same run.
//!
//! `cargo run --release -p phonehome-analyzer --example layered_rate [CASE]`: only the
//! case labelled CASE ("JSON body", "random bytes"...), for a profile of one.
//! With `ROUNDS=N` in the environment each line is run exactly N times, untimed: for an
//! instruction count (`valgrind --tool=callgrind`), which the machine's load does not
//! disturb the way it disturbs a rate.

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use phonehome_analyzer::layered;
use phonehome_detect::{Detector, Identifiers, Options, Where};
use phonehome_unwrap::{Budget, Limits};

const CHUNK: usize = 64 * 1024;

fn ids() -> Identifiers {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../lab/ids.toml"))
        .expect("lab/ids.toml");
    Identifiers::from_toml(&text).expect("a valid identifiers file")
}

/// Telemetry-like JSON: UUIDs, timestamps, URLs (escaped or not), a user agent, a hex
/// signature and text; nothing wrapped.
fn body(size: usize, escapes: bool) -> Vec<u8> {
    let url = if escapes {
        "https:\\/\\/example.org\\/p\\/home?x=1%26y=2"
    } else {
        "https://example.org/p/home"
    };
    let mut out = b"{\"events\":[".to_vec();
    let mut i: u64 = 0;
    while out.len() < size {
        let ev = format!(
            "{{\"id\":\"{:08x}-4f89-11d3-9a0c-0305e82c{:04x}\",\"ts\":{},\"name\":\"screen_view\",\
             \"url\":\"{url}\",\"ua\":\"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36\",\
             \"sig\":\"{:016x}{:016x}\",\"text\":\"The quick brown fox jumps over the lazy dog\"}},",
            i.wrapping_mul(2654435761),
            i % 65536,
            1712345678901u64 + i * 1013,
            i.wrapping_mul(0x9e3779b97f4a7c15),
            i.wrapping_mul(0xc2b2ae3d27d4eb4f),
        );
        out.extend_from_slice(ev.as_bytes());
        i += 1;
    }
    out.truncate(size);
    out
}

fn base64(data: &[u8]) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |a, (i, &b)| a | u32::from(b) << (16 - 8 * i));
        for i in 0..=c.len() {
            out.push(T[(n >> (18 - 6 * i) & 63) as usize]);
        }
    }
    out
}

/// `{"d":"<base64 of gzip of telemetry>"}`, 64 KiB in all: a wrapped body to open.
fn wrapped(size: usize) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&body(size * 4, false))
        .expect("writes to a Vec");
    let mut out = b"{\"d\":\"".to_vec();
    out.extend(base64(&gz.finish().expect("writes to a Vec")));
    out.truncate(size - 2);
    out.extend_from_slice(b"\"}");
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
        println!("{label:<52} {rounds} rounds");
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
    println!("{label:<52} {mbs:>9.0} MB/s");
    mbs
}

fn main() {
    let det = Detector::new(&ids(), &Options::default());
    println!("lab/ids.toml, {} patterns", det.pattern_count());
    let mut random = vec![0u8; CHUNK];
    let mut x: u64 = 0x2545F4914F6CDD1D;
    for b in random.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let plain = body(CHUNK, false);
    let base = rate("baseline: memchr count of one byte", CHUNK, || {
        black_box(memchr::memchr_iter(b'~', black_box(&plain)).count());
    });
    let limits = Limits::for_scan_limit(CHUNK);
    for (label, data) in [
        ("JSON body", plain.clone()),
        ("JSON body with \\/ and %26", body(CHUNK, true)),
        ("base64 of gzip of JSON", wrapped(CHUNK)),
        ("random bytes", random),
    ] {
        if std::env::args().nth(1).is_some_and(|only| label != only) {
            continue;
        }
        let views = phonehome_unwrap::unwrap(&data, &limits, &mut Budget::for_scan_limit(CHUNK));
        let decoded: usize = views.iter().map(|v| v.bytes.len()).sum();
        let mut chains: Vec<String> = views
            .iter()
            .map(|v| {
                let names: Vec<&str> = v.layers.iter().map(|l| l.as_str()).collect();
                names.join(">")
            })
            .collect();
        chains.dedup();
        println!(
            "{label}: {} views, {decoded} bytes decoded ({})",
            views.len(),
            chains.join(", ")
        );
        let alone = rate(&format!("{label}: detector alone"), data.len(), || {
            black_box(det.scan(black_box(&data), Where::Body));
        });
        rate(&format!("{label}: unwrap alone"), data.len(), || {
            let mut budget = Budget::for_scan_limit(CHUNK);
            black_box(phonehome_unwrap::unwrap(
                black_box(&data),
                &limits,
                &mut budget,
            ));
        });
        let layered = rate(&format!("{label}: detector + unwrap"), data.len(), || {
            // A new flow's budget each time: the cost of one 64 KiB scan.
            let mut budget = Budget::for_scan_limit(CHUNK);
            black_box(layered::scan(
                &det,
                black_box(&data),
                Where::Body,
                &limits,
                &mut budget,
            ));
        });
        println!(
            "{:<52} {:>9.3} x baseline, {:.2} x alone",
            "",
            layered / base,
            layered / alone
        );
    }
}
