//! The device's own identifiers, read from the identifiers file (TOML) or from the
//! app (the same structure as JSON), validated so that a typo is reported with its line
//! instead of silently detecting nothing.

use std::fmt;
use std::ops::Range;

use serde::Deserialize;

use crate::mask::mask;
use crate::phone;

/// The identifiers of this device that the detector looks for.
///
/// `Debug` prints only how many values each list holds, never the values, so the type
/// can appear in logs.
#[derive(Clone, Default, PartialEq)]
pub struct Identifiers {
    /// ISO country code for national phone-number forms, upper case.
    pub region: Option<String>,
    pub imei: Vec<String>,
    pub imsi: Vec<String>,
    pub iccid: Vec<String>,
    /// The device's own numbers, normalised to E.164 with `+`.
    pub phone: Vec<String>,
    pub carrier: Vec<String>,
    pub android_id: Vec<String>,
    pub ad_id: Vec<String>,
    pub serial: Vec<String>,
    /// Device, install and vendor ids (OAID, VAID, install ids), such as `phonehome
    /// report` offers from discovery.
    pub device_id: Vec<String>,
    /// Normalised to `aa:bb:cc:dd:ee:ff`, lower case.
    pub mac: Vec<String>,
    pub email: Vec<String>,
    pub contact: Vec<Contact>,
    pub sms: Vec<Sms>,
    pub location: Option<Location>,
}

/// A contact stored on the phone; its numbers are normalised to E.164 with `+`.
#[derive(Clone, Default, PartialEq)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Vec<String>,
    pub email: Vec<String>,
}

/// A message sent or received: the peer's number (E.164 with `+`) and the text.
#[derive(Clone, Default, PartialEq)]
pub struct Sms {
    pub peer: Option<String>,
    pub text: Option<String>,
}

/// Where the device is, and how close a reported position must be to count.
#[derive(Clone, Copy, PartialEq)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

/// A rejected identifiers file: where (1-based line and column) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct IdsError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The radius when `[location]` gives none.
pub const DEFAULT_RADIUS_M: f64 = 500.0;

/// The largest identifiers file (or JSON from the app) that is read at all: 100,000
/// values of a few dozen bytes each fit many times over.
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// The most values (every string of every list, table and array of tables, `region`
/// aside) a file may hold. Each value becomes a few dozen patterns of the matcher, so
/// this bounds the matcher's memory and build time.
pub const MAX_VALUES: usize = 100_000;

/// Why `len` bytes of identifiers are too many to read, as `FILE: ...` ends.
pub fn check_file_size(len: u64) -> Result<(), String> {
    if len > MAX_FILE_BYTES as u64 {
        Err(format!(
            "is {len} bytes, over the limit of {} MiB for an identifiers file",
            MAX_FILE_BYTES >> 20
        ))
    } else {
        Ok(())
    }
}

impl Identifiers {
    /// Parses and validates the TOML identifiers file.
    pub fn from_toml(src: &str) -> Result<Identifiers, IdsError> {
        too_big(src)?;
        let raw: Raw<toml::Spanned<String>, toml::Spanned<f64>> =
            toml::from_str(src).map_err(|e| {
                let at = e.span().map(|s| s.start).unwrap_or(0);
                at_offset(src, at, e.message().trim().to_string())
            })?;
        raw.validate(src)
    }

    /// Parses and validates the same structure as JSON (what the Android app passes).
    pub fn from_json(src: &str) -> Result<Identifiers, IdsError> {
        too_big(src)?;
        let raw: Raw<Plain<String>, Plain<f64>> = serde_json::from_str(src).map_err(|e| {
            let full = e.to_string();
            // serde_json appends " at line L column C"; we print those ourselves.
            let message = match full.rfind(" at line ") {
                Some(i) => full[..i].to_string(),
                None => full,
            };
            IdsError {
                line: e.line(),
                column: e.column(),
                message,
            }
        })?;
        raw.validate(src)
    }

    /// True when nothing is configured (the detector then only reports probable hits).
    pub fn is_empty(&self) -> bool {
        *self
            == Identifiers {
                region: self.region.clone(),
                ..Identifiers::default()
            }
    }
}

fn too_big(src: &str) -> Result<(), IdsError> {
    check_file_size(src.len() as u64).map_err(|why| IdsError {
        line: 1,
        column: 1,
        message: format!("the identifiers {}", why.replacen("is", "are", 1)),
    })
}

fn at_offset(src: &str, offset: usize, message: String) -> IdsError {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count() + 1)
        .unwrap_or(1);
    IdsError {
        line,
        column,
        message,
    }
}

/// A deserialised value with, for TOML, its byte span in the source.
trait Located<T> {
    fn value(&self) -> &T;
    fn span(&self) -> Option<Range<usize>>;
}

impl<T> Located<T> for toml::Spanned<T> {
    fn value(&self) -> &T {
        self.get_ref()
    }
    fn span(&self) -> Option<Range<usize>> {
        Some(toml::Spanned::span(self))
    }
}

/// JSON has no spans; errors then point at the value's first occurrence in the source.
#[derive(Deserialize)]
#[serde(transparent)]
struct Plain<T>(T);

impl<T> Located<T> for Plain<T> {
    fn value(&self) -> &T {
        &self.0
    }
    fn span(&self) -> Option<Range<usize>> {
        None
    }
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "S: Deserialize<'de>, F: Deserialize<'de>")
)]
struct Raw<S, F> {
    region: Option<S>,
    #[serde(default = "Vec::new")]
    imei: Vec<S>,
    #[serde(default = "Vec::new")]
    imsi: Vec<S>,
    #[serde(default = "Vec::new")]
    iccid: Vec<S>,
    #[serde(default = "Vec::new")]
    phone: Vec<S>,
    #[serde(default = "Vec::new")]
    carrier: Vec<S>,
    #[serde(default = "Vec::new")]
    android_id: Vec<S>,
    #[serde(default = "Vec::new")]
    ad_id: Vec<S>,
    #[serde(default = "Vec::new")]
    serial: Vec<S>,
    #[serde(default = "Vec::new")]
    device_id: Vec<S>,
    #[serde(default = "Vec::new")]
    mac: Vec<S>,
    #[serde(default = "Vec::new")]
    email: Vec<S>,
    #[serde(default = "Vec::new")]
    contact: Vec<RawContact<S>>,
    #[serde(default = "Vec::new")]
    sms: Vec<RawSms<S>>,
    location: Option<RawLocation<F>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: Deserialize<'de>"))]
struct RawContact<S> {
    name: Option<S>,
    #[serde(default = "Vec::new")]
    phone: Vec<S>,
    #[serde(default = "Vec::new")]
    email: Vec<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: Deserialize<'de>"))]
struct RawSms<S> {
    peer: Option<S>,
    text: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "F: Deserialize<'de>"))]
struct RawLocation<F> {
    lat: F,
    lon: F,
    radius_m: Option<F>,
}

struct Ctx<'a> {
    src: &'a str,
    region: Option<&'static phone::Region>,
}

impl Ctx<'_> {
    fn err_at<T>(&self, v: &impl Located<T>, needle: &str, message: String) -> IdsError {
        let at = v
            .span()
            .map(|s| s.start)
            .or_else(|| self.src.find(needle))
            .unwrap_or(0);
        at_offset(self.src, at, message)
    }

    fn string<S: Located<String>>(&self, field: Field, v: &S) -> Result<String, IdsError> {
        let s = v.value();
        let needle = serde_json::to_string(s).unwrap_or_default();
        let label = field.label();
        if let Err(why) = length(field, s) {
            return Err(self.err_at(v, &needle, format!("{label} {why}")));
        }
        if s.trim().is_empty() {
            return Err(self.err_at(v, &needle, format!("{label} is an empty string")));
        }
        rule(field, s, self.region)
            .map_err(|why| self.err_at(v, &needle, format!("{label} \"{}\" {why}", short(s))))
    }

    fn list<S: Located<String>>(&self, field: Field, vs: &[S]) -> Result<Vec<String>, IdsError> {
        vs.iter().map(|v| self.string(field, v)).collect()
    }
}

/// A field of the identifiers file whose values are text, for checking values one at a
/// time ([`check`]): the app checks what was typed or read before it starts the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Region,
    Imei,
    Imsi,
    Iccid,
    Phone,
    Carrier,
    AndroidId,
    AdId,
    Serial,
    DeviceId,
    Mac,
    Email,
    ContactName,
    ContactPhone,
    ContactEmail,
    SmsPeer,
    SmsText,
}

impl Field {
    /// The field as error messages name it (`contact phone`).
    pub fn label(self) -> &'static str {
        match self {
            Field::Region => "region",
            Field::Imei => "imei",
            Field::Imsi => "imsi",
            Field::Iccid => "iccid",
            Field::Phone => "phone",
            Field::Carrier => "carrier",
            Field::AndroidId => "android_id",
            Field::AdId => "ad_id",
            Field::Serial => "serial",
            Field::DeviceId => "device_id",
            Field::Mac => "mac",
            Field::Email => "email",
            Field::ContactName => "contact name",
            Field::ContactPhone => "contact phone",
            Field::ContactEmail => "contact email",
            Field::SmsPeer => "sms peer",
            Field::SmsText => "sms text",
        }
    }

    /// The longest value, in bytes, the field takes: what a real value can need with
    /// room to spare. Fixed formats are bounded by their rule too; this keeps the error
    /// short and the check cheap for a value of megabytes.
    pub fn max_bytes(self) -> usize {
        match self {
            Field::SmsText => 1024,
            Field::Carrier | Field::ContactName | Field::Email | Field::ContactEmail => 256,
            _ => 64,
        }
    }
}

/// The field's length limit, before any other rule.
fn length(field: Field, s: &str) -> Result<(), String> {
    let max = field.max_bytes();
    if s.len() > max {
        Err(format!(
            "is {} bytes, over the limit of {max} bytes",
            s.len()
        ))
    } else {
        Ok(())
    }
}

/// A number of the `[location]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coordinate {
    Lat,
    Lon,
    RadiusM,
}

impl Coordinate {
    /// The key in the file.
    pub fn key(self) -> &'static str {
        match self {
            Coordinate::Lat => "lat",
            Coordinate::Lon => "lon",
            Coordinate::RadiusM => "radius_m",
        }
    }

    fn range(self) -> (f64, f64) {
        match self {
            Coordinate::Lat => (-90.0, 90.0),
            Coordinate::Lon => (-180.0, 180.0),
            Coordinate::RadiusM => (1.0, 1_000_000.0),
        }
    }
}

/// Checks one value as the identifiers file's parser does. `region` is the file's region
/// (national phone numbers need it). Returns the value as the detector keeps it
/// (normalised), or why not, without the field and the value: the caller shows those its
/// own way (the app masks them).
pub fn check(field: Field, value: &str, region: Option<&str>) -> Result<String, String> {
    length(field, value)?;
    if value.trim().is_empty() {
        return Err("is an empty string".into());
    }
    let region = region.map(str::to_ascii_uppercase);
    rule(field, value, region.as_deref().and_then(phone::region))
}

/// Checks one number of `[location]`; why not, as [`check`] says it.
pub fn check_coordinate(c: Coordinate, x: f64) -> Result<f64, String> {
    let (lo, hi) = c.range();
    if x.is_finite() && (lo..=hi).contains(&x) {
        Ok(x)
    } else {
        Err(format!("is out of range {lo} to {hi}"))
    }
}

/// Every field's rule, in one place for the file and for [`check`].
fn rule(field: Field, s: &str, region: Option<&'static phone::Region>) -> Result<String, String> {
    match field {
        Field::Region => {
            if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(s.to_ascii_uppercase())
            } else {
                Err("is not a two-letter ISO country code".into())
            }
        }
        Field::Imei => digits(s, 14, 16),
        Field::Imsi => digits(s, 14, 15),
        Field::Iccid => digits(s, 18, 22),
        Field::Phone | Field::ContactPhone | Field::SmsPeer => phone_number(s, region),
        Field::Carrier | Field::ContactName => text(s, 3),
        Field::SmsText => text(s, 4),
        Field::AndroidId => hex_id(s, 8, 16),
        Field::AdId => ad_id(s),
        Field::Serial => {
            if (6..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(s.to_string())
            } else {
                Err("is not 6 to 32 letters and digits".into())
            }
        }
        Field::DeviceId => device_id(s),
        Field::Mac => mac(s),
        Field::Email | Field::ContactEmail => email(s),
    }
}

fn phone_number(s: &str, region: Option<&'static phone::Region>) -> Result<String, String> {
    match phone::parse(s, region) {
        Ok(n) => Ok(format!("+{}", n.e164)),
        Err(phone::PhoneProblem::NotANumber) => {
            Err("is not a phone number (digits, an optional leading +, spaces, dashes, dots, parentheses)".into())
        }
        Err(phone::PhoneProblem::Length) => Err("does not have 7 to 15 digits with its country code".into()),
        Err(phone::PhoneProblem::NationalWithoutRegion) => Err(
            "is a national number but region is not set to a supported country; write it as +<country code><number>".into(),
        ),
    }
}

/// Error messages quote the user's value, but keep them short.
fn short(s: &str) -> String {
    if s.chars().count() > 40 {
        let head: String = s.chars().take(37).collect();
        format!("{head}...")
    } else {
        s.to_string()
    }
}

fn digits(s: &str, lo: usize, hi: usize) -> Result<String, String> {
    if (lo..=hi).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!("is not {lo} to {hi} digits"))
    }
}

fn hex_id(s: &str, lo: usize, hi: usize) -> Result<String, String> {
    if (lo..=hi).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_string())
    } else {
        Err(format!("is not {lo} to {hi} hex digits"))
    }
}

fn text(s: &str, min: usize) -> Result<String, String> {
    if s.trim().chars().count() < min {
        Err(format!(
            "is shorter than {min} characters, too short to detect without false alarms"
        ))
    } else {
        Ok(s.trim().to_string())
    }
}

/// Tokens as discovery finds them: 14 to 64 letters, digits and `+/=_-`.
fn device_id(s: &str) -> Result<String, String> {
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'));
    if ok && (14..=64).contains(&s.len()) {
        Ok(s.to_string())
    } else {
        Err("is not 14 to 64 letters, digits and + / = _ -".into())
    }
}

fn ad_id(s: &str) -> Result<String, String> {
    let ok = s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if !ok {
        return Err("is not a UUID (8-4-4-4-12 hex digits)".into());
    }
    if s.bytes().all(|b| b == b'0' || b == b'-') {
        return Err("is all zeros (ad tracking is limited); leave it out".into());
    }
    Ok(s.to_ascii_lowercase())
}

/// Parses `aa:bb:cc:dd:ee:ff`, `aa-bb-...`, `aabb.ccdd.eeff` or `aabbccddeeff`.
pub(crate) fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let hex: String = match s.len() {
        17 => {
            let sep = s.as_bytes()[2];
            if sep != b':' && sep != b'-' {
                return None;
            }
            let b = s.as_bytes();
            if !(2..17).step_by(3).all(|i| b[i] == sep) {
                return None;
            }
            s.split(sep as char).collect()
        }
        14 => {
            let b = s.as_bytes();
            if b[4] != b'.' || b[9] != b'.' {
                return None;
            }
            s.split('.').collect()
        }
        12 => s.to_string(),
        _ => return None,
    };
    if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 6];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn mac(s: &str) -> Result<String, String> {
    let m = parse_mac(s).ok_or(
        "is not a MAC address (aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff or 12 hex digits)",
    )?;
    if m == [0; 6] || m == [0xff; 6] {
        return Err("is the all-zero or broadcast address".into());
    }
    Ok(m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

fn email(s: &str) -> Result<String, String> {
    let Some((local, domain)) = s.trim().split_once('@') else {
        return Err("has no @".into());
    };
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err("is not local@domain".into());
    }
    if s.trim().chars().any(|c| c.is_whitespace()) {
        return Err("contains whitespace".into());
    }
    Ok(s.trim().to_string())
}

impl<S: Located<String>, F: Located<f64>> Raw<S, F> {
    /// Refuses more than [`MAX_VALUES`] values before any is checked or compiled,
    /// pointing at the first value over the limit.
    fn count(&self, ctx: &Ctx) -> Result<(), IdsError> {
        let lists = [
            (Field::Imei, &self.imei),
            (Field::Imsi, &self.imsi),
            (Field::Iccid, &self.iccid),
            (Field::Phone, &self.phone),
            (Field::Carrier, &self.carrier),
            (Field::AndroidId, &self.android_id),
            (Field::AdId, &self.ad_id),
            (Field::Serial, &self.serial),
            (Field::DeviceId, &self.device_id),
            (Field::Mac, &self.mac),
            (Field::Email, &self.email),
        ];
        let contacts = self.contact.iter().flat_map(|c| {
            let name = c.name.iter().map(|n| (Field::ContactName, n));
            let phone = c.phone.iter().map(|p| (Field::ContactPhone, p));
            let email = c.email.iter().map(|e| (Field::ContactEmail, e));
            name.chain(phone).chain(email)
        });
        let sms = self.sms.iter().flat_map(|m| {
            let peer = m.peer.iter().map(|p| (Field::SmsPeer, p));
            let text = m.text.iter().map(|t| (Field::SmsText, t));
            peer.chain(text)
        });
        let mut all = lists
            .into_iter()
            .flat_map(|(f, vs)| vs.iter().map(move |v| (f, v)))
            .chain(contacts)
            .chain(sms);
        if let Some((field, v)) = all.nth(MAX_VALUES) {
            let needle = serde_json::to_string(v.value()).unwrap_or_default();
            return Err(ctx.err_at(
                v,
                &needle,
                format!(
                    "{}: more than {MAX_VALUES} values, the limit for an identifiers file",
                    field.label()
                ),
            ));
        }
        Ok(())
    }

    fn validate(self, src: &str) -> Result<Identifiers, IdsError> {
        let mut ctx = Ctx { src, region: None };
        self.count(&ctx)?;
        let region = match &self.region {
            None => None,
            Some(v) => Some(ctx.string(Field::Region, v)?),
        };
        ctx.region = region.as_deref().and_then(phone::region);
        let contact = self
            .contact
            .iter()
            .map(|c| {
                Ok(Contact {
                    name: c
                        .name
                        .as_ref()
                        .map(|n| ctx.string(Field::ContactName, n))
                        .transpose()?,
                    phone: ctx.list(Field::ContactPhone, &c.phone)?,
                    email: ctx.list(Field::ContactEmail, &c.email)?,
                })
            })
            .collect::<Result<Vec<_>, IdsError>>()?;
        let sms = self
            .sms
            .iter()
            .map(|m| {
                Ok(Sms {
                    peer: m
                        .peer
                        .as_ref()
                        .map(|p| ctx.string(Field::SmsPeer, p))
                        .transpose()?,
                    text: m
                        .text
                        .as_ref()
                        .map(|t| ctx.string(Field::SmsText, t))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>, IdsError>>()?;
        let location = match &self.location {
            None => None,
            Some(l) => {
                let num = |c: Coordinate, v: &F| {
                    let x = *v.value();
                    check_coordinate(c, x).map_err(|why| {
                        let name = c.key();
                        ctx.err_at(
                            v,
                            &format!("\"{name}\""),
                            format!("location {name} {x} {why}"),
                        )
                    })
                };
                Some(Location {
                    lat: num(Coordinate::Lat, &l.lat)?,
                    lon: num(Coordinate::Lon, &l.lon)?,
                    radius_m: match &l.radius_m {
                        Some(r) => num(Coordinate::RadiusM, r)?,
                        None => DEFAULT_RADIUS_M,
                    },
                })
            }
        };
        Ok(Identifiers {
            imei: ctx.list(Field::Imei, &self.imei)?,
            imsi: ctx.list(Field::Imsi, &self.imsi)?,
            iccid: ctx.list(Field::Iccid, &self.iccid)?,
            phone: ctx.list(Field::Phone, &self.phone)?,
            carrier: ctx.list(Field::Carrier, &self.carrier)?,
            android_id: ctx.list(Field::AndroidId, &self.android_id)?,
            ad_id: ctx.list(Field::AdId, &self.ad_id)?,
            serial: ctx.list(Field::Serial, &self.serial)?,
            device_id: ctx.list(Field::DeviceId, &self.device_id)?,
            mac: ctx.list(Field::Mac, &self.mac)?,
            email: ctx.list(Field::Email, &self.email)?,
            region,
            contact,
            sms,
            location,
        })
    }
}

/// Prints counts, never values: this type may end up in a log line.
impl fmt::Debug for Identifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |v: &Vec<String>| Masked(v.iter().map(|s| mask(s)).collect());
        f.debug_struct("Identifiers")
            .field("region", &self.region)
            .field("imei", &n(&self.imei))
            .field("imsi", &n(&self.imsi))
            .field("iccid", &n(&self.iccid))
            .field("phone", &n(&self.phone))
            .field("carrier", &n(&self.carrier))
            .field("android_id", &n(&self.android_id))
            .field("ad_id", &n(&self.ad_id))
            .field("serial", &n(&self.serial))
            .field("device_id", &n(&self.device_id))
            .field("mac", &n(&self.mac))
            .field("email", &n(&self.email))
            .field("contact", &self.contact)
            .field("sms", &self.sms)
            .field("location", &self.location)
            .finish()
    }
}

struct Masked(Vec<String>);

impl fmt::Debug for Masked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contact")
            .field("name", &self.name.as_deref().map(mask))
            .field(
                "phone",
                &Masked(self.phone.iter().map(|s| mask(s)).collect()),
            )
            .field(
                "email",
                &Masked(self.email.iter().map(|s| mask(s)).collect()),
            )
            .finish()
    }
}

impl fmt::Debug for Sms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sms")
            .field("peer", &self.peer.as_deref().map(mask))
            .field(
                "text",
                &self
                    .text
                    .as_ref()
                    .map(|t| format!("<{} chars>", t.chars().count())),
            )
            .finish()
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whole degrees are ~100 km: enough to tell configurations apart, not a position.
        write!(
            f,
            "Location {{ lat: {}.*, lon: {}.*, radius_m: {} }}",
            self.lat.trunc(),
            self.lon.trunc(),
            self.radius_m
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// README's example; also what the integration tests scan for.
    const EXAMPLE: &str = include_str!("../tests/identifiers.toml");

    #[test]
    fn the_readme_shows_the_same_example() {
        let readme = include_str!("../../../README.md");
        let block = readme
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("README has a TOML example");
        assert_eq!(
            Identifiers::from_toml(block).unwrap(),
            Identifiers::from_toml(EXAMPLE).unwrap()
        );
    }

    #[test]
    fn the_documented_example_parses() {
        let ids = Identifiers::from_toml(EXAMPLE).unwrap();
        assert_eq!(ids.region.as_deref(), Some("CN"));
        assert_eq!(ids.imei, ["861234567890127"]);
        assert_eq!(ids.phone, ["+8613800138000"]);
        assert_eq!(ids.mac, ["02:00:00:44:55:66"]);
        assert_eq!(ids.contact[0].phone, ["+8613912345678"]);
        assert_eq!(ids.sms[0].peer.as_deref(), Some("+8613700000000"));
        assert_eq!(ids.location.unwrap().radius_m, 500.0);
    }

    #[test]
    fn every_key_is_optional() {
        let ids = Identifiers::from_toml("").unwrap();
        assert!(ids.is_empty());
        let ids = Identifiers::from_json("{}").unwrap();
        assert!(ids.is_empty());
    }

    #[test]
    fn the_same_structure_parses_from_json() {
        let json = r#"{"region":"CN","imei":["861234567890123"],
            "phone":["13800138000"],
            "contact":[{"name":"Li Wei","phone":["+8613912345678"]}],
            "sms":[{"peer":"+8613700000000","text":"hi there"}],
            "location":{"lat":39.9042,"lon":116.4074}}"#;
        let ids = Identifiers::from_json(json).unwrap();
        assert_eq!(ids.phone, ["+8613800138000"]);
        assert_eq!(ids.location.unwrap().radius_m, DEFAULT_RADIUS_M);
    }

    #[test]
    fn a_bad_imei_is_reported_with_its_line_and_column() {
        let err = Identifiers::from_toml("region = \"CN\"\n\nimei = [\"12ab\"]\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3, column 9: imei \"12ab\" is not 14 to 16 digits"
        );
    }

    #[test]
    fn an_unknown_key_is_reported_with_its_line() {
        let err = Identifiers::from_toml("imei = []\nimie = [\"1\"]\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("unknown field `imie`"), "{err}");
    }

    #[test]
    fn a_wrong_type_is_reported_with_its_line() {
        let err = Identifiers::from_toml("\nimei = 861234567890123\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("invalid type"), "{err}");
    }

    #[test]
    fn bad_values_are_refused_with_what_is_wrong() {
        let cases = [
            ("mac = [\"02:00:00:44:55\"]", "is not a MAC address"),
            ("mac = [\"ff:ff:ff:ff:ff:ff\"]", "broadcast"),
            ("email = [\"someone.example.com\"]", "has no @"),
            ("email = [\"\"]", "email is an empty string"),
            ("phone = [\"13800138000\"]", "region is not set"),
            (
                "ad_id = [\"00000000-0000-0000-0000-000000000000\"]",
                "all zeros",
            ),
            ("android_id = [\"xyz\"]", "hex digits"),
            (
                "[location]\nlat = 91.0\nlon = 0.0",
                "lat 91 is out of range",
            ),
            ("[[contact]]\nphone = [\"+86 abc\"]", "contact phone"),
            ("[[sms]]\ntext = \"ok\"", "too short"),
            ("region = \"China\"", "two-letter"),
        ];
        for (src, want) in cases {
            let err = Identifiers::from_toml(src).unwrap_err();
            assert!(err.to_string().contains(want), "{src}: {err}");
        }
    }

    #[test]
    fn json_errors_point_at_the_bad_value() {
        let err = Identifiers::from_json("{\n \"imei\": [\n  \"12ab\"]}").unwrap_err();
        assert_eq!((err.line, err.column), (3, 3));
        let err = Identifiers::from_json("{\"imei\": [1]}").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(!err.message.contains(" at line "), "{err}");
    }

    #[test]
    fn one_value_is_checked_by_the_same_rule_as_the_file() {
        assert_eq!(
            check(Field::Imei, "12ab", None),
            Err("is not 14 to 16 digits".into())
        );
        let err = Identifiers::from_toml("imei = [\"12ab\"]").unwrap_err();
        assert!(err.message.ends_with("is not 14 to 16 digits"), "{err}");
        assert_eq!(
            check(Field::Phone, "138 0013 8000", Some("cn")),
            Ok("+8613800138000".into())
        );
        assert!(check(Field::Phone, "138 0013 8000", None)
            .unwrap_err()
            .contains("region is not set"));
        assert_eq!(
            check(Field::Mac, "0200.0044.5566", None),
            Ok("02:00:00:44:55:66".into())
        );
        assert_eq!(
            check(Field::SmsText, " ", None),
            Err("is an empty string".into())
        );
        assert_eq!(check_coordinate(Coordinate::Lat, 39.9), Ok(39.9));
        assert_eq!(
            check_coordinate(Coordinate::Lat, 91.0),
            Err("is out of range -90 to 90".into())
        );
    }

    #[test]
    fn a_value_over_its_length_limit_is_refused_without_quoting_it() {
        let long = "a".repeat(1025);
        let err = Identifiers::from_toml(&format!("[[sms]]\ntext = \"{long}\"")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2, column 8: sms text is 1025 bytes, over the limit of 1024 bytes"
        );
        assert!(Identifiers::from_toml(&format!("[[sms]]\ntext = \"{}\"", &long[1..])).is_ok());
        let err = Identifiers::from_json(&format!("{{\"carrier\": [\"{long}\"]}}")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1, column 14: carrier is 1025 bytes, over the limit of 256 bytes"
        );
        assert_eq!(
            check(Field::Imei, &"1".repeat(65), None),
            Err("is 65 bytes, over the limit of 64 bytes".into())
        );
    }

    #[test]
    fn more_values_than_the_limit_are_refused_at_the_first_one_over() {
        let imeis = |n: usize| {
            let list: Vec<String> = (0..n)
                .map(|i| format!("\"{}\"", 861_000_000_000_000u64 + i as u64))
                .collect();
            format!("imei = [\n{}\n]\n", list.join(",\n"))
        };
        let ids = Identifiers::from_toml(&imeis(MAX_VALUES)).unwrap();
        assert_eq!(ids.imei.len(), MAX_VALUES);
        let err = Identifiers::from_toml(&imeis(MAX_VALUES + 1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "line {}, column 1: imei: more than {MAX_VALUES} values, the limit for an identifiers file",
                MAX_VALUES + 2
            )
        );
        // Values of every list and table count together.
        let mut src = imeis(MAX_VALUES);
        src.push_str("[[contact]]\nname = \"Li Wei\"\n");
        let err = Identifiers::from_toml(&src).unwrap_err();
        assert!(err.message.starts_with("contact name: more than"), "{err}");
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_before_parsing() {
        let src = format!("{{\"carrier\": \"{}\"}}", "a".repeat(MAX_FILE_BYTES));
        let err = Identifiers::from_json(&src).unwrap_err();
        assert_eq!((err.line, err.column), (1, 1));
        assert!(err.message.contains("over the limit of 16 MiB"), "{err}");
        assert!(check_file_size(MAX_FILE_BYTES as u64).is_ok());
    }

    #[test]
    fn macs_are_normalised_from_every_notation() {
        for m in [
            "02-00-00-44-55-66",
            "0200.0044.5566",
            "020000445566",
            "02:00:00:44:55:66",
        ] {
            let ids = Identifiers::from_toml(&format!("mac = [\"{m}\"]")).unwrap();
            assert_eq!(ids.mac, ["02:00:00:44:55:66"]);
        }
    }

    #[test]
    fn debug_output_never_shows_a_whole_value() {
        let ids = Identifiers::from_toml(EXAMPLE).unwrap();
        let dbg = format!("{ids:?}");
        for v in [
            "861234567890123",
            "460011234567890",
            "8613800138000",
            "9774d56d682e549c",
            "someone@example.com",
            "Li Wei",
            "station",
            "39.9042",
            "02:00:00:44:55:66",
        ] {
            assert!(!dbg.contains(v), "{v} in {dbg}");
        }
    }
}
