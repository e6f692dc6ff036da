//! The inspection thread's word to the tap about one flow: from which offset it wants
//! each direction's bytes, and whether past the tap's per-direction limit. Only a hint
//! to save copying: the analyzer drops unwanted bytes that come anyway, so relaxed
//! atomics are enough.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
}

impl Wanted {
    fn of(&self, dir: Direction) -> &Atomic {
        match dir {
            Direction::Out => &self.out,
            Direction::In => &self.inbound,
        }
    }

    pub(crate) fn store(&self, dir: Direction, want: Want) {
        let a = self.of(dir);
        a.follow.store(want.follow, Ordering::Relaxed);
        a.from.store(want.from, Ordering::Relaxed);
    }

    pub(crate) fn load(&self, dir: Direction) -> Want {
        let a = self.of(dir);
        Want {
            follow: a.follow.load(Ordering::Relaxed),
            from: a.from.load(Ordering::Relaxed),
        }
    }
}
