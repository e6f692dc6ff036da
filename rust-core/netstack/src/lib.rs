//! A sans-IO userspace TCP/IP stack for a TUN device.
//!
//! The shell feeds it the packets read from the TUN ([`Netstack::receive`]), the results
//! of its upstream sockets (`tcp_connected`, `tcp_send`, `udp_reply`, ...), and the time.
//! The stack answers with packets to write to the TUN ([`Netstack::pop_packet`]) and
//! [`Event`]s telling the shell what to do upstream. It opens no socket, reads no clock
//! and never blocks, so all of it is tested with plain byte arrays.
//!
//! A driver's loop, in this order:
//!
//! 1. [`Netstack::receive`] each packet read from the TUN, and hand over what happened
//!    upstream: `tcp_connected` / `tcp_connect_failed`, `tcp_written`, `tcp_send`,
//!    `tcp_server_eof`, `tcp_server_reset`, `udp_reply`, `echo_reply`, `datagram_failed`;
//! 2. [`Netstack::poll`], which runs the timers and moves bytes for the flows given
//!    something;
//! 3. write every [`Netstack::pop_packet`] to the TUN and act on every
//!    [`Netstack::pop_event`] upstream;
//! 4. wait for input or until [`Netstack::poll_at`], then start again.
//!
//! On the way out, [`Netstack::shutdown`], then steps 3 once more.
//!
//! The parts, each using only those below it (this file, the driver, uses them all):
//!
//! - `tcp`: a smoltcp socket per flow, in a socket set of its own that is polled only when
//!   the flow has work (packets, commands, a due timer), so a packet costs the same with
//!   one flow open or thousands. A client's SYN is held until the shell has connected
//!   upstream; only then is the socket created and the SYN fed to it, so a refused or
//!   unreachable destination is refused to the client too, never "connected then reset".
//! - `datagram`: UDP and ICMP echo bypass smoltcp: a NAT table maps each (client,
//!   destination) to a flow the shell serves with its own socket.
//! - `stack`: what the stack holds; the flow table, its limit, the idle sweep, and how a
//!   flow ends and is reported.
//! - `timers`: smoltcp's per-flow timers, one heap for all flows.
//! - `flows`: the table's entries; `tcp_flow`: one TCP flow's socket, buffers and phase,
//!   and moving its bytes.
//! - `refusal`: what happens to packets `packet` refuses (martian destinations,
//!   foreign sources): the answer, if any, and a record.
//! - `api`, [`packet`], `device`: what the shell and the stack exchange, parsing what the
//!   TUN gives and building the few packets the stack makes, smoltcp's packet queues.

mod api;
mod datagram;
mod device;
mod flows;
pub mod packet;
mod refusal;
mod stack;
mod tcp;
mod tcp_flow;
mod timers;

use std::time::Instant;

pub use phonehome_model::{CloseReason, Proto};

pub use api::{Config, ConnectError, Event, FlowEnd, FlowId, Stats};
use flows::Kind;
pub use packet::DropReason;
use packet::Parsed;
pub use stack::Netstack;
use tcp_flow::TcpFlow;

impl Netstack {
    /// Takes one packet read from the TUN. Packets the stack cannot use are dropped and
    /// counted; the reason is returned for the caller's curiosity.
    pub fn receive(&mut self, now: Instant, packet: &[u8]) -> Result<(), DropReason> {
        self.stats.packets_in += 1;
        let result = match packet::parse(packet) {
            Ok(parsed) => match parsed.admit(&self.config.clients) {
                Ok(()) => self.dispatch(now, packet, parsed),
                Err(reason) => {
                    self.refuse(now, packet, &parsed, reason);
                    Err(reason)
                }
            },
            Err(reason) => Err(reason),
        };
        if let Err(reason) = result {
            self.count_drop(reason);
        }
        result
    }

    fn dispatch(
        &mut self,
        now: Instant,
        packet: &[u8],
        parsed: Parsed<'_>,
    ) -> Result<(), DropReason> {
        match parsed {
            Parsed::Tcp {
                src,
                dst,
                syn,
                ack,
                rst,
                seq,
                seq_len,
                ..
            } => self.receive_tcp(now, packet, src, dst, syn && !ack && !rst, (seq, seq_len)),
            Parsed::Udp { src, dst, payload } => self.receive_udp(now, src, dst, payload),
            Parsed::EchoRequest {
                src,
                dst,
                ident,
                seq,
                data,
            } => self.receive_echo(now, src, dst, ident, seq, data),
        }
    }

    /// Runs timers and moves data between smoltcp and the shell. Call after feeding
    /// packets or commands, and when [`Netstack::poll_at`] is due. Only flows that were
    /// given something, or whose timer expired, are polled.
    pub fn poll(&mut self, now: Instant) {
        self.run_timers(now);
        if !self.strays.is_empty() {
            self.device.rx.extend(self.strays.drain(..));
            let t = self.smol_now(now);
            self.iface.poll(t, &mut self.device, &mut self.no_sockets);
        }
        let due = std::mem::take(&mut self.due);
        for &id in &due {
            self.poll_flow(now, id);
        }
        // Keep the list's allocation for the next round.
        if self.due.is_empty() {
            self.due = due;
            self.due.clear();
        }
    }

    /// When [`Netstack::poll`] should run next if nothing else happens; `None` means
    /// only when a packet or a command arrives (no periodic wake-ups).
    pub fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        if !self.due.is_empty() || !self.strays.is_empty() {
            return Some(now);
        }
        self.next_timer()
    }

    /// The next packet for the TUN.
    pub fn pop_packet(&mut self) -> Option<Vec<u8>> {
        let packet = self.device.tx.pop_front()?;
        self.stats.packets_out += 1;
        Some(packet)
    }

    /// The next thing for the shell to do.
    pub fn pop_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Ends every flow (clients of TCP flows get a RST) with reason `Shutdown`.
    pub fn shutdown(&mut self, now: Instant) {
        let t = self.smol_now(now);
        for flow in self.flows.values_mut() {
            if let Kind::Tcp(TcpFlow::Open(open)) = &mut flow.kind {
                open.abort(CloseReason::Shutdown);
                self.iface.poll(t, &mut self.device, &mut open.set);
            }
        }
        let mut ids: Vec<FlowId> = self.flows.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.finish(id, now, CloseReason::Shutdown);
        }
    }

    /// Marks due the flows whose timer expired by `now`, and sweeps idle flows if one
    /// may have run out.
    fn run_timers(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|at| at <= now) {
            self.sweep_idle(now);
        }
        timers::expire(&mut self.timers, &mut self.flows, &mut self.due, now);
    }

    /// The earliest timer or idle deadline.
    fn next_timer(&mut self) -> Option<Instant> {
        let timer = timers::next(&mut self.timers, &mut self.flows);
        match (timer, self.next_sweep) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests;
