//! First or third party: does a destination belong to the app's own developer?
//!
//! An Android package name is its developer's domain reversed (`com.spotify.music` is
//! Spotify's, `spotify.com`), so a host under that registrable domain is the app's own.
//! So is a host of the same company as the app's domain in the catalog (YouTube's app,
//! `com.google.android.youtube`, talking to `googlevideo.com`: both Google's), and a host
//! a catalog file marks `first-party`, and a host whose company (or an owner of it) is the
//! organisation in the app's signing certificate (`O=Google LLC` signs YouTube). Everything
//! else, a tracker reached through a CNAME under the app's own domain included, is a third
//! party; so is a name under the app's own domain that the catalog knows to be a CNAME
//! alias of a tracker's host, when the flow's DNS did not show the CNAME (a cached or
//! encrypted lookup).

use phonehome_model::{Category, Party};

use crate::registrable::registrable_domain;
use crate::{Catalog, Entry};

/// The app's own domain from its package name (`com.example.app` -> `example.com`), or
/// `None` when the name is not a reversed domain (`curl` under `watch`).
fn app_domain(app: &str) -> Option<String> {
    let labels: Vec<&str> = app.split('.').collect();
    let valid = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    if !valid {
        return None;
    }
    let reversed: Vec<String> = labels
        .iter()
        .rev()
        .map(|l| l.to_ascii_lowercase())
        .collect();
    Some(registrable_domain(&reversed.join(".")).to_string())
}

/// Legal forms cut from the end of an organisation's name before comparing it.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "sa",
    "ab",
    "bv",
    "nv",
    "oy",
    "plc",
    "pte",
    "pty",
    "kk",
    "srl",
    "spa",
    "as",
];

/// An organisation's name as lowercase words, legal forms cut (`Google, Inc.` -> google).
fn org_words(name: &str) -> String {
    let mut words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| LEGAL_FORMS.contains(&w.as_str()))
    {
        words.pop();
    }
    words.join(" ")
}

/// Whether `organisation`, the O= of the app's signing certificate, is the company of
/// `entry` or one of its owners. Debug keys' `Android` and `Unknown` name nobody.
pub fn signed_by(entry: &Entry, organisation: &str) -> bool {
    let org = org_words(organisation);
    if org.is_empty() || org == "android" || org == "unknown" {
        return false;
    }
    let owners = entry.parent.as_deref().unwrap_or_default();
    std::iter::once(entry.company.as_str())
        .chain(owners.split(" > "))
        .any(|name| org_words(name) == org)
}

/// First or third party for a flow of `app` to `host`, whose company the catalog found
/// as `entry` on the name `named_by` (the host itself or a CNAME target behind it).
/// `signer` is the organisation in the app's signing certificate, when the platform gave it.
pub fn party(
    catalog: &Catalog,
    app: Option<&str>,
    signer: Option<&str>,
    host: &str,
    named_by: &str,
    entry: Option<&Entry>,
) -> Party {
    if entry.is_some_and(|e| e.category == Category::FirstParty) {
        return Party::First;
    }
    if let (Some(e), Some(org)) = (entry, signer) {
        if signed_by(e, org) {
            return Party::First;
        }
    }
    let Some(own) = app.and_then(app_domain) else {
        return Party::Third;
    };
    // Through a CNAME the bytes go to whoever runs the target, whatever the host's name,
    // and a name the catalog knows as an alias goes to its target even when DNS was not seen.
    let named_by = entry
        .and_then(|e| e.alias_of.as_deref())
        .unwrap_or(named_by);
    let same_domain = |name: &str| registrable_domain(name).eq_ignore_ascii_case(&own);
    if same_domain(host) && same_domain(named_by) {
        return Party::First;
    }
    // An app whose own domain is a customer's name on a hosting platform
    // (`mygame.appspot.com`) is not the platform's company.
    let own_company = catalog
        .lookup(&own)
        .filter(|e| e.category != Category::Cdn)
        .map(|e| e.company.as_str());
    match (entry, own_company) {
        (Some(e), Some(company)) if e.company == company => Party::First,
        _ => Party::Third,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable_domain("api.account.xiaomi.com"), "xiaomi.com");
        assert_eq!(registrable_domain("xiaomi.com"), "xiaomi.com");
        assert_eq!(registrable_domain("localhost"), "localhost");
        assert_eq!(registrable_domain("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(registrable_domain("api-push.vivo.com.cn"), "vivo.com.cn");
        assert_eq!(registrable_domain("co.uk"), "co.uk");
        assert_eq!(registrable_domain("x.example.de."), "example.de");
    }

    #[test]
    fn app_domains_are_package_names_reversed() {
        assert_eq!(
            app_domain("com.spotify.music").as_deref(),
            Some("spotify.com")
        );
        assert_eq!(
            app_domain("uk.co.bbc.iplayer").as_deref(),
            Some("bbc.co.uk")
        );
        assert_eq!(app_domain("curl"), None);
        assert_eq!(app_domain("python3.12"), Some("12.python3".into()));
        assert_eq!(app_domain("a..b"), None);
    }

    fn parties(app: &str, host: &str, chain: &[&str]) -> Party {
        let cat = Catalog::builtin();
        let mut names = vec![host];
        names.extend_from_slice(chain);
        let (named_by, entry) = match cat.lookup_chain(&names) {
            Some((i, e)) => (names[i], Some(e)),
            None => (host, None),
        };
        party(&cat, Some(app), None, host, named_by, entry)
    }

    #[test]
    fn a_customer_of_a_hosting_platform_owns_only_its_own_name() {
        // com.appspot.mygame's own domain is mygame.appspot.com, not Google's appspot.com.
        assert_eq!(
            parties("com.appspot.mygame", "api.mygame.appspot.com", &[]),
            Party::First
        );
        assert_eq!(
            parties("com.appspot.mygame", "othergame.appspot.com", &[]),
            Party::Third
        );
        assert_eq!(
            parties("io.github.someone.notes", "other.github.io", &[]),
            Party::Third
        );
    }

    #[test]
    fn the_apps_own_domain_is_first_party() {
        assert_eq!(
            parties("com.example.weather", "api.example.com", &[]),
            Party::First
        );
        assert_eq!(
            parties("com.example.weather", "api.example.org", &[]),
            Party::Third
        );
    }

    #[test]
    fn a_tracker_behind_the_apps_own_subdomain_is_third_party() {
        assert_eq!(
            parties(
                "com.example.weather",
                "metrics.example.com",
                &["example.onelink.me", "example.cloudfront.net"]
            ),
            Party::Third
        );
    }

    #[test]
    fn a_name_the_catalog_knows_as_a_trackers_alias_is_third_party_without_its_cname() {
        // AdGuard's cname-trackers saw metrics.gap.com point at Adobe's 2o7.net: Gap's
        // app sending there sends to Adobe, even when the flow's DNS answer is not seen.
        let cat = Catalog::builtin();
        let e = cat.lookup("metrics.gap.com").expect("named");
        assert_eq!(e.company, "Adobe");
        assert_eq!(e.alias_of.as_deref(), Some("gap.com.112.2o7.net"));
        assert_eq!(
            parties("com.gap.mobile", "metrics.gap.com", &[]),
            Party::Third
        );
        // Gap's other names stay its own, and Condé Nast's own domain stays its own
        // while its cloaked stats name is Adobe's.
        assert_eq!(parties("com.gap.mobile", "api.gap.com", &[]), Party::First);
        assert_eq!(
            parties("com.condenast.app", "sstats.condenast.com", &[]),
            Party::Third
        );
        assert_eq!(
            parties("com.condenast.app", "www.condenast.com", &[]),
            Party::First
        );
    }

    #[test]
    fn the_apps_own_company_is_first_party() {
        // YouTube's app and Google's ad servers: one company.
        assert_eq!(
            parties(
                "com.google.android.youtube",
                "googleads.g.doubleclick.net",
                &[]
            ),
            Party::First
        );
        assert_eq!(
            parties("com.spotify.music", "googleads.g.doubleclick.net", &[]),
            Party::Third
        );
    }

    #[test]
    fn without_a_package_name_every_host_is_third_party() {
        let cat = Catalog::builtin();
        assert_eq!(
            party(&cat, Some("curl"), None, "example.com", "example.com", None),
            Party::Third
        );
        assert_eq!(
            party(&cat, None, None, "example.com", "example.com", None),
            Party::Third
        );
    }

    #[test]
    fn a_catalog_file_can_mark_the_apps_domains_first_party() {
        let mut cat = Catalog::builtin();
        cat.extend(
            Catalog::parse("example-cdn.net\tExample\tfirst-party\tExample's own CDN\n").unwrap(),
        );
        let e = cat.lookup("img.example-cdn.net");
        assert_eq!(
            party(
                &cat,
                Some("com.example.app"),
                None,
                "img.example-cdn.net",
                "img.example-cdn.net",
                e
            ),
            Party::First
        );
    }

    fn signed(app: &str, org: &str, host: &str) -> Party {
        let cat = Catalog::builtin();
        party(&cat, Some(app), Some(org), host, host, cat.lookup(host))
    }

    #[test]
    fn the_signers_organisation_makes_its_companys_hosts_first_party() {
        // YouTube Music's package says nothing of Google's ad servers; its certificate,
        // O=Google LLC, does.
        let app = "com.google.android.apps.youtube.music";
        assert_eq!(
            signed(app, "Google LLC", "googleads.g.doubleclick.net"),
            Party::First
        );
        assert_eq!(
            signed(app, "Google, Inc.", "app-measurement.com"),
            Party::First
        );
        // An owner further up the chain counts too: Alphabet owns Google.
        assert_eq!(
            signed(app, "Alphabet Inc.", "app-measurement.com"),
            Party::First
        );
        // Another company's certificate does not make Google's hosts its own.
        assert_eq!(
            signed(
                "com.example.game",
                "AppLovin Corporation",
                "app-measurement.com"
            ),
            Party::Third
        );
    }

    #[test]
    fn debug_keys_and_unnamed_hosts_make_nothing_first_party() {
        assert_eq!(
            signed("com.example.app", "Android", "app-measurement.com"),
            Party::Third
        );
        assert_eq!(
            signed("com.example.app", "", "app-measurement.com"),
            Party::Third
        );
        assert_eq!(
            signed("com.example.app", "Google LLC", "unknown.example.org"),
            Party::Third
        );
    }

    #[test]
    fn organisation_names_compare_without_legal_forms() {
        assert_eq!(org_words("Spotify AB"), "spotify");
        assert_eq!(org_words("Facebook, Inc."), "facebook");
        assert_eq!(org_words("Inc"), "inc");
        assert_eq!(org_words("  "), "");
    }
}
