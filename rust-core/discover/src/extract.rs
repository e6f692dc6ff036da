//! Key/value pairs out of the readable parts of a request: query strings and path
//! segments of URLs, headers, cookies, form and JSON bodies, and `key=value` or bare
//! tokens in anything else. The key says how much a value looks like an identifier
//! ([`KeyClass`]). Works on untrusted bytes, never panics, and is bounded: at most
//! [`MAX_PAIRS`] pairs per part, JSON nested at most [`MAX_DEPTH`] levels of strings.

use phonehome_model::Where;
use serde_json::Value;

use crate::token::MAX_LEN;

/// Pairs taken from one part at most; the rest of the part is not looked at.
pub const MAX_PAIRS: usize = 512;
/// Levels of JSON or query strings inside JSON strings (`{"p":"{\"did\":…}"}`) read.
pub const MAX_DEPTH: usize = 3;

/// One value and the key it was sent under (normalised by [`normalise_key`]; empty when
/// the value had no name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub key: String,
    pub value: String,
}

/// What a key name says about the value under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyClass {
    /// Named like a device identifier (`oaid`, `device_id`, `X-Install-Id`, …).
    Boost,
    Plain,
    /// Named like something that is never a device identifier and must not be kept:
    /// nonces, signatures, digests, times, trace ids, credentials and session tokens.
    Reject,
}

/// Lower case, without an `x-` prefix and without `-`, `_`, `.` and spaces:
/// `X-Device-Id`, `device_id` and `deviceId` are all `deviceid`.
pub fn normalise_key(key: &str) -> String {
    let lower = key.trim().to_ascii_lowercase();
    let bare = lower.strip_prefix("x-").unwrap_or(&lower);
    bare.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .take(48)
        .collect()
}

const BOOST_EXACT: [&str; 22] = [
    "oaid",
    "vaid",
    "aaid",
    "gaid",
    "did",
    "udid",
    "uuid",
    "cuid",
    "guid",
    "idfa",
    "idfv",
    "adid",
    "imei",
    "meid",
    "utdid",
    "openudid",
    "androidid",
    "clientid",
    "distinctid",
    "anonymousid",
    "devid",
    "hwid",
];
const BOOST_PART: [&str; 6] = [
    "deviceid",
    "installid",
    "installationid",
    "advertisingid",
    "deviceuuid",
    "androidid",
];
/// Besides nonces and the like: names of what identifies the app, not the device
/// (`appkey`, `appid`), sent by every install alike.
const REJECT_EXACT: [&str; 17] = [
    "key",
    "appkey",
    "apikey",
    "appid",
    "clientkey",
    "t",
    "ts",
    "time",
    "sig",
    "sid",
    "state",
    "code",
    "auth",
    "etag",
    "ifnonematch",
    "rid",
    "pwd",
];
const REJECT_PART: [&str; 18] = [
    "nonce",
    "sign",
    "hash",
    "md5",
    "sha1",
    "sha256",
    "checksum",
    "digest",
    "timestamp",
    "trace",
    "requestid",
    "correlation",
    "token",
    "secret",
    "passw",
    "session",
    "csrf",
    "authoriz",
];

/// How the (normalised) key `key` ranks a value under it.
pub fn key_class(key: &str) -> KeyClass {
    if REJECT_EXACT.contains(&key) || REJECT_PART.iter().any(|p| key.contains(p)) {
        KeyClass::Reject
    } else if BOOST_EXACT.contains(&key) || BOOST_PART.iter().any(|p| key.contains(p)) {
        KeyClass::Boost
    } else {
        KeyClass::Plain
    }
}

/// Headers that carry no identifiers of their own.
const SKIP_HEADERS: [&str; 9] = [
    "host",
    "contentlength",
    "contenttype",
    "connection",
    "accept",
    "acceptencoding",
    "acceptlanguage",
    "date",
    "transferencoding",
];

/// Appends the pairs in `text`, a part of a request found at `place` (as the analyzer
/// hands it over: a URL, `Name: value` for a header, `name=value` for a cookie, a
/// decoded body, or a raw payload).
pub fn extract(place: Where, text: &[u8], out: &mut Vec<Pair>) {
    let mut pairs = Pairs {
        out,
        left: MAX_PAIRS,
    };
    match place {
        Where::Url => pairs.url(text),
        Where::Header => {
            let (name, value) = split_once(text, b':').unwrap_or((b"", text));
            let key = normalise_key(&String::from_utf8_lossy(name));
            if !SKIP_HEADERS.contains(&key.as_str()) {
                pairs.value(&key, trim(value), 0);
            }
        }
        Where::Cookie => pairs.fields(text, b';', 0),
        // A WebSocket message is read like a body (JSON, a form, or tokens).
        Where::Body | Where::Websocket => pairs.body(text, 0),
        Where::Payload => pairs.tokens("", text),
    }
}

struct Pairs<'a> {
    out: &'a mut Vec<Pair>,
    left: usize,
}

impl Pairs<'_> {
    fn push(&mut self, key: &str, value: &[u8]) {
        if self.left == 0 || value.len() > MAX_LEN {
            return;
        }
        if let Ok(value) = std::str::from_utf8(value) {
            self.left -= 1;
            self.out.push(Pair {
                key: key.to_owned(),
                value: value.to_owned(),
            });
        }
    }

    /// A value under `key`: taken whole when short enough, else searched for nested
    /// structure or tokens.
    fn value(&mut self, key: &str, value: &[u8], depth: usize) {
        let value = trim(value);
        if depth < MAX_DEPTH && matches!(value.first(), Some(b'{' | b'[')) {
            if let Ok(json) = serde_json::from_slice::<Value>(value) {
                return self.json(key, &json, depth + 1);
            }
        }
        if value.len() <= MAX_LEN && !value.contains(&b'=') {
            return self.push(key, value);
        }
        self.tokens(key, value);
    }

    fn url(&mut self, text: &[u8]) {
        let text = match text.iter().position(|&c| c == b'#') {
            Some(i) => &text[..i],
            None => text,
        };
        let (path, query) = split_once(text, b'?').unwrap_or((text, b""));
        // An absolute URL (proxies get them): the path starts after the authority.
        let path = match find(path, b"://") {
            Some(i) => {
                let rest = &path[i + 3..];
                &rest[rest.iter().position(|&c| c == b'/').unwrap_or(rest.len())..]
            }
            None => path,
        };
        // `/devices/<id>/config`: a segment is named by the one before it.
        let mut key = String::new();
        for segment in path.split(|&c| c == b'/').filter(|s| !s.is_empty()) {
            let segment = percent_decode(segment);
            self.value(&key, &segment, MAX_DEPTH);
            key = normalise_key(&String::from_utf8_lossy(&segment));
        }
        self.fields(query, b'&', 0);
    }

    /// `a=1&b=2` (or `;`-separated, for cookies), each side percent-decoded.
    fn fields(&mut self, text: &[u8], separator: u8, depth: usize) {
        for field in text.split(|&c| c == separator) {
            if self.left == 0 {
                return;
            }
            let field = trim(field);
            match split_once(field, b'=') {
                Some((k, v)) => {
                    let key = normalise_key(&String::from_utf8_lossy(&percent_decode(k)));
                    self.value(&key, &percent_decode(v), depth + 1);
                }
                None if !field.is_empty() => self.value("", &percent_decode(field), depth + 1),
                None => {}
            }
        }
    }

    fn body(&mut self, text: &[u8], depth: usize) {
        let text = trim(text);
        match text.first() {
            Some(b'{' | b'[') => match serde_json::from_slice::<Value>(text) {
                Ok(json) => self.json("", &json, depth),
                Err(_) => self.tokens("", text),
            },
            _ if looks_like_form(text) => self.fields(text, b'&', depth),
            _ => self.tokens("", text),
        }
    }

    fn json(&mut self, key: &str, v: &Value, depth: usize) {
        if self.left == 0 {
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    self.json(&normalise_key(k), v, depth);
                }
            }
            Value::Array(items) => {
                for v in items {
                    self.json(key, v, depth);
                }
            }
            Value::String(s) => {
                let s = s.as_bytes();
                if depth < MAX_DEPTH && looks_like_form(s) && s.len() > MAX_LEN {
                    self.fields(s, b'&', depth + 1);
                } else {
                    self.value(key, s, depth);
                }
            }
            Value::Number(n) => {
                if let Some(n) = n.as_u64() {
                    self.push(key, n.to_string().as_bytes());
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    /// Runs of token characters; a run with `=` inside is a `key=value` pair.
    fn tokens(&mut self, key: &str, text: &[u8]) {
        let token_char =
            |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_' | b'=');
        for run in text.split(|c| !token_char(c)).filter(|r| r.len() >= 3) {
            if self.left == 0 {
                return;
            }
            match split_once(run, b'=') {
                Some((k, v)) if !k.is_empty() && !v.is_empty() && v.iter().any(|&c| c != b'=') => {
                    let k = normalise_key(&String::from_utf8_lossy(k));
                    self.push(&k, v);
                }
                _ => self.push(key, run),
            }
        }
    }
}

fn looks_like_form(text: &[u8]) -> bool {
    text.contains(&b'=') && !text.iter().any(|c| c.is_ascii_whitespace())
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &b[start..end.max(start)]
}

fn split_once(b: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = b.iter().position(|&c| c == sep)?;
    Some((&b[..i], &b[i + 1..]))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `%XX` decoded and `+` as a space; malformed escapes are kept as they are.
fn percent_decode(b: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(place: Where, text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        extract(place, text.as_bytes(), &mut out);
        out.into_iter().map(|p| (p.key, p.value)).collect()
    }

    fn has(got: &[(String, String)], key: &str, value: &str) -> bool {
        got.iter().any(|(k, v)| k == key && v == value)
    }

    const OAID: &str = "a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b";

    #[test]
    fn a_url_gives_its_query_fields_and_named_path_segments() {
        let got = pairs(
            Where::Url,
            &format!("/v1/devices/{OAID}/config?oaid={OAID}&cb=x%2By&n=1#frag"),
        );
        assert!(has(&got, "devices", OAID), "{got:?}");
        assert!(has(&got, "oaid", OAID), "{got:?}");
        assert!(has(&got, "cb", "x+y"), "{got:?}");
        let got = pairs(Where::Url, "http://proxy.example/p?device_id=abc");
        assert!(has(&got, "deviceid", "abc"), "{got:?}");
        assert!(!got.iter().any(|(_, v)| v.contains("proxy")), "{got:?}");
    }

    #[test]
    fn headers_and_cookies_are_named_by_their_names() {
        assert!(has(
            &pairs(Where::Header, &format!("X-Device-Id: {OAID}")),
            "deviceid",
            OAID
        ));
        assert!(pairs(Where::Header, "Host: a.example").is_empty());
        let got = pairs(Where::Cookie, &format!("uid={OAID}; theme=dark"));
        assert!(
            has(&got, "uid", OAID) && has(&got, "theme", "dark"),
            "{got:?}"
        );
    }

    #[test]
    fn json_bodies_are_walked_to_their_leaves_and_nested_json_strings_too() {
        let body = format!(
            r#"{{"app":{{"ver":"1.2"}},"ids":[{{"vaid":"{OAID}"}}],"n":861234567890127,"p":"{{\"did\":\"{OAID}\"}}"}}"#
        );
        let got = pairs(Where::Body, &body);
        assert!(has(&got, "vaid", OAID), "{got:?}");
        assert!(has(&got, "n", "861234567890127"), "{got:?}");
        assert!(has(&got, "did", OAID), "{got:?}");
        assert!(has(&got, "ver", "1.2"), "{got:?}");
    }

    #[test]
    fn form_bodies_and_free_text_give_pairs_and_tokens() {
        let got = pairs(Where::Body, &format!("install_id={OAID}&lang=en"));
        assert!(has(&got, "installid", OAID), "{got:?}");
        let got = pairs(Where::Payload, &format!("HELLO did={OAID} v2\n{OAID}"));
        assert!(has(&got, "did", OAID) && has(&got, "", OAID), "{got:?}");
    }

    #[test]
    fn keys_are_ranked_by_their_names() {
        for k in [
            "oaid",
            "deviceid",
            "installationid",
            "did",
            "googleadvertisingid",
        ] {
            assert_eq!(key_class(k), KeyClass::Boost, "{k}");
        }
        for k in [
            "nonce",
            "sign",
            "ts",
            "requestid",
            "accesstoken",
            "bodymd5",
            "sessionid",
        ] {
            assert_eq!(key_class(k), KeyClass::Reject, "{k}");
        }
        assert_eq!(key_class("lang"), KeyClass::Plain);
        assert_eq!(normalise_key("X-Device-Id"), "deviceid");
        assert_eq!(normalise_key("device_id"), "deviceid");
    }

    #[test]
    fn every_part_is_bounded_and_broken_input_is_survived() {
        let many = "k=v1234567890abcdef&".repeat(5000);
        let got = pairs(Where::Url, &format!("/?{many}"));
        assert_eq!(got.len(), MAX_PAIRS);
        for text in [
            "%", "%4", "a=%zz", "{", "[[[[[[[[", "=", "&&&", ":", "/\u{0}/",
        ] {
            for &place in Where::ALL {
                let _ = pairs(place, text);
            }
        }
        let deep = "[".repeat(10_000);
        let _ = pairs(Where::Body, &deep);
        assert_eq!(percent_decode(b"%41%4"), b"A%4");
    }
}
