//! The stack's tests, by part; `harness` is the bench they share.

mod admission;
mod datagram;
mod handshake;
mod harness;
mod input;
mod tcp;
