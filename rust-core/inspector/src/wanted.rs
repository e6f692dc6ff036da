//! The inspection thread's word to the tap about one flow: from which offset it wants
//! each direction's bytes, whether past the tap's per-direction limit, and whether that
//! is a decision yet (see [`phonehome_analyzer::Analyzer::decided`]). Only a hint to
//! save copying: the analyzer drops unwanted bytes that come anyway.
//!
//! Each word carries the epoch of the stream it is about: an intercepted flow's
//! plaintext starts a new one (the tap counts it from 0 again), and a word the thread
//! stored about the ciphertext before it heard of the interception must not cap the
//! plaintext. The tap never waits for the thread: a word of another epoch reads as the
//! default, undecided.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use phonehome_analyzer::Want;
use phonehome_model::Direction;

#[derive(Debug, Default)]
pub(crate) struct Wanted {
    out: Atomic,
    inbound: Atomic,
}

#[derive(Debug, Default)]
struct Atomic {
    follow: AtomicBool,
    from: AtomicU64,
    /// `epoch << 1 | decided`, stored last (release) and loaded first (acquire): a tap
    /// that reads an epoch reads `follow` and `from` of that epoch's words.
    stamp: AtomicU32,
}

/// What the tap reads of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Word {
    pub(crate) want: Want,
    pub(crate) decided: bool,
}

impl Wanted {
    fn of(&self, dir: Direction) -> &Atomic {
        match dir {
            Direction::Out => &self.out,
            Direction::In => &self.inbound,
        }
    }

    /// Called by the inspection thread, which knows the flow's epoch from the messages
    /// it has read.
    pub(crate) fn store(&self, dir: Direction, epoch: u32, word: Word) {
        let a = self.of(dir);
        a.follow.store(word.want.follow, Ordering::Relaxed);
        a.from.store(word.want.from, Ordering::Relaxed);
        let stamp = epoch.wrapping_shl(1) | u32::from(word.decided);
        a.stamp.store(stamp, Ordering::Release);
    }

    /// Called by the tap with the flow's current epoch.
    pub(crate) fn load(&self, dir: Direction, epoch: u32) -> Word {
        let a = self.of(dir);
        let stamp = a.stamp.load(Ordering::Acquire);
        if stamp >> 1 != epoch & (u32::MAX >> 1) {
            return Word::default();
        }
        Word {
            want: Want {
                follow: a.follow.load(Ordering::Relaxed),
                from: a.from.load(Ordering::Relaxed),
            },
            decided: stamp & 1 == 1,
        }
    }
}
