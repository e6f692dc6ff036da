use super::*;
use crate::testutil::mutated;
use proptest::prelude::*;

/// Labels of `name` ending in the root label.
fn name(n: &str) -> Vec<u8> {
    let mut v = labels(n);
    v.push(0);
    v
}

/// Labels of `n` without the terminating root (to be followed by a pointer).
fn labels(n: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in n.split('.').filter(|l| !l.is_empty()) {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v
}

fn ptr(off: usize) -> Vec<u8> {
    vec![0xc0 | (off >> 8) as u8, off as u8]
}

/// Message builder that records offsets so tests can place compression pointers the
/// way real servers do.
struct Msg(Vec<u8>);

impl Msg {
    fn new(id: u16, flags: u16, qd: u16, an: u16) -> Msg {
        let mut v = Vec::new();
        for x in [id, flags, qd, an, 0, 0] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        Msg(v)
    }
    fn question(&mut self, qname: &[u8], qtype: u16) -> usize {
        let at = self.0.len();
        self.0.extend_from_slice(qname);
        self.0.extend_from_slice(&qtype.to_be_bytes());
        self.0.extend_from_slice(&1u16.to_be_bytes());
        at
    }
    /// Appends a record; returns the offset of its RDATA.
    fn rr(&mut self, owner: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) -> usize {
        self.0.extend_from_slice(owner);
        self.0.extend_from_slice(&rtype.to_be_bytes());
        self.0.extend_from_slice(&1u16.to_be_bytes());
        self.0.extend_from_slice(&ttl.to_be_bytes());
        self.0
            .extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        let at = self.0.len();
        self.0.extend_from_slice(rdata);
        at
    }
}

/// A response shaped like a CDN answer seen from a phone: www.example.com is a CNAME to
/// an edge name, which is a CNAME to an edge host with two A and one AAAA record, all
/// using compression pointers.
fn cdn_response() -> Vec<u8> {
    let mut m = Msg::new(0x1a2b, 0x8180, 1, 5);
    let q = m.question(&name("www.example.com"), TYPE_A);
    let mut edge = labels("www.example.com.edgekey");
    edge.extend_from_slice(&name("net"));
    let edge_at = m.rr(&ptr(q), TYPE_CNAME, 300, &edge);
    let mut host = labels("e1234.a.akamaiedge");
    host.extend_from_slice(&ptr(edge_at + edge.len() - 5)); // ".net"
    let host_at = m.rr(&ptr(edge_at), TYPE_CNAME, 20, &host);
    m.rr(&ptr(host_at), TYPE_A, 20, &[23, 1, 2, 3]);
    m.rr(&ptr(host_at), TYPE_A, 20, &[23, 1, 2, 4]);
    let v6: Ipv6Addr = "2a02:26f0:1::17".parse().unwrap();
    m.rr(&ptr(host_at), TYPE_AAAA, 20, &v6.octets());
    m.0
}

/// An HTTPS (type 65) answer in ServiceMode with ALPN and both address hints, as
/// Cloudflare-hosted names return them.
fn https_response() -> Vec<u8> {
    let mut m = Msg::new(7, 0x8180, 1, 1);
    let q = m.question(&name("crypto.cloudflare.com"), TYPE_HTTPS);
    let mut rd = vec![0, 1, 0]; // priority 1, target "." (the owner)
    rd.extend_from_slice(&[0, 1, 0, 6, 2, b'h', b'3', 2, b'h', b'2']);
    rd.extend_from_slice(&[0, 4, 0, 8, 162, 159, 135, 79, 162, 159, 136, 79]);
    let v6: Ipv6Addr = "2606:4700:7::a29f:874f".parse().unwrap();
    rd.extend_from_slice(&[0, 6, 0, 16]);
    rd.extend_from_slice(&v6.octets());
    m.rr(&ptr(q), TYPE_HTTPS, 300, &rd);
    m.0
}

#[test]
fn cname_chain_attributes_addresses_to_query() {
    let msg = cdn_response();
    let a = parse(&msg).unwrap();
    assert_eq!(a.id, 0x1a2b);
    assert!(a.is_response);
    assert_eq!(a.query, "www.example.com");
    assert_eq!(a.query_type, TYPE_A);
    assert_eq!(a.records.len(), 5);
    assert_eq!(
        a.records[0].data,
        RecordData::Cname("www.example.com.edgekey.net".into())
    );
    assert_eq!(a.records[1].name, "www.example.com.edgekey.net");
    assert_eq!(
        a.records[1].data,
        RecordData::Cname("e1234.a.akamaiedge.net".into())
    );
    assert_eq!(a.records[2].name, "e1234.a.akamaiedge.net");
    let pairs = a.address_names();
    let want: Vec<(IpAddr, String)> = vec![
        ("23.1.2.3".parse().unwrap(), "www.example.com".into()),
        ("23.1.2.4".parse().unwrap(), "www.example.com".into()),
        ("2a02:26f0:1::17".parse().unwrap(), "www.example.com".into()),
    ];
    assert_eq!(pairs, want);
}

#[test]
fn cname_chain_is_kept_from_query_to_address() {
    let a = parse(&cdn_response()).unwrap();
    let chain: Vec<String> = [
        "www.example.com",
        "www.example.com.edgekey.net",
        "e1234.a.akamaiedge.net",
    ]
    .map(String::from)
    .to_vec();
    let chains = a.address_chains();
    assert_eq!(chains.len(), 3);
    for (_, c) in &chains {
        assert_eq!(c, &chain);
    }
}

/// Tracker cloaking: the app's own subdomain is an alias of the tracker's host.
#[test]
fn a_first_party_alias_of_a_tracker_keeps_both_names() {
    let mut m = Msg::new(9, 0x8180, 1, 2);
    let q = m.question(&name("metrics.example.com"), TYPE_A);
    let target = name("example.onelink.me");
    let at = m.rr(&ptr(q), TYPE_CNAME, 60, &target);
    m.rr(&ptr(at), TYPE_A, 60, &[192, 0, 2, 9]);
    let a = parse(&m.0).unwrap();
    assert_eq!(
        a.address_chains(),
        vec![(
            "192.0.2.9".parse().unwrap(),
            vec![
                "metrics.example.com".to_string(),
                "example.onelink.me".to_string()
            ]
        )]
    );
    assert_eq!(a.address_names()[0].1, "metrics.example.com");
}

/// A CNAME loop never reaches the query: the address keeps its owner alone.
#[test]
fn a_cname_loop_is_not_followed_forever() {
    let mut m = Msg::new(9, 0x8180, 1, 3);
    m.question(&name("q.example"), TYPE_A);
    m.rr(&name("a.example"), TYPE_CNAME, 60, &name("b.example"));
    m.rr(&name("b.example"), TYPE_CNAME, 60, &name("a.example"));
    m.rr(&name("a.example"), TYPE_A, 60, &[192, 0, 2, 1]);
    let a = parse(&m.0).unwrap();
    assert_eq!(
        a.address_chains(),
        vec![("192.0.2.1".parse().unwrap(), vec!["a.example".to_string()])]
    );
}

#[test]
fn address_off_the_chain_keeps_its_owner() {
    let mut m = Msg::new(1, 0x8180, 1, 1);
    m.question(&name("Api.Example.COM"), TYPE_A);
    m.rr(&name("other.example.net"), TYPE_A, 5, &[10, 0, 0, 1]);
    let a = parse(&m.0).unwrap();
    assert_eq!(a.query, "api.example.com", "names are lower-cased");
    assert_eq!(
        a.address_names(),
        vec![("10.0.0.1".parse().unwrap(), "other.example.net".to_string())]
    );
}

#[test]
fn https_record_hints() {
    let a = parse(&https_response()).unwrap();
    let RecordData::Https(s) = &a.records[0].data else {
        panic!("not HTTPS: {:?}", a.records);
    };
    assert_eq!(s.priority, 1);
    assert_eq!(s.target, ".");
    assert_eq!(s.alpn, vec!["h3", "h2"]);
    assert_eq!(s.ipv4_hints.len(), 2);
    let pairs = a.address_names();
    assert_eq!(pairs.len(), 3);
    assert!(pairs.iter().all(|(_, n)| n == "crypto.cloudflare.com"));
    assert_eq!(
        pairs[2].0,
        "2606:4700:7::a29f:874f".parse::<IpAddr>().unwrap()
    );
}

#[test]
fn query_without_answers() {
    let mut m = Msg::new(9, 0x0100, 1, 0);
    m.question(&name("example.org"), TYPE_AAAA);
    let a = parse(&m.0).unwrap();
    assert!(!a.is_response);
    assert!(a.records.is_empty());
    assert_eq!(Message::new_checked(&m.0[..]).unwrap().opcode(), 0);
}

#[test]
fn other_types_and_classes_are_skipped() {
    let mut m = Msg::new(1, 0x8180, 1, 2);
    let q = m.question(&name("example.org"), TYPE_A);
    m.rr(&ptr(q), 16, 5, b"\x05hello"); // TXT
    m.rr(&ptr(q), TYPE_A, 5, &[1, 2, 3, 4]);
    let a = parse(&m.0).unwrap();
    assert_eq!(a.records.len(), 1);
}

#[test]
fn every_prefix_is_rejected() {
    for msg in [cdn_response(), https_response()] {
        for n in 0..msg.len() {
            assert!(parse(&msg[..n]).is_err(), "prefix of {n} bytes accepted");
        }
    }
}

#[test]
fn tcp_length_prefix() {
    let msg = cdn_response();
    let mut stream = (msg.len() as u16).to_be_bytes().to_vec();
    stream.extend_from_slice(&msg);
    stream.extend_from_slice(&[0, 3]); // start of the next message
    let (a, used) = parse_tcp(&stream).unwrap();
    assert_eq!(used, msg.len() + 2);
    assert_eq!(a.query, "www.example.com");
    assert_eq!(parse_tcp(&stream[used..]), Err(DnsError::NeedMore));
    for n in 0..msg.len() + 2 {
        assert_eq!(parse_tcp(&stream[..n]), Err(DnsError::NeedMore));
    }
}

#[test]
fn pointer_to_itself_is_rejected() {
    let mut m = Msg::new(1, 0x8180, 1, 0);
    m.0.extend_from_slice(&ptr(12));
    m.0.extend_from_slice(&[0, 1, 0, 1]);
    assert!(matches!(parse(&m.0), Err(DnsError::BadName(_))));
}

#[test]
fn forward_pointer_loop_is_rejected() {
    // Two names pointing at each other: 12 -> 14 -> 12.
    let mut m = Msg::new(1, 0x8180, 1, 0);
    m.0.extend_from_slice(&ptr(14));
    m.0.extend_from_slice(&ptr(12));
    m.0.extend_from_slice(&[0, 1, 0, 1]);
    assert!(matches!(parse(&m.0), Err(DnsError::BadName(_))));
}

#[test]
fn long_pointer_chain_is_capped() {
    // A question name that is a chain of 40 backward pointers ending in the root.
    let mut m = Msg::new(1, 0x8180, 1, 0);
    m.0.push(0);
    let mut prev = 12;
    for _ in 0..40 {
        let at = m.0.len();
        m.0.extend_from_slice(&ptr(prev));
        prev = at;
    }
    let mut msg = m.0[..12].to_vec();
    msg.extend_from_slice(&ptr(prev));
    msg.extend_from_slice(&[0, 1, 0, 1]);
    msg.extend_from_slice(&m.0[12..]);
    // The question sits at 12 and points forward: rejected either way, never a hang.
    assert!(parse(&msg).is_err());
    // Reading the chain directly hits the hop cap.
    assert!(matches!(
        name_at(&m.0, prev),
        Err(DnsError::BadName("too many compression pointers"))
    ));
}

#[test]
fn name_longer_than_255_is_rejected() {
    let mut m = Msg::new(1, 0x8180, 1, 0);
    for _ in 0..5 {
        m.0.push(63);
        m.0.extend_from_slice(&[b'a'; 63]);
    }
    m.0.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert!(matches!(parse(&m.0), Err(DnsError::BadName(_))));
}

#[test]
fn odd_label_bytes_are_escaped() {
    let mut m = Msg::new(1, 0x8180, 1, 0);
    m.question(b"\x03a.b\x03\x00\nx\x00", TYPE_A);
    let a = parse(&m.0).unwrap();
    assert_eq!(a.query, "a\\046b.\\000\\010x");
}

#[test]
fn bad_a_length_is_an_error() {
    let mut m = Msg::new(1, 0x8180, 1, 1);
    let q = m.question(&name("x.org"), TYPE_A);
    m.rr(&ptr(q), TYPE_A, 1, &[1, 2, 3]);
    assert_eq!(parse(&m.0), Err(DnsError::BadRecord("A length")));
}

/// A query as dig sends it: ID 0xbeef, RD and AD set, one question, an EDNS OPT record.
fn dig_query() -> Vec<u8> {
    let mut m = Msg::new(0xbeef, 0x0120, 1, 0);
    m.0[11] = 1; // ARCOUNT
    m.question(&name("Cloud.test"), TYPE_A);
    m.0.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    m.0
}

#[test]
fn servfail_keeps_id_and_question() {
    let query = dig_query();
    let answer = servfail(&query).expect("a well-formed query is answered");
    let msg = Message::new_checked(&answer[..]).unwrap();
    assert_eq!(msg.id(), 0xbeef);
    assert!(msg.is_response());
    assert_eq!(msg.rcode(), RCODE_SERVFAIL);
    assert_eq!(msg.opcode(), 0);
    // RD kept, RA set, AD (what the query asked to be told) not claimed.
    assert_eq!(msg.flags(), 0x8182);
    assert_eq!((msg.question_count(), msg.answer_count()), (1, 0));
    assert_eq!((msg.authority_count(), msg.additional_count()), (0, 0));
    // The question exactly as asked (case kept), and nothing after it.
    assert_eq!(&answer[HEADER_LEN..], &query[HEADER_LEN..HEADER_LEN + 16]);
    let read = parse(&answer).unwrap();
    assert_eq!(
        (read.query.as_str(), read.query_type),
        ("cloud.test", TYPE_A)
    );
    assert!(read.records.is_empty());
}

#[test]
fn servfail_keeps_opcode_and_checking_disabled() {
    // Opcode 2 (STATUS) with CD and without RD.
    let mut m = Msg::new(7, 0x1010, 1, 0);
    m.question(&name("."), TYPE_AAAA);
    let answer = servfail(&m.0).unwrap();
    assert_eq!(Message::new_checked(&answer[..]).unwrap().flags(), 0x9092);
}

#[test]
fn no_servfail_for_what_is_not_a_single_question_query() {
    // A response (QR set) is never answered.
    let mut response = dig_query();
    response[2] |= 0x80;
    assert_eq!(servfail(&response), None);
    // No question, or two.
    assert_eq!(servfail(&Msg::new(1, 0x0100, 0, 0).0), None);
    let mut two = Msg::new(1, 0x0100, 2, 0);
    two.question(&name("a.test"), TYPE_A);
    two.question(&name("b.test"), TYPE_A);
    assert_eq!(servfail(&two.0), None);
    // A question that points elsewhere, or loops.
    let mut pointing = Msg::new(1, 0x0100, 1, 0);
    pointing.question(&ptr(12), TYPE_A);
    assert_eq!(servfail(&pointing.0), None);
    // Cut anywhere inside the header or the question.
    let query = dig_query();
    for len in 0..HEADER_LEN + 16 {
        assert_eq!(servfail(&query[..len]), None, "cut at {len}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(a) = parse(&bytes) {
            let _ = a.address_names();
            for (_, chain) in a.address_chains() {
                prop_assert!(!chain.is_empty() && chain.len() <= 18);
            }
        }
        let _ = parse_tcp(&bytes);
        if let Some(answer) = servfail(&bytes) {
            prop_assert_eq!(Message::new_checked(&answer[..]).unwrap().rcode(), RCODE_SERVFAIL);
        }
    }

    #[test]
    fn mutated_queries_never_panic(bytes in mutated(dig_query())) {
        if let Some(answer) = servfail(&bytes) {
            let read = parse(&answer).unwrap();
            prop_assert!(read.is_response);
            prop_assert_eq!(read.rcode, RCODE_SERVFAIL);
        }
    }

    #[test]
    fn mutated_answers_never_panic(bytes in prop_oneof![mutated(cdn_response()), mutated(https_response())]) {
        if let Ok(a) = parse(&bytes) {
            let _ = a.address_names();
            for (_, chain) in a.address_chains() {
                prop_assert!(!chain.is_empty() && chain.len() <= 18);
            }
        }
    }
}
