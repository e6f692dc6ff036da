//! `NativeCore.validateIdentifiers`: the app's identifiers checked value by value with
//! the rules the identifiers file gets ([`phonehome_detect::check`]), so the app keeps
//! what the core will take and can say what it will not, every problem at once.
//!
//! In: the identifiers structure as JSON (as `identifiers` in the configuration). Out:
//! `{"identifiers": {...}, "problems": [{"field", "value", "message"}]}`: the values
//! that pass, normalised as the core keeps them and each once, and one problem per value
//! that does not. `message` says why without repeating the value (the app masks it).

use phonehome_detect::{check, check_coordinate, luhn_ok, Coordinate, Field};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct Doc {
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    imei: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    imsi: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    iccid: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    phone: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    carrier: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    android_id: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ad_id: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    serial: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    device_id: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mac: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    email: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contact: Vec<Contact>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sms: Vec<Sms>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Location>,
}

#[derive(Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    phone: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    email: Vec<String>,
}

#[derive(Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
struct Sms {
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Location {
    lat: f64,
    lon: f64,
    #[serde(default = "default_radius")]
    radius_m: f64,
}

fn default_radius() -> f64 {
    phonehome_detect::DEFAULT_RADIUS_M
}

#[derive(Debug, PartialEq, Serialize)]
struct Problem {
    /// The key in the identifiers structure (`imei`, `contact.phone`, `location.lat`).
    field: String,
    value: String,
    message: String,
}

#[derive(Debug, Serialize)]
struct Checked {
    identifiers: Doc,
    problems: Vec<Problem>,
}

struct Checker {
    region: Option<String>,
    problems: Vec<Problem>,
}

impl Checker {
    fn one(&mut self, field: Field, key: &str, value: &str) -> Option<String> {
        let checked =
            check(field, value, self.region.as_deref()).and_then(|kept| match slip(field, &kept) {
                Some(why) => Err(why.to_owned()),
                None => Ok(kept),
            });
        match checked {
            Ok(kept) => Some(kept),
            Err(message) => {
                self.problems.push(Problem {
                    field: key.to_owned(),
                    value: value.to_owned(),
                    message,
                });
                None
            }
        }
    }

    fn list(&mut self, field: Field, key: &str, values: &[String]) -> Vec<String> {
        let mut kept: Vec<String> = Vec::with_capacity(values.len());
        for value in values {
            if let Some(v) = self.one(field, key, value) {
                // The same value typed twice, or typed and read from the phone: once.
                if !kept.contains(&v) {
                    kept.push(v);
                }
            }
        }
        kept
    }

    fn coordinate(&mut self, c: Coordinate, x: f64) -> Option<f64> {
        check_coordinate(c, x)
            .map_err(|message| {
                self.problems.push(Problem {
                    field: format!("location.{}", c.key()),
                    value: x.to_string(),
                    message,
                })
            })
            .ok()
    }
}

/// A typing slip in a value the user typed or a phone read: a real IMEI of 15 digits ends
/// in its Luhn check digit, and every ICCID starts with the telecom prefix 89 (ITU-T
/// E.118). The identifiers file does not insist, so that made-up test identities work.
fn slip(field: Field, kept: &str) -> Option<&'static str> {
    match field {
        Field::Imei if kept.len() == 15 && !luhn_ok(kept.as_bytes()) => {
            Some("has a last digit (check digit) that does not match: mistyped?")
        }
        Field::Iccid if !kept.starts_with("89") => {
            Some("does not start with 89, as every ICCID does")
        }
        _ => None,
    }
}

/// Checks the identifiers JSON; see the module's description for the answer.
pub fn validate_identifiers(json: &str) -> Result<String, CoreError> {
    let doc: Doc = serde_json::from_str(json)
        .map_err(|e| CoreError::Argument(format!("identifiers JSON: {e}")))?;
    let checked = validate(doc);
    serde_json::to_string(&checked).map_err(|e| CoreError::Argument(e.to_string()))
}

fn validate(doc: Doc) -> Checked {
    let mut c = Checker {
        region: None,
        problems: Vec::new(),
    };
    // The region first: national phone numbers below are read with it.
    c.region = doc
        .region
        .as_deref()
        .and_then(|r| c.one(Field::Region, "region", r));
    let mut out = Doc {
        region: c.region.clone(),
        imei: c.list(Field::Imei, "imei", &doc.imei),
        imsi: c.list(Field::Imsi, "imsi", &doc.imsi),
        iccid: c.list(Field::Iccid, "iccid", &doc.iccid),
        phone: c.list(Field::Phone, "phone", &doc.phone),
        carrier: c.list(Field::Carrier, "carrier", &doc.carrier),
        android_id: c.list(Field::AndroidId, "android_id", &doc.android_id),
        ad_id: c.list(Field::AdId, "ad_id", &doc.ad_id),
        serial: c.list(Field::Serial, "serial", &doc.serial),
        device_id: c.list(Field::DeviceId, "device_id", &doc.device_id),
        mac: c.list(Field::Mac, "mac", &doc.mac),
        email: c.list(Field::Email, "email", &doc.email),
        ..Doc::default()
    };
    for contact in &doc.contact {
        let kept = Contact {
            name: contact
                .name
                .as_deref()
                .and_then(|n| c.one(Field::ContactName, "contact.name", n)),
            phone: c.list(Field::ContactPhone, "contact.phone", &contact.phone),
            email: c.list(Field::ContactEmail, "contact.email", &contact.email),
        };
        // A contact is looked for by its numbers and addresses; with none of them left
        // its name alone is not worth the false alarms.
        let looked_for = !kept.phone.is_empty() || !kept.email.is_empty();
        if looked_for && !out.contact.contains(&kept) {
            out.contact.push(kept);
        }
    }
    for sms in &doc.sms {
        let kept = Sms {
            peer: sms
                .peer
                .as_deref()
                .and_then(|p| c.one(Field::SmsPeer, "sms.peer", p)),
            text: sms
                .text
                .as_deref()
                .and_then(|t| c.one(Field::SmsText, "sms.text", t)),
        };
        if (kept.peer.is_some() || kept.text.is_some()) && !out.sms.contains(&kept) {
            out.sms.push(kept);
        }
    }
    if let Some(l) = &doc.location {
        let lat = c.coordinate(Coordinate::Lat, l.lat);
        let lon = c.coordinate(Coordinate::Lon, l.lon);
        let radius_m = c.coordinate(Coordinate::RadiusM, l.radius_m);
        if let (Some(lat), Some(lon), Some(radius_m)) = (lat, lon, radius_m) {
            out.location = Some(Location { lat, lon, radius_m });
        }
    }
    Checked {
        identifiers: out,
        problems: c.problems,
    }
}

#[cfg(test)]
mod tests {
    //! The rules the settings screen used to carry itself, now asked of the core.
    use super::*;
    use phonehome_detect::Identifiers;
    use serde_json::{json, Value};

    fn checked(input: Value) -> Value {
        let out: Value =
            serde_json::from_str(&validate_identifiers(&input.to_string()).unwrap()).unwrap();
        // What passes is always a file the core takes as a whole.
        Identifiers::from_json(&out["identifiers"].to_string()).unwrap();
        out
    }

    fn problems(out: &Value) -> Vec<(String, String)> {
        out["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["field"].as_str().unwrap().to_owned(),
                    p["value"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn imeis_of_14_to_16_digits_are_taken() {
        let out = checked(json!({"imei": [
            "490154203237518", "49015420323751", "4901542032375101",
            "4901542032375", "49015420323751a", "490154203237518"]}));
        assert_eq!(
            out["identifiers"]["imei"],
            json!(["490154203237518", "49015420323751", "4901542032375101"])
        );
        assert_eq!(
            problems(&out),
            [
                ("imei".into(), "4901542032375".into()),
                ("imei".into(), "49015420323751a".into())
            ]
        );
        assert_eq!(out["problems"][0]["message"], "is not 14 to 16 digits");
    }

    #[test]
    fn a_typed_imei_whose_check_digit_does_not_match_is_a_slip() {
        let out = checked(json!({"imei": ["490154203237519", "490154203237518"]}));
        assert_eq!(out["identifiers"]["imei"], json!(["490154203237518"]));
        assert_eq!(problems(&out), [("imei".into(), "490154203237519".into())]);
        assert!(out["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("check digit"));
    }

    #[test]
    fn a_typed_iccid_must_start_with_89() {
        let out = checked(json!({"iccid": ["12860012345678901234"]}));
        assert_eq!(
            problems(&out),
            [("iccid".into(), "12860012345678901234".into())]
        );
    }

    #[test]
    fn a_country_code_written_in_parentheses_is_read() {
        let out = checked(json!({"phone": ["(+86) 138 0013 8000"]}));
        assert_eq!(out["identifiers"]["phone"], json!(["+8613800138000"]));
    }

    #[test]
    fn imsi_and_iccid_lengths() {
        let out = checked(json!({
            "imsi": ["460011234567890", "46001"],
            "iccid": ["89860012345678901234", "8986001234"]}));
        assert_eq!(out["identifiers"]["imsi"], json!(["460011234567890"]));
        assert_eq!(out["identifiers"]["iccid"], json!(["89860012345678901234"]));
        assert_eq!(
            problems(&out),
            [
                ("imsi".into(), "46001".into()),
                ("iccid".into(), "8986001234".into())
            ]
        );
    }

    #[test]
    fn a_national_phone_number_needs_the_region_an_international_one_does_not() {
        let out = checked(
            json!({"phone": ["+86 138 0013 8000", "0086 138 0013 8000", "138 0013 8000", "+12", "call me"]}),
        );
        assert_eq!(out["identifiers"]["phone"], json!(["+8613800138000"]));
        assert_eq!(problems(&out).len(), 3);
        assert!(out["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("region is not set"));
        let out = checked(json!({"region": "cn", "phone": ["138 0013 8000"]}));
        assert_eq!(out["identifiers"]["region"], "CN");
        assert_eq!(out["identifiers"]["phone"], json!(["+8613800138000"]));
        assert_eq!(problems(&out), []);
    }

    #[test]
    fn macs_in_every_notation_are_written_with_colons() {
        let out = checked(json!({"mac": [
            "02:00:00:44:55:66", "02-00-00-44-55-66", "0200.0044.5566", "020000445566",
            "02:00:00:44:55", "02:00-00:44:55:66", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"]}));
        assert_eq!(out["identifiers"]["mac"], json!(["02:00:00:44:55:66"]));
        assert_eq!(problems(&out).len(), 4);
    }

    #[test]
    fn an_all_zero_advertising_id_is_not_looked_for() {
        let out = checked(json!({"ad_id": [
            "38400000-8CF0-11BD-B23E-10B96E40000D",
            "00000000-0000-0000-0000-000000000000",
            "38400000-8cf0-11bd-b23e"]}));
        assert_eq!(
            out["identifiers"]["ad_id"],
            json!(["38400000-8cf0-11bd-b23e-10b96e40000d"])
        );
        assert!(out["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("all zeros"));
        assert_eq!(problems(&out).len(), 2);
    }

    #[test]
    fn every_problem_is_reported_at_once_naming_field_and_value() {
        let out = checked(json!({
            "imei": ["490154203237519x", "490154203237518"],
            "email": ["nobody"],
            "location": {"lat": 91.0, "lon": 0.0}}));
        assert_eq!(out["identifiers"]["imei"], json!(["490154203237518"]));
        assert_eq!(
            problems(&out),
            [
                ("imei".into(), "490154203237519x".into()),
                ("email".into(), "nobody".into()),
                ("location.lat".into(), "91".into())
            ]
        );
        assert!(out["identifiers"].get("location").is_none());
        // The message is for people and does not repeat the value: the app masks it.
        for p in out["problems"].as_array().unwrap() {
            let value = p["value"].as_str().unwrap();
            assert!(!p["message"].as_str().unwrap().contains(value), "{p}");
        }
    }

    #[test]
    fn a_device_id_added_from_discovery_is_kept_and_a_short_one_refused() {
        let out = checked(json!({
            "device_id": ["5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84", "abc"]}));
        assert_eq!(
            out["identifiers"]["device_id"],
            json!(["5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84"])
        );
        assert_eq!(problems(&out), [("device_id".into(), "abc".into())]);
    }

    #[test]
    fn a_location_gets_the_default_radius() {
        let out = checked(json!({"location": {"lat": 39.9042, "lon": 116.4074}}));
        assert_eq!(
            out["identifiers"]["location"],
            json!({"lat": 39.9042, "lon": 116.4074, "radius_m": 500.0})
        );
        let out = checked(json!({"location": {"lat": 0.0, "lon": 0.0, "radius_m": 0.0}}));
        assert_eq!(problems(&out), [("location.radius_m".into(), "0".into())]);
    }

    #[test]
    fn what_the_phone_hands_over_but_the_core_would_refuse_is_dropped() {
        let out = checked(json!({
            "imsi": ["460011234567890", "123"],
            "carrier": ["CM", "China Mobile"],
            "contact": [
                {"name": "Li Wei", "phone": ["+86 139 1234 5678", "139 1234 5678"], "email": ["li.wei@example.com"]},
                {"name": "Al", "phone": ["12345"]}],
            "sms": [
                {"peer": "+8613700000000", "text": "ok"},
                {"peer": "10086", "text": "Your balance is low"}]}));
        let ids = &out["identifiers"];
        assert_eq!(ids["imsi"], json!(["460011234567890"]));
        assert_eq!(ids["carrier"], json!(["China Mobile"]));
        // Without a region the national number cannot become E.164; the contact left with
        // no number or address goes.
        assert_eq!(
            ids["contact"],
            json!([{"name": "Li Wei", "phone": ["+8613912345678"], "email": ["li.wei@example.com"]}])
        );
        assert_eq!(
            ids["sms"],
            json!([{"peer": "+8613700000000"}, {"text": "Your balance is low"}])
        );
        assert_eq!(problems(&out).len(), 7);
        assert_eq!(
            problems(&out)
                .iter()
                .filter(|(f, _)| f.starts_with("contact."))
                .count(),
            3
        );
    }

    #[test]
    fn a_structure_the_app_cannot_have_built_is_a_bad_argument() {
        for bad in [r#"{"imie": []}"#, r#"{"imei": "1"}"#, "5", "not json"] {
            let err = validate_identifiers(bad).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::BadArgument, "{bad}");
        }
        assert_eq!(
            validate_identifiers("{}").unwrap(),
            r#"{"identifiers":{},"problems":[]}"#
        );
    }
}
