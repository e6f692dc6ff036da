//! The registrable domain of a host: the name one customer of a registry or of a hosting
//! platform holds (`api.example.co.uk` -> `example.co.uk`, `my-app.herokuapp.com` ->
//! itself). Discovery counts the registrable domains a token goes to, and the party rule
//! compares a host's with the app's.
//!
//! The Public Suffix List is MPL-2.0, which this project may not take data from, so the
//! suffixes below are our own, each group from the public page that states it (the
//! registry's policy or the platform's documentation). A suffix missing here only makes
//! two customers of one registry or platform look like one domain.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Second-level labels that country registries open to the public under any two-letter
/// country code (`co.uk`, `com.cn`, `or.jp`): the common case, so it needs no list.
const GENERIC_SECOND_LEVEL: &[&str] = &[
    "ac", "co", "com", "edu", "gob", "go", "gov", "mil", "ne", "net", "or", "org",
];

/// Public suffixes the generic rule above misses. `*.` stands for any one label
/// (`*.r.appspot.com`: App Engine's region codes).
const SUFFIXES: &[&str] = &[
    // United Kingdom, Nominet's rules for .uk second-level domains
    // (https://www.nominet.uk/uk-domains/), Jisc for ac.uk, GDS for gov.uk.
    "ltd.uk",
    "plc.uk",
    "me.uk",
    "sch.uk",
    "nhs.uk",
    "police.uk",
    "mod.uk",
    // China, CNNIC's implementing rules (https://www.cnnic.cn): category and province
    // second-level domains.
    "ah.cn",
    "bj.cn",
    "cq.cn",
    "fj.cn",
    "gd.cn",
    "gs.cn",
    "gx.cn",
    "gz.cn",
    "ha.cn",
    "hb.cn",
    "he.cn",
    "hi.cn",
    "hk.cn",
    "hl.cn",
    "hn.cn",
    "jl.cn",
    "js.cn",
    "jx.cn",
    "ln.cn",
    "mo.cn",
    "nm.cn",
    "nx.cn",
    "qh.cn",
    "sc.cn",
    "sd.cn",
    "sh.cn",
    "sn.cn",
    "sx.cn",
    "tj.cn",
    "tw.cn",
    "xj.cn",
    "xz.cn",
    "yn.cn",
    "zj.cn",
    // Australia, auDA licensing rules (https://www.auda.org.au/policy).
    "asn.au",
    "id.au",
    "csiro.au",
    // Japan, JPRS (https://jprs.co.jp/en/jpdomain.html): organisation-type domains.
    "ad.jp",
    "ed.jp",
    "gr.jp",
    "lg.jp",
    // Brazil, Registro.br's categories (https://registro.br/dominio/categorias/).
    "adv.br",
    "agr.br",
    "am.br",
    "app.br",
    "arq.br",
    "art.br",
    "blog.br",
    "eco.br",
    "eng.br",
    "esp.br",
    "etc.br",
    "far.br",
    "ind.br",
    "inf.br",
    "jor.br",
    "leg.br",
    "log.br",
    "med.br",
    "not.br",
    "ong.br",
    "psi.br",
    "rec.br",
    "srv.br",
    "tmp.br",
    "tur.br",
    "tv.br",
    "vet.br",
    "wiki.br",
    // India, NIXI's .in registry (https://www.registry.in/policies).
    "firm.in",
    "gen.in",
    "ind.in",
    "res.in",
    "nic.in",
    // Korea, KISA/KRNIC (https://krnic.or.kr).
    "re.kr",
    "pe.kr",
    "hs.kr",
    "ms.kr",
    "es.kr",
    "sc.kr",
    "kg.kr",
    // Taiwan, TWNIC (https://www.twnic.tw); Hong Kong, HKIRC (https://www.hkirc.hk).
    "idv.tw",
    "game.tw",
    "ebiz.tw",
    "club.tw",
    "idv.hk",
    // New Zealand, InternetNZ (https://internetnz.nz/nz-domains/).
    "govt.nz",
    "school.nz",
    "geek.nz",
    "gen.nz",
    "kiwi.nz",
    "maori.nz",
    "iwi.nz",
    "health.nz",
    "cri.nz",
    "parliament.nz",
    // South Africa, ZADNA (https://www.zadna.org.za).
    "web.za",
    // Argentina, NIC Argentina (https://nic.ar); Turkey, TRABIS (https://www.nic.tr).
    "int.ar",
    "tur.ar",
    "gen.tr",
    "biz.tr",
    "info.tr",
    "web.tr",
    "av.tr",
    "bel.tr",
    "k12.tr",
    "tv.tr",
    "name.tr",
    "tel.tr",
    "dr.tr",
    "pol.tr",
    "bbs.tr",
    // South-east Asia: SGNIC (https://www.sgnic.sg), MYNIC (https://mynic.my), PANDI
    // (https://pandi.id), THNIC (https://www.thnic.co.th), VNNIC (https://vnnic.vn).
    "per.sg",
    "name.my",
    "biz.my",
    "web.id",
    "sch.id",
    "my.id",
    "biz.id",
    "desa.id",
    "in.th",
    "mi.th",
    "biz.vn",
    "info.vn",
    "name.vn",
    "int.vn",
    "pro.vn",
    "health.vn",
    // Africa and the Middle East: NiRA (https://nira.org.ng), KENIC
    // (https://kenic.or.ke), SaudiNIC (https://nic.sa), ISOC-IL
    // (https://www.isoc.org.il/en/domain-name-registry), aeDA (https://aeda.ae).
    "name.ng",
    "sch.ng",
    "sc.ke",
    "me.ke",
    "info.ke",
    "med.sa",
    "pub.sa",
    "sch.sa",
    "k12.il",
    "muni.il",
    "idf.il",
    "sch.ae",
    // Europe: AFNIC (https://www.afnic.fr), Red.es (https://www.dominios.es), nic.at
    // (https://www.nic.at), NASK (https://www.dns.pl/en/).
    "asso.fr",
    "gouv.fr",
    "nom.fr",
    "prd.fr",
    "tm.fr",
    "nom.es",
    "gv.at",
    "biz.pl",
    "info.pl",
    "waw.pl",
    "com.pl",
    "net.pl",
    "org.pl",
    // Hosting platforms that give each customer a name under theirs, from their docs.
    // Google: App Engine (https://cloud.google.com/appengine/docs/standard/how-requests-are-routed),
    // Firebase Hosting and Realtime Database (https://firebase.google.com/docs/hosting),
    // Cloud Run (https://cloud.google.com/run/docs/triggering/https-request), Cloud
    // Functions (https://cloud.google.com/functions/docs/calling/http).
    "appspot.com",
    "*.r.appspot.com",
    "firebaseapp.com",
    "web.app",
    "firebaseio.com",
    "a.run.app",
    "cloudfunctions.net",
    // Amazon: CloudFront (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/),
    // S3 virtual-hosted buckets (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html),
    // Elastic Beanstalk (https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/customdomains.html),
    // EC2 public DNS names (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-dns.html).
    "cloudfront.net",
    "s3.amazonaws.com",
    "*.elasticbeanstalk.com",
    "compute-1.amazonaws.com",
    "*.compute.amazonaws.com",
    "awsapprunner.com",
    "amplifyapp.com",
    // Microsoft Azure: App Service, Static Web Apps, Front Door/CDN, Storage, Traffic
    // Manager, Cloud Services and VMs (https://learn.microsoft.com/azure/).
    "azurewebsites.net",
    "azurestaticapps.net",
    "azureedge.net",
    "azurefd.net",
    "blob.core.windows.net",
    "web.core.windows.net",
    "trafficmanager.net",
    "cloudapp.net",
    "*.cloudapp.azure.com",
    // Others, each from its docs: Heroku (https://devcenter.heroku.com/articles/custom-domains),
    // GitHub Pages (https://docs.github.com/pages), GitLab Pages
    // (https://docs.gitlab.com/user/project/pages/), Bitbucket Cloud
    // (https://support.atlassian.com/bitbucket-cloud/docs/publishing-a-website-on-bitbucket-cloud/),
    // Netlify (https://docs.netlify.com/domains-https/custom-domains/), Vercel
    // (https://vercel.com/docs/domains), Cloudflare Workers and Pages
    // (https://developers.cloudflare.com/workers/ and /pages/), Fly.io
    // (https://fly.io/docs/networking/), Render (https://render.com/docs/custom-domains),
    // Glitch, Surge (https://surge.sh/help/), ngrok (https://ngrok.com/docs/),
    // Blogger (https://support.google.com/blogger/), Shopify
    // (https://help.shopify.com/manual/domains), Wix (https://support.wix.com/).
    "herokuapp.com",
    "github.io",
    "gitlab.io",
    "bitbucket.io",
    "netlify.app",
    "vercel.app",
    "now.sh",
    "workers.dev",
    "pages.dev",
    "fly.dev",
    "onrender.com",
    "glitch.me",
    "surge.sh",
    "ngrok.io",
    "ngrok-free.app",
    "blogspot.com",
    "myshopify.com",
    "wixsite.com",
];

static SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| SUFFIXES.iter().copied().collect());

/// Whether `name` (lowercase, no trailing dot) is a public suffix of the list above.
fn listed(name: &str) -> bool {
    if SET.contains(name) {
        return true;
    }
    name.split_once('.')
        .is_some_and(|(_, rest)| SET.contains(format!("*.{rest}").as_str()))
}

/// The part of `host` one customer holds: one label more than the longest public suffix
/// (listed above, or a country's generic second level, or else the top-level domain).
/// An IP address, a name with no registrable part (`co.uk`) and a single label are
/// returned whole.
pub fn registrable_domain(host: &str) -> &str {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return host;
    }
    let lower = host.to_ascii_lowercase();
    // Byte offsets where each label starts, first to last.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(lower.match_indices('.').map(|(i, _)| i + 1))
        .collect();
    let labels = starts.len();
    // The longest listed suffix, as the index of its first label.
    let public = (1..labels)
        .find(|&i| listed(&lower[starts[i]..]))
        .or_else(|| {
            let generic = labels >= 3
                && lower[starts[labels - 1]..].len() == 2
                && GENERIC_SECOND_LEVEL
                    .contains(&&lower[starts[labels - 2]..starts[labels - 1] - 1]);
            Some(if generic { labels - 2 } else { labels - 1 })
        });
    match public {
        Some(i) if i >= 1 => &host[starts[i - 1]..],
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_second_levels_keep_the_customers_name() {
        assert_eq!(registrable_domain("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(registrable_domain("shop.example.ltd.uk"), "example.ltd.uk");
        assert_eq!(registrable_domain("api-push.vivo.com.cn"), "vivo.com.cn");
        assert_eq!(registrable_domain("www.example.bj.cn"), "example.bj.cn");
        assert_eq!(registrable_domain("cdn.example.com.au"), "example.com.au");
        assert_eq!(registrable_domain("www.example.id.au"), "example.id.au");
        assert_eq!(registrable_domain("img.example.co.jp"), "example.co.jp");
        assert_eq!(
            registrable_domain("www.city.example.lg.jp"),
            "example.lg.jp"
        );
        assert_eq!(registrable_domain("m.example.com.br"), "example.com.br");
        assert_eq!(registrable_domain("x.example.blog.br"), "example.blog.br");
        assert_eq!(registrable_domain("x.example.firm.in"), "example.firm.in");
        assert_eq!(registrable_domain("x.example.kiwi.nz"), "example.kiwi.nz");
        // Without a listed second level, two labels: the registry sells names directly.
        assert_eq!(registrable_domain("x.example.de."), "example.de");
        assert_eq!(registrable_domain("api.account.xiaomi.com"), "xiaomi.com");
    }

    #[test]
    fn hosting_platforms_customers_are_domains_of_their_own() {
        assert_eq!(
            registrable_domain("my-app.appspot.com"),
            "my-app.appspot.com"
        );
        assert_eq!(
            registrable_domain("v2.my-app.uc.r.appspot.com"),
            "my-app.uc.r.appspot.com"
        );
        assert_eq!(
            registrable_domain("game-12.firebaseapp.com"),
            "game-12.firebaseapp.com"
        );
        assert_eq!(registrable_domain("game-12.web.app"), "game-12.web.app");
        assert_eq!(
            registrable_domain("a.b.someone.github.io"),
            "someone.github.io"
        );
        assert_eq!(
            registrable_domain("d1234abcd.cloudfront.net"),
            "d1234abcd.cloudfront.net"
        );
        assert_eq!(
            registrable_domain("shop.azurewebsites.net"),
            "shop.azurewebsites.net"
        );
        assert_eq!(registrable_domain("api.herokuapp.com"), "api.herokuapp.com");
        assert_eq!(
            registrable_domain("logs.env-1.us-east-1.elasticbeanstalk.com"),
            "env-1.us-east-1.elasticbeanstalk.com"
        );
        assert_eq!(
            registrable_domain("Bucket.S3.amazonaws.com"),
            "Bucket.S3.amazonaws.com"
        );
        // Two customers of one platform are two domains; the platform's own name is not
        // any customer's.
        assert_ne!(
            registrable_domain("a.herokuapp.com"),
            registrable_domain("b.herokuapp.com")
        );
        assert_eq!(registrable_domain("github.io"), "github.io");
        // The platform company's other hosts are its own domain as before.
        assert_eq!(registrable_domain("console.cloud.google.com"), "google.com");
        assert_eq!(
            registrable_domain("sqs.us-east-1.amazonaws.com"),
            "amazonaws.com"
        );
    }

    #[test]
    fn names_without_a_registrable_part_and_addresses_come_back_whole() {
        assert_eq!(registrable_domain("co.uk"), "co.uk");
        assert_eq!(registrable_domain("localhost"), "localhost");
        assert_eq!(registrable_domain("203.0.113.9"), "203.0.113.9");
        assert_eq!(registrable_domain("2001:db8::1"), "2001:db8::1");
        assert_eq!(registrable_domain(""), "");
    }

    #[test]
    fn any_string_gets_a_suffix_of_itself_on_a_label_boundary() {
        // Names built from labels that matter here (listed suffixes, wildcards' parents,
        // empty labels, non-ASCII, addresses' pieces), by a fixed pseudo-random walk.
        const PARTS: &[&str] = &[
            "",
            "co",
            "uk",
            "com",
            "cn",
            "r",
            "appspot",
            "elasticbeanstalk",
            "x",
            "Ab",
            "é",
            "1",
            "::",
            "[",
            "herokuapp",
            "io",
            "github",
            "ltd",
            "jp",
            "lg",
        ];
        let mut seed: u64 = 16;
        for _ in 0..50_000 {
            let mut host = String::new();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for k in 0..(seed >> 60) {
                if k > 0 {
                    host.push('.');
                }
                let pick = (seed >> (k * 5 % 55)) as usize % PARTS.len();
                host.push_str(PARTS[pick]);
            }
            let domain = registrable_domain(&host);
            let trimmed = host.strip_suffix('.').unwrap_or(&host);
            let before = &trimmed[..trimmed.len() - domain.len()];
            assert!(trimmed.ends_with(domain), "{host:?}");
            assert!(before.is_empty() || before.ends_with('.'), "{host:?}");
        }
    }

    #[test]
    fn every_listed_suffix_is_a_lowercase_name() {
        for s in SUFFIXES {
            let name = s.strip_prefix("*.").unwrap_or(s);
            assert!(
                name.split('.').count() >= 2
                    && name.split('.').all(|l| !l.is_empty()
                        && l.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')),
                "{s}"
            );
        }
    }
}
