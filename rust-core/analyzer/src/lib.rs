//! Sans-IO analysis of flows (in progress): TCP reassembly for offline captures.

pub mod reassembly;
