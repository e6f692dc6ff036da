//! Sans-IO analysis of flows: names for destinations, identifier findings, and TCP
//! reassembly for captures. The relay (live) and `phonehome analyze` (captures) both
//! feed an [`Analyzer`].

mod cursor;
pub mod discovery;
mod h2;
pub mod layered;
pub mod offline;
pub mod pipeline;
pub mod protocols;
pub mod reassembly;
mod switch;

pub use pipeline::{Analyzer, Settings, Want};
