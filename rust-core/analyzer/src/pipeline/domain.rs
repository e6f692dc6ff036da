//! Every named destination carries its registrable domain (`domain`), computed here with
//! the catalog's suffix rules, so that `report` and the app group hosts the catalog does
//! not know without a suffix list of their own.

use super::tests::{analyzer, record, start_http, t};
use super::*;

/// The flow record and the finding of one plain HTTP request to `host` that carries the
/// IMEI the tests' analyzer knows.
fn request_to(host: &str) -> (FlowRecord, Finding) {
    let mut a = analyzer();
    start_http(&mut a);
    let request = format!("GET /r?imei=861234567890123 HTTP/1.1\r\nHost: {host}\r\n\r\n");
    a.data(1, Direction::Out, request.as_bytes(), t());
    a.flow_end(record(1, Proto::Tcp, "10.111.0.2:40000", "10.201.0.2:80"));
    let finding = a.pop_finding().expect("the IMEI is found");
    (a.pop_record().expect("the flow is recorded"), finding)
}

fn domain_of(host: &str) -> Option<String> {
    let (flow, finding) = request_to(host);
    assert_eq!(
        flow.destination.domain, finding.destination.domain,
        "the flow and its finding agree for {host}"
    );
    flow.destination.domain
}

#[test]
fn a_country_second_level_keeps_the_customers_label() {
    assert_eq!(domain_of("a.b.co.uk").as_deref(), Some("b.co.uk"));
    assert_eq!(domain_of("c.co.uk").as_deref(), Some("c.co.uk"));
    assert_eq!(
        domain_of("api-push.vivo.com.cn").as_deref(),
        Some("vivo.com.cn")
    );
}

#[test]
fn each_customer_of_a_hosting_platform_is_a_domain_of_its_own() {
    assert_eq!(domain_of("x.appspot.com").as_deref(), Some("x.appspot.com"));
    assert_eq!(
        domain_of("v2.x.appspot.com").as_deref(),
        Some("x.appspot.com")
    );
    assert_eq!(
        domain_of("game-12.firebaseapp.com").as_deref(),
        Some("game-12.firebaseapp.com")
    );
}

#[test]
fn a_catalog_host_gets_its_companys_domain_too() {
    let (flow, _) = request_to("api.account.xiaomi.com");
    assert_eq!(flow.destination.company.as_deref(), Some("Xiaomi"));
    assert_eq!(flow.destination.domain.as_deref(), Some("xiaomi.com"));
}

#[test]
fn the_domain_is_lowercase_whatever_case_the_name_came_in() {
    assert_eq!(
        domain_of("Cdn.Example.CO.UK").as_deref(),
        Some("example.co.uk")
    );
}

#[test]
fn an_address_or_a_bare_top_level_name_is_its_own_domain() {
    assert_eq!(domain_of("203.0.113.9").as_deref(), Some("203.0.113.9"));
    assert_eq!(
        domain_of("[2001:db8::1]:8080").as_deref(),
        Some("2001:db8::1")
    );
    assert_eq!(domain_of("uk").as_deref(), Some("uk"));
    assert_eq!(domain_of("co.uk").as_deref(), Some("co.uk"));
}

#[test]
fn a_flow_nobody_named_has_no_domain() {
    let mut a = analyzer();
    start_http(&mut a);
    a.flow_end(record(1, Proto::Tcp, "10.111.0.2:40000", "10.201.0.2:80"));
    let flow = a.pop_record().expect("the flow is recorded");
    assert_eq!(flow.destination.host, None);
    assert_eq!(flow.destination.domain, None);
    let line = serde_json::to_value(&flow).unwrap();
    assert!(line["domain"].is_null(), "{line}");
}

#[test]
fn records_carry_the_domain_as_a_field_of_their_json_line() {
    let (flow, finding) = request_to("tracker.example.co.uk");
    for line in [
        serde_json::to_value(&flow).unwrap(),
        serde_json::to_value(&finding).unwrap(),
    ] {
        assert_eq!(line["host"], "tracker.example.co.uk");
        assert_eq!(line["domain"], "example.co.uk", "{line}");
    }
}
