//! Inspection off the packet path: the relay's tap ([`Inspector`], an
//! [`Observer`](phonehome_relay::Observer)) hands copies of the first bytes of each flow
//! to a thread that runs the analyzer and writes the records and the capture.
//!
//! The tap never waits. Bytes beyond a flow's tap limit are not copied at all, and when
//! the thread falls behind by more than a byte budget, further data is dropped (and
//! counted) rather than queued: relaying never slows down for inspection.

mod attribute;
mod tap;
mod wanted;
mod worker;

pub use attribute::{Attribute, OneApp};
pub use tap::{Inspector, TapLimits};

/// Where the capture goes: packets with a comment naming their flow, into a file (one
/// that starts over past a size, for `watch`).
pub type Capture =
    phonehome_capture::PcapngWriter<std::io::BufWriter<Box<dyn std::io::Write + Send>>>;
