//! Packets [`Parsed::admit`] refused: answered as an unreachable host would answer, or
//! not at all, and recorded as flows that ended at once.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use phonehome_model::{CloseReason, Proto};

use crate::api::{Event, FlowEnd};
use crate::packet::{self, DropReason, Parsed};
use crate::stack::Netstack;

/// Refusals recorded per second at most: a flood of crafted packets costs counters,
/// not records.
const RECORDS_PER_SECOND: u32 = 32;

/// How many refusals were recorded in the current one-second window.
#[derive(Debug, Default)]
pub(crate) struct RecordBudget {
    window: Option<Instant>,
    used: u32,
}

impl RecordBudget {
    fn take(&mut self, now: Instant) -> bool {
        let current = self
            .window
            .filter(|&start| now.saturating_duration_since(start) < Duration::from_secs(1));
        if current.is_none() {
            self.window = Some(now);
            self.used = 0;
        }
        self.used += 1;
        self.used <= RECORDS_PER_SECOND
    }
}

impl Netstack {
    /// A client asking for a forbidden destination gets the RST or ICMP error an
    /// unreachable host would cause, so it fails at once; a spoofed source gets
    /// nothing (the answer would go to whoever it impersonates). Packets that would
    /// open a flow are recorded with the refusal as their close reason.
    pub(crate) fn refuse(
        &mut self,
        now: Instant,
        packet: &[u8],
        parsed: &Parsed<'_>,
        reason: DropReason,
    ) {
        let close = match reason {
            DropReason::Forbidden => CloseReason::Forbidden,
            DropReason::Spoofed => CloseReason::Spoofed,
            _ => return,
        };
        let answer = reason == DropReason::Forbidden;
        let (proto, src, dst, opens) = match *parsed {
            Parsed::Tcp {
                src,
                dst,
                syn,
                ack,
                rst,
                seq,
                seq_len,
                ..
            } => {
                let opens = syn && !ack && !rst;
                if answer && opens {
                    if let Some(rst) = packet::tcp_refusal(src, dst, seq, seq_len) {
                        self.push_packet(rst);
                    }
                }
                (Proto::Tcp, src, dst, opens)
            }
            Parsed::Udp { src, dst, .. } => (Proto::Udp, src, dst, true),
            Parsed::EchoRequest { src, dst, .. } => (
                Proto::Icmp,
                SocketAddr::new(src, 0),
                SocketAddr::new(dst, 0),
                true,
            ),
        };
        if answer && proto != Proto::Tcp {
            if let Some(error) = packet::unreachable(packet, false) {
                self.push_packet(error);
            }
        }
        if opens && self.refusal_records.take(now) {
            let id = self.new_id();
            self.events.push_back(Event::Closed(FlowEnd {
                id,
                proto,
                src,
                dst,
                bytes_out: 0,
                bytes_in: 0,
                start: now,
                end: now,
                reason: close,
            }));
        }
    }
}
