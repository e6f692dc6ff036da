//! smoltcp's per-flow timers (retransmission, TIME-WAIT), kept in one heap so that only
//! the flows whose time came are polled. The other clock, the idle deadlines, is swept
//! by the stack (`Netstack::sweep_idle`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use crate::api::FlowId;
use crate::flows::{open_tcp, Flow};
use crate::tcp_flow::{mark_due, OpenTcp};

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

/// Marks due the flows whose timer expired by `now`.
pub(crate) fn expire(
    timers: &mut Timers,
    flows: &mut HashMap<FlowId, Flow>,
    due: &mut Vec<FlowId>,
    now: Instant,
) {
    while let Some(&Reverse((at, id))) = timers.peek() {
        if at > now {
            break;
        }
        timers.pop();
        if let Some(open) = open_tcp(flows, id) {
            if open.timer == Some(at) {
                open.timer = None;
                mark_due(due, id, open);
            }
        }
    }
}

/// The earliest live timer. Stale timers are dropped on the way so that they cause no
/// wake-up.
pub(crate) fn next(timers: &mut Timers, flows: &mut HashMap<FlowId, Flow>) -> Option<Instant> {
    while let Some(&Reverse((at, id))) = timers.peek() {
        match open_tcp(flows, id) {
            Some(open) if open.timer == Some(at) => break,
            _ => {
                timers.pop();
            }
        }
    }
    timers.peek().map(|Reverse((at, _))| *at)
}
