//! Phone numbers: country calling codes, trunk prefixes, and the digit forms a number
//! travels in (E.164 with and without `+`, `00` international prefix, national with and
//! without the trunk prefix).

/// One region's dialling rules: ISO code, country calling code, national trunk prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub iso: &'static str,
    pub calling_code: &'static str,
    /// Dialled before the national number inside the country ("0" in most of Europe and
    /// Asia, "1" in the NANP, "8" in Russia); `None` where there is none.
    pub trunk: Option<&'static str>,
}

const fn r(iso: &'static str, cc: &'static str, trunk: Option<&'static str>) -> Region {
    Region {
        iso,
        calling_code: cc,
        trunk,
    }
}

/// Common regions. Countries whose national numbers keep their leading zero (Italy) or
/// have no trunk prefix (Spain, Norway, ...) have `None`.
pub const REGIONS: &[Region] = &[
    r("CN", "86", Some("0")),
    r("US", "1", Some("1")),
    r("CA", "1", Some("1")),
    r("GB", "44", Some("0")),
    r("DE", "49", Some("0")),
    r("FR", "33", Some("0")),
    r("IN", "91", Some("0")),
    r("JP", "81", Some("0")),
    r("KR", "82", Some("0")),
    r("RU", "7", Some("8")),
    r("KZ", "7", Some("8")),
    r("BR", "55", Some("0")),
    r("ID", "62", Some("0")),
    r("FI", "358", Some("0")),
    r("SE", "46", Some("0")),
    r("NO", "47", None),
    r("DK", "45", None),
    r("NL", "31", Some("0")),
    r("BE", "32", Some("0")),
    r("CH", "41", Some("0")),
    r("AT", "43", Some("0")),
    r("ES", "34", None),
    r("IT", "39", None),
    r("PT", "351", None),
    r("PL", "48", None),
    r("CZ", "420", None),
    r("GR", "30", None),
    r("IE", "353", Some("0")),
    r("RO", "40", Some("0")),
    r("HU", "36", Some("06")),
    r("UA", "380", Some("0")),
    r("TR", "90", Some("0")),
    r("IL", "972", Some("0")),
    r("SA", "966", Some("0")),
    r("AE", "971", Some("0")),
    r("EG", "20", Some("0")),
    r("NG", "234", Some("0")),
    r("KE", "254", Some("0")),
    r("ZA", "27", Some("0")),
    r("PK", "92", Some("0")),
    r("BD", "880", Some("0")),
    r("VN", "84", Some("0")),
    r("TH", "66", Some("0")),
    r("PH", "63", Some("0")),
    r("MY", "60", Some("0")),
    r("SG", "65", None),
    r("HK", "852", None),
    r("TW", "886", Some("0")),
    r("AU", "61", Some("0")),
    r("NZ", "64", Some("0")),
    r("MX", "52", None),
    r("AR", "54", Some("0")),
    r("IR", "98", Some("0")),
];

/// The region for an ISO code (case-insensitive).
pub fn region(iso: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.iso.eq_ignore_ascii_case(iso))
}

/// The region whose calling code is the longest prefix of `e164_digits` (digits after
/// the `+`). Shared codes (1, 7) resolve to the first listed region; their rules agree.
pub fn region_of_e164(e164_digits: &str) -> Option<&'static Region> {
    REGIONS
        .iter()
        .filter(|r| e164_digits.starts_with(r.calling_code))
        .max_by_key(|r| r.calling_code.len())
}

/// A phone number split into calling code and national significant number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// Digits after `+`, e.g. `8613800138000`.
    pub e164: String,
    pub region: Option<&'static Region>,
}

/// Why a configured phone number could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneProblem {
    NotANumber,
    Length,
    NationalWithoutRegion,
}

/// Parses a configured number: `+CC...`, `00CC...`, or national (needs `region`).
/// Spaces, dashes, dots, slashes and parentheses between digits are allowed.
pub fn parse(raw: &str, region_hint: Option<&'static Region>) -> Result<Number, PhoneProblem> {
    let trimmed = raw.trim();
    // The "+" may sit inside the parentheses some write the country code in: "(+86) 138…".
    let unbracketed = trimmed.trim_start_matches('(');
    let plus = unbracketed.starts_with('+');
    let body = if plus { &unbracketed[1..] } else { trimmed };
    let mut digits = String::new();
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            _ => return Err(PhoneProblem::NotANumber),
        }
    }
    let e164 = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        let region = region_hint.ok_or(PhoneProblem::NationalWithoutRegion)?;
        let nsn = match region.trunk {
            // NANP: "1 555 ..." dialled nationally is already the E.164 digits.
            Some(t) if t == region.calling_code && digits.starts_with(t) && digits.len() == 11 => {
                digits[t.len()..].to_string()
            }
            Some(t) if t != region.calling_code => {
                digits.strip_prefix(t).unwrap_or(&digits).to_string()
            }
            _ => digits,
        };
        format!("{}{}", region.calling_code, nsn)
    };
    if !(7..=15).contains(&e164.len()) {
        return Err(PhoneProblem::Length);
    }
    let region = region_of_e164(&e164);
    Ok(Number { e164, region })
}

impl Number {
    /// The digit strings this number is written as: `+CCNSN`, `CCNSN`, `00CCNSN`, and
    /// when the country is known, `NSN` and `TRUNK NSN`. The first element is E.164.
    pub fn forms(&self) -> Vec<String> {
        let mut out = vec![
            format!("+{}", self.e164),
            self.e164.clone(),
            format!("00{}", self.e164),
        ];
        if let Some(r) = self.region {
            let nsn = &self.e164[r.calling_code.len()..];
            if nsn.len() >= 6 {
                out.push(nsn.to_string());
                if let Some(t) = r.trunk {
                    out.push(format!("{t}{nsn}"));
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|f| seen.insert(f.clone()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_mobile_number_has_e164_international_and_national_forms() {
        let n = parse("+8613800138000", None).unwrap();
        assert_eq!(
            n.forms(),
            [
                "+8613800138000",
                "8613800138000",
                "008613800138000",
                "13800138000",
                "013800138000"
            ]
        );
    }

    #[test]
    fn a_national_german_number_gets_its_country_code_from_the_region() {
        let n = parse("030 1234567", region("de")).unwrap();
        assert_eq!(n.e164, "49301234567");
        assert!(n.forms().contains(&"0301234567".to_string()));
    }

    #[test]
    fn a_nanp_number_has_no_separate_trunk_form() {
        let n = parse("(555) 123-4567", region("US")).unwrap();
        assert_eq!(n.e164, "15551234567");
        assert_eq!(
            n.forms(),
            ["+15551234567", "15551234567", "0015551234567", "5551234567"]
        );
    }

    #[test]
    fn a_national_number_without_a_region_is_refused() {
        assert_eq!(
            parse("13800138000", None),
            Err(PhoneProblem::NationalWithoutRegion)
        );
        assert_eq!(parse("+86 12ab", None), Err(PhoneProblem::NotANumber));
        assert_eq!(parse("+861", None), Err(PhoneProblem::Length));
    }

    #[test]
    fn finnish_calling_code_wins_over_shorter_prefixes() {
        assert_eq!(region_of_e164("358401234567").map(|r| r.iso), Some("FI"));
    }
}
