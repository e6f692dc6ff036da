//! The stack's two clocks: smoltcp's per-flow timers (retransmission, TIME-WAIT), kept in
//! one heap so that only the flows whose time came are polled, and the idle deadlines,
//! checked in one sweep at the earliest of them.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use crate::tcp::{mark_due, open_tcp, OpenTcp};
use crate::{CloseReason, FlowId, Netstack};

/// smoltcp's timers, soonest first. An entry whose flow is gone or whose timer moved is
/// stale and skipped.
pub(crate) type Timers = BinaryHeap<Reverse<(Instant, FlowId)>>;

/// Queues the time smoltcp next wants flow `id` polled. One queued entry per flow at most:
/// a later time waits for the earlier entry to fire (a spare poll of this flow) rather
/// than pile up entries on every ACK.
pub(crate) fn arm(timers: &mut Timers, id: FlowId, open: &mut OpenTcp, at: Option<Instant>) {
    if let Some(at) = at.filter(|&at| open.timer.is_none_or(|queued| at < queued)) {
        open.timer = Some(at);
        timers.push(Reverse((at, id)));
    }
}

impl Netstack {
    /// Marks due the flows whose timer expired by `now`, and sweeps idle flows if one
    /// may have run out.
    pub(crate) fn run_timers(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|at| at <= now) {
            self.sweep_idle(now);
        }
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            if let Some(open) = open_tcp(&mut self.flows, id) {
                if open.timer == Some(at) {
                    open.timer = None;
                    mark_due(&mut self.due, id, open);
                }
            }
        }
    }

    /// The earliest timer or idle deadline. Stale timers are dropped on the way so that
    /// they cause no wake-up.
    pub(crate) fn next_timer(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            match open_tcp(&mut self.flows, id) {
                Some(open) if open.timer == Some(at) => break,
                _ => {
                    self.timers.pop();
                }
            }
        }
        let timer = self.timers.peek().map(|Reverse((at, _))| *at);
        match (timer, self.next_sweep) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn sweep_idle(&mut self, now: Instant) {
        let mut next: Option<Instant> = None;
        let mut expired = Vec::new();
        for (&id, flow) in &self.flows {
            let deadline = flow.last_active + self.idle_timeout(&flow.kind, flow.dst);
            if deadline <= now {
                expired.push(id);
            } else {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
            }
        }
        self.next_sweep = next;
        for id in expired {
            if let Some(open) = open_tcp(&mut self.flows, id) {
                // Reset the client now; the shell resets the server on `Closed`.
                open.abort(CloseReason::Idle);
                mark_due(&mut self.due, id, open);
            } else {
                self.finish(id, now, CloseReason::Idle);
            }
        }
    }
}
