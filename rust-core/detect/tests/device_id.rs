//! `device_id` in the identifiers file: ids that discovery found (OAID, VAID, install
//! ids) are then looked for in every form, like the other identifiers.

use sha2::Digest as _;

use phonehome_detect::{Confidence, Detector, Encoding, Identifiers, Kind, Options, Where};

const OAID: &str = "5f2b8c1e-9d47-4a36-b0e1-7c3a9f6d2e84";

fn detector() -> Detector {
    let ids = Identifiers::from_toml(&format!("device_id = [\"{OAID}\"]\n")).expect("a device id");
    Detector::new(&ids, &Options::default())
}

fn kinds(text: &str) -> Vec<(Kind, Encoding, Confidence)> {
    detector()
        .scan(text.as_bytes(), Where::Url)
        .into_iter()
        .map(|h| (h.kind, h.encoding, h.confidence))
        .collect()
}

#[test]
fn a_configured_device_id_is_found_plain_without_dashes_and_hashed() {
    let exact = (Kind::DeviceId, Encoding::Plain, Confidence::Exact);
    assert!(kinds(&format!("/a?oaid={OAID}")).contains(&exact));
    let bare = OAID.replace('-', "").to_ascii_uppercase();
    assert!(kinds(&format!("/a?oaid={bare}")).contains(&exact));
    let digest: String = sha2::Sha256::digest(OAID.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let hashed = kinds(&format!("/a?h={digest}"));
    assert!(
        hashed
            .iter()
            .any(|(k, e, _)| *k == Kind::DeviceId && *e == Encoding::Sha256),
        "{hashed:?}"
    );
}

#[test]
fn a_device_id_that_is_not_a_token_is_refused_with_its_place() {
    let err = Identifiers::from_toml("device_id = [\"has spaces in it\"]\n").expect_err("refused");
    assert!(
        err.to_string().contains("line 1") && err.to_string().contains("14 to 64"),
        "{err}"
    );
}
