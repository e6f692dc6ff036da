//! Sans-IO identifier detection for PhoneHome.
//!
//! [`Identifiers`] is the device's own identifiers file (TOML, or the same structure as
//! JSON from the app). [`Detector::new`] compiles every form those values can travel
//! in (plain, separators, case, URL and JSON escapes, hex, base64 at any alignment,
//! MD5/SHA-1/SHA-256 digests of common variants, whole or truncated) into one
//! automaton; [`Detector::scan`] reports [`Hit`]s with the value masked. No IO, no
//! clock, no logging: callers bound how much they scan.

mod boundary;
mod classify;
mod detector;
mod encode;
mod hit;
mod ids;
mod mask;
mod packed;
mod phone;
mod prefilter;
mod structure;
mod tables;

pub use detector::{Detector, Options};
pub use encode::luhn_ok;
pub use hit::Hit;
pub use ids::{
    check, check_coordinate, check_file_size, Contact, Coordinate, Field, Identifiers, IdsError,
    Location, Sms, DEFAULT_RADIUS_M, MAX_FILE_BYTES, MAX_VALUES,
};
/// The names a hit carries are the records' own types.
pub use phonehome_model::{Confidence, DigestForm, Encoding, Kind, Where};
