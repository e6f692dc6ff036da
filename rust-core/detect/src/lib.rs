//! Sans-IO identifier detection for PhoneHome.
//!
//! [`Identifiers`] is the device's own identifiers file (TOML, or the same structure as
//! JSON from the app).

mod ids;
mod mask;
mod phone;

pub use ids::{Contact, Identifiers, IdsError, Location, Sms};
