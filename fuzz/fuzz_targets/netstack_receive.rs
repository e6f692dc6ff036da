//! The packet entry point: any bytes from the TUN, then whatever the shell would do with
//! the events they cause. Must never panic.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use phonehome_netstack::{Config, Event, Netstack};

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let mut stack = Netstack::new(Config::default(), start);
    // Several packets per input, split at 0xff 0x00 markers, so sequences are explored.
    for (i, packet) in data.split(|&b| b == 0xff).enumerate() {
        let now = start + Duration::from_millis(i as u64 * 10);
        let _ = stack.receive(now, packet);
        while let Some(event) = stack.pop_event() {
            match event {
                Event::TcpConnect { id, .. } => stack.tcp_connected(now, id),
                Event::TcpData { id, data } => stack.tcp_written(id, data.len()),
                Event::UdpSend { id, data, .. } => stack.udp_reply(now, id, &data),
                Event::EchoRequest { id, seq, data, .. } => stack.echo_reply(now, id, seq, &data),
                _ => {}
            }
        }
        stack.poll(now);
        while stack.pop_packet().is_some() {}
    }
    stack.shutdown(start + Duration::from_secs(1));
});
