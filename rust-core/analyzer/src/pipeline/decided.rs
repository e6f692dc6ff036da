//! When the analyzer's word on what it reads of a direction is a decision: the tap caps
//! a direction at its first bytes only then.

use super::tests::{analyzer, client_hello, start_http, t};
use super::*;

fn decided(a: &Analyzer) -> (bool, bool) {
    (a.decided(1, Direction::Out), a.decided(1, Direction::In))
}

#[test]
fn nothing_is_decided_before_the_clients_first_bytes_tell_what_the_stream_is() {
    let mut a = analyzer();
    start_http(&mut a);
    assert_eq!(decided(&a), (false, false));
    a.data(1, Direction::Out, b"GE", t());
    assert_eq!(decided(&a), (false, false), "GE may be GET");
    a.data(1, Direction::Out, b"T / HTTP/1.1\r\n", t());
    assert_eq!(decided(&a), (true, true));
}

#[test]
fn a_stream_that_is_not_http_is_decided_as_soon_as_it_is_told_apart() {
    let mut a = analyzer();
    start_http(&mut a);
    a.data(1, Direction::Out, b"\x00\x01 some binary protocol", t());
    assert_eq!(decided(&a), (true, true));
}

#[test]
fn server_bytes_before_the_client_speaks_are_undecided_while_they_are_held() {
    let mut a = analyzer();
    start_http(&mut a);
    a.data(1, Direction::In, b"220 banner\r\n", t());
    assert_eq!(decided(&a), (false, false));
    // Past what is held for a client that has not spoken, they are scanned as they come.
    a.data(1, Direction::In, &vec![b'x'; MAX_HELD_IN], t());
    assert_eq!(decided(&a), (false, true));
}

#[test]
fn a_client_hello_is_undecided_until_read_and_intercepted_plaintext_starts_undecided() {
    let mut a = analyzer();
    a.flow_start(
        1,
        Proto::Tcp,
        "10.111.0.2:40000".parse().unwrap(),
        "10.201.0.2:443".parse().unwrap(),
        None,
    );
    let hello = client_hello("api.example.com");
    a.data(1, Direction::Out, &hello[..10], t());
    assert_eq!(decided(&a), (false, false));
    a.data(1, Direction::Out, &hello[10..], t());
    assert_eq!(decided(&a), (true, true), "named: nothing more to read");
    a.tls_mode(1, TlsMode::Intercepted);
    assert_eq!(decided(&a), (false, false));
    a.data(1, Direction::Out, b"POST /up HTTP/1.1\r\n", t());
    assert_eq!(decided(&a), (true, true));
}

#[test]
fn datagrams_and_unknown_flows_are_always_decided() {
    let mut a = analyzer();
    a.flow_start(
        1,
        Proto::Udp,
        "10.111.0.2:40000".parse().unwrap(),
        "10.201.0.2:53".parse().unwrap(),
        None,
    );
    assert_eq!(decided(&a), (true, true));
    assert!(a.decided(2, Direction::Out));
}
